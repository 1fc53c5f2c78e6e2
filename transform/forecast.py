"""The what-if forecast: the rulebook run over the cases not closed yet, under given settings.

The forecast runs the journey's own steps (``transform.journey``: start, remind, end liability,
decide) over a snapshot, writes nothing, and counts where the money would go. For each kind of
case the target holds, "as of" the forecast's date means:

- not selected yet: walked into tranches (section 2, ``plan_tranches``) from the first selection
  date (the first planned selection date on or after the as-of date, else the as-of date), with
  the settings' capacity, interval and segment groups, re-classified on each selection date as
  ``plan`` does; then started on its selection date, reminded and ended on selection + notice
  months (segments 1 to 5) as ``advance`` would. Its decision falls on its liability end date,
  or on its selection date in segment 6. A case out of scope (no ongoing liability, a zero
  recorded balance) is counted, never selected, and carries no arrears;
- selected but not started (its batch's start has not run): started on its recorded selection
  date, then as above;
- awaiting liability end, or on hold before it: reminded if it has not been, then ended on the
  liability end date the journey recorded (its notices are out, so another notice period does
  not move it), re-verified and decided;
- awaiting a choice: its pending PWC part counts as awaiting choice. Its deadline stands: another
  choice window moves only the deadlines of the choices the forecast asks for;
- on hold after liability end (or in segment 6): counted on hold with the ledger balance the hold
  carries, until a caseworker resolves it.

Simplifications: the ledger is the latest extract's, so no later receipt or charge is foreseen;
no reactive closure, and no operator's event that ``advance`` has not applied yet, is assumed;
parents' answers are not guessed, so a choice asked stays awaiting; cases held back by quarantine
are left out, and a case whose legacy records no longer pass validation counts as unreadable,
with no money.

Money: the forecast's arrears are the money still open (the whole arrears of the cases not
decided yet, pending parts, balances on hold). Every penny of it falls in exactly one outcome,
so two settings' totals agree per scheme and creditor whenever every ledger line was posted by
each decision date (an as-of date on or after the extract date).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from csa_closure.settings import RuleSettings
from csa_closure.text import is_in
from transform.codes import NO_ARREARS, Creditor, JourneyState, LetterStatus, Outcome, Template
from transform.journey import (
    JOURNEY_COLUMNS,
    OUTCOME_COLUMNS,
    JourneyChanges,
    end_liability,
    send_reminders,
    start_journeys,
)
from transform.ledger import per_case_value
from transform.segments import NOTHING_TO_DO, classify_segments
from transform.tranches import TranchePlan, plan_tranches

ON_HOLD = "ON_HOLD"
OUT_OF_SCOPE = "OUT_OF_SCOPE"
UNREADABLE = "UNREADABLE"
OUTCOME_ORDER = (
    Outcome.TRANSFER.value, Outcome.WRITE_OFF.value, Outcome.AWAITING_CHOICE.value, ON_HOLD,
    NO_ARREARS, OUT_OF_SCOPE,
)
"""The forecast's outcomes, from money settled to money (or cases) the closure leaves alone."""
STATE_ORDER = (
    JourneyState.CLOSED.value, JourneyState.AWAITING_CHOICE.value, JourneyState.ON_HOLD.value,
    OUT_OF_SCOPE, UNREADABLE,
)
"""Where each case ends in the forecast."""
NOT_FORECAST = {
    "batch_size": "batches do not change outcomes",
    "reactive_notice_days": "the forecast assumes no reactive closure",
    "extension_days": "the forecast does not guess parents' answers or requests",
    "max_instalments": "the forecast stops before instalments",
    "instalment_unit_pence": "the forecast stops before instalments",
}
"""Settings whose effect comes after the forecast's horizon, or outside it: a change to one of
them shows no difference, and the comparison says why."""
TO_START_COLUMNS = [
    "case_ref", "segment", "selected_on", "liability_end_date", "tranche_id", "batch_id",
]


