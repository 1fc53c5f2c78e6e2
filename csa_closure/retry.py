"""Retries for transient faults only: a lost connection or a lock timeout, never bad data."""

from __future__ import annotations

import sqlite3

import adbc_driver_manager as adbc
from sqlalchemy.exc import DBAPIError, OperationalError
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

TRANSIENT_PG_CODES = {
    "08000", "08003", "08006", "08001", "08004",  # connection exceptions
    "40001", "40P01",  # serialization failure, deadlock
    "55P03",  # lock not available
    "57P01", "57P02", "57P03",  # admin shutdown, crash shutdown, cannot connect now
}


ADBC_TRANSIENT_STATUSES = {adbc.AdbcStatusCode.IO, adbc.AdbcStatusCode.TIMEOUT}
"""ADBC's lost connection (or one refused) and timeout, as the legacy reader meets them."""


class TransientFault(RuntimeError):
    """A fault that the same work, tried again shortly, is expected to get past."""


def is_transient(error: BaseException) -> bool:
    if isinstance(error, TransientFault):
        return True
    if isinstance(error, adbc.Error):
        return (
            error.sqlstate in TRANSIENT_PG_CODES
            or error.status_code in ADBC_TRANSIENT_STATUSES
            or _sqlite_lock(str(error).split("\n", 1)[0])  # not the query it quotes
        )
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        if code in TRANSIENT_PG_CODES:
            return True
        if isinstance(error, OperationalError) and isinstance(error.orig, sqlite3.OperationalError):
            return _sqlite_lock(str(error.orig))
    return False


def _sqlite_lock(message: str) -> bool:
    return "locked" in message or "busy" in message


transient_retry = retry(
    retry=retry_if_exception(is_transient),
    stop=stop_after_attempt(5),
    wait=wait_exponential(multiplier=0.2, max=5),
    reraise=True,
)
"""Tenacity at the connection: a short backoff for lost connections and lock timeouts."""


def retry_on_transient(_task, _task_run, state) -> bool:
    """Prefect ``retry_condition_fn``: retry a batch only when its failure was transient."""
    try:
        state.result()
    except Exception as error:  # the failed state re-raises the batch's exception
        return is_transient(error)
    return False
