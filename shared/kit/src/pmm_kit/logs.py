"""Structured logging: one dotted event name per line, context as fields.

The correlation id is bound in a context variable so that every line written while a
request or a consumed event is handled carries it without being passed around.
"""

import logging
import sys
import uuid
from contextvars import ContextVar

import structlog
from structlog.typing import Processor

from pmm_kit.settings import LogFormat

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

# Keys whose values must never reach a log line, whatever a caller binds.
_SECRET_KEYS = frozenset(
    {"password", "token", "authorization", "api_key", "secret", "database_url"}
)


def current_correlation_id() -> str:
    """The correlation id of the work in progress, or a new one for fresh work."""
    correlation_id = _correlation_id.get()
    if correlation_id is None:
        return str(uuid.uuid4())
    return correlation_id


def bind_correlation_id(correlation_id: str) -> None:
    _correlation_id.set(correlation_id)
    structlog.contextvars.bind_contextvars(correlation_id=correlation_id)


def clear_context() -> None:
    _correlation_id.set(None)
    structlog.contextvars.clear_contextvars()


def _redact_secrets(
    _logger: object, _method: str, event_dict: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    for key in event_dict.keys() & _SECRET_KEYS:
        event_dict[key] = "[redacted]"
    return event_dict


def _service_stamp(service: str) -> Processor:
    def stamp(
        _logger: object, _method: str, event_dict: structlog.typing.EventDict
    ) -> structlog.typing.EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    return stamp


def configure_logging(*, service: str, log_format: LogFormat, level: str) -> None:
    """Route structlog and the standard library (uvicorn, alembic) to one renderer."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        _service_stamp(service),
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact_secrets,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if log_format is LogFormat.JSON
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # Requests are logged once, by our own middleware, with the correlation id.
    logging.getLogger("uvicorn.access").disabled = True
