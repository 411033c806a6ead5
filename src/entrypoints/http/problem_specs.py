"""OpenAPI declarations of the problem+json answers a route can give (401, 403, 404, 409, 422, 429)."""

from __future__ import annotations

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example

from entrypoints.http.problems import PROBLEM_JSON

__all__ = ["problem_responses"]

_TYPE_BASE = "https://xsell.dev/problems/"
_TITLES = {
    401: ("unauthenticated", "Not authenticated", "invalid credentials"),
    403: ("forbidden", "Forbidden", "this needs the admin or analyst role"),
    404: ("not-found", "Not found", "no customer c-5f0c2a"),
    409: ("conflict", "Conflict", "the change was undone already"),
    422: ("business-rule", "Request breaks a business rule", "a Salesforce id has 15 or 18 letters"),
    429: ("429", "Too Many Requests", None),
}
_DEFAULTS = {
    401: "No valid access token (missing, expired, revoked); the same answer whatever the reason.",
    403: "The caller's role may not do this.",
    404: "Unknown, or outside the orgs the caller was granted: the two answer alike.",
    409: "The resource's current state does not allow it.",
    422: "The request is well-formed but breaks a business rule.",
    429: "Too many requests; the RateLimit-* and Retry-After headers say when to try again.",
}


def _spec(status: int, description: str) -> ResponseSpec:
    kind, title, detail = _TITLES[status]
    body: dict[str, object] = {"type": _TYPE_BASE + kind, "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    return ResponseSpec(
        data_container=dict,
        description=description,
        media_type=PROBLEM_JSON,
        generate_examples=False,
        examples=[Example(value=body)],
    )


def problem_responses(*statuses: int, **descriptions: str) -> dict[int, ResponseSpec]:
    """Declared problem answers; 401 and 429 always (every route under /api/v1 can give them). A keyword
    `s404="..."` replaces the default description of that status."""
    wanted = sorted({401, 429, *statuses})
    return {status: _spec(status, descriptions.get(f"s{status}", _DEFAULTS[status])) for status in wanted}
