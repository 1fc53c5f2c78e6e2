"""Table maintenance between units: a table changed enough is analyzed (its statistics fresh),
and vacuumed as well once it holds many dead rows (reclaimed), once; nothing is done where
nothing changed, or on SQLite."""

from __future__ import annotations

import time

import pandas as pd
from sqlalchemy import func, select, text, update

from csa_closure.db import make_engine
from load.maintenance import BASE_ROWS, maintain_tables
from load.migrate import upgrade_target
from load.schema import journey_event
from load.writes import append_frame

EVENTS = 3 * BASE_ROWS


def events(count: int) -> pd.DataFrame:
    return pd.DataFrame({
        "csa_case_ref": [f"C93{n:07d}" for n in range(count)],
        "from_state": None,
        "to_state": "AWAITING_LIABILITY_END",
        "effective_date": pd.Timestamp("2014-07-07"),
        "cause": "SELECTION",
        "run_id": "run-1",
    })


def maintained_once_counted(target, expected: list[str]) -> list[str]:
    """``maintain_tables`` once PostgreSQL's statistics show the writes (a backend reports its
    counts within a second or so of its commit)."""
    deadline = time.monotonic() + 10
    while (done := maintain_tables(target)) != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    return done


def test_a_grown_table_is_analyzed_and_one_full_of_dead_rows_vacuumed_too_once(target_url):
    target = make_engine(target_url)
    upgrade_target(target)
    with target.begin() as conn:
        append_frame(conn, journey_event, events(EVENTS))
    if target.dialect.name != "postgresql":
        assert maintain_tables(target) == []
        return
    assert maintained_once_counted(target, ["journey_event"]) == ["journey_event"]
    with target.connect() as conn:
        analyzed = conn.execute(text(
            "SELECT last_analyze IS NOT NULL, n_mod_since_analyze, last_vacuum IS NULL FROM pg_stat_user_tables"
            " WHERE relname = 'journey_event'")).one()
        planned = conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'journey_event'")).scalar_one()
    assert analyzed == (True, 0, True) and planned == EVENTS  # grown, no dead rows: analyzed only
    assert maintain_tables(target) == []

    with target.begin() as conn:  # every row updated: as many dead, reclaimed by the vacuum
        conn.execute(update(journey_event).values(run_id="run-2"))
    assert maintained_once_counted(target, ["journey_event"]) == ["journey_event"]
    with target.connect() as conn:
        dead = conn.execute(text(
            "SELECT n_dead_tup, last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'journey_event'"))
        assert tuple(dead.one()) == (0, True)
        assert conn.execute(select(func.count()).select_from(journey_event)).scalar_one() == EVENTS
    target.dispose()
