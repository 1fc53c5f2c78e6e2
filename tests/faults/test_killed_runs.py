"""Dispatches and extracts killed (SIGKILL) at their commit boundaries, then run again to
completion: every letter is in exactly one print file, and the snapshot is the uninterrupted
run's. (Advances killed: ``test_killed_advance.py``.)"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from fault_world import backend, flow_run_state, lock_holder, run_interrupted, target_of, world  # noqa: F401
from prefect.client.schemas.objects import StateType
from sqlalchemy import select

from csa_closure.db import engine_for
from csa_closure.locks import DISPATCH_LEASE
from flows.extraction import extract_legacy
from flows.letters import SEPARATOR, dispatch_letters
from load.schema import held_case, legacy_case, letter, quarantine


@pytest.mark.parametrize(
    "point", ["dispatch-after-lock", "dispatch-after-claim", "dispatch-after-publish", "dispatch-after-commit"]
)
def test_a_dispatch_killed_anywhere_prints_each_letter_in_exactly_one_file(world, target_of, point, tmp_path):
    url = target_of(world.advanced, "dispatch")
    out = tmp_path / "print"
    run_interrupted(url, world, point, "dispatch-letters", "--out", str(out))
    killed = lock_holder(engine_for(url), DISPATCH_LEASE)
    assert flow_run_state(killed) == StateType.RUNNING  # the dashboard cannot know it died

    dispatch_letters(out)
    assert flow_run_state(killed) == StateType.CRASHED
    printed = Counter(
        int(re.match(r"letter (\d+) \|", part).group(1))
        for path in out.glob("PB*.txt")
        for part in path.read_text(encoding="utf-8").split(SEPARATOR)
    )
    with engine_for(url).connect() as conn:
        statuses = Counter(conn.execute(select(letter.c.status)).scalars())
        dispatched = set(conn.execute(select(letter.c.letter_id).where(letter.c.status == "DISPATCHED")).scalars())
    assert statuses["PENDING"] == 0 and dispatched
    assert set(printed) == dispatched and set(printed.values()) == {1}
    assert not list(out.glob("*.part"))
    assert len(list(out.glob("PB*.txt"))) == len(list(out.glob("PB*.manifest.json"))) == 1


def extracted(url: str) -> dict[str, list[tuple]]:
    """What an extract recorded, without when it ran."""
    with engine_for(url).connect() as conn:
        return {
            table.name: sorted(map(tuple, conn.execute(select(*columns))), key=repr)
            for table, columns in (
                (legacy_case, list(legacy_case.c)),
                (held_case, list(held_case.c)),
                (quarantine, [c for c in quarantine.c if c.name != "id"]),
            )
        }


@pytest.mark.parametrize("point", ["extract-after-copy", "extract-after-commit"])
def test_an_extract_killed_mid_batch_reruns_to_the_same_snapshot(world, target_of, point):
    url = target_of(world.migrated, "extract")
    run_interrupted(url, world, point, "extract")
    assert extracted(url) != extracted(world.planned), "the extract was not interrupted"
    killed = lock_holder(engine_for(url))
    assert flow_run_state(killed) == StateType.RUNNING  # the dashboard cannot know it died

    extract_legacy()
    assert extracted(url) == extracted(world.planned)
    assert flow_run_state(killed) == StateType.CRASHED
