"""Pandera schemas of the raw legacy records, as CONTRACTS.md sections 1 and 2 state them.

Raw frames hold every column as text (the adapters read them so), so that a value that breaks
the contract is reported rather than lost in a failed conversion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from validate import checks

CSCS_STATUSES = ("LIVE", "ARREARS_ONLY", "CLOSED")
CSCS_ASSESSMENTS = ("FULL", "INTERIM", "NIL")
CSCS_PAYMENT_METHODS = ("COLLECTION", "MAINTENANCE_DIRECT", "DEO", "NONE")
ENFORCEMENT_ACTIONS = (
    "LIABILITY_ORDER",
    "CHARGING_ORDER",
    "ORDER_FOR_SALE",
    "DEDUCTION_ORDER",
    "ENFORCEMENT_AGENT",
    "DRIVING_DISQUALIFICATION",
    "COMMITTAL",
)
CSCS_TXN_TYPES = ("CHARGE", "IMA_CHARGE", "RECEIPT", "ADJUSTMENT")
CREDITORS = ("PWC", "SOS")

CS2_STATES = {"A": "LIVE", "R": "ARREARS_ONLY", "X": "CLOSED"}
CS2_RATES = {"BAS": "FULL", "RED": "FULL", "FLT": "FULL", "NIL": "NIL", "DFT": "INTERIM"}
CS2_COLLECTIONS = {"CP": "COLLECTION", "DP": "MAINTENANCE_DIRECT", "DEO": "DEO", "NON": "NONE"}
CS2_ENFORCEMENTS = {
    "LO": "LIABILITY_ORDER",
    "CO": "CHARGING_ORDER",
    "OFS": "ORDER_FOR_SALE",
    "RDO": "DEDUCTION_ORDER",
    "LSDO": "DEDUCTION_ORDER",
    "EA": "ENFORCEMENT_AGENT",
    "DDQ": "DRIVING_DISQUALIFICATION",
    "COM": "COMMITTAL",
}
CS2_TXN_CODES = {"CHG": "CHARGE", "RCP": "RECEIPT", "ADJ+": "ADJUSTMENT", "ADJ-": "ADJUSTMENT"}
CS2_CREDITORS = {"RP": "PWC", "SS": "SOS"}
FLAGS_01 = ("0", "1")
FLAGS_YN = ("Y", "N")

CSCS_CASE_REF = r"^C93\d{7}$"
CSCS_PERSON_REF = r"^P\d{9}$"
CS2_CASE_NUMBER = r"^S03\d{7}$"


@dataclass(frozen=True)
class RowCheck:
    """A check across some columns of a row. Pandera runs it on ``inputs`` of the raw frame,
    just what it needs: it reports a table check's failures with every column of the frame it
    ran on, through pandas' ``unstack``, which takes ~50 µs a failing row of text (a ledger
    batch fails hundreds) and a twentieth of that for numpy columns. A failure is reported on
    ``reported_column``."""

    schema: pa.DataFrameSchema
    inputs: Callable[[pd.DataFrame], pd.DataFrame]
    reported_column: str


@dataclass(frozen=True)
class RawContract:
    """One legacy table's contract: its column schema, its row checks and its key."""

    table: str
    schema: pa.DataFrameSchema
    key: tuple[str, ...]
    row_checks: tuple[RowCheck, ...] = ()


def _required(*column_checks: pa.Check) -> pa.Column:
    return pa.Column(checks.Text(), checks=list(column_checks), nullable=False, coerce=False)


def _optional(*column_checks: pa.Check) -> pa.Column:
    return pa.Column(checks.Text(), checks=list(column_checks), nullable=True, coerce=False)


def _row_check(name: str, inputs, passes, reported_column: str) -> RowCheck:
    return RowCheck(pa.DataFrameSchema(checks=[checks.row_check(name, passes)]), inputs, reported_column)


def _cscs_sign_agrees() -> RowCheck:
    """A CSCS receipt lowers the debt and a charge raises it; reported on the amount. Its inputs
    are signs: -1 for a receipt, +1 for a charge, 0 for an adjustment or an unknown kind; the
    amount's own sign, 0 where it is not a number of pence (the amount check reports that)."""

    def signs(frame: pd.DataFrame) -> pd.DataFrame:
        kind = frame["txn_type"]
        charge = checks.is_in(kind, ["CHARGE", "IMA_CHARGE"]).to_numpy(dtype=np.int8)
        receipt = checks.is_in(kind, ["RECEIPT"]).to_numpy(dtype=np.int8)
        amount = checks.parse_pence(frame["amount_pence"]).fillna(0).to_numpy(dtype=np.int64)
        return pd.DataFrame({"kind": charge - receipt, "amount": np.sign(amount).astype(np.int8)}, index=frame.index)

    def passes(signs: pd.DataFrame) -> pd.Series:
        return signs["kind"] * signs["amount"] >= 0

    return _row_check("sign", signs, passes, "amount_pence")


def _period_in_order(date_format: str, start: str, end: str) -> RowCheck:
    """A period must not end before it starts; reported on its end. Its inputs are the parsed
    days (NaT where a text is not a date: the date check reports that)."""

    def days(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {start: checks.parse_dates(frame[start], date_format), end: checks.parse_dates(frame[end], date_format)}
        )

    def passes(days: pd.DataFrame) -> pd.Series:
        return ~(days[end] < days[start])

    return _row_check("period", days, passes, end)


