"""Section 5, the verification table, and hold resolutions."""

import pandas as pd
import pytest
from rules_builders import case, ledger

from csa_closure.settings import RuleSettings
from transform.allocation import allocate_payments
from transform.verification import hold_resolution_refusals, resolve_holds, verify_arrears

RULES = RuleSettings()
AS_OF = pd.Timestamp("2015-06-01")
REF = "C930000001"


def owing(pwc: int, sos: int, *extra: tuple) -> pd.DataFrame:
    return ledger(
        (REF, 1, "2010-01-05", "CHARGE", "PWC", pwc, "2009-12-01", "2009-12-31"),
        (REF, 2, "2010-01-05", "CHARGE", "SOS", sos, "2009-12-01", "2009-12-31"),
        *extra,
    )


def verify(lines: pd.DataFrame, total: int, sos: int) -> dict:
    frame = case(recorded_total_pence=total, recorded_sos_pence=sos)
    return verify_arrears(frame, lines, AS_OF, RULES).iloc[0].to_dict()


def test_verified_when_both_creditors_agree_the_verified_arrears_are_the_ledger_balances():
    got = verify(owing(30_000, 10_000), total=40_000, sos=10_000)
    assert got["outcome"] == "VERIFIED" and pd.isna(got["hold_reason"])
    assert (got["ledger_pwc_pence"], got["ledger_sos_pence"]) == (30_000, 10_000)


def test_a_run_as_of_a_date_before_the_cases_extract_counts_every_line_that_extract_holds():
    """A run catching up after a newer extract: the record's balance counts the lines posted up
    to the extract's date, so the ledger's does too (else every such case would be held)."""
    later_charge = (REF, 3, "2014-09-15", "CHARGE", "PWC", 5_000, "2014-08-01", "2014-08-31")
    frame = case(recorded_total_pence=45_000, recorded_sos_pence=10_000,
                 extracted_on=pd.Timestamp("2014-09-30"))
    got = verify_arrears(frame, owing(30_000, 10_000, later_charge), pd.Timestamp("2014-08-01"), RULES).iloc[0]
    assert (got["outcome"], got["ledger_pwc_pence"]) == ("VERIFIED", 35_000)


def test_lines_posted_after_both_the_as_of_date_and_the_extract_are_not_counted():
    beyond = (REF, 3, "2015-07-01", "CHARGE", "PWC", 5_000, "2015-06-01", "2015-06-30")
    got = verify(owing(30_000, 10_000, beyond), total=40_000, sos=10_000)  # as of 2015-06-01
    assert (got["outcome"], got["ledger_pwc_pence"]) == ("VERIFIED", 30_000)


@pytest.mark.parametrize("difference", [100, -100])
def test_verified_boundary_difference_of_exactly_100_pence(difference):
    got = verify(owing(30_000, 10_000), total=40_000 + difference, sos=10_000)
    assert got["outcome"] == "VERIFIED"


@pytest.mark.parametrize(("total", "sos"), [(40_101, 10_000), (39_899, 10_000), (40_000, 10_101)])
def test_hold_mismatch_over_100_pence_for_either_creditor(total, sos):
    got = verify(owing(30_000, 10_000), total=total, sos=sos)
    assert (got["outcome"], got["hold_reason"]) == ("HOLD", "MISMATCH")


def test_recorded_pwc_part_is_total_minus_sos():
    got = verify(owing(30_000, 10_000), total=40_000, sos=10_000)
    assert (got["recorded_pwc_pence"], got["recorded_sos_pence"]) == (30_000, 10_000)


def test_hold_credit_balance_when_a_ledger_balance_is_negative():
    lines = owing(100, 0, (REF, 3, "2011-01-01", "RECEIPT", "PWC", -150))
    got = verify(lines, total=-50, sos=0)
    assert (got["outcome"], got["hold_reason"]) == ("HOLD", "CREDIT_BALANCE")


def test_credit_balance_takes_precedence_over_mismatch():
    lines = owing(100, 0, (REF, 3, "2011-01-01", "RECEIPT", "PWC", -150))
    got = verify(lines, total=20_000, sos=0)
    assert got["hold_reason"] == "CREDIT_BALANCE"


