"""One journey run at a time: a lock that dies with its holder, and a fence on every write.

Two runs working the same batch could each decide its cases once. ``advance``,
``rerun-failed``, ``plan``, ``extract`` and ``simulate`` therefore hold the journey lock for
their whole run: a session advisory lock on PostgreSQL, an exclusive lock on a file beside the
SQLite database. Either is released by the operating system when its holder exits, however it
exits, so a killed run never blocks the next.

A lock can also be lost while its holder runs on (an administrator terminates the lock's
PostgreSQL session; the lock file is removed). So taking the lock raises the fencing token in
``journey_lease``, and every write of the run checks the token in its own transaction
(``fence``): once another run has taken the lock, the first commits nothing more. The check
shares the lease row on PostgreSQL (the next holder's raise waits for commits under way) and
writes it on SQLite (which takes the database's write lock at once).

``dispatch-letters`` has its own lock of the same kind: printing never waits for the journey.

Each lock's row in ``journey_lease`` (``JOURNEY_LEASE``, ``DISPATCH_LEASE``) also names the flow
run that took it last, so the next holder can tell the dashboard about a run that died holding it,
and keeps the earlier holders until a holder has checked them (``runs_checked``): a run killed
before it checked its predecessor passes that run on, in the same commit that names itself.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from csa_closure.refusal import Refusal

JOURNEY_LOCK_KEY = 0x0C5A_C105  # the advisory lock's key: "CSA close"
DISPATCH_LOCK_KEY = 0x0C5A_D15B  # "CSA dispatch"
JOURNEY_LEASE, DISPATCH_LEASE = 1, 2  # their rows in journey_lease


class JourneyBusy(Refusal):
    """Another run holds the lock."""


class JourneyLockLost(RuntimeError):
    """This run no longer holds the journey lock: another run may be working the journey."""


@dataclass
class Lease:
    """The journey lock as this process holds it: its fencing token, and a way to see that the
    lock itself is still there."""

    token: int
    _alive: object = field(repr=False, default=None)
    taken_at: datetime | None = None
    """When this run took the lock (None where a task rebuilt the lease from its token)."""
    runs_to_check: tuple[str, ...] = ()
    """The flow runs that held the lock before this one and no holder has checked since (none
    for a subflow that shares its caller's lock)."""
    lease_id: int = JOURNEY_LEASE

    def check(self) -> None:
        """Raise ``JourneyLockLost`` if the lock has gone (its PostgreSQL session ended)."""
        if self._alive is not None and not self._alive():
            raise JourneyLockLost("the journey lock's database session ended; this run stops")


_held: ContextVar[Mapping[str, Lease]] = ContextVar("journey_leases", default=MappingProxyType({}))


@contextmanager
def journey_lock(target: Engine, holder: str = "", run_id: str | None = None) -> Iterator[Lease]:
    """Hold the journey for the duration of a run (``holder`` names it; ``run_id``, its flow
    run), or refuse at once if another run has it.

    Re-entrant within a run: a flow that runs another as its subflow (``advance`` extracting
    first) shares its lease, as the subflow runs in the caller's context.
    """
    key = str(target.url)
    lease = _held.get().get(key)
    if lease is not None:  # the caller took the lock, and checks its previous holders
        yield replace(lease, runs_to_check=())
        return
    with _exclusive(target, JOURNEY_LOCK_KEY, ".journey.lock", "another run is working the journey") as alive:
        taken_at = datetime.now(UTC)
        token, runs_to_check = _raise_token(target, JOURNEY_LEASE, holder, run_id, taken_at)
        lease = Lease(token, alive, taken_at, runs_to_check)
        reset = _held.set({**_held.get(), key: lease})
        try:
            yield lease
        finally:
            _held.reset(reset)


@contextmanager
def dispatch_lock(target: Engine, run_id: str | None = None) -> Iterator[Lease]:
    """One dispatch of letters at a time (``run_id``: its flow run). Its lease fences nothing:
    a dispatch finishes what an interrupted one claimed."""
    with _exclusive(target, DISPATCH_LOCK_KEY, ".dispatch.lock", "another dispatch of letters is running") as alive:
        taken_at = datetime.now(UTC)
        token, runs_to_check = _raise_token(target, DISPATCH_LEASE, "dispatch-letters", run_id, taken_at)
        yield Lease(token, alive, taken_at, runs_to_check, DISPATCH_LEASE)


def fence(conn: Connection, lease: Lease | None) -> None:
    """Inside a write transaction: refuse to go on unless ``lease`` is still the latest."""
    if lease is None:
        return
    if conn.dialect.name == "postgresql":
        token = conn.execute(
            text("SELECT token FROM journey_lease WHERE lease_id = :lease FOR SHARE"), {"lease": JOURNEY_LEASE}
        ).scalar_one()
        current = token == lease.token
    else:
        current = conn.execute(
            text("UPDATE journey_lease SET token = token WHERE lease_id = :lease AND token = :token"),
            {"lease": JOURNEY_LEASE, "token": lease.token},
        ).rowcount == 1
    if not current:
        raise JourneyLockLost("another run has taken the journey lock; this run stops")


@contextmanager
def fenced(target: Engine, lease: Lease | None) -> Iterator[Connection]:
    """A write transaction that commits only while ``lease`` holds the journey."""
    with target.begin() as conn:
        fence(conn, lease)
        yield conn


def runs_checked(target: Engine, lease: Lease) -> None:
    """The lease's earlier holders have been checked: the next holder need not look at them."""
    if lease.runs_to_check:
        with target.begin() as conn:
            conn.execute(
                text("UPDATE journey_lease SET runs_to_check = NULL WHERE lease_id = :lease AND token = :token"),
                {"lease": lease.lease_id, "token": lease.token},
            )


def _raise_token(
    target: Engine, lease_id: int, holder: str, run_id: str | None, taken_at: datetime
) -> tuple[int, tuple[str, ...]]:
    """The lock's new token, and the runs that held the lock before and are still to check."""
    lease = {"lease": lease_id}
    with target.begin() as conn:
        previous, unchecked = conn.execute(
            text("SELECT run_id, runs_to_check FROM journey_lease WHERE lease_id = :lease"), lease
        ).one()
        to_check = tuple(sorted({*json.loads(unchecked or "[]"), previous} - {None, run_id}))
        conn.execute(
            text(
                "UPDATE journey_lease SET token = token + 1, holder = :holder, acquired_at = :now, run_id = :run_id,"
                " runs_to_check = :to_check WHERE lease_id = :lease"
            ),
            {
                "holder": holder or f"pid {os.getpid()}",
                "now": taken_at,
                "run_id": run_id,
                "to_check": json.dumps(to_check) if to_check else None,
                **lease,
            },
        )
        token = conn.execute(text("SELECT token FROM journey_lease WHERE lease_id = :lease"), lease).scalar_one()
        return token, to_check


@contextmanager
def _exclusive(target: Engine, key: int, suffix: str, busy: str) -> Iterator[object]:
    """The lock itself; yields a callable that says whether it is still held (or None)."""
    if target.dialect.name == "postgresql":
        with target.connect() as conn:
            acquired = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
            conn.commit()  # the session keeps the lock; no transaction stays open
            if not acquired:
                raise JourneyBusy(f"{busy}; try again when it has finished")
            try:
                yield lambda: _session_alive(conn)
            finally:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    conn.commit()
                except DBAPIError:  # the session is gone, and its lock with it
                    conn.invalidate()
        return
    database = target.url.database
    if not database or database == ":memory:":
        yield None
        return
    with open(Path(f"{database}{suffix}"), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JourneyBusy(f"{busy}; try again when it has finished") from None
        try:
            yield None
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _session_alive(conn: Connection) -> bool:
    try:
        conn.execute(text("SELECT 1"))
        conn.commit()
        return True
    except DBAPIError:
        return False
