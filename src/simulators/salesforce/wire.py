"""Requests and responses as the fake's handlers see them, and the JSON/XML/CSV bodies they carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from simulators.salesforce.errors import ApiError

__all__ = ["Request", "Response", "api_error", "json_response"]

_JSON = "application/json;charset=UTF-8"
_encoder = msgspec.json.Encoder()


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    port: int

    def json(self) -> Any:
        """The body as JSON; raises ApiError JSON_PARSER_ERROR when it is not JSON."""
        try:
            return msgspec.json.decode(self.body or b"null")
        except msgspec.DecodeError as error:
            raise ApiError(
                f"Unexpected character in request body: {error}", code="JSON_PARSER_ERROR"
            ) from None


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = _JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    # Cut the connection in the middle of the body (connection-reset fault).
    reset: bool = False


def json_response(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, _encoder.encode(payload), _JSON, headers or [])


def api_error(error: ApiError) -> Response:
    return json_response(error.status, error.body())
