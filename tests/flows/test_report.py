"""``csa-closure report`` on a generated estate taken part-way through a compressed journey.

The report's figures are checked against SUM queries written here, straight on the contract
tables; JSON and the terminal tables must tell the same story, and every refusal exits 2
changing nothing. One journey per backend is built once and shared by the module's tests.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from conftest import create_database_url, drop_database_url
from sqlalchemy import func, select

from csa_closure.db import engine_for
from csa_closure.render.formats import pounds
from csa_closure.settings import rule_settings
from flows.advance import advance
from flows.extraction import extract_legacy
from flows.plan import plan
from load.migrate import upgrade_target
from load.schema import (
    closure_outcome,
    cms_case,
    cms_unpaid_maintenance,
    target_metadata,
    write_off,
)
from synthetic import generate_estate

START = date(2014, 7, 7)
AS_OF = date(2014, 9, 24)  # first tranches closed, later ones choosing or still live
COMPRESSED = {
    "CSA_RULE_LIABILITY_NOTICE_MONTHS": "2",
    "CSA_RULE_CHOICE_WINDOW_DAYS": "14",
}
_journeys: dict[str, str] = {}


@pytest.fixture(scope="module")
def _dropped_at_the_end():
    yield
    for url in _journeys.values():
        drop_database_url(url)
    _journeys.clear()


@pytest.fixture
def journey(backend, tmp_path_factory, monkeypatch, prefect_harness, _dropped_at_the_end):
    """The target of a 600-case estate advanced to ``AS_OF``: built once per backend, then
    pointed at by ``CSA_TARGET_URL`` for each test."""
    if backend not in _journeys:
        folder = tmp_path_factory.mktemp(f"report-{backend}")
        legacy_url = create_database_url(backend, folder, "legacy")
        target_url = create_database_url(backend, folder, "target")
        _journeys[backend] = target_url
        for name, value in COMPRESSED.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("CSA_LEGACY_URL", legacy_url)
        monkeypatch.setenv("CSA_TARGET_URL", target_url)
        rule_settings.cache_clear()
        generate_estate(engine_for(legacy_url, legacy=True, writable=True), 600, seed=11)
        upgrade_target(engine_for(target_url))
        extract_legacy()
        plan(START)
        advance(AS_OF)
        rule_settings.cache_clear()
        drop_database_url(legacy_url)
    monkeypatch.setenv("CSA_TARGET_URL", _journeys[backend])
    return engine_for(_journeys[backend])


def report_json(cli, *args: str) -> dict:
    result = cli("report", "--format", "json", *args)
    assert result.exit_code == 0 and not result.refused
    return json.loads(result.stdout)


def table_sums(target, tranche_id: str | None = None) -> dict:
    """The journey's money and cases straight from the contract tables."""
    o = closure_outcome.c
    where = [o.tranche_id == tranche_id] if tranche_id else []
    lines = (
        select(func.sum(cms_unpaid_maintenance.c.amount_pence))
        .select_from(cms_unpaid_maintenance.join(cms_case))
        .join(closure_outcome, o.csa_case_ref == cms_case.c.csa_case_ref)
    )
    written = select(func.sum(write_off.c.amount_pence)).join(
        closure_outcome, o.csa_case_ref == write_off.c.csa_case_ref
    )
    with target.connect() as conn:
        return {
            "transferred_pence": int(conn.execute(lines.where(*where)).scalar() or 0),
            "written_off_pence": int(conn.execute(written.where(*where)).scalar() or 0),
            "pending_pence": int(conn.execute(select(func.sum(o.pending_pence)).where(*where)).scalar() or 0),
            "on_hold_pence": int(conn.execute(select(func.sum(o.on_hold_pence)).where(*where)).scalar() or 0),
            "cases": conn.execute(select(func.count()).select_from(closure_outcome).where(*where)).scalar(),
            "cases_by_state": dict(
                conn.execute(select(o.journey_state, func.count()).where(*where).group_by(o.journey_state)).all()
            ),
        }


def contents(target) -> dict[str, list[tuple]]:
    with target.connect() as conn:
        return {
            table.name: sorted(map(tuple, conn.execute(select(table))), key=repr)
            for table in target_metadata.sorted_tables
        }


