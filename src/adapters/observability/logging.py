"""The one logging setup: structlog JSON lines, the standard library bridged into it, secrets redacted."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from opentelemetry import trace
from structlog.tracebacks import ExceptionDictTransformer

from adapters.observability.redaction import redact_event

__all__ = ["add_trace_ids", "configure_logging", "get_logger"]

_QUIET = {
    "pgserver": logging.WARNING,
    "asyncio": logging.WARNING,
    "uvicorn.access": logging.WARNING,
    "alembic": logging.WARNING,
}


def _drop_terminal_colours(_logger: object, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    # uvicorn adds an ANSI-coloured copy of its message; JSON consumers only want the plain one.
    event_dict.pop("color_message", None)
    return event_dict


def add_trace_ids(_logger: object, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """The ids of the current span (W3C hex), so a log line leads to its trace; none outside a span."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict["trace_id"] = format(context.trace_id, "032x")
        event_dict["span_id"] = format(context.span_id, "016x")
    return event_dict


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _drop_terminal_colours,
        add_trace_ids,
    ]


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Route structlog and stdlib records through one JSON renderer with redaction as its last step.

    Exceptions are rendered as text without local variables: locals are where secrets hide.
    """
    renderer_chain: list[Any] = [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
        redact_event,
        structlog.processors.JSONRenderer(),
    ]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=renderer_chain,
    )
    # Nothing rendered reads where a call was made from, nor the thread or process names: the records
    # skip finding them (the logging HOWTO's "Optimization"; an access line is written per request).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet_level in _QUIET.items():
        logging.getLogger(name).setLevel(max(quiet_level, logging.getLevelName(level)))
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    return structlog.stdlib.get_logger(name)