def test_lines_posted_after_the_as_of_date_are_ignored():
    lines = owing(30_000, 10_000, (REF, 3, "2015-06-02", "RECEIPT", "PWC", -5_000))
    got = verify(lines, total=40_000, sos=10_000)
    assert got["outcome"] == "VERIFIED" and got["ledger_pwc_pence"] == 30_000


def test_case_without_ledger_lines_has_zero_ledger_balances():
    got = verify(ledger(), total=0, sos=0)
    assert (got["outcome"], got["ledger_pwc_pence"], got["ledger_sos_pence"]) == ("VERIFIED", 0, 0)


def held() -> tuple[pd.DataFrame, pd.DataFrame]:
    lines = owing(30_000, 10_000)
    frame = case(recorded_total_pence=45_000, recorded_sos_pence=12_000)
    return lines, verify_arrears(frame, lines, AS_OF, RULES)


def resolution(use: str, pwc=None, sos=None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_ref": [REF],
            "use": [use],
            "pwc_pence": pd.array([pwc], dtype="Int64"),
            "sos_pence": pd.array([sos], dtype="Int64"),
            "resolved_on": [pd.Timestamp("2015-06-10")],
        }
    )


@pytest.mark.parametrize(
    ("use", "pwc", "sos", "expected"),
    [
        ("ledger", None, None, (30_000, 10_000)),
        ("recorded", None, None, (33_000, 12_000)),
        ("amount", 25_000, 12_500, (25_000, 12_500)),
    ],
)
def test_hold_resolution_figures_and_adjustments_seen_by_allocation(use, pwc, sos, expected):
    lines, verification = held()
    figures, adjustments = resolve_holds(resolution(use, pwc, sos), verification)
    assert tuple(figures.loc[0, ["pwc_pence", "sos_pence"]]) == expected
    assert (adjustments["posted_date"] == pd.Timestamp("2015-06-10")).all()
    assert (adjustments["kind"] == "ADJUSTMENT").all() and (adjustments["amount_pence"] != 0).all()
    debits = allocate_payments(pd.concat([lines, adjustments], ignore_index=True))
    outstanding = debits.groupby("creditor")["outstanding_pence"].sum()
    assert (outstanding.get("PWC", 0), outstanding.get("SOS", 0)) == expected


def test_hold_resolution_refusals():
    _, verification = held()
    resolutions = pd.concat(
        [
            resolution("amount", 10, None),
            resolution("amount", -1, 0),
            resolution("guess"),
            resolution("ledger").assign(case_ref="C939999999"),
            resolution("recorded"),
            resolution("amount", 45_100, 45_100),  # the most: the recorded total, plus the tolerance
            resolution("amount", 45_101, 0),
            resolution("amount", 0, 45_101),
            resolution("amount", 2**63 - 1, 0),
        ],
        ignore_index=True,
    )
    assert hold_resolution_refusals(resolutions, verification, RULES).fillna("ok").tolist() == [
        "an amount resolution needs both the PWC and the SoS pence",
        "a resolved figure is below zero",
        "use must be ledger, recorded or amount",
        "the case is not on hold",
        "ok",
        "ok",
        "pwc_pence must be at most 45100 pence for this case (its arrears on record, the larger of the "
        "ledger's and the recorded total, plus the tolerance), not 45101",
        "sos_pence must be at most 45100 pence for this case (its arrears on record, the larger of the "
        "ledger's and the recorded total, plus the tolerance), not 45101",
        "pwc_pence must be at most 99999999999 pence, not 9223372036854775807",
    ]
    lower = RULES.model_copy(update={"max_resolution_pence": 20_000})
    assert hold_resolution_refusals(resolution("amount", 25_000, 0), verification, lower).tolist() == [
        "pwc_pence must be at most 20000 pence, not 25000"
    ]


def test_a_figure_beyond_any_amount_is_never_resolved_into_arithmetic_that_wraps():
    _, verification = held()
    with pytest.raises(ValueError, match="beyond 99999999999 pence"):
        resolve_holds(resolution("amount", 2**63 - 1, 0), verification)
