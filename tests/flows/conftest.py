"""Fixtures shared by the flow tests."""

from __future__ import annotations

from datetime import date

import pytest

from csa_closure.db import engine_for
from csa_closure.settings import rule_settings
from flows.extract import extract_legacy
from flows.plan import plan
from load.migrate import upgrade_target
from synthetic import generate_estate

START = date(2014, 7, 7)


@pytest.fixture
def planned_target(legacy_url, target_url, monkeypatch, prefect_harness):
    """A small estate extracted and planned: weekly tranches of up to 200 cases, batches of 25."""
    for name, value in {
        "CSA_LEGACY_URL": legacy_url,
        "CSA_TARGET_URL": target_url,
        "CSA_RULE_TRANCHE_CAPACITY": "200",
        "CSA_RULE_BATCH_SIZE": "25",
    }.items():
        monkeypatch.setenv(name, value)
    rule_settings.cache_clear()
    generate_estate(engine_for(legacy_url), 500, seed=21)
    upgrade_target(engine_for(target_url))
    extract_legacy()
    plan(START)
    yield engine_for(target_url)
    rule_settings.cache_clear()