# --- the walk ---------------------------------------------------------------------------------


def first_selection_date(as_of: pd.Timestamp, planned_dates: pd.Series) -> pd.Timestamp:
    """Where the forecast's walk starts: the first planned selection date not before the as-of
    date (so the current settings follow the recorded plan's dates), else the as-of date."""
    ahead = planned_dates[planned_dates >= as_of]
    return pd.Timestamp(ahead.min()) if len(ahead) else as_of


def walk_unselected(
    unselected: pd.DataFrame, first_selection: pd.Timestamp, rules: RuleSettings
) -> TranchePlan:
    """Section 2's walk over the unselected snapshot, run until every case in scope is selected.

    A case's segment depends on the date only through its reference date (the earlier of the
    date and its extract date), so past the latest extract date each day classifies alike and
    one classification serves every later day.
    """
    latest_extract = unselected["extracted_on"].max()
    known: dict[pd.Timestamp, pd.Series] = {}

    def segment_on(on: pd.Timestamp) -> pd.Series:
        key = min(on, latest_extract) if pd.notna(latest_extract) else on
        if key not in known:
            known.clear()
            known[key] = classify_segments(unselected, on, rules)
        return known[key]

    return plan_tranches(
        unselected[["case_ref", "case_start_date"]], segment_on, first_selection, None, rules
    )


def cases_to_start(
    unselected: pd.Series, walk: TranchePlan, selected_not_started: pd.DataFrame
) -> pd.DataFrame:
    """Every case not started yet, with how it starts under one settings: ``TO_START_COLUMNS``.

    ``unselected``: the unselected cases' references (the walk's input); those the walk left out
    are out of scope (segment 0). ``selected_not_started``: the recorded selections whose
    start has not run (``TO_START_COLUMNS``), started as recorded.
    """
    planned = walk.selections.assign(liability_end_date=pd.NaT)
    left_out = pd.DataFrame(
        {"case_ref": unselected[~is_in(unselected, planned["case_ref"])].to_numpy(), "segment": NOTHING_TO_DO}
    )
    parts = [frame for frame in (planned, selected_not_started, left_out) if len(frame)]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TO_START_COLUMNS)
    return frame.reindex(columns=TO_START_COLUMNS).astype(
        {"segment": "int64", "selected_on": "datetime64[ns]", "liability_end_date": "datetime64[ns]"}
    )


# --- one batch --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenCases:
    """One batch of the cases not closed yet, as the target and the legacy systems hold them.

    ``schemes``: the scheme of every case of the batch, indexed by case reference. ``cases`` and
    ``ledger``: the canonical frames read fresh from the legacy systems, for the cases the steps
    need (a case missing from them is unreadable). ``outcomes`` and ``journeys``: the target's
    ``closure_outcome`` and ``case_journey`` rows of the batch's started, not closed cases, in
    ``transform.journey``'s shapes.
    """

    schemes: pd.Series
    cases: pd.DataFrame
    ledger: pd.DataFrame
    outcomes: pd.DataFrame
    journeys: pd.DataFrame


def no_started_cases() -> tuple[pd.DataFrame, pd.DataFrame]:
    """``OpenCases.outcomes`` and ``journeys`` of a batch whose cases have not started."""
    return pd.DataFrame(columns=OUTCOME_COLUMNS), pd.DataFrame(columns=JOURNEY_COLUMNS)