def _sos_within_total(total: str, sos: str, parse) -> RowCheck:
    """The recorded SoS part must lie between zero and the recorded total (when in debt). Its
    inputs are the two texts: a batch's cases are few, and fail it rarely."""

    def passes(frame: pd.DataFrame) -> pd.Series:
        total_pence = parse(frame[total])
        sos_pence = parse(frame[sos])
        wrong = (sos_pence < 0) | (sos_pence > total_pence.clip(lower=0))
        return ~wrong.fillna(False)

    return _row_check("sos_within_total", lambda frame: frame[[total, sos]], passes, sos)


def _schema(columns: dict[str, pa.Column]) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(columns, strict=False, coerce=False)


ISO = checks.ISO_DATE
DMY = checks.CS2_DATE

CSCS_PERSON = RawContract(
    "cscs_person",
    _schema(
        {
            "person_ref": _required(checks.ref(CSCS_PERSON_REF)),
            "date_of_birth": _optional(checks.date(ISO)),
            "date_of_death": _optional(checks.date(ISO)),
            "resides_abroad": _required(checks.code(FLAGS_01)),
        }
    ),
    key=("person_ref",),
)

CSCS_CASE = RawContract(
    "cscs_case",
    _schema(
        {
            "case_ref": _required(checks.ref(CSCS_CASE_REF)),
            "nrp_ref": _required(checks.ref(CSCS_PERSON_REF)),
            "pwc_ref": _required(checks.ref(CSCS_PERSON_REF)),
            "case_start_date": _required(checks.date(ISO)),
            "case_status": _required(checks.code(CSCS_STATUSES)),
            "assessment_type": _required(checks.code(CSCS_ASSESSMENTS)),
            "weekly_liability_pence": _required(checks.pence()),
            "payment_method": _required(checks.code(CSCS_PAYMENT_METHODS)),
            "enforcement_action": _optional(checks.code(ENFORCEMENT_ACTIONS)),
            "clerical": _required(checks.code(FLAGS_01)),
            "dv_marker": _required(checks.code(FLAGS_01)),
            "arrears_total_pence": _required(checks.pence()),
            "arrears_sos_pence": _required(checks.pence()),
        },
    ),
    key=("case_ref",),
    row_checks=(_sos_within_total("arrears_total_pence", "arrears_sos_pence", checks.parse_pence),),
)

CSCS_CHILD = RawContract(
    "cscs_child",
    _schema(
        {
            "case_ref": _required(checks.ref(CSCS_CASE_REF)),
            "child_seq": _required(checks.identifier()),
            "date_of_birth": _optional(checks.date(ISO)),
        }
    ),
    key=("case_ref", "child_seq"),
)

CSCS_LEDGER = RawContract(
    "cscs_ledger",
    _schema(
        {
            "case_ref": _required(checks.ref(CSCS_CASE_REF)),
            "seq": _required(checks.identifier()),
            "posted_date": _required(checks.date(ISO)),
            "txn_type": _required(checks.code(CSCS_TXN_TYPES)),
            "creditor": _required(checks.code(CREDITORS)),
            "amount_pence": _required(checks.pence()),
            "period_from": _optional(checks.date(ISO)),
            "period_to": _optional(checks.date(ISO)),
        },
    ),
    key=("case_ref", "seq"),
    row_checks=(_cscs_sign_agrees(), _period_in_order(ISO, "period_from", "period_to")),
)

CS2_PARTY = RawContract(
    "cs2_party",
    _schema(
        {
            "party_id": _required(checks.identifier()),
            "birth_dt": _optional(checks.date(DMY)),
            "death_dt": _optional(checks.date(DMY)),
            "overseas_flag": _required(checks.code(FLAGS_YN)),
        }
    ),
    key=("party_id",),
)

CS2_CASE = RawContract(
    "cs2_case",
    _schema(
        {
            "case_id": _required(checks.identifier()),
            "case_number": _required(checks.ref(CS2_CASE_NUMBER)),
            "paying_party_id": _required(checks.identifier()),
            "receiving_party_id": _required(checks.identifier()),
            "effective_dt": _required(checks.date(DMY)),
            "state_cd": _required(checks.code(CS2_STATES)),
            "rate_cd": _required(checks.code(CS2_RATES)),
            "weekly_amt": _required(checks.pounds()),
            "collection_cd": _required(checks.code(CS2_COLLECTIONS)),
            "enf_cd": _optional(checks.code(CS2_ENFORCEMENTS)),
            "offline_ind": _required(checks.code(FLAGS_YN)),
            "dv_ind": _required(checks.code(FLAGS_YN)),
            "debt_amt": _required(checks.pounds()),
            "debt_sos_amt": _required(checks.pounds()),
        },
    ),
    key=("case_id",),
    row_checks=(_sos_within_total("debt_amt", "debt_sos_amt", checks.parse_pounds),),
)

CS2_CHILD = RawContract(
    "cs2_child",
    _schema(
        {
            "case_id": _required(checks.identifier()),
            "child_no": _required(checks.identifier()),
            "birth_dt": _optional(checks.date(DMY)),
        }
    ),
    key=("case_id", "child_no"),
)

CS2_TXN = RawContract(
    "cs2_txn",
    _schema(
        {
            "txn_id": _required(checks.identifier()),
            "case_id": _required(checks.identifier()),
            "posted_dt": _required(checks.date(DMY)),
            "txn_cd": _required(checks.code(CS2_TXN_CODES)),
            "owed_to": _required(checks.code(CS2_CREDITORS)),
            "amt": _required(checks.pounds()),
            "period_start_dt": _optional(checks.date(DMY)),
            "period_end_dt": _optional(checks.date(DMY)),
        },
    ),
    key=("txn_id",),
    row_checks=(_period_in_order(DMY, "period_start_dt", "period_end_dt"),),
)
