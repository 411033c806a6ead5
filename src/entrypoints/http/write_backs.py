"""Routes /api/v1/recommendations/{id}/write-back(s): an accepted offer into the CRM, exactly once."""

from __future__ import annotations

from typing import Annotated, Any

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from application.write_back import ListWriteBacks, WriteBackRecommendation
from domain.access import Principal
from domain.write_back import MAX_IDEMPOTENCY_KEY
from entrypoints.http.problems import PROBLEM_JSON
from entrypoints.http.write_back_schemas import WriteBackIn, WriteBackOut

__all__ = ["WriteBackController"]

_TYPE = "https://xsell.dev/problems/"
_PATH = "/api/v1/recommendations/0f3c9a6e2b1d4c5e00000001/write-back"


def _problem_spec(description: str, *examples: dict[str, Any]) -> ResponseSpec:
    return ResponseSpec(
        data_container=dict,
        description=description,
        media_type=PROBLEM_JSON,
        generate_examples=False,
        examples=[Example(value=value) for value in examples],
    )


_RESPONSES = {
    HTTP_200_OK: ResponseSpec(
        data_container=WriteBackOut,
        description="A replay: this Idempotency-Key already wrote the offer back; the stored result, as first"
        " answered.",
    ),
    404: _problem_spec(
        "No such offer, or it (or the org named) lies outside the caller's grants: both answer alike.",
        {"type": _TYPE + "not-found", "title": "Not found", "status": 404, "detail": "no recommendation 'x'"},
    ),
    409: _problem_spec(
        "The offer is not accepted; or another Idempotency-Key already wrote it back as this kind"
        " (`salesforce_id` names the record); or another request is writing it right now (retry after"
        " `Retry-After` seconds); or the org is read-only (a CSV export).",
        {
            "type": _TYPE + "already-written-back",
            "title": "Already written back",
            "status": 409,
            "detail": "recommendation 0f3c… was written back as a task already (00T5g00000XyZaBEAV)",
            "write_back_id": "5b0e8f3c-7d1a-4a8e-9c7b-2f0d9e6a1c44",
            "salesforce_id": "00T5g00000XyZaBEAV",
            "instance": _PATH,
        },
        {
            "type": _TYPE + "conflict",
            "title": "Conflict",
            "status": 409,
            "detail": "recommendation 0f3c… is new: only an accepted offer is written back to the CRM",
            "instance": _PATH,
        },
    ),
    422: _problem_spec(
        "The Idempotency-Key was used for another request (another offer, kind or org).",
        {
            "type": _TYPE + "idempotency-key-reused",
            "title": "Idempotency-Key reused",
            "status": 422,
            "detail": "this Idempotency-Key was used for another write-back; use a new key for a new request",
            "instance": _PATH,
        },
    ),
    502: _problem_spec(
        "The CRM failed or refused; nothing is known to be written. The write-back stays pending (or failed,"
        " for a refusal): a retry with the same Idempotency-Key finishes it without a second record.",
        {
            "type": _TYPE + "crm-error",
            "title": "The CRM refused",
            "status": 502,
            "detail": "503 SERVER_UNAVAILABLE",
            "instance": _PATH,
        },
    ),
}

IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY,
        description="A key the client makes once per write-back it wants (a UUID, say) and sends again on"
        " every retry of it: the same key never writes twice.",
        examples=[Example(value="0b6f2c58-1d7e-4f0a-9b3d-6c2e8a4f7d10")],
    ),
]


class WriteBackController(Controller):
    """Sales, analysts and admins write offers back into orgs they were granted."""

    path = "/recommendations/{recommendation_id:str}"
    tags = ["write-back"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @post(
        "/write-back",
        summary="Write an accepted recommendation back to the CRM",
        description="Creates a Task (a call about the family, with the reasons, due in a week) or an"
        " Opportunity (Prospecting, worth the expected value, closing within 180 days) on the customer's"
        " account, exactly once: the `Idempotency-Key` header is required, and a retry with the same key"
        " answers 200 with the stored result instead of writing again, even after a crash or a CRM"
        " failure in the middle. The org is `org_id`, or by default the offer's target org when the"
        " customer has an account there, else the only org where it has one (400 asks for `org_id` when"
        " several qualify). 201 with the Salesforce id when this request wrote the record.",
        status_code=HTTP_201_CREATED,
        responses=_RESPONSES,
    )
    @inject
    async def write_back(
        self,
        recommendation_id: FromPath[str],
        data: JSONBody[WriteBackIn],
        idempotency_key: IdempotencyKey,
        use_case: FromDishka[WriteBackRecommendation],
        principal: NamedDependency[Principal],
    ) -> Response[WriteBackOut]:
        result = await use_case.execute(
            recommendation_id, data.kind, idempotency_key, principal, org_id=data.org_id
        )
        return Response(
            WriteBackOut.of(result.write_back),
            status_code=HTTP_201_CREATED if result.created else HTTP_200_OK,
        )

    @get(
        "/write-backs",
        summary="List a recommendation's write-backs",
        description="What was written into the CRM for the offer, oldest first, with each Salesforce id;"
        " only write-backs into orgs the caller was granted. An unknown offer and one the caller may not"
        " read both answer 404.",
        responses={404: _RESPONSES[404]},
    )
    @inject
    async def list_write_backs(
        self,
        recommendation_id: FromPath[str],
        use_case: FromDishka[ListWriteBacks],
        principal: NamedDependency[Principal],
    ) -> list[WriteBackOut]:
        return [WriteBackOut.of(item) for item in await use_case.execute(recommendation_id, principal)]
