"""A canary secret logged through every path must never reach the output."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.observability.logging import configure_logging
from adapters.observability.redaction import REDACTED, forget_secrets, redact_text, remember_secret

CANARY = "canary-Pa55w0rd-7f3e9b"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXBhcnQ"
SF_TOKEN = "00D5g000004abcd!AQ4AQFh3Zkq9Hm0pDnE7lSaKSvH8.xP2cU1lcAbcdEfGh"


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("DEBUG", stream)
    forget_secrets()
    yield stream
    forget_secrets()
    configure_logging("INFO")


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_canary_is_nowhere_in_output(output: io.StringIO) -> None:
    remember_secret(CANARY)
    log = structlog.stdlib.get_logger("test")
    stdlib = logging.getLogger("test.stdlib")

    log.info("login", password=CANARY, user="alice")
    log.info("nested", payload={"credentials": {"client_secret": CANARY}, "list": [{"token": CANARY}]})
    log.info("headers", headers={"Authorization": f"Bearer {JWT}"})
    log.info(f"free text mentioning {CANARY} and {JWT} and {SF_TOKEN}")
    log.info("url", url=f"postgresql://xsell:{CANARY}@db/xsell")
    stdlib.warning("stdlib positional %s", CANARY)
    stdlib.info("stdlib extra", extra={"api_key": CANARY, "note": f"see {SF_TOKEN}"})
    try:
        raise RuntimeError(f"could not log in with {CANARY} / {JWT}")
    except RuntimeError:
        log.exception("structlog exception")
        stdlib.exception("stdlib exception")

    text = output.getvalue()
    assert len(_lines(output)) == 9
    for secret in (CANARY, JWT, SF_TOKEN, "AQ4AQFh3Zkq9Hm0pDnE7"):
        assert secret not in text
    assert REDACTED in text
    assert "alice" in text  # ordinary values pass through


def test_key_based_redaction_without_remembering(output: io.StringIO) -> None:
    structlog.stdlib.get_logger("t").info("x", password="plain-unremembered-value", count=3)
    (line,) = _lines(output)
    assert line["password"] == REDACTED
    assert line["count"] == 3


def test_exception_lines_carry_no_local_variables(output: io.StringIO) -> None:
    def fail(secret_local: str) -> None:
        raise ValueError("boom")

    try:
        fail("local-value-that-must-stay-hidden")
    except ValueError:
        structlog.stdlib.get_logger("t").exception("failed")
    assert "local-value-that-must-stay-hidden" not in output.getvalue()
    (line,) = _lines(output)
    assert "boom" in json.dumps(line["exception"])


_SECRET_KEYS = st.sampled_from(
    ["password", "Authorization", "client_secret", "refresh_token", "api_key", "cookie"]
)
_PLAIN_KEYS = st.sampled_from(["user", "org", "count", "note", "path"])


def _nested_with_canary(depth: int) -> st.SearchStrategy[object]:
    leaf: st.SearchStrategy[object] = st.one_of(st.integers(), st.text(max_size=10), st.just(CANARY))
    if depth == 0:
        return leaf
    inner = _nested_with_canary(depth - 1)
    return st.one_of(
        leaf,
        st.lists(inner, max_size=3),
        st.dictionaries(_PLAIN_KEYS, inner, max_size=3),
        st.dictionaries(_SECRET_KEYS, st.text(min_size=1, max_size=10) | st.just(CANARY), max_size=2),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=_nested_with_canary(3))
def test_remembered_canary_never_rendered_at_any_depth(output: io.StringIO, payload: object) -> None:
    remember_secret(CANARY)
    output.seek(0)
    output.truncate()
    structlog.stdlib.get_logger("fuzz").info("event", payload=payload, password=CANARY)
    assert CANARY not in output.getvalue()


def test_line_breaks_cannot_forge_log_lines(output: io.StringIO) -> None:
    structlog.stdlib.get_logger("t").info("path", path='/x\n{"event": "forged", "level": "critical"}')
    assert len(output.getvalue().strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("sent BEARER abcDEF123456789 to the org", "abcDEF123456789"),
        ("header: basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ("postgresql://xsell:hunter2-secret@db:5432/xsell", "hunter2-secret"),
        (f"token was {JWT}.", JWT),
        (f"session {SF_TOKEN} expired", SF_TOKEN),
    ],
)
def test_secret_shapes_are_redacted_in_free_text(text: str, hidden: str) -> None:
    redacted = redact_text(text)
    assert hidden not in redacted
    assert REDACTED in redacted


def test_text_without_secrets_is_left_as_it_is() -> None:
    text = "GET /api/v1/recommendations 200 in 1.2 ms (basic plan, bearer of bad news)"
    assert redact_text(text) == text


def test_a_remembered_secret_inside_a_longer_one_leaves_nothing_of_either() -> None:
    forget_secrets()
    try:
        remember_secret("short-secret")
        remember_secret("prefix-short-secret-suffix")
        redacted = redact_text("was prefix-short-secret-suffix and short-secret")
        assert redacted == f"was {REDACTED} and {REDACTED}"
        forget_secrets()
        assert redact_text("short-secret") == "short-secret"
    finally:
        forget_secrets()