@dataclass(frozen=True)
class Figures:
    """One settings' forecast of some cases, in small frames that add up across batches.

    ``money``: ``outcome``, ``reason``, ``scheme``, ``creditor``, ``pence`` (non-zero rows).
    ``cases``: ``outcome``, ``reason``, ``scheme``, ``cases`` (a case once per outcome and
    reason, whatever its creditors). ``states``: ``state``, ``scheme``, ``cases`` (each case
    once, where it ends). ``letters``: ``template``, ``status``, ``letters``. ``dates``:
    ``last_liability_end``, ``last_choice_deadline``.
    """

    money: pd.DataFrame
    cases: pd.DataFrame
    states: pd.DataFrame
    letters: pd.DataFrame
    dates: pd.Series

    KEYS = {
        "money": ["outcome", "reason", "scheme", "creditor"],
        "cases": ["outcome", "reason", "scheme"],
        "states": ["state", "scheme"],
        "letters": ["template", "status"],
    }

    @classmethod
    def none(cls) -> Figures:
        frames = {
            name: pd.DataFrame({column: pd.Series(dtype="str") for column in keys})
            .assign(**{_value_of(name): pd.Series(dtype="int64")})
            for name, keys in cls.KEYS.items()
        }
        return cls(**frames, dates=_no_dates())

    def plus(self, other: Figures) -> Figures:
        """Both batches' figures: counts and pence added, the later of each date."""
        added = {
            name: _summed(pd.concat([getattr(self, name), getattr(other, name)]), keys, _value_of(name))
            for name, keys in self.KEYS.items()
        }
        dates = pd.concat([self.dates, other.dates], axis=1).max(axis=1)
        return Figures(**added, dates=dates.astype("datetime64[ns]"))


def _value_of(name: str) -> str:
    return {"money": "pence", "cases": "cases", "states": "cases", "letters": "letters"}[name]


def _no_dates() -> pd.Series:
    return pd.Series(pd.NaT, index=["last_liability_end", "last_choice_deadline"], dtype="datetime64[ns]")


