"""Pandera schemas of the canonical model (docs/design.md), which both adapters map into.

The raw schemas decide what is bad data; these check the mapping itself. Every clean batch is
validated against them before anything is written, so a canonical frame with a wrong type, a
missing value or a code outside the model is a defect of the adapters and fails the batch,
loudly, instead of reaching the rules.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from validate import checks, raw

SCHEMES = ("1993", "2003")
CASE_REF = r"^(C93|S03)\d{7}$"


def _text(*column_checks: pa.Check, nullable: bool = False) -> pa.Column:
    return pa.Column(checks.Text(), checks=list(column_checks), nullable=nullable)


def _code(allowed, nullable: bool = False) -> pa.Column:
    return _text(checks.code(allowed), nullable=nullable)


def _pence() -> pa.Column:
    return pa.Column("int64")


def _date(nullable: bool = False) -> pa.Column:
    return pa.Column("datetime64[ns]", nullable=nullable)


def _flag() -> pa.Column:
    return pa.Column("bool")


CASES = pa.DataFrameSchema(
    {
        "case_ref": _text(checks.matches(CASE_REF, "format")),
        "scheme": _code(SCHEMES),
        "legacy_case_id": pa.Column("int64"),
        "nrp_ref": _text(),
        "pwc_ref": _text(),
        "case_start_date": _date(),
        "status": _code(raw.CSCS_STATUSES),
        "assessment_type": _code(raw.CSCS_ASSESSMENTS),
        "weekly_liability_pence": _pence(),
        "payment_method": _code(raw.CSCS_PAYMENT_METHODS),
        "enforcement_action": _code(raw.ENFORCEMENT_ACTIONS, nullable=True),
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
        "kind": _code(raw.CSCS_TXN_TYPES),
        "creditor": _code(raw.CREDITORS),
        "amount_pence": _pence(),
        "period_from": _date(nullable=True),
        "period_to": _date(nullable=True),
    },
    strict=True,
    ordered=True,
)

PARTIES = pa.DataFrameSchema(
    {
        "person_ref": _text(),
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


class CanonicalMappingError(ValueError):
    """A clean batch mapped into frames that break the canonical model: a defect, not data."""


def check_canonical(cases: pd.DataFrame, ledger: pd.DataFrame, parties: pd.DataFrame, label: str) -> None:
    """Validate one batch's canonical frames, every failure at once; raise if any."""
    for name, schema, frame in (("cases", CASES, cases), ("ledger", LEDGER, ledger), ("parties", PARTIES, parties)):
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as errors:
            failures = errors.failure_cases[["column", "check", "failure_case"]].drop_duplicates(["column", "check"])
            summary = "; ".join(f"{f.column}: {f.check} ({f.failure_case!r})" for f in failures.itertuples())
            raise CanonicalMappingError(f"batch {label}: canonical {name} break the model: {summary}") from None
