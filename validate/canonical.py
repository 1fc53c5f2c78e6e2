"""The canonical model (docs/design.md) that every legacy system maps into: its codes, and the
pandera schemas of one system's batch.

The raw schemas decide what is bad data; these check the mapping itself. Every clean batch is
validated against its system's canonical contract before anything is written, so a canonical
frame with a wrong type, a missing value, a code outside the model or a reference outside the
system's formats is a defect of the mapping and fails the batch, loudly, instead of reaching
the rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from validate import checks

CASE_STATUSES = ("LIVE", "ARREARS_ONLY", "CLOSED")
ASSESSMENT_TYPES = ("FULL", "INTERIM", "NIL")
PAYMENT_METHODS = ("COLLECTION", "MAINTENANCE_DIRECT", "DEO", "NONE")
ENFORCEMENT_ACTIONS = (
    "LIABILITY_ORDER",
    "CHARGING_ORDER",
    "ORDER_FOR_SALE",
    "DEDUCTION_ORDER",
    "ENFORCEMENT_AGENT",
    "DRIVING_DISQUALIFICATION",
    "COMMITTAL",
)
LINE_KINDS = ("CHARGE", "IMA_CHARGE", "RECEIPT", "ADJUSTMENT")
CREDITORS = ("PWC", "SOS")
CODES: dict[str, tuple[str, ...]] = {
    "status": CASE_STATUSES,
    "assessment_type": ASSESSMENT_TYPES,
    "payment_method": PAYMENT_METHODS,
    "enforcement_action": ENFORCEMENT_ACTIONS,
    "kind": LINE_KINDS,
    "creditor": CREDITORS,
}
"""The coded columns of the canonical frames and their codes, in the order they are listed."""


def _text(*column_checks: pa.Check, nullable: bool = False) -> pa.Column:
    return pa.Column(checks.TEXT, checks=list(column_checks), nullable=nullable)


def _code(column: str, nullable: bool = False) -> pa.Column:
    return _text(checks.code(CODES[column]), nullable=nullable)


def _ref(pattern: str) -> pa.Column:
    return _text(checks.ref(pattern))


def _pence() -> pa.Column:
    return pa.Column("int64")


def _date(nullable: bool = False) -> pa.Column:
    return pa.Column("datetime64[ns]", nullable=nullable)


def _flag() -> pa.Column:
    return pa.Column("bool")


def _cases(scheme: str, case_refs: str, person_refs: str) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "case_ref": _ref(case_refs),
            "scheme": _text(checks.code([scheme])),
            "legacy_case_id": pa.Column("int64"),
            "nrp_ref": _ref(person_refs),
            "pwc_ref": _ref(person_refs),
            "case_start_date": _date(),
            "status": _code("status"),
            "assessment_type": _code("assessment_type"),
            "weekly_liability_pence": _pence(),
            "payment_method": _code("payment_method"),
            "enforcement_action": _code("enforcement_action", nullable=True),
            "clerical": _flag(),
            "dv_marker": _flag(),
            "recorded_total_pence": _pence(),
            "recorded_sos_pence": _pence(),
            **{f"{role}_{flag}": _flag() for flag in ("deceased", "untraced", "abroad") for role in ("nrp", "pwc")},
            "extracted_on": _date(),
        },
        strict=True,
        ordered=True,
        unique=["case_ref"],
    )


LEDGER = pa.DataFrameSchema(
    {
        "case_ref": _text(),  # one of the batch's clean cases, which carry the format
        "line_ref": pa.Column("int64"),
        "posted_date": _date(),
        "kind": _code("kind"),
        "creditor": _code("creditor"),
        "amount_pence": _pence(),
        "period_from": _date(nullable=True),
        "period_to": _date(nullable=True),
    },
    strict=True,
    ordered=True,
)


def _parties(person_refs: str) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "person_ref": _ref(person_refs),
            "surname": _text(nullable=True),
            "forenames": _text(nullable=True),
            "address": _text(nullable=True),
            "postcode": _text(nullable=True),
            "deceased": _flag(),
            "untraced": _flag(),
            "abroad": _flag(),
        },
        strict=True,
        ordered=True,
    )


CASE_COLUMNS = list(_cases("", "", "").columns)
LEDGER_COLUMNS = list(LEDGER.columns)
PARTY_COLUMNS = list(_parties("").columns)


def empty_parties() -> pd.DataFrame:
    """Canonical parties, none: the columns and their types."""
    flags = ("deceased", "untraced", "abroad")
    return pd.DataFrame({c: pd.Series(dtype=bool if c in flags else "str") for c in PARTY_COLUMNS})


@dataclass(frozen=True)
class CanonicalContract:
    """The canonical schemas of one legacy system's batches: its scheme, and its case and
    person references in its formats (whole-text regular expressions)."""

    cases: pa.DataFrameSchema
    ledger: pa.DataFrameSchema
    parties: pa.DataFrameSchema


def canonical_contract(scheme: str, case_refs: str, person_refs: str) -> CanonicalContract:
    return CanonicalContract(_cases(scheme, case_refs, person_refs), LEDGER, _parties(person_refs))


class CanonicalMappingError(ValueError):
    """A clean batch mapped into frames that break the canonical model: a defect, not data."""


def check_canonical(
    cases: pd.DataFrame, ledger: pd.DataFrame, parties: pd.DataFrame, contract: CanonicalContract, label: str
) -> None:
    """Validate one batch's canonical frames, every failure at once; raise if any."""
    for name, schema, frame in (
        ("cases", contract.cases, cases), ("ledger", contract.ledger, ledger), ("parties", contract.parties, parties)
    ):
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as errors:
            failures = errors.failure_cases[["column", "check", "failure_case"]].drop_duplicates(["column", "check"])
            summary = "; ".join(f"{f.column}: {f.check} ({f.failure_case!r})" for f in failures.itertuples())
            raise CanonicalMappingError(f"batch {label}: canonical {name} break the model: {summary}") from None
