"""Structured logging, set up once: events carrying run, tranche, batch and case references.

Each event is one JSON line in Prefect's run logs (``PREFECT_LOGGING_EXTRA_LOGGERS=csa_closure``
ships them) and on stderr when ``CSA_LOG_FORMAT`` is ``json`` or stderr is not a terminal; in a
terminal, or with ``CSA_LOG_FORMAT=console``, stderr shows it for reading: time, level, event,
then its references and counts. In a command-line run Prefect's own console lines take the
same format (``PrefectConsoleLines``).

Personal data (names, addresses, dates of birth, National Insurance numbers) never enters a log
event: code logs references and counts only, and ``drop_personal_data`` removes any field that
carries one by name, as a second line of defence, whichever way the event is rendered.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
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

LOG_FORMATS = ("auto", "console", "json")
EVENT_ATTRIBUTE = "csa_event"
"""The log record's attribute that carries the event itself, beside its JSON line."""

_configured = False
_log_format = "auto"
_json = structlog.processors.JSONRenderer(sort_keys=True)
_console = {colors: structlog.dev.ConsoleRenderer(colors=colors, sort_keys=True) for colors in (False, True)}


def drop_personal_data(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    for field in PERSONAL_FIELDS.intersection(event):
        event[field] = "[withheld]"
    return event


def _json_line_with_event(_logger: Any, _method: str, event: dict[str, Any]):
    """The last step: the event as a JSON line is the record's message, which Prefect ships to
    the run logs as it is; the event itself rides on the record for the terminal's renderer."""
    return (_json(_logger, _method, dict(event)),), {"extra": {EVENT_ATTRIBUTE: event}}


def _event_of(record: logging.LogRecord) -> dict[str, Any]:
    """A record logged by the engine is its event; one of Prefect's becomes one, named after its
    logger and its flow or task run."""
    event = getattr(record, EVENT_ATTRIBUTE, None)
    if event is not None:
        return dict(event)
    event = {
        "event": record.getMessage(),
        "level": record.levelname.lower(),
        "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
        "logger": record.name,
    }
    for attribute in ("flow_run_name", "task_run_name"):
        if getattr(record, attribute, None):
            event[attribute.removesuffix("_name")] = getattr(record, attribute)
    if record.exc_info:
        event["exception"] = logging.Formatter().formatException(record.exc_info)
    return drop_personal_data(None, "", event)


def render(record: logging.LogRecord, log_format: str) -> str:
    """One line for stderr: JSON, or for reading (local time, level, event, then the rest)."""
    event = _event_of(record)
    if log_format == "auto":
        log_format = "console" if sys.stderr.isatty() else "json"
    if log_format == "json":
        return _json(None, "", event)
    stamp = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
    event["timestamp"] = stamp.astimezone().strftime("%H:%M:%S")
    colors = sys.stderr.isatty() and not os.environ.get("NO_COLOR")
    return _console[colors](None, "", event)


class _StderrHandler(logging.StreamHandler):
    """Writes rendered lines to whatever ``sys.stderr`` is now, not the one open when logging
    was set up (a progress bar or a test's runner may have replaced it)."""

    def __init__(self, *_args, **_config) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass

    def format(self, record: logging.LogRecord) -> str:
        return render(record, _log_format)


class PrefectConsoleLines(_StderrHandler):
    """Prefect's console handler in a command-line run, named by
    ``PREFECT_LOGGING_HANDLERS_CONSOLE_CLASS`` (``csa_closure/cli/__init__.py``): Prefect's lines in the
    engine's format. A task run's state lines ("Finished in state Completed()") stay on the
    dashboard: the unit of work's own event says the same."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("prefect.task_runs") and record.levelno < logging.WARNING:
            return False
        return super().filter(record)


def configure_logging(level: str | None = None, log_format: str | None = None) -> None:
    """Events through the standard library, so Prefect's handlers see them too. The level and
    the format (``auto``: for reading in a terminal, JSON otherwise; ``console``; ``json``)
    default to the settings, ``CSA_LOG_LEVEL`` and ``CSA_LOG_FORMAT``."""
    global _configured, _log_format
    if _configured:
        return
    if level is None or log_format is None:
        from csa_closure.settings import Settings

        settings = Settings()
        level, log_format = level or settings.log_level, log_format or settings.log_format
    _log_format = log_format
    handler = _StderrHandler()
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
            _json_line_with_event,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=True,
    )
    _configured = True


@contextmanager
def follow_events(on_event: Callable[[dict[str, Any]], None]) -> Iterator[None]:
    """Call ``on_event`` with each event the engine logs in this process meanwhile: a command's
    progress bar follows its run this way."""
    handler = _Following(on_event)
    engine_logger = logging.getLogger("csa_closure")
    engine_logger.addHandler(handler)
    try:
        yield
    finally:
        engine_logger.removeHandler(handler)


class _Following(logging.Handler):
    def __init__(self, on_event: Callable[[dict[str, Any]], None]) -> None:
        super().__init__()
        self._on_event = on_event

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, EVENT_ATTRIBUTE, None)
        if event is not None:
            self._on_event(event)


def get_logger(component: str) -> structlog.stdlib.BoundLogger:
    """A logger for one part of the engine; its events land under the ``csa_closure`` logger."""
    return structlog.get_logger(f"csa_closure.{component}")


bind_context = structlog.contextvars.bind_contextvars
clear_context = structlog.contextvars.clear_contextvars