def _summed(frame: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    summed = frame.groupby(keys, as_index=False, sort=True)[value].sum()
    return summed.astype({value: "int64"}).reset_index(drop=True)


def forecast_cases(batch: OpenCases, to_start: pd.DataFrame, rules: RuleSettings) -> Figures:
    """Run the journey's steps over one batch under ``rules`` and count where everything ends.

    ``to_start``: ``cases_to_start`` rows of the batch's cases not started yet.
    """
    readable = set(batch.cases["case_ref"])
    starting = to_start[(to_start["segment"] != NOTHING_TO_DO) & is_in(to_start["case_ref"], readable)]
    kept = batch.outcomes[is_in(batch.outcomes["case_ref"], readable) | ~_ending(batch.outcomes, batch.journeys)]
    changes = JourneyChanges.none(kept, batch.journeys[is_in(batch.journeys["case_ref"], kept["case_ref"])])
    for _, selection in starting.groupby("selected_on", sort=True):
        lines = _ledger_of(batch.ledger, selection["case_ref"])
        changes = changes.then(start_journeys(selection, batch.cases, lines, rules))
    reminders = _reminders(changes, batch.cases)
    if reminders is not None:
        changes = changes.then(reminders)
    ending = changes.outcomes[_ending(changes.outcomes, changes.journeys)]
    for ends_on, ended in ending.groupby("liability_end_date", sort=True):
        journeys = changes.journeys[is_in(changes.journeys["case_ref"], ended["case_ref"])]
        lines = _ledger_of(batch.ledger, ended["case_ref"])
        changes = changes.then(
            end_liability(ended, journeys, batch.cases, lines, pd.Timestamp(ends_on), rules)
        )
    needed = legacy_needed([to_start], batch.outcomes, batch.journeys)
    unreadable = needed[~is_in(needed, readable)]
    out_of_scope = to_start.loc[to_start["segment"] == NOTHING_TO_DO, "case_ref"]
    return _figures(changes, batch.schemes, out_of_scope, unreadable)


def legacy_needed(
    to_start: list[pd.DataFrame], outcomes: pd.DataFrame, journeys: pd.DataFrame
) -> pd.Series:
    """The cases whose steps need them read from the legacy systems: those to start (in scope,
    under any of the settings ``to_start`` holds) and those whose liability has still to end."""
    starting = [frame.loc[frame["segment"] != NOTHING_TO_DO, "case_ref"] for frame in to_start]
    ending = outcomes.loc[_ending(outcomes, journeys), "case_ref"]
    return pd.concat([*starting, ending], ignore_index=True).drop_duplicates()


def _ending(outcomes: pd.DataFrame, journeys: pd.DataFrame) -> np.ndarray:
    """Cases whose liability has still to end (awaiting it, or on hold before it)."""
    ended = per_case_value(outcomes["case_ref"], journeys.set_index("case_ref")["liability_ended"])
    return (outcomes["liability_end_date"].notna().to_numpy()) & ~ended.astype(bool)


def _ledger_of(ledger: pd.DataFrame, case_refs: pd.Series) -> pd.DataFrame:
    return ledger[is_in(ledger["case_ref"], case_refs)]


def _reminders(changes: JourneyChanges, cases: pd.DataFrame) -> JourneyChanges | None:
    """The reminders still to go out before liability ends (section 3), if any."""
    journeys = changes.journeys
    due = (
        journeys["reminder_on"].notna()
        & ~journeys["reminded"].astype(bool)
        & ~journeys["liability_ended"].astype(bool)
    )
    if not due.any():
        return None
    outcomes = changes.outcomes[is_in(changes.outcomes["case_ref"], journeys.loc[due, "case_ref"])]
    return send_reminders(outcomes, journeys[due], cases)


def _figures(
    changes: JourneyChanges, schemes: pd.Series, out_of_scope: pd.Series, unreadable: pd.Series
) -> Figures:
    """Count the cases and the money where the steps left them."""
    outcomes = changes.outcomes
    parts = pd.concat(
        [
            _parts(changes.write_offs, Outcome.WRITE_OFF, "reason"),
            _parts(changes.transfers, Outcome.TRANSFER, None),
            _awaiting_choice(outcomes),
            _on_hold(outcomes, changes.journeys),
            _case_only(outcomes["case_ref"][_no_arrears(outcomes)], NO_ARREARS),
            _case_only(out_of_scope, OUT_OF_SCOPE),
        ],
        ignore_index=True,
    )
    parts["scheme"] = per_case_value(parts["case_ref"], schemes)
    money = parts[parts["pence"] != 0]
    counted = parts.drop_duplicates(["case_ref", "outcome", "reason"])
    states = pd.concat(
        [
            pd.DataFrame({"case_ref": outcomes["case_ref"], "state": outcomes["journey_state"]}),
            pd.DataFrame({"case_ref": out_of_scope.to_numpy(), "state": OUT_OF_SCOPE}),
            pd.DataFrame({"case_ref": unreadable.to_numpy(), "state": UNREADABLE}),
        ],
        ignore_index=True,
    )
    states["scheme"] = per_case_value(states["case_ref"], schemes)
    awaiting = outcomes["journey_state"] == JourneyState.AWAITING_CHOICE
    return Figures(
        money=_summed(money, Figures.KEYS["money"], "pence"),
        cases=_summed(counted.assign(cases=1), Figures.KEYS["cases"], "cases"),
        states=_summed(states.assign(cases=1), Figures.KEYS["states"], "cases"),
        letters=_summed(changes.letters.assign(letters=1), Figures.KEYS["letters"], "letters"),
        dates=pd.Series(
            {
                "last_liability_end": outcomes["liability_end_date"].max(),
                "last_choice_deadline": outcomes.loc[awaiting, "choice_deadline"].max(),
            },
            dtype="datetime64[ns]",
        ),
    )


def _parts(frame: pd.DataFrame, outcome: Outcome, reason: str | None) -> pd.DataFrame:
    """Decided parts (write-offs or transfers) as forecast parts."""
    return pd.DataFrame(
        {
            "case_ref": frame["case_ref"].to_numpy(dtype=object),
            "outcome": outcome.value,
            "reason": frame[reason].to_numpy(dtype=object) if reason else "",
            "creditor": frame["creditor"].to_numpy(dtype=object),
            "pence": frame["amount_pence"].to_numpy(dtype=np.int64),
        }
    )


def _awaiting_choice(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The PWC part each case awaiting a choice waits with."""
    waiting = outcomes[outcomes["journey_state"] == JourneyState.AWAITING_CHOICE]
    return pd.DataFrame(
        {
            "case_ref": waiting["case_ref"].to_numpy(dtype=object),
            "outcome": Outcome.AWAITING_CHOICE.value,
            "reason": "",
            "creditor": Creditor.PWC.value,
            "pence": waiting["pending_pence"].to_numpy(dtype=np.int64),
        }
    )


def _on_hold(outcomes: pd.DataFrame, journeys: pd.DataFrame) -> pd.DataFrame:
    """Each creditor's ledger balance of the cases on hold, under their hold reason."""
    held = outcomes[outcomes["journey_state"] == JourneyState.ON_HOLD]
    balances = journeys.set_index("case_ref").reindex(held["case_ref"])
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "case_ref": held["case_ref"].to_numpy(dtype=object),
                    "outcome": ON_HOLD,
                    "reason": held["hold_reason"].to_numpy(dtype=object),
                    "creditor": creditor.value,
                    "pence": balances[f"ledger_{creditor.lower()}_pence"].to_numpy(dtype=np.int64),
                }
            )
            for creditor in Creditor
        ],
        ignore_index=True,
    )


