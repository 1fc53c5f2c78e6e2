"""Catch-up and idempotence of ``advance`` on a generated estate (issue: the closure journey).

The journey is compressed (one month's notice, a 7-day choice window) so a whole journey, from
the first selection to the last deadline, fits in ten weekly runs.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from journey_tables import journey_state

from csa_closure.db import engine_for
from csa_closure.settings import rule_settings
from flows.advance import advance
from flows.extraction import extract_legacy
from flows.plan import plan
from load.migrate import upgrade_target
from synthetic import generate_estate

START = date(2014, 7, 7)
END = date(2014, 9, 15)
COMPRESSED = {
    "CSA_RULE_LIABILITY_NOTICE_MONTHS": "1",
    "CSA_RULE_REMINDER_MONTHS_BEFORE_END": "0",
    "CSA_RULE_CHOICE_WINDOW_DAYS": "7",
    "CSA_RULE_EXTENSION_DAYS": "7",
    "CSA_RULE_BATCH_SIZE": "250",
}


@pytest.fixture
def estate(database_url_factory, monkeypatch, prefect_harness):
    """One legacy estate, and a factory of planned targets reading it."""
    legacy_url = database_url_factory("legacy")
    for name, value in COMPRESSED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CSA_LEGACY_URL", legacy_url)
    rule_settings.cache_clear()
    generate_estate(engine_for(legacy_url, legacy=True, writable=True), 700, seed=5)

    def planned_target(name: str):
        url = database_url_factory(name)
        monkeypatch.setenv("CSA_TARGET_URL", url)
        upgrade_target(engine_for(url))
        extract_legacy()
        plan(START)
        return engine_for(url)

    yield planned_target
    rule_settings.cache_clear()


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_week_by_week_equals_straight_to_the_date_and_a_second_run_changes_nothing(estate, monkeypatch):
    """On PostgreSQL, the production target; the scenarios walk SQLite through the same steps."""
    straight = estate("straight")
    advance(END)
    state = journey_state(straight)
    assert len(state["closure_outcome"]) > 550
    assert {row[5] for row in state["closure_outcome"]} >= {"CLOSED", "ON_HOLD"}
    assert state["cms_unpaid_maintenance"] and state["write_off"]

    advance(END)
    assert journey_state(straight) == state  # idempotent: nothing new, nothing doubled

    weekly = estate("weekly")
    day = START
    while day < END:
        advance(day)
        day += timedelta(days=7)
    advance(END)
    assert journey_state(weekly) == state
