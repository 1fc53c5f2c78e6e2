"""Generate, extract and validate a synthetic estate through the flows, as operations run them."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from conftest import BACKENDS, create_database_url, drop_database_url, in_a_process
from sqlalchemy import select, text
from sqlalchemy.exc import NoResultFound

from csa_closure.db import engine_for
from extract import legacy_schema as ls
from extract.batches import batch_ranges
from extract.cs2 import CS2
from extract.cscs import CSCS
from flows.extraction import extract_legacy
from load.extracted import count_where
from load.migrate import upgrade_target
from load.schema import extract_run, held_case, legacy_case, quarantine
from synthetic import generate_estate

CASES = 4_000


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> str:
    """Module-scoped here, so that one extract per backend serves the tests that read it."""
    return request.param


def _generate(env: pytest.MonkeyPatch, legacy_url: str, target_url: str):
    """Point the flows at fresh databases and generate the estate into the legacy one."""
    env.setenv("CSA_LEGACY_URL", legacy_url)
    env.setenv("CSA_TARGET_URL", target_url)
    env.setenv("CSA_EXTRACT_BATCH_SIZE", "1500")
    upgrade_target(engine_for(target_url))
    return generate_estate(engine_for(legacy_url, legacy=True, writable=True), CASES, seed=11)


@pytest.fixture
def generated(legacy_url, target_url, monkeypatch, prefect_harness):
    """The estate generated, for a test that extracts it itself."""
    yield _generate(monkeypatch, legacy_url, target_url), engine_for(target_url)


@pytest.fixture(scope="module")
def extracted(backend, tmp_path_factory, prefect_harness):
    """The estate generated and extracted once: its manifest, the target and the summaries.
    Its tests read it; one extracts it again, which by contract changes nothing they read."""
    folder = tmp_path_factory.mktemp(f"extracted-{backend}")
    urls = [create_database_url(backend, folder, name) for name in ("legacy", "target")]
    try:
        with pytest.MonkeyPatch.context() as env:
            manifest = _generate(env, *urls)
            summaries = {s["scheme"]: s for s in extract_legacy()}
            yield manifest, engine_for(urls[1]), summaries
    finally:
        for url in urls:
            drop_database_url(url)


def quarantine_reasons(target) -> dict[tuple[str, str], set[tuple[str, str]]]:
    with target.connect() as conn:
        rows = conn.execute(select(quarantine.c.source_table, quarantine.c.source_key, quarantine.c.reasons))
        return {
            (table, key): {(r["column"], r["check"]) for r in json.loads(reasons)}
            for table, key, reasons in rows
        }


def test_every_malformed_record_is_quarantined_with_its_reason_and_no_clean_record_is(extracted):
    manifest, target, _ = extracted
    expected: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for record in manifest.malformed:
        expected[(record.source_table, record.source_key)].add((record.column, record.check))
    kinds = {(record.scheme, record.kind) for record in manifest.malformed}
    assert len(kinds) >= 14, kinds  # every kind of defect, in both schemes
    found = quarantine_reasons(target)
    assert set(found) == set(expected)  # no clean record is quarantined, no bad one missed
    for key, reasons in expected.items():
        assert reasons <= found[key], key


def test_per_scheme_cases_extracted_equal_clean_plus_held_back(extracted):
    manifest, target, summaries = extracted
    with target.connect() as conn:
        for scheme, summary in summaries.items():
            clean = count_where(conn, legacy_case, scheme=scheme)
            held = count_where(conn, held_case, scheme=scheme)
            assert summary["cases_extracted"] == clean + held == summary["cases_clean"] + summary["cases_held"]
            assert summary["cases_extracted"] >= manifest.cases_by_scheme[scheme]
            assert 0 < held < clean * 0.1


def test_extracting_twice_gives_the_same_state(extracted):
    _, target, _ = extracted

    def state():
        with target.connect() as conn:
            return [
                sorted(map(tuple, conn.execute(select(table)).all()))
                for table in (legacy_case, held_case)
            ] + [sorted(quarantine_reasons(target).items())]

    first = state()
    extract_legacy()
    assert state() == first
    with target.connect() as conn:
        assert count_where(conn, extract_run) == 2


REFUSE_CASES = {
    "sqlite": [
        """CREATE TRIGGER refuse_cases BEFORE INSERT ON legacy_case
           WHEN NEW.legacy_case_id BETWEEN {low} AND {high}
           BEGIN SELECT RAISE(ABORT, 'refused by test'); END""",
    ],
    "postgresql": [
        """CREATE FUNCTION refuse_cases() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             IF NEW.legacy_case_id BETWEEN {low} AND {high} THEN RAISE EXCEPTION 'refused by test'; END IF;
             RETURN NEW;
           END $$""",
        "CREATE TRIGGER refuse_cases BEFORE INSERT ON legacy_case FOR EACH ROW EXECUTE FUNCTION refuse_cases()",
    ],
}
DROP_REFUSAL = {"sqlite": ["DROP TRIGGER refuse_cases"], "postgresql": ["DROP TRIGGER refuse_cases ON legacy_case"]}


def test_a_failed_batch_fails_the_flow_but_not_the_other_batches_and_a_rerun_completes(
    generated, legacy_url, monkeypatch
):
    """The target refuses ten cases of one CS2 batch: that batch's transaction rolls back
    whole, every other batch (in the flow's process or the pool's) commits, the flow fails; a
    rerun once the fault is gone gives what one clean extract gives."""
    _, target = generated
    monkeypatch.setenv("CSA_EXTRACT_BATCH_SIZE", "1000")
    batches = batch_ranges(engine_for(legacy_url, legacy=True), CS2, 1000)
    assert len(batches) == 3  # and two of CSCS: more than the flow runs alone, so the pool works some
    failing = batches[1]
    dialect = target.dialect.name
    with target.begin() as conn:
        for statement in REFUSE_CASES[dialect]:
            conn.execute(text(statement.format(low=failing.lower + 10, high=failing.lower + 20)))
    # PostgreSQL's message is told by its condition alone: it could quote a row's values
    with pytest.raises(Exception, match="refused by test|RaiseException .SQLSTATE P0001."):
        extract_legacy()

    def loaded_ids() -> set[int]:
        with target.connect() as conn:
            ids = select(legacy_case.c.legacy_case_id).where(legacy_case.c.scheme == "2003")
            return set(conn.execute(ids).scalars())

    def in_batch(batch, ids) -> set[int]:
        return {
            i for i in ids if (batch.lower is None or i > batch.lower) and (batch.upper is None or i <= batch.upper)
        }

    after_failure = loaded_ids()
    assert not in_batch(failing, after_failure)  # nothing of the failed batch: one transaction
    for batch in batches:
        if batch is not failing:
            assert in_batch(batch, after_failure), batch.label  # the others went on
    with target.connect() as conn:
        assert count_where(conn, legacy_case, scheme="1993") > 0

    with target.begin() as conn:
        for statement in DROP_REFUSAL[dialect]:
            conn.execute(text(statement))
    summaries = {s["scheme"]: s for s in extract_legacy()}
    assert in_batch(failing, loaded_ids())
    for summary in summaries.values():
        assert summary["cases_extracted"] == summary["cases_clean"] + summary["cases_held"]


def test_a_scheme_that_cannot_open_fails_the_flow_once_the_pool_has_stopped(generated, legacy_url, monkeypatch):
    """CS2's extract date is missing: opening CS2 fails while the pool works CSCS's batches.
    The flow fails with that error once the pool's lanes have finished the batch they hold
    (none waits for batches that will never come); what CSCS committed is whole batches; a
    rerun once the date is back extracts both schemes."""
    _, target = generated
    monkeypatch.setenv("CSA_EXTRACT_BATCH_SIZE", "1000")
    legacy = engine_for(legacy_url, legacy=True, writable=True)
    with legacy.begin() as conn:
        extract_dt = conn.execute(select(ls.cs2_extract.c.extract_dt)).scalar_one()
        conn.execute(ls.cs2_extract.delete())
    with pytest.raises(NoResultFound):
        extract_legacy()

    with target.connect() as conn:
        assert set(conn.execute(select(extract_run.c.scheme)).scalars()) == {"1993"}
        extracted = set(conn.execute(select(legacy_case.c.case_ref)).scalars())
        extracted |= set(conn.execute(select(held_case.c.case_ref)).scalars())
    batches = batch_ranges(legacy, CSCS, 1000)
    with legacy.connect() as conn:
        refs = list(conn.execute(select(ls.cscs_case.c.case_ref).order_by(ls.cscs_case.c.case_ref)).scalars())
    for batch in batches:
        members = {
            r for r in refs if (batch.lower is None or r > batch.lower) and (batch.upper is None or r <= batch.upper)
        }
        assert not members & extracted or members <= extracted, batch.label  # all or nothing

    with legacy.begin() as conn:
        conn.execute(ls.cs2_extract.insert().values(extract_dt=extract_dt))
    summaries = {s["scheme"]: s for s in extract_legacy()}
    assert set(summaries) == {"1993", "2003"}
    for summary in summaries.values():
        assert summary["cases_extracted"] == summary["cases_clean"] + summary["cases_held"] > 0


def test_logs_of_generate_and_extract_hold_no_personal_data(tmp_path, prefect_harness):
    """Run the real CLI; grep its whole output for every generated name, NINO and postcode.
    The commands use the session's Prefect server, as an operator's use theirs: each would
    otherwise start a temporary one of its own, seconds each."""
    from prefect.settings import PREFECT_API_URL

    env = {
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "CSA_LEGACY_URL": f"sqlite:///{tmp_path / 'legacy.db'}",
        "CSA_TARGET_URL": f"sqlite:///{tmp_path / 'cms.db'}",
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PATH": "/usr/bin:/bin",
    }
    output = ""
    for command in (["init"], ["generate", "--cases", "600", "--seed", "3"], ["extract"]):
        done = in_a_process(*command, env=env)
        assert done.returncode == 0, done.stderr[-2000:]
        output += done.stdout + done.stderr
    legacy = engine_for(env["CSA_LEGACY_URL"], legacy=True)
    with legacy.connect() as conn:
        personal = set()
        for table, columns in (
            (ls.cscs_person, ("surname", "forenames", "nino", "postcode", "address_line1")),
            (ls.cs2_party, ("family_name", "given_names", "ni_number", "post_code", "addr")),
        ):
            for row in conn.execute(select(*(table.c[c] for c in columns))):
                personal.update(value for value in row if value and len(value) > 3)
    assert '"event": "batch extracted"' in output  # the structured logs are there
    leaked = {value for value in personal if value in output}
    assert not leaked, sorted(leaked)[:10]