def _no_arrears(outcomes: pd.DataFrame) -> np.ndarray:
    """Closed cases whose verified arrears were zero: they took no decision."""
    closed = (outcomes["journey_state"] == JourneyState.CLOSED).to_numpy()
    arrears = outcomes["arrears_pwc_pence"].fillna(0).to_numpy(dtype=np.int64) + outcomes[
        "arrears_sos_pence"
    ].fillna(0).to_numpy(dtype=np.int64)
    return closed & (arrears == 0)


def _case_only(case_refs: pd.Series, outcome: str) -> pd.DataFrame:
    """Cases counted under an outcome that moves no money."""
    return pd.DataFrame(
        {"case_ref": case_refs.to_numpy(dtype=object), "outcome": outcome, "reason": "", "creditor": "", "pence": 0}
    )


# --- the comparison ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SideForecast:
    """One settings' forecast of the whole estate: its walk's tranches and its figures.

    ``tranches``: ``selection_date``, ``segment_group`` (as the schedule writes it, ``3,4``),
    ``cases``, one row per tranche the walk needs.
    """

    rules: RuleSettings
    tranches: pd.DataFrame
    figures: Figures


def forecast_estate(
    unselected: pd.DataFrame,
    selected_not_started: pd.DataFrame,
    open_cases: OpenCases,
    first_selection: pd.Timestamp,
    rules: RuleSettings,
) -> SideForecast:
    """One settings' forecast of cases held in memory as one batch: what the forecast flow
    works out batch by batch. ``unselected``: the unselected snapshot (``legacy_case`` rows)."""
    walk = walk_unselected(unselected, first_selection, rules)
    to_start = cases_to_start(unselected["case_ref"], walk, selected_not_started)
    return SideForecast(rules, walk_tranches(walk, rules), forecast_cases(open_cases, to_start, rules))


def walk_tranches(walk: TranchePlan, rules: RuleSettings) -> pd.DataFrame:
    """The walk's tranches as a forecast shows them."""
    groups = [",".join(map(str, rules.segment_groups[g])) for g in walk.tranches["segment_group"]]
    return pd.DataFrame(
        {
            "selection_date": walk.tranches["selection_date"].astype("datetime64[ns]"),
            "segment_group": pd.Series(groups, dtype="str"),
            "cases": walk.tranches["planned_cases"].astype("int64"),
        }
    )


