"""Section 6: the arrears decision, splitting each creditor's verified arrears into parts.

Steps apply in the rulebook's order and each takes what is left. Only step 2 takes specific
debits (outstanding interim-assessment charges of 1993-04-05 to 1995-04-18); every other step
takes all that is left of a creditor, so whatever is transferred, now or after the choice, is
made of every outstanding debit except the step-2 ones. That fixes the accrual period at
decision time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from csa_closure.settings import RuleSettings
from transform.codes import (
    BOTH_PARENTS,
    Creditor,
    JourneyEvent,
    LineKind,
    Outcome,
    Recipient,
    Template,
    WriteOffReason,
)
from transform.dates import choice_deadline, reference_date, whole_years
from transform.ledger import (
    case_positions,
    date_by_case,
    debit_period,
    per_case_value,
    total_by_case,
)
from transform.letters import letters_to
from transform.segments import is_paying

IMA_WINDOW = (pd.Timestamp("1993-04-05"), pd.Timestamp("1995-04-18"))
"""Interim-assessment charges wholly inside this window are written off (step 2)."""
IMA_SCHEME = "1993"

WRITTEN_OFF_TO_PWC = (Template.ARREARS_WRITTEN_OFF, (Recipient.PWC,))
WRITTEN_OFF_TO_NRP = (Template.ARREARS_WRITTEN_OFF, (Recipient.NRP,))
WRITTEN_OFF_TO_BOTH = (Template.ARREARS_WRITTEN_OFF, BOTH_PARENTS)
TRANSFERRED_TO_BOTH = (Template.ARREARS_TRANSFERRED, BOTH_PARENTS)
CHOICE_TO_PWC = (Template.ARREARS_CHOICE, (Recipient.PWC,))

PART_COLUMNS = ["case_ref", "creditor", "outcome", "reason", "amount_pence", "decided_on"]
PART_DTYPES = {
    "case_ref": "str",
    "creditor": "str",
    "outcome": "str",
    "reason": "str",
    "amount_pence": "int64",
    "decided_on": "datetime64[ns]",
}


@dataclass(frozen=True)
class ArrearsDecision:
    """What the decision did to a set of cases.

    ``parts``: ``PART_COLUMNS``; per case and creditor they sum exactly to the verified arrears.
    ``letters``: ``LETTER_COLUMNS`` of the DECISION event, one per key.
    ``cases``: per case ``case_ref``, ``arrears_pwc_pence``, ``arrears_sos_pence``, ``paying``,
    ``case_age_years``, ``no_arrears``, ``choice_deadline`` (NaT unless step 8 asked).
    ``accrued``: ``case_ref``, ``creditor``, ``accrued_from``, ``accrued_to`` of every creditor
    with arrears left after step 2: the period of whatever of it is transferred.
    """

    parts: pd.DataFrame
    letters: pd.DataFrame
    cases: pd.DataFrame
    accrued: pd.DataFrame


@dataclass
class _Split:
    """The running split of each case's arrears while the steps take their parts.

    Parts and letters are recorded as case rows and built into frames once, at the end.
    """

    remaining: dict[Creditor, np.ndarray]
    parts: list[tuple[np.ndarray, Creditor, Outcome, WriteOffReason | None, np.ndarray]] = field(
        default_factory=list
    )
    letters: dict[tuple[Template, Recipient], list[np.ndarray]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def take(
        self,
        applies: np.ndarray,
        creditors: tuple[Creditor, ...],
        outcome: Outcome,
        reason: WriteOffReason | None,
        letter: tuple[Template, tuple[Recipient, ...]] | None = None,
        amounts: dict[Creditor, np.ndarray] | None = None,
    ) -> None:
        """Take, where ``applies``, all that is left (or ``amounts``) of each creditor."""
        taken_any = np.zeros(len(applies), dtype=bool)
        for creditor in creditors:
            left = self.remaining[creditor]
            wanted = left if amounts is None else np.minimum(amounts[creditor], left)
            taken = np.where(applies, wanted, 0)
            self.remaining[creditor] = left - taken
            made = np.flatnonzero(taken > 0)
            taken_any[made] = True
            self.parts.append((made, creditor, outcome, reason, taken[made]))
        if letter is not None:
            template, recipients = letter
            for recipient in recipients:
                self.letters[(template, recipient)].append(np.flatnonzero(taken_any))

    def parts_frame(self, case_refs: pd.Series, decided_on: np.ndarray) -> pd.DataFrame:
        """The parts taken, in step order: ``PART_COLUMNS``."""
        rows = np.concatenate([part[0] for part in self.parts])
        step = np.repeat(np.arange(len(self.parts)), [len(part[0]) for part in self.parts])

        def label(values: list[str | None]) -> pd.Series:
            return pd.Series(values, dtype="str").take(step).reset_index(drop=True)

        return pd.DataFrame(
            {
                "case_ref": case_refs.take(rows).reset_index(drop=True),
                "creditor": label([part[1].value for part in self.parts]),
                "outcome": label([part[2].value for part in self.parts]),
                "reason": label([part[3] and part[3].value for part in self.parts]),
                "amount_pence": np.concatenate([part[4] for part in self.parts]),
                "decided_on": decided_on[rows],
            }
        ).astype(PART_DTYPES)

    def letters_frame(self, case_refs: pd.Series, decided_on: np.ndarray) -> pd.DataFrame:
        """One DECISION letter per case, template and recipient, however many steps sent it."""
        letters = []
        for (template, recipient), taken in self.letters.items():
            rows = np.unique(np.concatenate(taken))
            letters.append(
                letters_to(
                    case_refs.take(rows),
                    decided_on[rows],
                    JourneyEvent.DECISION,
                    template,
                    (recipient,),
                )
            )
        return pd.concat(letters, ignore_index=True)


def decide_arrears(
    cases: pd.DataFrame, debits: pd.DataFrame, rules: RuleSettings
) -> ArrearsDecision:
    """Split the verified arrears of each case into transfers, write-offs and a choice.

    ``cases`` (verified or resolved cases only): ``case_ref``, ``scheme``, ``case_start_date``,
    ``nrp_deceased``, ``pwc_deceased``, ``extracted_on``, ``decided_on`` and
    ``last_receipt_on`` (latest receipt on or before the decision's reference date).
    ``debits``: the allocated ledger (``allocate_payments``); lines of other cases are ignored.
    """
    owed = _owed_by_case(debits, cases)
    decided_on = cases["decided_on"].to_numpy(dtype="datetime64[ns]")
    reference = reference_date(cases["decided_on"], cases["extracted_on"])
    paying = is_paying(cases["last_receipt_on"], reference, rules).to_numpy()
    age = whole_years(cases["case_start_date"], cases["decided_on"]).to_numpy()
    every = np.ones(len(cases), dtype=bool)
    split = _Split({c: owed[f"{c.lower()}_pence"].to_numpy() for c in Creditor})
    pwc, sos, both = (Creditor.PWC,), (Creditor.SOS,), tuple(Creditor)
    write_off = Outcome.WRITE_OFF

    nrp_deceased = cases["nrp_deceased"].to_numpy(dtype=bool)
    split.take(nrp_deceased, both, write_off, WriteOffReason.NRP_DECEASED, WRITTEN_OFF_TO_PWC)
    ima = {c: owed[f"ima_{c.lower()}_pence"].to_numpy() for c in Creditor}
    split.take(every, both, write_off, WriteOffReason.IMA_1993_1995, amounts=ima)
    left_after_window = dict(split.remaining)
    split.take(paying, both, Outcome.TRANSFER, None, TRANSFERRED_TO_BOTH)
    split.take(~paying, sos, write_off, WriteOffReason.SOS_NON_PAYING, WRITTEN_OFF_TO_NRP)
    pwc_deceased = cases["pwc_deceased"].to_numpy(dtype=bool)
    split.take(pwc_deceased, pwc, write_off, WriteOffReason.PWC_DECEASED)
    below = ~paying & (split.remaining[Creditor.PWC] < rules.below_threshold_pence)
    split.take(below, pwc, write_off, WriteOffReason.BELOW_THRESHOLD)
    threshold = np.where(
        age >= rules.old_case_years,
        rules.not_cost_effective_old_case_pence,
        rules.not_cost_effective_pence,
    )
    not_cost_effective = split.remaining[Creditor.PWC] <= threshold
    split.take(
        not_cost_effective, pwc, write_off, WriteOffReason.NOT_COST_EFFECTIVE, WRITTEN_OFF_TO_BOTH
    )
    asked = split.remaining[Creditor.PWC] > 0
    split.take(every, pwc, Outcome.AWAITING_CHOICE, None, CHOICE_TO_PWC)

    arrears_pwc = owed["pwc_pence"].to_numpy()
    arrears_sos = owed["sos_pence"].to_numpy()
    summary = pd.DataFrame(
        {
            "case_ref": cases["case_ref"].to_numpy(),
            "arrears_pwc_pence": arrears_pwc,
            "arrears_sos_pence": arrears_sos,
            "paying": paying,
            "case_age_years": age,
            "no_arrears": arrears_pwc + arrears_sos == 0,
            "choice_deadline": choice_deadline(cases["decided_on"], rules).where(asked).to_numpy(),
        }
    )
    return ArrearsDecision(
        parts=split.parts_frame(cases["case_ref"], decided_on),
        letters=split.letters_frame(cases["case_ref"], decided_on),
        cases=summary,
        accrued=_accrued_periods(owed, left_after_window),
    )


def _owed_by_case(debits: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """Per case (in ``cases`` order) and creditor: outstanding arrears, the step-2 part, and the
    accrual period of the rest (earliest start, latest end of its outstanding debits)."""
    positions = case_positions(debits["case_ref"], cases["case_ref"])
    owing = debits["outstanding_pence"].to_numpy(dtype=np.int64)
    start, end = debit_period(debits)
    window = _ima_window_debits(debits, cases, start, end)
    accruing = (owing > 0) & ~window
    count = len(cases)
    owed = {}
    for creditor in Creditor:
        name = creditor.lower()
        of = (debits["creditor"] == creditor).to_numpy()
        owed[f"{name}_pence"] = total_by_case(positions, np.where(of, owing, 0), count)
        owed[f"ima_{name}_pence"] = total_by_case(positions, np.where(of & window, owing, 0), count)
        counted = np.where(of & accruing, positions, -1)
        owed[f"{name}_accrued_from"] = date_by_case(counted, start, count, np.minimum)
        owed[f"{name}_accrued_to"] = date_by_case(counted, end, count, np.maximum)
    return pd.DataFrame(owed, index=pd.Index(cases["case_ref"], name="case_ref"))


def _ima_window_debits(
    debits: pd.DataFrame, cases: pd.DataFrame, start: pd.Series, end: pd.Series
) -> np.ndarray:
    """Outstanding 1993-scheme interim-assessment charges whose period (``start``, ``end``)
    lies wholly in the window. A charge only partly inside it is not written off (project rule).
    """
    candidate = (
        (debits["kind"] == LineKind.IMA_CHARGE)
        & (debits["outstanding_pence"] > 0)
        & (start >= IMA_WINDOW[0])
        & (end <= IMA_WINDOW[1])
    ).to_numpy()
    scheme = pd.Series(cases["scheme"].to_numpy(), index=cases["case_ref"])
    window = candidate.copy()
    window[candidate] = per_case_value(debits["case_ref"][candidate], scheme) == IMA_SCHEME
    return window


def _accrued_periods(owed: pd.DataFrame, left: dict[Creditor, np.ndarray]) -> pd.DataFrame:
    """The accrual period of each creditor with arrears left after step 2, long form."""
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "case_ref": owed.index[left[c] > 0],
                    "creditor": c.value,
                    "accrued_from": owed[f"{c.lower()}_accrued_from"].to_numpy()[left[c] > 0],
                    "accrued_to": owed[f"{c.lower()}_accrued_to"].to_numpy()[left[c] > 0],
                }
            )
            for c in Creditor
        ],
        ignore_index=True,
    )
