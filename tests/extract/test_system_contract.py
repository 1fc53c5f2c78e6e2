"""What every registered legacy system must keep, one contract for all: its tables are in the
legacy schema, its raw contract passes a clean generated batch and quarantines a broken row
with the reason, its mapping gives frames of the canonical model, its references are in its
formats and name it alone, and its codes map to the model's codes."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest
from conftest import BACKENDS, create_database_url, drop_database_url

from csa_closure.db import engine_for
from extract.batches import BatchRange, extract_date, known_duplicates, read_batch
from extract.legacy_schema import legacy_metadata
from extract.legacy_system import LegacySystem
from extract.reader import legacy_reader, raw_select
from extract.systems import registered
from synthetic import EstateManifest, generate_estate
from synthetic.schemes import WRITERS
from validate import canonical
from validate.raw import RawContract
from validate.reasons import contract_reasons

EXTRACTED_ON = date(2014, 6, 30)
SYSTEMS = [pytest.param(system, id=system.name) for system in registered()]


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def estate(backend, tmp_path_factory) -> tuple:
    """A generated estate of every system, once per backend: its engine and manifest."""
    url = create_database_url(backend, tmp_path_factory.mktemp(f"contract-{backend}"), "legacy")
    try:
        engine = engine_for(url, legacy=True, writable=True)
        yield engine, generate_estate(engine, 1_500, seed=7, extract_date=EXTRACTED_ON)
        engine.dispose()
    finally:
        drop_database_url(url)


def test_every_registered_system_is_in_the_generated_estate():
    assert {system.scheme for system in registered()} == {system.scheme for system, _ in WRITERS}


@pytest.mark.parametrize("system", SYSTEMS)
def test_its_tables_are_in_the_legacy_schema_with_every_column_it_names(system: LegacySystem):
    for table in system.tables:
        assert legacy_metadata.tables[table.name] is table
    for contract, table in zip(system.contracts, system.tables):
        assert set(contract.schema.columns) | set(contract.key) <= set(table.c.keys()), contract.table
    named = {
        system.case_table: [system.case_key, system.case_ref_column, *system.parent_columns],
        system.child_table: [system.case_key],
        system.ledger_table: [system.case_key],
        system.extract_table: [system.extract_column],
    }
    for table, columns in named.items():
        assert set(columns) <= set(table.c.keys()), table.name


@pytest.mark.parametrize("system", SYSTEMS)
def test_its_codes_map_to_the_canonical_models_codes(system: LegacySystem):
    assert set(system.codes) <= set(canonical.CODES)
    for column, codes in system.codes.items():
        assert codes and set(codes.values()) <= set(canonical.CODES[column]), column


def _rows(engine, table) -> pd.DataFrame:
    with legacy_reader(engine) as reader:
        return reader.frame(raw_select(table))


def _keys(frame: pd.DataFrame, contract: RawContract) -> pd.Series:
    return frame[list(contract.key)].fillna("").astype(str).agg("/".join, axis=1)


def _clean(frame: pd.DataFrame, contract: RawContract, manifest: EstateManifest) -> pd.DataFrame:
    """The rows the manifest does not list as malformed."""
    listed = {r.source_key for r in manifest.malformed if r.source_table == contract.table}
    return frame[~_keys(frame, contract).isin(listed).to_numpy()]


@pytest.mark.parametrize("system", SYSTEMS)
def test_its_raw_contract_passes_a_clean_generated_batch(estate, system: LegacySystem):
    engine, manifest = estate
    for contract, table in zip(system.contracts, system.tables):
        clean = _clean(_rows(engine, table), contract, manifest)
        assert len(clean), contract.table
        assert contract_reasons(contract.parsed(clean), contract) == {}, contract.table


@pytest.mark.parametrize("system", SYSTEMS)
def test_its_raw_contract_quarantines_a_broken_row_with_the_reason(estate, system: LegacySystem):
    engine, manifest = estate
    for contract, table in zip(system.contracts, system.tables):
        rows = _clean(_rows(engine, table), contract, manifest).iloc[:3].copy()
        broken = rows.index[1]
        dates = list(contract.date_formats)
        required = next(name for name, column in contract.schema.columns.items()
                        if not column.nullable and name not in dates)
        rows.loc[broken, required] = None
        expected = [(required, "not_null")]
        if dates:
            rows.loc[broken, dates[0]] = "30/02/2014-06-30"
            expected.append((dates[0], "date"))
        found = contract_reasons(contract.parsed(rows), contract)
        assert list(found) == [broken], contract.table
        assert sorted((r["column"], r["check"]) for r in found[broken]) == sorted(expected)


@pytest.mark.parametrize("system", SYSTEMS)
def test_its_mapping_gives_canonical_frames_with_its_references_and_codes(estate, system: LegacySystem):
    engine, _ = estate
    extracted_on = extract_date(engine, system)
    assert extracted_on == EXTRACTED_ON
    batch = read_batch(engine, system, BatchRange(1, None, None), known_duplicates(engine, system), extracted_on)
    assert len(batch.cases) and len(batch.ledger) and len(batch.parties)
    canonical.check_canonical(batch.cases, batch.ledger, batch.parties, system.canonical, "contract")
    assert set(batch.cases["scheme"]) == {system.scheme}
    for column, codes in system.codes.items():
        frame = batch.ledger if column in batch.ledger else batch.cases
        assert set(frame[column].dropna()) <= set(codes.values()), column

    case_refs = batch.cases["case_ref"]
    person_refs = pd.concat([batch.cases["nrp_ref"], batch.cases["pwc_ref"], batch.parties["person_ref"]])
    assert case_refs.str.fullmatch(system.case_refs).all()
    assert person_refs.str.fullmatch(system.person_refs.pattern).all()
    keys = system.person_refs.keys(person_refs)
    assert sorted(system.person_refs.refs(pd.Series(keys, dtype="str"))) == sorted(set(person_refs))
    for other in registered():
        if other is not system:
            assert not any(re.fullmatch(other.case_refs, ref) for ref in case_refs), other.name
            assert not other.person_refs.keys(person_refs), other.name