@dataclass(frozen=True)
class Comparison:
    """The current settings' forecast beside the alternative's, from the same snapshot."""

    as_of: pd.Timestamp
    first_selection: pd.Timestamp
    held_back: int
    current: SideForecast
    alternative: SideForecast

    @property
    def sides(self) -> tuple[SideForecast, SideForecast]:
        return self.current, self.alternative


SIDES = ("current", "alternative")
TOTALS = (
    "cases", "arrears_pence", "transferred_pence", "written_off_pence", "awaiting_choice_pence",
    "on_hold_pence", "tranches", "letters_to_send", "letters_undeliverable",
)
DATES = ("first_selection", "last_selection", "last_liability_end", "last_choice_deadline")


def side_totals(side: SideForecast) -> dict[str, int]:
    """The headline figures of one side: cases, open money by where it goes, tranches, letters."""
    f = side.figures
    by_outcome = f.money.groupby("outcome")["pence"].sum()
    letters = f.letters.groupby("status")["letters"].sum()
    return {
        "cases": int(f.states["cases"].sum()),
        "arrears_pence": int(f.money["pence"].sum()),
        "transferred_pence": int(by_outcome.get(Outcome.TRANSFER.value, 0)),
        "written_off_pence": int(by_outcome.get(Outcome.WRITE_OFF.value, 0)),
        "awaiting_choice_pence": int(by_outcome.get(Outcome.AWAITING_CHOICE.value, 0)),
        "on_hold_pence": int(by_outcome.get(ON_HOLD, 0)),
        "tranches": len(side.tranches),
        "letters_to_send": int(letters.get(LetterStatus.PENDING.value, 0)),
        "letters_undeliverable": int(letters.get(LetterStatus.UNDELIVERABLE.value, 0)),
    }


def side_dates(side: SideForecast) -> dict[str, pd.Timestamp]:
    """When one side's closure would select, end liability and ask for answers for the last time."""
    selections = side.tranches["selection_date"]
    return {
        "first_selection": selections.min() if len(selections) else pd.NaT,
        "last_selection": selections.max() if len(selections) else pd.NaT,
        "last_liability_end": side.figures.dates["last_liability_end"],
        "last_choice_deadline": side.figures.dates["last_choice_deadline"],
    }


def totals_table(comparison: Comparison) -> pd.DataFrame:
    """``figure``, ``current``, ``alternative``, ``difference`` for each of ``TOTALS``."""
    current, alternative = (side_totals(side) for side in comparison.sides)
    return pd.DataFrame(
        {
            "figure": list(TOTALS),
            "current": [current[name] for name in TOTALS],
            "alternative": [alternative[name] for name in TOTALS],
            "difference": [alternative[name] - current[name] for name in TOTALS],
        }
    ).astype({"current": "int64", "alternative": "int64", "difference": "int64"})


def dates_table(comparison: Comparison) -> pd.DataFrame:
    """``event``, ``current``, ``alternative`` (dates, NaT for none) and ``difference_days``."""
    current, alternative = (side_dates(side) for side in comparison.sides)
    frame = pd.DataFrame(
        {
            "event": list(DATES),
            "current": pd.Series([current[e] for e in DATES], dtype="datetime64[ns]"),
            "alternative": pd.Series([alternative[e] for e in DATES], dtype="datetime64[ns]"),
        }
    )
    return frame.assign(difference_days=(frame["alternative"] - frame["current"]).dt.days.astype("Int64"))


def settings_table(comparison: Comparison) -> pd.DataFrame:
    """Every rule setting: ``setting``, ``current``, ``alternative``, ``changed``, ``note`` (why
    a change cannot show in the forecast, where it cannot)."""
    current = comparison.current.rules.model_dump()
    alternative = comparison.alternative.rules.model_dump()
    return pd.DataFrame(
        {
            "setting": list(current),
            "current": [current[name] for name in current],
            "alternative": [alternative[name] for name in current],
            "changed": [current[name] != alternative[name] for name in current],
            "note": [NOT_FORECAST.get(name, "") for name in current],
        }
    )