def test_report_totals_equal_the_tables_and_reconcile(backend, journey, cli):
    document = report_json(cli)
    sums = table_sums(journey)
    totals = document["totals"]
    assert {key: totals[key] for key in sums} == sums | {
        "cases_by_state": {s: sums["cases_by_state"].get(s, 0) for s in totals["cases_by_state"]}
    }
    assert {"CLOSED", "AWAITING_CHOICE", "AWAITING_LIABILITY_END", "ON_HOLD"} <= set(sums["cases_by_state"])
    assert sums["transferred_pence"] and sums["written_off_pence"] and sums["pending_pence"] and sums["on_hold_pence"]
    assert document["reconciliation_status"] == "PASS" and totals["difference_pence"] == 0
    assert {row["status"] for row in document["reconciliation"]} == {"PASS"}
    assert sum(row["transferred_pence"] for row in document["reconciliation"]) == sums["transferred_pence"]
    assert sum(row["amount_pence"] for row in document["money"]) == totals["arrears_pence"]
    assert sum(t["cases"] for t in document["tranches"]) == sums["cases"]
    assert document["advanced_to"] == AS_OF.isoformat()
    assert document["runs"] == [  # the journey's runs, latest first (its extract keeps no run row)
        {"command": "advance", "as_of": AS_OF.isoformat(), "state": "COMPLETED"},
        {"command": "plan", "as_of": START.isoformat(), "state": "COMPLETED"},
    ]


def test_the_terminal_tables_say_what_the_json_says(backend, journey, cli, tmp_path):
    totals = report_json(cli)["totals"]
    printed = cli("report")
    assert printed.exit_code == 0
    figures = {
        "cases selected": f"{totals['cases']:,}",
        "transferred to the CMS": pounds(totals["transferred_pence"]),
        "written off": pounds(totals["written_off_pence"]),
        "pending": pounds(totals["pending_pence"]),
        "on hold": pounds(totals["on_hold_pence"]),
        "reconciliation": "PASS",
    }
    saved = tmp_path / "report.txt"
    assert cli("report", "--out", str(saved)).exit_code == 0
    for text in (printed.stdout, saved.read_text(encoding="utf-8")):
        for label, value in figures.items():
            assert re.search(rf"^\s*{label}\s+{re.escape(value)}\s*$", text, re.MULTILINE), label
        for title in ("Tranche progress", "Money by outcome and reason", "Verification holds", "Quarantine",
                      "Letters", "Reconciliation to the penny"):
            assert title in text


def test_one_tranche_only(backend, journey, cli):
    everything = report_json(cli)
    chosen = next(t for t in everything["tranches"] if t["cases_by_state"]["AWAITING_CHOICE"])["tranche_id"]
    document = report_json(cli, "--tranche", chosen)
    sums = table_sums(journey, chosen)
    assert document["tranche"] == chosen
    assert [t["tranche_id"] for t in document["tranches"]] == [chosen]
    assert {row["tranche_id"] for row in document["reconciliation"]} == {chosen}
    assert document["totals"]["cases"] == sums["cases"] < everything["totals"]["cases"]
    for key in ("transferred_pence", "written_off_pence", "pending_pence", "on_hold_pence"):
        assert document["totals"][key] == sums[key]
    assert document["reconciliation_status"] == "PASS"


def test_html_page_written_to_out(backend, journey, cli, tmp_path):
    page = tmp_path / "report.html"
    result = cli("report", "--format", "html", "--out", str(page))
    assert result.exit_code == 0 and str(page) in result.stdout
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 2 and not re.search(r"https?://|<script", html)
    assert not list(tmp_path.glob(".*.part"))


@pytest.mark.parametrize(
    "args, reason",
    [
        (["--tranche", "T9999"], "unknown tranche T9999"),
        (["--format", "xml"], "--format must be one of"),
        (["--format", "html"], "--format html writes a page"),
        (["--format", "json", "--out", "{missing}/report.json"], "does not exist"),
    ],
)
def test_refusals_exit_2_changing_nothing(backend, journey, cli, tmp_path, args, reason):
    before = contents(journey)
    args = [a.format(missing=tmp_path / "missing") for a in args]
    result = cli("report", *args)
    assert result.exit_code == 2 and len(result.refused.splitlines()) == 1 and reason in result.refused
    assert not result.stdout and contents(journey) == before
    assert not (tmp_path / "missing").exists()
