"""Section 10: which letters a journey event creates, and who may receive them.

A letter is identified by (case, journey event, template, recipient) and dated the day its
journey event took effect. Rendering bodies is done elsewhere.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csa_closure.settings import RuleSettings
from transform.codes import (
    BOTH_PARENTS,
    JourneyEvent,
    LetterStatus,
    Recipient,
    Template,
)
from transform.dates import reminder_date

LETTER_COLUMNS = ["case_ref", "journey_event", "template", "recipient_role", "created_on"]


def letters_to(
    case_refs: pd.Series,
    created_on: pd.Series | np.ndarray,
    journey_event: JourneyEvent,
    template: Template,
    recipients: tuple[Recipient, ...],
) -> pd.DataFrame:
    """One letter per case and recipient of ``recipients``, dated ``created_on``."""
    refs = pd.Series(case_refs, dtype="str").reset_index(drop=True)
    dated = np.asarray(created_on, dtype="datetime64[ns]")
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "case_ref": refs,
                    "journey_event": pd.Series(journey_event.value, index=refs.index, dtype="str"),
                    "template": pd.Series(template.value, index=refs.index, dtype="str"),
                    "recipient_role": pd.Series(recipient.value, index=refs.index, dtype="str"),
                    "created_on": dated,
                },
                columns=LETTER_COLUMNS,
            )
            for recipient in recipients
        ],
        ignore_index=True,
    )


def liability_journey_letters(journeys: pd.DataFrame, rules: RuleSettings) -> pd.DataFrame:
    """The letters of the liability journey (section 3) of cases with a liability end date.

    ``journeys``: ``case_ref``, ``selected_on``, ``liability_end_date`` (NaT for arrears-only
    cases, which get none), ``reactive`` (a reactive closure sends no reminder). The caller
    keeps those whose ``created_on`` has come.
    """
    liable = journeys[journeys["liability_end_date"].notna()]
    planned = liable[~liable["reactive"].astype(bool)]
    return pd.concat(
        [
            letters_to(
                liable["case_ref"],
                liable["selected_on"],
                JourneyEvent.SELECTION,
                Template.INITIAL_NOTICE,
                BOTH_PARENTS,
            ),
            letters_to(
                planned["case_ref"],
                reminder_date(planned["liability_end_date"], rules),
                JourneyEvent.REMINDER,
                Template.REMINDER,
                BOTH_PARENTS,
            ),
            letters_to(
                liable["case_ref"],
                liable["liability_end_date"],
                JourneyEvent.LIABILITY_END,
                Template.LIABILITY_ENDED,
                BOTH_PARENTS,
            ),
        ],
        ignore_index=True,
    )


def address_letters(letters: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """Apply the recipient rules: none to a parent who died; UNDELIVERABLE with no address.

    ``cases``: ``case_ref``, ``nrp_deceased``, ``pwc_deceased``, ``nrp_untraced``,
    ``pwc_untraced``. Returns the letters that are created, with ``status`` PENDING or
    UNDELIVERABLE.
    """
    parents = cases.set_index("case_ref").reindex(letters["case_ref"])
    to_pwc = (letters["recipient_role"] == Recipient.PWC).to_numpy()

    untraced = _of_recipient(parents, to_pwc, "untraced")
    status = np.where(untraced, LetterStatus.UNDELIVERABLE.value, LetterStatus.PENDING.value)
    addressed = letters.assign(status=pd.Series(status, index=letters.index, dtype="str"))
    return addressed[~_of_recipient(parents, to_pwc, "deceased")].reset_index(drop=True)


def _of_recipient(parents: pd.DataFrame, to_pwc: np.ndarray, flag: str) -> np.ndarray:
    """The recipient's own flag (``pwc_<flag>`` or ``nrp_<flag>``) for each letter."""
    pwc = parents[f"pwc_{flag}"].to_numpy(dtype=bool)
    nrp = parents[f"nrp_{flag}"].to_numpy(dtype=bool)
    return np.where(to_pwc, pwc, nrp)
