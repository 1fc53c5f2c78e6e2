"""Section 10: which letters a journey event creates, and who may receive them.

A letter is identified by (case, journey event, template, recipient) and dated the day its
journey event took effect. It is kept as data: its template and the values that fill it
(``personalise``); the text is rendered when it is printed (``csa_closure.render.letters``).
"""

from __future__ import annotations

import json

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


def unreachable_recipients(parties: pd.DataFrame) -> set[str]:
    """The recipient rules again as a letter is printed, on its parties as they stand then: a
    parent who has died since the letter was made, or who has no address now, is not sent it
    (the letter is recorded UNDELIVERABLE). ``parties``: ``person_ref``, ``deceased``,
    ``untraced``."""
    return set(parties.loc[parties["deceased"].astype(bool) | parties["untraced"].astype(bool), "person_ref"])


def _of_recipient(parents: pd.DataFrame, to_pwc: np.ndarray, flag: str) -> np.ndarray:
    """The recipient's own flag (``pwc_<flag>`` or ``nrp_<flag>``) for each letter."""
    pwc = parents[f"pwc_{flag}"].to_numpy(dtype=bool)
    nrp = parents[f"nrp_{flag}"].to_numpy(dtype=bool)
    return np.where(to_pwc, pwc, nrp)


TEMPLATE_VERSION = 1
"""The wording letters are created with now (``csa_closure/render/templates/letters/v1``)."""

TEMPLATE_VALUES: dict[str, tuple[str, ...]] = {
    Template.INITIAL_NOTICE: ("liability_end_date",),
    Template.REMINDER: ("liability_end_date",),
    Template.LIABILITY_ENDED: ("liability_end_date",),
    Template.ARREARS_CHOICE: ("pending_pence", "choice_deadline"),
    Template.ARREARS_WRITTEN_OFF: ("written_off_pence",),
    Template.ARREARS_TRANSFERRED: ("transferred_pence",),
}
"""The values each template must show: a letter without one is refused, never printed."""

TEMPLATE_EXTRAS: dict[str, tuple[str, ...]] = {
    Template.ARREARS_WRITTEN_OFF: ("transferred_pence", "pending_pence"),
    Template.ARREARS_TRANSFERRED: ("written_off_pence", "service_type"),
}
"""Values a template shows where the case has them."""

DATE_VALUES = ("liability_end_date", "choice_deadline")


def personalise(letters: pd.DataFrame, context: pd.DataFrame) -> pd.Series:
    """The values that fill each letter's template, as the JSON its row keeps (``body``),
    index aligned with ``letters`` (section 10).

    They are amounts, dates and references, never names or addresses: the recipient by
    reference, and the other parent by reference only where the case has no domestic-abuse
    marker, so no letter of such a case can name them. The names and the recipient's address
    are read from the legacy systems when the letter is printed (``csa_closure.render.letters``).
    ``context``: one row per case (``scheme``, ``nrp_ref``, ``pwc_ref``, ``dv_marker``, the dates
    and amounts, ``cms_service_type``).
    """
    if letters.empty:
        return pd.Series([], index=letters.index, dtype="str")
    cases = context.set_index("case_ref").reindex(letters["case_ref"])
    to_pwc = (letters["recipient_role"] == Recipient.PWC).to_numpy()
    choice_to_nrp = (letters["template"] == Template.ARREARS_CHOICE).to_numpy() & ~to_pwc
    if choice_to_nrp.any():
        raise ValueError(
            f"the arrears choice of case {letters['case_ref'][choice_to_nrp].iloc[0]} goes to the PWC only"
        )
    own = np.where(to_pwc, cases["pwc_ref"], cases["nrp_ref"])
    other = pd.Series(np.where(to_pwc, cases["nrp_ref"], cases["pwc_ref"]), index=letters.index)
    values = pd.DataFrame(
        {
            "scheme": cases["scheme"].to_numpy(),
            "recipient_ref": own,
            "other_parent_ref": other.where(~cases["dv_marker"].astype(bool).to_numpy()).to_numpy(),
            "service_type": cases["cms_service_type"].to_numpy(),
            **{
                column: cases[column].to_numpy()
                for column in ("pending_pence", "written_off_pence", "transferred_pence")
            },
            **{column: _iso(cases[column]).to_numpy() for column in DATE_VALUES},
        },
        index=letters.index,
    )
    bodies = pd.Series("", index=letters.index, dtype="str")
    for template, rows in letters.groupby("template").groups.items():
        needed, extras = TEMPLATE_VALUES[template], TEMPLATE_EXTRAS.get(template, ())
        shown = values.loc[rows, ["scheme", "recipient_ref", "other_parent_ref", *needed, *extras]]
        missing = shown[list(needed)].isna().any(axis=1)
        if missing.any():
            kind = "amount" if any(v.endswith("_pence") for v in needed) else "date"
            raise ValueError(
                f"an {kind} the {template} letter of case {letters.at[missing.idxmax(), 'case_ref']} "
                "must show is missing"
            )
        bodies[rows] = _json_lines(shown)
    return bodies


def _iso(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates).dt.strftime("%Y-%m-%d").astype(object).where(dates.notna(), None)


def _json_lines(values: pd.DataFrame) -> list[str]:
    """Each row as one compact JSON object: missing values left out, amounts as integers."""
    records = values.astype(object).where(values.notna(), None).to_dict("records")
    return [
        json.dumps(
            {k: _plain(v) for k, v in record.items() if v is not None},
            ensure_ascii=False,
            separators=(",", ":"),
            sort_keys=True,
        )
        for record in records
    ]


def _plain(value):
    return int(value) if isinstance(value, np.integer) else value
