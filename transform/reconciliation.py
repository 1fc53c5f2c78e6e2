"""Reconciliation to the penny (RULEBOOK.md section 11), as pure checks over a batch's rows.

Each source is independent: ``closure_outcome`` says what the journey decided, ``write_off``
and the CMS lines say what was written off and transferred, the instalments say how it will be
collected, the letters what the parents were told. A break names the case, creditor and figures.
"""

from __future__ import annotations

import pandas as pd

from transform.codes import (
    Creditor,
    JourneyState,
    LetterStatus,
    Recipient,
    Template,
    WriteOffReason,
)

TOTAL_COLUMNS = ["arrears", "transferred", "written_off", "pending", "on_hold"]
LETTER_KEY = ["case_ref", "template", "recipient_role"]

WRITE_OFF_LETTERS: dict[str, tuple[Recipient, ...]] = {
    WriteOffReason.NRP_DECEASED: (Recipient.PWC,),
    WriteOffReason.SOS_NON_PAYING: (Recipient.NRP,),
    WriteOffReason.NOT_COST_EFFECTIVE: (Recipient.PWC, Recipient.NRP),
    WriteOffReason.NOT_COLLECTABLE: (Recipient.PWC, Recipient.NRP),
    WriteOffReason.PWC_DECLINED: (Recipient.PWC, Recipient.NRP),
    WriteOffReason.NO_RESPONSE: (Recipient.PWC, Recipient.NRP),
}
"""Write-offs that tell parents (sections 6 and 7); the others send no letter of their own."""


def money_by_creditor(
    outcomes: pd.DataFrame, journeys: pd.DataFrame, write_offs: pd.DataFrame, lines: pd.DataFrame
) -> pd.DataFrame:
    """Per case and creditor: the arrears figure and where each penny went, from each source.

    ``outcomes``: closure_outcome rows (``case_ref``…); ``journeys``: ``case_ref``,
    ``ledger_pwc_pence``, ``ledger_sos_pence``; ``write_offs``: ``case_ref``, ``creditor``,
    ``amount_pence``; ``lines``: CMS unpaid maintenance ``case_ref``, ``creditor``,
    ``amount_pence``.
    """
    held = outcomes["journey_state"] == JourneyState.ON_HOLD
    undecided = (outcomes["journey_state"] == JourneyState.AWAITING_LIABILITY_END).to_numpy()
    ledger = journeys.set_index("case_ref").reindex(outcomes["case_ref"])
    sos_arrears = outcomes["arrears_sos_pence"].astype("Int64").fillna(0).to_numpy()
    pending_sos = sos_arrears * undecided  # before the decision both creditors' arrears wait
    frames = []
    for creditor in Creditor:
        name = creditor.lower()
        arrears = outcomes[f"arrears_{name}_pence"].astype("Int64").fillna(0).to_numpy()
        on_hold = ledger[f"ledger_{name}_pence"].astype("Int64").fillna(0).to_numpy()
        if creditor == Creditor.PWC:
            pending = outcomes["pending_pence"].to_numpy() - pending_sos
        else:
            pending = pending_sos
        frames.append(
            pd.DataFrame(
                {
                    "case_ref": outcomes["case_ref"].to_numpy(),
                    "creditor": creditor.value,
                    "arrears": (arrears * ~held.to_numpy()).astype("int64"),
                    "pending": pending,
                    "on_hold": (on_hold * held.to_numpy()).astype("int64"),
                }
            )
        )
    money = pd.concat(frames, ignore_index=True)
    for column, source in (("written_off", write_offs), ("transferred", lines)):
        sums = source.groupby(["case_ref", "creditor"])["amount_pence"].sum()
        keys = pd.MultiIndex.from_frame(money[["case_ref", "creditor"]])
        money[column] = sums.reindex(keys).fillna(0).astype("int64").to_numpy()
    money["pending"] = money["pending"].astype("int64")
    return money


def conservation_breaks(outcomes: pd.DataFrame, money: pd.DataFrame) -> list[str]:
    """Every case and creditor whose pennies do not add up, and every case whose outcome row
    disagrees with the write-off and CMS tables."""
    breaks = []
    decided = money["arrears"] + money["on_hold"]
    parts = money["transferred"] + money["written_off"] + money["pending"] + money["on_hold"]
    for row in money[decided != parts].itertuples(index=False):
        breaks.append(
            f"case {row.case_ref} {row.creditor}: arrears {row.arrears + row.on_hold} != "
            f"transferred {row.transferred} + written off {row.written_off} + pending "
            f"{row.pending} + on hold {row.on_hold}"
        )
    totals = money.groupby("case_ref")[["transferred", "written_off"]].sum()
    recorded = outcomes.set_index("case_ref")[["transferred_pence", "written_off_pence"]]
    for column in ("transferred", "written_off"):
        disagree = recorded[f"{column}_pence"] != totals[column].reindex(recorded.index)
        for case_ref in recorded.index[disagree.to_numpy()]:
            breaks.append(
                f"case {case_ref}: closure_outcome {column} {recorded.at[case_ref, f'{column}_pence']}"
                f" != {int(totals.at[case_ref, column])} in the {column.replace('_', '-')} rows"
            )
    return breaks


