"""Structured logging, set up once: JSON lines carrying run, tranche, batch and case references.

Personal data (names, addresses, dates of birth, National Insurance numbers) never enters a log
event: code logs references and counts only, and ``drop_personal_data`` removes any field that
carries one by name, as a second line of defence.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

PERSONAL_FIELDS = frozenset(
    {
        "surname",
        "forenames",
        "family_name",
        "given_names",
        "name",
        "date_of_birth",
        "birth_dt",
        "nino",
        "ni_number",
        "address",
        "addr",
        "address_line1",
        "address_line2",
        "town",
        "postcode",
        "post_code",
    }
)

_configured = False


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now, not the one open when logging was set up."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def drop_personal_data(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    for field in PERSONAL_FIELDS.intersection(event):
        event[field] = "[withheld]"
    return event


def configure_logging(level: str = "INFO") -> None:
    """JSON lines to stderr through the standard library, so Prefect's handlers see them too."""
    global _configured
    if _configured:
        return
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    engine_logger = logging.getLogger("csa_closure")
    # Keep handlers Prefect attached (PREFECT_LOGGING_EXTRA_LOGGERS): they ship to run logs.
    engine_logger.handlers = [h for h in engine_logger.handlers if not isinstance(h, _StderrHandler)]
    engine_logger.addHandler(handler)
    engine_logger.setLevel(level)
    engine_logger.propagate = False
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            drop_personal_data,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(sort_keys=True),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=True,
    )
    _configured = True


def get_logger(component: str) -> structlog.stdlib.BoundLogger:
    """A logger for one part of the engine; its events land under the ``csa_closure`` logger."""
    return structlog.get_logger(f"csa_closure.{component}")


bind_context = structlog.contextvars.bind_contextvars
clear_context = structlog.contextvars.clear_contextvars
