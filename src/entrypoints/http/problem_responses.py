"""The problem+json error answers a route declares in OpenAPI, each with an example."""

from __future__ import annotations

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example

from entrypoints.http.problems import PROBLEM_JSON

__all__ = ["problem_responses"]

_PROBLEMS: dict[int, tuple[str, str, str, str]] = {
    400: ("invalid-request", "Invalid request", "Validation failed for POST /api/v1/jobs",
          "The body, a path or a query parameter is malformed; `errors` lists each problem."),
    401: ("unauthenticated", "Not authenticated", "invalid credentials",
          "No valid access token in the Authorization header."),
    403: ("forbidden", "Forbidden", "this needs the admin or analyst role",
          "The caller's role does not allow this."),
    404: ("not-found", "Not found", "no org 'emea'",
          "Unknown, or outside the caller's org grants: both answer alike."),
    422: ("business-rule", "Request breaks a business rule", "a sync job names exactly one org",
          "The request is well formed but breaks a rule of the model."),
    429: ("429", "Too many requests", "",
          "Over the per-caller rate limit; RateLimit-* and Retry-After say when to come back."),
    502: ("crm-error", "The CRM refused", "INVALID_LOGIN: authentication failure",
          "The CRM refused the login or the query; `detail` gives its reason, never a secret."),
}  # fmt: skip


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI responses for these error statuses, as problem+json with an example each."""
    responses = {}
    for status in statuses:
        kind, title, detail, description = _PROBLEMS[status]
        example: dict[str, object] = {
            "type": f"https://xsell.dev/problems/{kind}",
            "title": title,
            "status": status,
        }
        if detail:
            example["detail"] = detail
        responses[status] = ResponseSpec(
            data_container=dict,
            description=description,
            media_type=PROBLEM_JSON,
            generate_examples=False,
            examples=[Example(value=example)],
        )
    return responses
