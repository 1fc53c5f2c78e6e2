"""One journey run at a time: a lock that dies with the process that holds it.

Two runs working the same batch could each decide its cases once. ``advance`` and
``rerun-failed`` therefore hold the journey lock for their whole run: a session advisory lock
on PostgreSQL, an exclusive lock on a file beside the SQLite database. Either is released by
the operating system when the holder exits, however it exits (a killed run never blocks).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

from csa_closure.refusal import Refusal

JOURNEY_LOCK_KEY = 0x0C5A_C105  # the advisory lock's key: "CSA close"


class JourneyBusy(Refusal):
    """Another run is working the journey."""


@contextmanager
def journey_lock(target: Engine) -> Iterator[None]:
    """Hold the journey for the duration of a run, or refuse at once if another run has it."""
    if target.dialect.name == "postgresql":
        with target.connect() as conn:
            acquired = conn.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": JOURNEY_LOCK_KEY}
            ).scalar()
            conn.commit()  # the session keeps the lock; no transaction stays open
            if not acquired:
                raise JourneyBusy("another run is working the journey; try again when it has finished")
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": JOURNEY_LOCK_KEY})
                conn.commit()
        return
    database = target.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(Path(f"{database}.journey.lock"), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JourneyBusy("another run is working the journey; try again when it has finished") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