def instalment_breaks(lines: pd.DataFrame, instalments: pd.DataFrame) -> list[str]:
    """Every CMS line whose instalments do not sum exactly to it."""
    paid = instalments.groupby("unpaid_maintenance_id")["amount_pence"].sum()
    owed = lines.set_index("unpaid_maintenance_id")["amount_pence"]
    scheduled = paid.reindex(owed.index).fillna(0).astype("int64")
    return [
        f"CMS line {line_id} of case {lines.set_index('unpaid_maintenance_id').at[line_id, 'case_ref']}:"
        f" instalments {scheduled[line_id]} != line {owed[line_id]}"
        for line_id in owed.index[(scheduled != owed).to_numpy()]
    ]


def expected_letters(
    outcomes: pd.DataFrame, write_offs: pd.DataFrame, parents: pd.DataFrame
) -> pd.DataFrame:
    """The decision letters the rows call for: ``case_ref``, ``template``, ``recipient_role``.

    ``parents``: ``case_ref``, ``nrp_deceased``, ``pwc_deceased`` (no letter to the dead).
    """
    told = pd.DataFrame(
        [(reason, r.value) for reason, recipients in WRITE_OFF_LETTERS.items() for r in recipients],
        columns=["reason", "recipient_role"],
    )
    written_off = write_offs[["case_ref", "reason"]].merge(told, on="reason")
    transferred = outcomes.loc[outcomes["transferred_pence"] > 0, ["case_ref"]].merge(
        pd.DataFrame({"recipient_role": [r.value for r in Recipient]}), how="cross"
    )
    asked = outcomes["choice_deadline"].notna() & (outcomes["journey_state"] != JourneyState.ON_HOLD)
    letters = pd.concat(
        [
            written_off[["case_ref", "recipient_role"]].assign(template=Template.ARREARS_WRITTEN_OFF.value),
            transferred.assign(template=Template.ARREARS_TRANSFERRED.value),
            outcomes.loc[asked, ["case_ref"]].assign(
                template=Template.ARREARS_CHOICE.value, recipient_role=Recipient.PWC.value
            ),
        ],
        ignore_index=True,
    )[LETTER_KEY].drop_duplicates()
    dead = parents.set_index("case_ref").reindex(letters["case_ref"])
    to_dead = (
        (letters["recipient_role"].to_numpy() == Recipient.PWC)
        & dead["pwc_deceased"].fillna(False).to_numpy(dtype=bool)
    ) | (
        (letters["recipient_role"].to_numpy() == Recipient.NRP)
        & dead["nrp_deceased"].fillna(False).to_numpy(dtype=bool)
    )
    return letters[~to_dead].reset_index(drop=True)


def letter_breaks(expected: pd.DataFrame, letters: pd.DataFrame) -> list[str]:
    """Every decision letter the rows call for that was not created (created or undeliverable)."""
    made = letters.loc[letters["status"].isin([s.value for s in LetterStatus]), LETTER_KEY].drop_duplicates()
    missing = expected.merge(made, on=LETTER_KEY, how="left", indicator=True)
    missing = missing[missing["_merge"] == "left_only"]
    return [
        f"case {case}: no {template} letter to the {role}"
        for case, template, role in missing[LETTER_KEY].itertuples(index=False, name=None)
    ]


def money_totals(rows: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Pennies per tranche, segment, scheme and creditor: the arrears figure and where it went
    (transferred, written off, pending, on hold), with the difference, which must be zero.

    ``rows`` as ``load.reconcile.money_rows`` reads them: each row of ``outcomes`` (with its
    ``tranche_id``, ``segment``, ``scheme``) a case or a group of cases summed together."""
    outcomes = rows["outcomes"]
    money = money_by_creditor(outcomes, rows["journeys"], rows["write_offs"], rows["lines"])
    totals = (
        money.merge(outcomes[["case_ref", "tranche_id", "segment", "scheme"]], on="case_ref")
        .groupby(["tranche_id", "segment", "scheme", "creditor"], as_index=False)[
            ["arrears", "transferred", "written_off", "pending", "on_hold"]
        ]
        .sum()
    )
    totals["arrears"] += totals["on_hold"]
    totals["difference"] = totals["arrears"] - totals[["transferred", "written_off", "pending", "on_hold"]].sum(axis=1)
    return totals


def batch_breaks(rows: dict[str, pd.DataFrame]) -> list[str]:
    """Everything about a batch's rows (``load.reconcile.batch_rows``) that does not reconcile."""
    money = money_by_creditor(rows["outcomes"], rows["journeys"], rows["write_offs"], rows["lines"])
    return (
        conservation_breaks(rows["outcomes"], money)
        + instalment_breaks(rows["lines"], rows["instalments"])
        + letter_breaks(expected_letters(rows["outcomes"], rows["write_offs"], rows["parents"]), rows["letters"])
    )
