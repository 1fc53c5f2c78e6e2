"""Every run of a command, with the rule settings it used (RULEBOOK.md: runs record them)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, select, update

from csa_closure.settings import RuleSettings
from load.schema import engine_run
from load.writes import upsert_rows
from transform.codes import RunState


def runs_left_running(target: Engine, lock_taken_at: datetime) -> list[str]:
    """Runs still marked running that started before the journey lock was taken at
    ``lock_taken_at``: the lock dies with its process, so they ended without recording how."""
    with target.connect() as conn:
        return _left_running(conn, lock_taken_at)


def _left_running(conn: Connection, lock_taken_at: datetime) -> list[str]:
    run = engine_run.c
    return list(conn.execute(
        select(run.run_id).where(run.state == RunState.RUNNING, run.started_at < lock_taken_at)
    ).scalars())


def start_run(
    target: Engine, run_id: str, command: str, as_of: date | None, rules: RuleSettings, lock_taken_at: datetime
) -> list[str]:
    """Record a run that holds the journey lock, taken at ``lock_taken_at``; the runs left
    running from before (``runs_left_running``) are marked interrupted. Returns their ids."""
    with target.begin() as conn:
        interrupted = _left_running(conn, lock_taken_at)
        conn.execute(
            update(engine_run).where(engine_run.c.run_id.in_(interrupted)).values(state=RunState.INTERRUPTED)
        )
        upsert_rows(
            conn,
            engine_run,
            [
                {
                    "run_id": run_id,
                    "command": command,
                    "as_of": as_of,
                    "started_at": datetime.now(UTC),
                    "finished_at": None,
                    "state": RunState.RUNNING,
                    "rule_settings": json.dumps(rules.model_dump(mode="json"), sort_keys=True),
                }
            ],
            key=["run_id"],
        )
    return interrupted


def finish_run(target: Engine, run_id: str, state: str) -> None:
    """Record how a running run ended; a run already marked interrupted by the next stays so."""
    with target.begin() as conn:
        conn.execute(
            update(engine_run)
            .where(engine_run.c.run_id == run_id, engine_run.c.state == RunState.RUNNING)
            .values(state=state, finished_at=datetime.now(UTC))
        )
