"""A drawn chunk written out as the rows of each legacy system, in its own conventions:
CSCS typed and in pence, CS2 coded with DD/MM/YYYY text dates and pounds as text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from extract import cs2, cscs
from extract.legacy_schema import (
    cs2_case,
    cs2_child,
    cs2_party,
    cs2_txn,
    cscs_case,
    cscs_child,
    cscs_ledger,
    cscs_person,
)
from extract.legacy_system import LegacySystem
from synthetic import build, shape
from synthetic.dates import dmy_text, iso_text
from synthetic.rows import Rows
from synthetic.words import TEXT, digits, join
from validate.canonical import CODES

DRAWN_ACTIONS = cs2.CODES["enforcement_action"]
"""``build`` draws an enforcement action as an index into CS2's eight codes (both deduction
orders, RDO and LSDO, are a DEDUCTION_ORDER); other systems write its canonical action."""

CS2_CASE_NUMBER_OFFSET = 1_000_000
"""CS2 case numbers are not their case ids, so code mixing the two fails loudly."""
PARTY_ID_OFFSET = 10_000_000
MISSING_CSCS_CASE_BASE = 9_000_000
MISSING_PERSON_BASE = 900_000_000
MISSING_CS2_ID_BASE = 900_000_000
"""References naming nothing (malformed records) come from ranges no real record reaches."""

_CENTS = np.array([f"{c:02d}" for c in range(100)], dtype=TEXT)


@dataclass
class Numbering:
    """The last reference number used of each kind, carried from chunk to chunk."""

    cscs_case: int = 0
    person: int = 0
    cs2_case: int = 0
    party: int = 0
    txn: int = 0
    missing: int = 0

    def take(self, kind: str, count: int) -> np.ndarray:
        first = getattr(self, kind) + 1
        setattr(self, kind, first + count - 1)
        return np.arange(first, first + count, dtype=np.int64)


@dataclass
class SchemeTables:
    """One chunk of one scheme: its parents, cases, children and ledger rows."""

    scheme: str
    parents: Rows
    cases: Rows
    children: Rows
    ledger: Rows

    def all(self) -> tuple[Rows, ...]:
        return (self.parents, self.cases, self.children, self.ledger)


def pounds(pence: np.ndarray) -> np.ndarray:
    """Whole pence as CS2 pounds text with two decimals ('23.50')."""
    pence = np.asarray(pence, dtype=np.int64)
    return join((pence // 100).astype(TEXT), ".", _CENTS[pence % 100])


def cscs_case_refs(numbers: np.ndarray) -> np.ndarray:
    return join("C93", digits(numbers, 7))


def person_refs(numbers: np.ndarray) -> np.ndarray:
    return join("P", digits(numbers, 9))


def cs2_case_numbers(case_ids: np.ndarray) -> np.ndarray:
    return join("S03", digits(np.asarray(case_ids) + CS2_CASE_NUMBER_OFFSET, 7))


def _codes(names: Sequence[str], index: np.ndarray) -> np.ndarray:
    return np.array(names, dtype=TEXT)[index]


def legacy_codes(system: LegacySystem, column: str, canonical: Sequence[str] | None = None) -> tuple[str, ...]:
    """The system's code for each of the ``canonical`` codes of a canonical column (by default
    all of them, in the order ``build`` draws their indices): the first it maps to each."""
    codes: Mapping[str, str] = system.codes[column]
    written = {}
    for code, meaning in codes.items():
        written.setdefault(meaning, code)
    return tuple(written[meaning] for meaning in (CODES[column] if canonical is None else canonical))


def _flag(values: np.ndarray) -> np.ndarray:
    return np.where(values, "Y", "N").astype(TEXT)


def cscs_tables(draw: build.SchemeDraw, numbering: Numbering) -> SchemeTables:
    people, cases, children, ledger = draw.persons, draw.cases, draw.children, draw.ledger
    refs = person_refs(numbering.take("person", len(people.surname)))
    case_refs = cscs_case_refs(numbering.take("cscs_case", len(cases.start)))
    no_address = people.untraced
    parents = Rows(
        cscs_person,
        {
            "person_ref": refs,
            "surname": people.surname,
            "forenames": people.forenames,
            "date_of_birth": iso_text(people.birth),
            "nino": people.nino,
            "address_line1": people.line1,
            "address_line2": people.line2,
            "town": people.town,
            "postcode": people.postcode,
            "date_of_death": iso_text(people.death),
            "resides_abroad": people.abroad.astype(np.int64),
        },
        {
            "nino": people.nino_missing,
            "address_line1": no_address,
            "address_line2": no_address | people.line2_missing,
            "town": no_address,
            "postcode": no_address | people.abroad,
            "date_of_death": ~people.died,
        },
    )
    nil, interim, full = legacy_codes(cscs.CSCS, "assessment_type", ("NIL", "INTERIM", "FULL"))
    assessment = np.select([cases.nil, cases.interim], [nil, interim], full).astype(TEXT)
    case_rows = Rows(
        cscs_case,
        {
            "case_ref": case_refs,
            "nrp_ref": refs[cases.nrp],
            "pwc_ref": refs[cases.pwc],
            "case_start_date": iso_text(cases.start),
            "case_status": _codes(legacy_codes(cscs.CSCS, "status"), cases.status),
            "assessment_type": assessment,
            "weekly_liability_pence": cases.weekly,
            "payment_method": _codes(legacy_codes(cscs.CSCS, "payment_method"), cases.payment),
            "enforcement_action": _codes(
                legacy_codes(cscs.CSCS, "enforcement_action", DRAWN_ACTIONS.values()), np.maximum(cases.action, 0)
            ),
            "clerical": cases.clerical.astype(np.int64),
            "dv_marker": cases.dv.astype(np.int64),
            "arrears_total_pence": cases.recorded_total,
            "arrears_sos_pence": cases.recorded_sos,
        },
        {"enforcement_action": cases.action < 0, "case_start_date": np.zeros(len(cases.start), dtype=bool)},
    )
    child_rows = Rows(
        cscs_child,
        {
            "case_ref": case_refs[children.case],
            "child_seq": children.number,
            "date_of_birth": iso_text(children.birth),
        },
    )
    ledger_rows = Rows(
        cscs_ledger,
        {
            "case_ref": case_refs[ledger.case],
            "seq": ledger.seq,
            "posted_date": iso_text(ledger.posted),
            "txn_type": _codes(legacy_codes(cscs.CSCS, "kind"), ledger.kind),
            "creditor": _codes(legacy_codes(cscs.CSCS, "creditor"), ledger.creditor),
            "amount_pence": ledger.amount,
            "period_from": iso_text(ledger.period_from),
            "period_to": iso_text(ledger.period_to),
        },
        {"period_from": ~ledger.has_period, "period_to": ~ledger.has_period},
    )
    return SchemeTables(cscs.CSCS.scheme, parents, case_rows, child_rows, ledger_rows)


def _rate_codes(cases: build.Cases) -> np.ndarray:
    """CS2 rate of the current (or, for ended cases, the last) assessment."""
    return np.select(
        [
            cases.nil,
            cases.interim,
            cases.charged_weekly <= shape.FLAT_RATE_PENCE,
            cases.charged_weekly < shape.REDUCED_RATE_BELOW_PENCE,
        ],
        ["NIL", "DFT", "FLT", "RED"],
        "BAS",
    ).astype(TEXT)


def cs2_tables(draw: build.SchemeDraw, numbering: Numbering) -> SchemeTables:
    people, cases, children, ledger = draw.persons, draw.cases, draw.children, draw.ledger
    party_ids = PARTY_ID_OFFSET + numbering.take("party", len(people.surname))
    case_ids = numbering.take("cs2_case", len(cases.start))
    line2 = np.where(people.line2_missing, "", join("|", people.line2))
    parents = Rows(
        cs2_party,
        {
            "party_id": party_ids,
            "family_name": people.surname,
            "given_names": people.forenames,
            "birth_dt": dmy_text(people.birth),
            "ni_number": people.nino,
            "addr": join(people.line1, line2, "|", people.town),
            "post_code": people.postcode,
            "death_dt": dmy_text(people.death),
            "overseas_flag": _flag(people.abroad),
        },
        {
            "ni_number": people.nino_missing,
            "addr": people.untraced,
            "post_code": people.untraced | people.abroad,
            "death_dt": ~people.died,
        },
    )
    case_rows = Rows(
        cs2_case,
        {
            "case_id": case_ids,
            "case_number": cs2_case_numbers(case_ids),
            "paying_party_id": party_ids[cases.nrp],
            "receiving_party_id": party_ids[cases.pwc],
            "effective_dt": dmy_text(cases.start),
            "state_cd": _codes(legacy_codes(cs2.CS2, "status"), cases.status),
            "rate_cd": _rate_codes(cases),
            "weekly_amt": pounds(cases.weekly),
            "collection_cd": _codes(legacy_codes(cs2.CS2, "payment_method"), cases.payment),
            "enf_cd": _codes(tuple(DRAWN_ACTIONS), np.maximum(cases.action, 0)),
            "offline_ind": _flag(cases.clerical),
            "dv_ind": _flag(cases.dv),
            "debt_amt": pounds(cases.recorded_total),
            "debt_sos_amt": pounds(cases.recorded_sos),
        },
        {"enf_cd": cases.action < 0, "effective_dt": np.zeros(len(cases.start), dtype=bool)},
    )
    child_rows = Rows(
        cs2_child,
        {"case_id": case_ids[children.case], "child_no": children.number, "birth_dt": dmy_text(children.birth)},
    )
    adjustment = ledger.kind == build.ADJUSTMENT
    txn_codes = np.select(
        [ledger.kind == build.RECEIPT, adjustment & (ledger.amount > 0), adjustment],
        [
            _txn_code("RECEIPT", credit=True),
            _txn_code("ADJUSTMENT", credit=False),
            _txn_code("ADJUSTMENT", credit=True),
        ],
        _txn_code("CHARGE", credit=False),
    ).astype(TEXT)
    ledger_rows = Rows(
        cs2_txn,
        {
            "txn_id": numbering.take("txn", len(ledger.case)),
            "case_id": case_ids[ledger.case],
            "posted_dt": dmy_text(ledger.posted),
            "txn_cd": txn_codes,
            "owed_to": _codes(legacy_codes(cs2.CS2, "creditor"), ledger.creditor),
            "amt": pounds(np.abs(ledger.amount)),
            "period_start_dt": dmy_text(ledger.period_from),
            "period_end_dt": dmy_text(ledger.period_to),
        },
        {"period_start_dt": ~ledger.has_period, "period_end_dt": ~ledger.has_period},
    )
    return SchemeTables(cs2.CS2.scheme, parents, case_rows, child_rows, ledger_rows)


def _txn_code(kind: str, credit: bool) -> str:
    """The CS2 transaction code of a canonical line kind, and whether it lowers the debt."""
    return next(
        code for code, meaning in cs2.CODES["kind"].items() if meaning == kind and (code in cs2.CREDIT_CODES) == credit
    )


WRITERS = ((cscs.CSCS, cscs_tables), (cs2.CS2, cs2_tables))
"""The legacy systems the estate holds, and how a drawn chunk is written as each one's rows."""
