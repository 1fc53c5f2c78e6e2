"""The runs' record: a run that takes the journey lock marks interrupted the runs still marked
running from before it took the lock (their processes, and the lock with them, are gone),
and no run that started under the same lock."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from sqlalchemy import select

from csa_closure.db import make_engine
from csa_closure.settings import RuleSettings
from load.migrate import upgrade_target
from load.runs import finish_run, start_run
from load.schema import engine_run
from transform.codes import RunState


def states(target) -> dict[str, str]:
    with target.connect() as conn:
        return dict(conn.execute(select(engine_run.c.run_id, engine_run.c.state)).all())


def test_runs_left_running_before_the_lock_was_taken_are_marked_interrupted_and_no_others(target_url):
    target = make_engine(target_url)
    upgrade_target(target)
    rules, on = RuleSettings(), date(2014, 7, 7)
    earlier = datetime.now(UTC)
    assert start_run(target, "finished", "plan", on, rules, earlier) == []
    finish_run(target, "finished", RunState.COMPLETED)
    assert start_run(target, "killed", "advance", on, rules, earlier) == []

    time.sleep(0.01)
    taken_at = datetime.now(UTC)  # the next run takes the lock, then records itself
    assert start_run(target, "simulate", "simulate", on, rules, taken_at) == ["killed"]
    # a run started under the same lock (a subflow's) leaves its parent alone
    assert start_run(target, "plan-in-simulate", "plan", on, rules, taken_at) == []

    assert states(target) == {
        "finished": RunState.COMPLETED,
        "killed": RunState.INTERRUPTED,
        "simulate": RunState.RUNNING,
        "plan-in-simulate": RunState.RUNNING,
    }
    # a run whose lock was taken, ending later, does not overwrite what the next run found
    finish_run(target, "killed", RunState.FAILED)
    assert states(target)["killed"] == RunState.INTERRUPTED
    target.dispose()
