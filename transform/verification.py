"""Section 5: arrears verification against the recorded balances, and hold resolutions.

The ledger is the source of truth; a case is verified when each creditor's ledger balance is
within the tolerance of the balance the legacy record shows and neither is negative.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csa_closure.settings import LARGEST_AMOUNT_PENCE, RuleSettings
from transform.codes import Creditor, HoldReason, HoldResolution, LineKind, Verification
from transform.ledger import creditor_balances, lines_known_on
from transform.refusals import first_refusal

RESOLUTION_LINE_REF = {
    Creditor.PWC: np.iinfo(np.int64).max,
    Creditor.SOS: np.iinfo(np.int64).max - 1,
}
"""``line_ref`` of the adjustment a hold resolution adds: after every real line of the case."""


def verify_arrears(
    cases: pd.DataFrame, ledger: pd.DataFrame, as_of: pd.Timestamp, rules: RuleSettings
) -> pd.DataFrame:
    """Verify each case's ledger balances against its recorded balances as of a date.

    ``cases``: ``case_ref``, ``recorded_total_pence``, ``recorded_sos_pence``. Returns one row
    per case: ``case_ref``, ``ledger_pwc_pence``, ``ledger_sos_pence``, ``recorded_pwc_pence``,
    ``recorded_sos_pence``, ``outcome`` (VERIFIED | HOLD), ``hold_reason``. A negative ledger
    balance holds the case whatever the record says, so ``CREDIT_BALANCE`` takes precedence
    over ``MISMATCH`` when both apply.
    """
    known = lines_known_on(ledger, as_of, cases.set_index("case_ref")["extracted_on"])
    balances = creditor_balances(known, cases["case_ref"])
    ledger_pwc = balances["pwc_pence"].to_numpy()
    ledger_sos = balances["sos_pence"].to_numpy()
    recorded_sos = cases["recorded_sos_pence"].to_numpy(dtype=np.int64)
    recorded_pwc = cases["recorded_total_pence"].to_numpy(dtype=np.int64) - recorded_sos
    tolerance = rules.verification_tolerance_pence
    mismatch = (np.abs(ledger_pwc - recorded_pwc) > tolerance) | (
        np.abs(ledger_sos - recorded_sos) > tolerance
    )
    credit = (ledger_pwc < 0) | (ledger_sos < 0)
    reason = np.select(  # type: ignore[call-overload]  # numpy's stubs take no None default
        [credit, mismatch], [HoldReason.CREDIT_BALANCE.value, HoldReason.MISMATCH.value], None
    )
    return pd.DataFrame(
        {
            "case_ref": cases["case_ref"].to_numpy(),
            "ledger_pwc_pence": ledger_pwc,
            "ledger_sos_pence": ledger_sos,
            "recorded_pwc_pence": recorded_pwc,
            "recorded_sos_pence": recorded_sos,
            "outcome": np.where(
                credit | mismatch, Verification.HOLD.value, Verification.VERIFIED.value
            ),
            "hold_reason": pd.Series(reason, dtype="str"),
        }
    )


def hold_resolution_refusals(
    resolutions: pd.DataFrame, verification: pd.DataFrame, rules: RuleSettings
) -> pd.Series:
    """Why each hold resolution is refused (None when accepted).

    ``resolutions``: ``case_ref``, ``use`` (ledger | recorded | amount), ``pwc_pence``,
    ``sos_pence`` (amounts only for ``amount``). Refused: a case not on hold, an unknown
    ``use``, an amount without both figures, figures given with ``ledger`` or ``recorded``, any
    resolved figure below zero (allocation cannot spread a credit balance over debits), above
    the ceiling (``max_resolution_pence``), or above the case's arrears on record: the larger of its
    ledger total and its recorded total (PWC and SoS together, zero if below), plus the
    verification tolerance (project rule: a caseworker may correct either part, or agree a
    figure with the parents, but no part may exceed the whole debt any legacy record shows).
    """
    held = verification.loc[verification["outcome"] == Verification.HOLD, "case_ref"]
    figures = _resolved_figures(resolutions, verification)
    known = verification.set_index("case_ref").reindex(resolutions["case_ref"])
    refusals = [
        (~resolutions["case_ref"].isin(held), "the case is not on hold"),
        (~resolutions["use"].isin(list(HoldResolution)), "use must be ledger, recorded or amount"),
        (
            figures[["pwc_pence", "sos_pence"]].isna().any(axis=1).to_numpy(),
            "an amount resolution needs both the PWC and the SoS pence",
        ),
        (
            (resolutions["use"] != HoldResolution.AMOUNT).to_numpy()
            & resolutions[["pwc_pence", "sos_pence"]].notna().any(axis=1).to_numpy(),
            "the PWC and SoS pence go with an amount resolution only: the ledger's or the record's "
            "figures are taken as they are",
        ),
        (
            figures[["pwc_pence", "sos_pence"]].lt(0).any(axis=1).to_numpy(),
            "a resolved figure is below zero",
        ),
    ]
    totals = pd.DataFrame(
        {
            source: _pence(known[f"{source}_pwc_pence"]) + _pence(known[f"{source}_sos_pence"])
            for source in ("ledger", "recorded")
        },
        index=resolutions.index,
    )
    on_record = totals.max(axis=1).clip(lower=0).fillna(0).astype("int64") + rules.verification_tolerance_pence
    for name in ("pwc_pence", "sos_pence"):
        figure = pd.Series(figures[name].array, index=resolutions.index)
        refusals += [
            (
                (figure > rules.max_resolution_pence).fillna(False),
                f"{name} must be at most {rules.max_resolution_pence} pence, not " + figure.astype("str"),
            ),
            (
                (figure > on_record).fillna(False),
                f"{name} must be at most "
                + on_record.astype("str")
                + " pence for this case (its arrears on record, the larger of the ledger's and the "
                "recorded total, plus the tolerance), not "
                + figure.astype("str"),
            ),
        ]
    return first_refusal(resolutions.index, refusals)


def resolve_holds(
    resolutions: pd.DataFrame, verification: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The figures accepted holds resolve to, and the ledger adjustments that make them so.

    ``resolutions`` (accepted ones): ``case_ref``, ``use``, ``pwc_pence``, ``sos_pence``,
    ``resolved_on``. Returns ``(figures, adjustments)``: figures per case (``case_ref``,
    ``pwc_pence``, ``sos_pence``, ``resolved_on``) and canonical ledger lines, one per
    creditor whose figure differs from its ledger balance: an ADJUSTMENT of the difference
    dated the resolution day, so allocation sees the resolved balance.
    """
    figures = _resolved_figures(resolutions, verification).astype(
        {"pwc_pence": "int64", "sos_pence": "int64"}
    )
    if (figures[["pwc_pence", "sos_pence"]].abs() > LARGEST_AMOUNT_PENCE).any(axis=None):
        # validation refuses such a figure; past it the adjustments' arithmetic could wrap
        raise ValueError(f"a resolved figure beyond {LARGEST_AMOUNT_PENCE} pence")
    figures["resolved_on"] = resolutions["resolved_on"].to_numpy()
    ledger = verification.set_index("case_ref").loc[figures["case_ref"]]
    adjustments = [
        pd.DataFrame(
            {
                "case_ref": figures["case_ref"].to_numpy(),
                "line_ref": RESOLUTION_LINE_REF[creditor],
                "posted_date": figures["resolved_on"].to_numpy(),
                "kind": LineKind.ADJUSTMENT.value,
                "creditor": creditor.value,
                "amount_pence": figures[f"{creditor.lower()}_pence"].to_numpy()
                - ledger[f"ledger_{creditor.lower()}_pence"].to_numpy(),
                "period_from": np.datetime64("NaT", "ns"),
                "period_to": np.datetime64("NaT", "ns"),
            }
        )
        for creditor in Creditor
    ]
    lines = pd.concat(adjustments, ignore_index=True)
    lines = lines[lines["amount_pence"] != 0].sort_values(["case_ref", "creditor"])
    return figures, lines.reset_index(drop=True)


def _resolved_figures(resolutions: pd.DataFrame, verification: pd.DataFrame) -> pd.DataFrame:
    """Each resolution's figures per creditor (nullable Int64): the ledger's, the record's or
    the amounts given."""
    known = verification.set_index("case_ref").reindex(resolutions["case_ref"])
    use = resolutions["use"].to_numpy()
    figures = pd.DataFrame({"case_ref": resolutions["case_ref"].to_numpy()})
    for creditor in Creditor:
        name = f"{creditor.lower()}_pence"
        given = pd.Series(_pence(resolutions[name]))
        from_ledger = pd.Series(_pence(known[f"ledger_{name}"]))
        from_record = pd.Series(_pence(known[f"recorded_{name}"]))
        figures[name] = given.mask(use == HoldResolution.LEDGER, from_ledger).mask(
            use == HoldResolution.RECORDED, from_record
        )
    return figures


def _pence(values: pd.Series) -> pd.arrays.IntegerArray:
    """Nullable whole pence, exact: not through a float, which cannot hold every int64."""
    return pd.array(values, dtype="Int64")
