"""``csa-closure forecast`` on a generated estate part-way through its journey, on SQLite and
PostgreSQL: the figures equal the pure forecast of the whole estate in one batch, the target
and the legacy database are left exactly as they were, the flow publishes its markdown
artifact, and every refusal exits 2 with one line, changing nothing.

The journey (500 cases, tranches of 60, one month's notice) is advanced to 2014-08-11, so the
estate holds every kind of case: closed, awaiting a choice, awaiting liability end, on hold,
not selected yet (with planned tranches), out of scope and held back.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from conftest import create_database_url, drop_database_url
from sqlalchemy import select, text
from test_orchestration import artifacts, task_runs_of
from test_report import contents

from csa_closure.db import engine_for
from csa_closure.rules_file import alternative_rules
from csa_closure.settings import rule_settings
from extract.legacy_schema import legacy_metadata
from flows.advance import advance
from flows.extraction import extract_legacy
from flows.forecast import ForecastBatch, read_open_cases, read_snapshot
from flows.plan import plan
from load.migrate import upgrade_target
from synthetic import generate_estate
from transform.forecast import Comparison, forecast_estate

CLOCK = date(2014, 8, 11)
JOURNEY = {
    "CSA_RULE_TRANCHE_CAPACITY": "60",
    "CSA_RULE_LIABILITY_NOTICE_MONTHS": "1",
    "CSA_EXTRACT_BATCH_SIZE": "60",
}
ALTERNATIVE = "below_threshold_pence = 10000\ntranche_capacity = 200\nliability_notice_months = 2\n"
_journeys: dict[str, tuple[str, str]] = {}


@pytest.fixture(scope="module")
def _dropped_at_the_end():
    yield
    for urls in _journeys.values():
        for url in urls:
            drop_database_url(url)
    _journeys.clear()


@pytest.fixture
def journey(backend, tmp_path_factory, monkeypatch, prefect_harness, _dropped_at_the_end):
    """The target and legacy database of the journey, built once per backend, then named by
    ``CSA_TARGET_URL`` and ``CSA_LEGACY_URL`` (with the journey's settings) for each test."""
    for name, value in JOURNEY.items():
        monkeypatch.setenv(name, value)
    rule_settings.cache_clear()
    if backend not in _journeys:
        folder = tmp_path_factory.mktemp(f"forecast-{backend}")
        urls = create_database_url(backend, folder, "legacy"), create_database_url(backend, folder, "target")
        _journeys[backend] = urls
        monkeypatch.setenv("CSA_LEGACY_URL", urls[0])
        monkeypatch.setenv("CSA_TARGET_URL", urls[1])
        generate_estate(engine_for(urls[0], legacy=True, writable=True), 500, seed=21)
        upgrade_target(engine_for(urls[1]))
        extract_legacy()
        plan(date(2014, 7, 7))
        advance(CLOCK)
    legacy_url, target_url = _journeys[backend]
    monkeypatch.setenv("CSA_LEGACY_URL", legacy_url)
    monkeypatch.setenv("CSA_TARGET_URL", target_url)
    yield engine_for(target_url), engine_for(legacy_url, legacy=True)
    rule_settings.cache_clear()


@pytest.fixture
def rules_file(tmp_path) -> Path:
    path = tmp_path / "alternative.toml"
    path.write_text(ALTERNATIVE, encoding="utf-8")
    return path


def everything(target, legacy) -> dict:
    """Every row of both databases, and on SQLite the target file's bytes once checkpointed."""
    state = {"target": contents(target)}
    with legacy.connect() as conn:
        state["legacy"] = {t.name: sorted(map(tuple, conn.execute(select(t))), key=repr)
                           for t in legacy_metadata.sorted_tables}
    if target.dialect.name == "sqlite":
        with target.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        state["target_file"] = Path(target.url.database).read_bytes()
    return state


def pure_forecast(target, legacy, as_of: date, alternative: dict) -> Comparison:
    """The whole estate read in one batch and forecast by ``transform.forecast`` alone."""
    snapshot = read_snapshot(target, as_of)
    unselected, recorded = snapshot.unselected, snapshot.selected_not_started
    every_case = pd.concat([unselected[["case_ref"]], recorded[["case_ref"]]]).assign(segment=1)
    whole = ForecastBatch("ALL", tuple(snapshot.journey_batches["batch_id"]), {"all": every_case})
    batch = read_open_cases(legacy, target, whole)
    current = rule_settings()
    sides = [
        forecast_estate(unselected, recorded, batch, snapshot.first_selection, rules)
        for rules in (current, alternative_rules(current, alternative, "test"))
    ]
    return Comparison(pd.Timestamp(as_of), snapshot.first_selection, snapshot.held_back, *sides)


def run_forecast(cli, *args: str) -> tuple[int, str, list[str]]:
    """``csa-closure`` in this process: exit code, stdout, and the 'refused' lines of stderr."""
    result = cli(*args)
    return result.exit_code, result.stdout, result.refused.splitlines()


def test_json_equals_the_pure_forecast_and_changes_nothing(backend, journey, rules_file, cli):
    from csa_closure.render.forecast import render_json

    target, legacy = journey
    before = everything(target, legacy)
    code, out, refused = run_forecast(cli, "forecast", "--rules", str(rules_file), "--format", "json")
    assert code == 0 and not refused
    assert everything(target, legacy) == before
    document = json.loads(out)
    expected = pure_forecast(target, legacy, CLOCK, {"below_threshold_pence": 10_000, "tranche_capacity": 200,
                                                     "liability_notice_months": 2})
    assert document == json.loads(render_json(expected))
    assert document["as_of"] == CLOCK.isoformat()  # the journey's clock by default
    totals = document["totals"]
    assert totals["arrears_pence"]["current"] == totals["arrears_pence"]["alternative"] > 0
    states = {row["state"]: row["current"] for row in document["case_states"]}
    assert {"CLOSED", "AWAITING_CHOICE", "ON_HOLD", "OUT_OF_SCOPE"} <= set(states)
    assert totals["tranches"]["current"] > totals["tranches"]["alternative"] > 0
    moved = {row["reason"]: row["difference"]["amount_pence"] for row in document["outcomes"]
             if row["outcome"] == "WRITE_OFF"}
    assert moved["BELOW_THRESHOLD"] > 0
    assert document["held_back_cases"] > 0
    changed = {row["setting"] for row in document["settings"] if row["changed"]}
    assert changed == {"below_threshold_pence", "tranche_capacity", "liability_notice_months"}


def test_the_flow_runs_batches_as_tasks_and_publishes_its_artifact(backend, journey, rules_file, cli):
    from flows.forecast import forecast

    before = {a["id"] for a in artifacts("forecast")}
    state = forecast({"below_threshold_pence": 10_000}, CLOCK, return_state=True)
    assert state.is_completed()
    flow_run, runs = task_runs_of(state)
    assert flow_run.name == f"forecast-{CLOCK}"
    names = sorted(run.name for run in runs)
    assert len(names) > 2 and all(re.fullmatch(r"forecast-B\d{3}", name) for name in names)
    assert all(run.state.is_completed() for run in runs)
    published = [a for a in artifacts("forecast") if a["id"] not in before]
    assert len(published) == 1
    markdown = published[0]["data"]
    assert markdown.startswith("## What-if forecast as of 11 August 2014")
    assert "`below_threshold_pence` £65.00 (6,500 p) → **£100.00 (10,000 p)**" in markdown
    assert "| **written off** | **below the threshold** |" in markdown


def test_html_page_written_to_out(backend, journey, rules_file, cli, tmp_path):
    page = tmp_path / "forecast.html"
    code, out, _ = run_forecast(cli, "forecast", "--rules", str(rules_file), "--format", "html",
                           "--out", str(page))
    assert code == 0 and str(page) in out
    html = page.read_text(encoding="utf-8")
    assert "<h1>What-if forecast</h1>" in html and 'class="differs"' in html
    assert not re.search(r"https?://|<script|<link|src=", html)
    assert "below_threshold_pence" in html and "£100.00 (10,000 p)" in html
    assert not list(tmp_path.glob(".*.part"))


def test_the_terminal_tables_mark_what_differs(backend, journey, rules_file, cli):
    code, out, _ = run_forecast(cli, "forecast", "--rules", str(rules_file), "--as-of", "2014-08-18")
    assert code == 0
    for title in ("Rule settings", "Headline figures", "When the closure ends", "Cases and money by outcome",
                  "Where the cases end", "Money by scheme and creditor", "Tranches needed", "Letters to be sent"):
        assert title in out
    assert re.search(r"\*\s+│\s+below_threshold_pence\s+│\s+£65\.00", out)
    assert "as of 2014-08-18" in out


REFUSALS = [
    (None, [], "cannot be read"),
    ("under_threshold_pence = 10000\n", [], "unknown rule setting under_threshold_pence"),
    ("below_threshold_pence = -5\n", [], "below_threshold_pence: Input should be greater than or equal to 0"),
    ("tranche_capacity = 1.5\n", [], "tranche_capacity must be a whole number, not 1.5"),
    ("segment_groups = [[1], [2]]\n", [], "segment_groups must name each segment 1 to 6 exactly once"),
    ("below_threshold_pence = \n", [], "is not TOML"),
    ("", [], "names no rule setting"),
    (ALTERNATIVE, ["--as-of", "2014-13-01"], "--as-of must be a date as YYYY-MM-DD"),
    (ALTERNATIVE, ["--as-of", "2014-08-04"], "--as-of 2014-08-04 is before 2014-08-11"),
    (ALTERNATIVE, ["--format", "xml"], "--format must be one of"),
    (ALTERNATIVE, ["--format", "html"], "--format html writes a page"),
]


@pytest.mark.parametrize("rules, args, reason", REFUSALS, ids=[reason for *_, reason in REFUSALS])
def test_refusals_exit_2_changing_nothing(backend, journey, cli, tmp_path, rules, args, reason):
    target, legacy = journey
    path = tmp_path / "rules.toml"
    if rules is not None:
        path.write_text(rules, encoding="utf-8")
    before = everything(target, legacy)
    code, out, refused = run_forecast(cli, "forecast", "--rules", str(path), *args)
    assert code == 2 and len(refused) == 1 and reason in refused[0], refused
    assert not out and everything(target, legacy) == before
