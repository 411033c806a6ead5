"""Errors the fake answers with, each carrying the HTTP status and Salesforce error code it goes out as."""

from __future__ import annotations

__all__ = [
    "ApiError",
    "InvalidFieldError",
    "InvalidSessionError",
    "InvalidTypeError",
    "MalformedQueryError",
    "NotFoundError",
    "OAuthError",
    "RequestLimitError",
    "SoapLoginError",
    "soql_message",
]


class ApiError(Exception):
    """A REST error; goes out as `[{"message", "errorCode"[, "fields"]}]` with `status`."""

    status = 400
    code = "UNKNOWN_EXCEPTION"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        fields: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.fields = fields

    def body(self) -> list[dict[str, object]]:
        entry: dict[str, object] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            entry["fields"] = self.fields
        return [entry]


class MalformedQueryError(ApiError):
    code = "MALFORMED_QUERY"


class InvalidFieldError(ApiError):
    code = "INVALID_FIELD"


class InvalidTypeError(ApiError):
    code = "INVALID_TYPE"


class NotFoundError(ApiError):
    status = 404
    code = "NOT_FOUND"

    def __init__(self, message: str = "The requested resource does not exist") -> None:
        super().__init__(message)


class InvalidSessionError(ApiError):
    status = 401
    code = "INVALID_SESSION_ID"

    def __init__(self, message: str = "Session expired or invalid") -> None:
        super().__init__(message)


class RequestLimitError(ApiError):
    status = 403
    code = "REQUEST_LIMIT_EXCEEDED"

    def __init__(self, message: str = "TotalRequests Limit exceeded.") -> None:
        super().__init__(message)


class OAuthError(Exception):
    """An OAuth token endpoint error; goes out as `{"error", "error_description"}` with HTTP 400."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


class SoapLoginError(Exception):
    """A SOAP login fault; goes out as a SOAP Fault envelope with HTTP 500."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def soql_message(query: str, position: int, text: str) -> str:
    """Salesforce's query error text: the offending line, a caret under `position`, row and column."""
    line_start = query.rfind("\n", 0, position) + 1
    line_end = query.find("\n", position)
    line = query[line_start : line_end if line_end >= 0 else len(query)]
    row = query.count("\n", 0, position) + 1
    column = position - line_start + 1
    return f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{text}"