def side_by_side(name: str, comparison: Comparison, keys: list[str], value: str) -> pd.DataFrame:
    """One figures frame of both sides on shared keys: ``current_<value>``,
    ``alternative_<value>`` and ``difference_<value>`` (alternative less current), 0 where a
    side has no row."""
    current, alternative = (
        getattr(side.figures, name).groupby(keys, as_index=False)[value].sum().astype(dict.fromkeys(keys, object))
        for side in comparison.sides
    )  # object keys: pandas cannot merge empty Arrow-backed string keys
    merged = current.merge(alternative, on=keys, how="outer", suffixes=("_current", "_alternative"))
    columns = [f"{value}_current", f"{value}_alternative"]
    merged[columns] = merged[columns].fillna(0).astype("int64")
    merged = merged.rename(columns={f"{value}_{side}": f"{side}_{value}" for side in SIDES})
    return merged.assign(
        **{f"difference_{value}": merged[f"alternative_{value}"] - merged[f"current_{value}"]}
    )


def _ordered(frame: pd.DataFrame, column: str, order: tuple[str, ...], then: list[str]) -> pd.DataFrame:
    rank = {code: n for n, code in enumerate(order)}
    key = frame[column].map(lambda code: rank.get(code, len(rank)))
    return frame.assign(_rank=key).sort_values(["_rank", *then], ignore_index=True).drop(columns="_rank")


def outcomes_table(comparison: Comparison) -> pd.DataFrame:
    """Cases and money by outcome and reason, both sides and the difference."""
    cases = side_by_side("cases", comparison, ["outcome", "reason"], "cases")
    money = side_by_side("money", comparison, ["outcome", "reason"], "pence")
    table = cases.merge(money, on=["outcome", "reason"], how="left")
    money_columns = [f"{side}_pence" for side in (*SIDES, "difference")]
    table[money_columns] = table[money_columns].fillna(0).astype("int64")
    return _ordered(table, "outcome", OUTCOME_ORDER, ["reason"])


def schemes_table(comparison: Comparison) -> pd.DataFrame:
    """Money by scheme, creditor and outcome, both sides and the difference."""
    keys = ["scheme", "creditor", "outcome"]
    table = side_by_side("money", comparison, keys, "pence")
    return _ordered(table, "outcome", OUTCOME_ORDER, []).sort_values(
        ["scheme", "creditor"], kind="stable", ignore_index=True
    )


def states_table(comparison: Comparison) -> pd.DataFrame:
    """Cases by where they end, both sides and the difference."""
    return _ordered(side_by_side("states", comparison, ["state"], "cases"), "state", STATE_ORDER, [])


def letters_table(comparison: Comparison) -> pd.DataFrame:
    """Letters by template and status, both sides and the difference."""
    table = side_by_side("letters", comparison, ["template", "status"], "letters")
    return _ordered(table, "template", tuple(t.value for t in Template), ["status"])


def tranches_table(comparison: Comparison) -> pd.DataFrame:
    """Per segment group (the walk's current one): tranches, cases, first and last selection."""
    sides = []
    for name, side in zip(SIDES, comparison.sides):
        grouped = side.tranches.groupby("segment_group", as_index=False, sort=False).agg(
            tranches=("cases", "size"), cases=("cases", "sum"),
            first=("selection_date", "min"), last=("selection_date", "max"),
        )
        sides.append(grouped.rename(columns={c: f"{name}_{c}" for c in ("tranches", "cases", "first", "last")}))
    table = sides[0].merge(sides[1], on="segment_group", how="outer")
    counts = [f"{side}_{c}" for side in SIDES for c in ("tranches", "cases")]
    table[counts] = table[counts].fillna(0).astype("int64")
    order = [",".join(map(str, group)) for group in comparison.current.rules.segment_groups]
    return _ordered(table, "segment_group", tuple(order), ["segment_group"])
