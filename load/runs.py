"""Every run of a command, with the rule settings it used (RULEBOOK.md: runs record them)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import Engine, select, update

from csa_closure.settings import RuleSettings
from load.schema import engine_run
from load.writes import upsert_rows
from transform.codes import RunState


def start_run(
    target: Engine, run_id: str, command: str, as_of: date | None, rules: RuleSettings, lock_taken_at: datetime
) -> list[str]:
    """Record a run that holds the journey lock, taken at ``lock_taken_at``. A run still marked
    running that started before then no longer holds the lock, which dies with its process: it
    ended without recording how, and is marked interrupted. Returns those runs' ids."""
    with target.begin() as conn:
        interrupted = list(conn.execute(
            select(engine_run.c.run_id).where(
                engine_run.c.state == RunState.RUNNING, engine_run.c.started_at < lock_taken_at
            )
        ).scalars())
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
    with target.begin() as conn:
        conn.execute(
            update(engine_run)
            .where(engine_run.c.run_id == run_id)
            .values(state=state, finished_at=datetime.now(UTC))
        )
