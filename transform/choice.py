"""Section 7: the receiving parent's answer to the arrears choice, and its validation.

A case waits for an answer until its deadline (inclusive; extended once by 28 days if asked on
or before it). The first answer decides; none by the deadline is written off the day after.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from transform.codes import (
    BOTH_PARENTS,
    Choice,
    Creditor,
    JourneyEvent,
    Outcome,
    Template,
    WriteOffReason,
)
from transform.decision import PART_COLUMNS, PART_DTYPES
from transform.letters import letters_to
from transform.refusals import first_refusal


@dataclass(frozen=True)
class ChoiceOutcomes:
    """What the answers (or their absence) did to the pending PWC parts.

    ``parts``: ``PART_COLUMNS`` (creditor PWC), dated the day the answer was received or the
    day after the deadline. ``letters``: CHOICE_OUTCOME letters to both parents.
    ``choices``: ``case_ref``, ``choice`` (COLLECT | WRITE_OFF, None for no response).
    """

    parts: pd.DataFrame
    letters: pd.DataFrame
    choices: pd.DataFrame


def apply_choices(
    awaiting: pd.DataFrame, answers: pd.DataFrame, as_of: pd.Timestamp
) -> ChoiceOutcomes:
    """Turn accepted answers, and deadlines passed without one, into the PWC part's outcome.

    ``awaiting``: ``case_ref``, ``pending_pence``, ``choice_deadline`` (extended if granted),
    ``nrp_untraced``, ``nrp_abroad``. ``answers`` (accepted, at most one per case):
    ``case_ref``, ``choice``, ``received_on``. Cases still inside their deadline without an
    answer received by ``as_of`` are left waiting.
    """
    answer = answers.set_index("case_ref").reindex(awaiting["case_ref"])
    received_on = answer["received_on"].to_numpy(dtype="datetime64[ns]")
    deadline = awaiting["choice_deadline"].to_numpy(dtype="datetime64[ns]")
    answered = (received_on <= deadline) & (received_on <= np.datetime64(as_of))
    lapsed = ~answered & (np.datetime64(as_of) > deadline)
    choice = answer["choice"].to_numpy(dtype=object)
    collect = answered & (choice == Choice.COLLECT)
    collectable = ~(
        awaiting["nrp_untraced"].to_numpy(dtype=bool) | awaiting["nrp_abroad"].to_numpy(dtype=bool)
    )
    reason = np.select(  # type: ignore[call-overload]  # numpy's stubs take no None default
        [collect & ~collectable, answered & (choice == Choice.WRITE_OFF), lapsed],
        [
            WriteOffReason.NOT_COLLECTABLE.value,
            WriteOffReason.PWC_DECLINED.value,
            WriteOffReason.NO_RESPONSE.value,
        ],
        default=None,
    )
    transfer = collect & collectable
    decided = answered | lapsed
    decided_on = np.where(answered, received_on, deadline + np.timedelta64(1, "D"))
    parts = pd.DataFrame(
        {
            "case_ref": awaiting["case_ref"].to_numpy()[decided],
            "creditor": Creditor.PWC.value,
            "outcome": np.where(transfer, Outcome.TRANSFER.value, Outcome.WRITE_OFF.value)[decided],
            "reason": reason[decided],
            "amount_pence": awaiting["pending_pence"].to_numpy(dtype=np.int64)[decided],
            "decided_on": decided_on[decided],
        },
        columns=PART_COLUMNS,
    ).astype(PART_DTYPES)
    written_off = decided & ~transfer
    letters = pd.concat(
        [
            letters_to(
                awaiting["case_ref"][mask],
                decided_on[mask],
                JourneyEvent.CHOICE_OUTCOME,
                template,
                BOTH_PARENTS,
            )
            for mask, template in (
                (transfer, Template.ARREARS_TRANSFERRED),
                (written_off, Template.ARREARS_WRITTEN_OFF),
            )
        ],
        ignore_index=True,
    )
    choices = pd.DataFrame(
        {
            "case_ref": parts["case_ref"],
            "choice": pd.Series(np.where(answered, choice, None)[decided], dtype="str"),
        }
    )
    return ChoiceOutcomes(parts=parts, letters=letters, choices=choices)


def answer_refusals(answers: pd.DataFrame, awaiting: pd.DataFrame) -> pd.Series:
    """Why each answer is refused (None when accepted): the first answer decides, by the day it
    was received, not the order it was recorded in: an answer received before one accepted and
    not yet applied is taken, and the later one is refused when the run applies them in date
    order.

    ``answers``: ``case_ref``, ``received_on``. ``awaiting``: the cases awaiting a choice,
    ``case_ref``, ``choice_deadline``, ``answered_on`` (NaT until an answer is accepted).
    """
    case = awaiting.set_index("case_ref").reindex(answers["case_ref"])
    deadline = pd.Series(case["choice_deadline"].to_numpy(), index=answers.index)
    answered_on = pd.Series(case["answered_on"].to_numpy(), index=answers.index)
    earlier = _earlier_in_batch(answers)
    return first_refusal(
        answers.index,
        [
            (deadline.isna(), "the case is not awaiting a choice"),
            (
                answers["received_on"] > deadline,
                "received after the deadline " + deadline.dt.strftime("%Y-%m-%d"),
            ),
            (answered_on <= answers["received_on"], "already answered on " + answered_on.dt.strftime("%Y-%m-%d")),
            (earlier.notna(), "already answered on " + earlier.dt.strftime("%Y-%m-%d")),
        ],
    )


def extension_refusals(requests: pd.DataFrame, awaiting: pd.DataFrame) -> pd.Series:
    """Why each extension request is refused (None when accepted): one, by the deadline.

    ``requests``: ``case_ref``, ``received_on``. ``awaiting``: ``case_ref``,
    ``choice_deadline``, ``extended`` (bool). An accepted request moves the deadline by
    ``transform.dates.extended_deadline``.
    """
    case = awaiting.set_index("case_ref").reindex(requests["case_ref"])
    deadline = pd.Series(case["choice_deadline"].to_numpy(), index=requests.index)
    extended = pd.Series(case["extended"].fillna(False).to_numpy(dtype=bool), index=requests.index)
    return first_refusal(
        requests.index,
        [
            (deadline.isna(), "the case is not awaiting a choice"),
            (
                requests["received_on"] > deadline,
                "requested after the deadline " + deadline.dt.strftime("%Y-%m-%d"),
            ),
            (
                extended | _earlier_in_batch(requests).notna(),
                "the deadline was already extended once",
            ),
        ],
    )


def _earlier_in_batch(events: pd.DataFrame) -> pd.Series:
    """For each event, the date of the first event of its case in this batch if that came first."""
    ordered = events.sort_values("received_on", kind="stable")
    by_case = ordered.groupby("case_ref", sort=False)
    first = by_case["received_on"].transform("first")
    return first.where(by_case.cumcount() > 0).reindex(events.index)
