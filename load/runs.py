"""Every run of a command, with the rule settings it used (RULEBOOK.md: runs record them)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import Engine, update

from csa_closure.settings import RuleSettings
from load.schema import engine_run
from load.writes import upsert_rows
from transform.codes import RunState


def start_run(target: Engine, run_id: str, command: str, as_of: date | None, rules: RuleSettings) -> None:
    with target.begin() as conn:
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


def finish_run(target: Engine, run_id: str, state: str) -> None:
    with target.begin() as conn:
        conn.execute(
            update(engine_run)
            .where(engine_run.c.run_id == run_id)
            .values(state=state, finished_at=datetime.now(UTC))
        )
