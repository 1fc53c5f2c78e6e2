"""The report's figures (CONTRACTS.md section 4): progress of each tranche, where the money went,
holds, quarantine and reconciliation, assembled from small grouped frames, with the totals that
cross-check them and the reconciliation's verdict. Money stays integer pence; how the report
reads is ``csa_closure.render.report``'s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pandas as pd

from transform.codes import JourneyState, LetterStatus, Template
from transform.reconciliation import TOTAL_COLUMNS

PASS, BREAK, INCOMPLETE = "PASS", "BREAK", "INCOMPLETE"
"""The reconciliation's verdict: every penny adds up; a penny does not; or it adds up so far but
units of work failed, or selected cases have not started their journey, so it is not the
whole story."""
STATE_ORDER = (
    JourneyState.CLOSED,
    JourneyState.AWAITING_CHOICE,
    JourneyState.AWAITING_LIABILITY_END,
    JourneyState.ON_HOLD,
)
"""Journey states from done to stuck: the order of columns, legends and stacked bars."""
TRANSFERRED, WRITTEN_OFF, PENDING, ON_HOLD = "TRANSFERRED", "WRITTEN_OFF", "PENDING", "ON_HOLD"
OUTCOMES = (TRANSFERRED, WRITTEN_OFF, PENDING, ON_HOLD)
"""Where money can be, in the order the report lists it."""
RECONCILED_AS = {TRANSFERRED: "transferred", WRITTEN_OFF: "written_off", PENDING: "pending", ON_HOLD: "on_hold"}
"""Each outcome's column in ``csa_closure.service.reconcile.money_totals``."""


@dataclass(frozen=True)
class ReportRows:
    """What ``load.report`` and ``csa_closure.service.reconcile.money_totals`` read, one small frame each."""

    tranches: pd.DataFrame
    states: pd.DataFrame
    transfers: pd.DataFrame
    write_offs: pd.DataFrame
    pending: pd.DataFrame
    holds: pd.DataFrame
    letters: pd.DataFrame
    quarantine: pd.DataFrame
    held_cases: pd.DataFrame
    reconciliation: pd.DataFrame
    failed_units: pd.DataFrame
    """Units of work whose last attempt failed: ``batch_id``, ``step``, ``due_on``, ``last_error``."""
    unstarted: pd.DataFrame
    """Selected cases with no outcome yet, by batch: ``batch_id``, ``cases``."""
    runs: pd.DataFrame
    """The latest run of each command: ``command``, ``as_of``, ``started_at``, ``finished_at``,
    ``state`` (a run that failed or was interrupted is for the operator to look at)."""


@dataclass(frozen=True)
class Totals:
    """The headline figures: cases by state, and every penny of arrears by where it is."""

    cases: int
    by_state: dict[str, int]
    arrears_pence: int
    transferred_pence: int
    written_off_pence: int
    pending_pence: int
    on_hold_pence: int
    difference_pence: int
    reconciled: bool
    unfinished: tuple[str, ...] = ()
    """The work that failed or has not started, named (``start T0001-B002 2014-07-07``)."""

    @property
    def status(self) -> str:
        if not self.reconciled:
            return BREAK
        return INCOMPLETE if self.unfinished else PASS


@dataclass(frozen=True)
class Report:
    """The report's model: the frames each output shows, and their totals."""

    tranche_id: str | None
    advanced_to: date | None
    progress: pd.DataFrame
    money: pd.DataFrame
    holds: pd.DataFrame
    quarantine: pd.DataFrame
    held_cases: pd.DataFrame
    letters: pd.DataFrame
    reconciliation: pd.DataFrame
    totals: Totals
    runs: pd.DataFrame


def build_report(rows: ReportRows, tranche_id: str | None, advanced_to: date | None) -> Report:
    """The report's model from the grouped frames; the totals cross-check two independent reads
    of the same money (the outcome tables and the reconciliation's per-case rows)."""
    progress = tranche_progress(rows.tranches, rows.states)
    money = money_by_outcome(rows.transfers, rows.write_offs, rows.pending, rows.holds)
    reconciliation = reconciliation_status(rows.reconciliation)
    return Report(
        tranche_id=tranche_id,
        advanced_to=advanced_to,
        progress=progress,
        money=money,
        holds=hold_summary(rows.holds),
        quarantine=quarantine_by_check(rows.quarantine),
        held_cases=rows.held_cases.sort_values("scheme", ignore_index=True),
        letters=letters_by_template(rows.letters),
        reconciliation=reconciliation,
        totals=report_totals(progress, money, reconciliation, unfinished_work(rows.failed_units, rows.unstarted)),
        runs=rows.runs,
    )


def tranche_progress(tranches: pd.DataFrame, states: pd.DataFrame) -> pd.DataFrame:
    """One row per tranche: the schedule and its cases by journey state (planned tranches not
    selected yet show no cases)."""
    counts = (
        states.pivot_table(index="tranche_id", columns="journey_state", values="cases", aggfunc="sum")
        .reindex(columns=[s.value for s in STATE_ORDER])
        .fillna(0)
        .astype("int64")
        .reset_index()
    )
    counts.columns.name = None
    progress = tranches.merge(counts, on="tranche_id", how="outer")
    state_columns = [s.value for s in STATE_ORDER]
    progress[state_columns] = progress[state_columns].fillna(0).astype("int64")
    progress["planned_cases"] = progress["planned_cases"].fillna(0).astype("int64")
    progress["cases"] = progress[state_columns].sum(axis=1).astype("int64")
    columns = ["tranche_id", "kind", "selection_date", "segment_group", "planned_cases", "cases", *state_columns]
    return progress.sort_values(["selection_date", "tranche_id"], ignore_index=True)[columns]


def money_by_outcome(
    transfers: pd.DataFrame, write_offs: pd.DataFrame, pending: pd.DataFrame, holds: pd.DataFrame
) -> pd.DataFrame:
    """Where the money is: ``outcome``, ``reason``, ``cases``, ``pence``, one row per reason
    (transfers by creditor, pending by what it waits for, holds by why), zero rows left out; a
    credit balance on hold is negative."""
    on_hold = holds[holds["journey_state"] == JourneyState.ON_HOLD]
    parts = [
        (TRANSFERRED, transfers.rename(columns={"creditor": "reason"})),
        (WRITTEN_OFF, write_offs),
        (PENDING, pending.rename(columns={"journey_state": "reason"})),
        (ON_HOLD, on_hold.rename(columns={"hold_reason": "reason"})),
    ]
    money = pd.concat(
        [part[["reason", "cases", "pence"]].assign(outcome=outcome) for outcome, part in parts],
        ignore_index=True,
    )
    money = money.groupby(["outcome", "reason"], as_index=False, sort=False)[["cases", "pence"]].sum()
    money[["cases", "pence"]] = money[["cases", "pence"]].astype("int64")
    order = {outcome: n for n, outcome in enumerate(OUTCOMES)}
    money = money[money["pence"] != 0].sort_values(
        ["outcome", "pence"], key=lambda c: c.map(order) if c.name == "outcome" else -c, ignore_index=True
    )
    return money[["outcome", "reason", "cases", "pence"]]


def hold_summary(holds: pd.DataFrame) -> pd.DataFrame:
    """Per hold reason: cases on hold now and their pence, and cases whose hold was resolved."""
    now = holds["journey_state"] == JourneyState.ON_HOLD
    summary = pd.DataFrame({
        "hold_reason": holds["hold_reason"],
        "on_hold_cases": holds["cases"].where(now, 0),
        "on_hold_pence": holds["pence"].where(now, 0),
        "resolved_cases": holds["cases"].where(~now, 0),
    })
    return summary.groupby("hold_reason", as_index=False).sum().astype(
        {"on_hold_cases": "int64", "on_hold_pence": "int64", "resolved_cases": "int64"}
    )


def quarantine_by_check(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Quarantined records per source table and check; a record failing several checks counts
    under each, once."""
    checks = quarantine["reasons"].map(lambda reasons: sorted({r["check"] for r in json.loads(reasons)}))
    exploded = quarantine.assign(check=checks).explode("check")
    return (
        exploded.groupby(["source_table", "check"], as_index=False)["records"].sum()
        .astype({"records": "int64"})
        .sort_values(["source_table", "records"], ascending=[True, False], ignore_index=True)
    )


def letters_by_template(letters: pd.DataFrame) -> pd.DataFrame:
    """One row per template in the journey's order, a column per status and the total."""
    statuses = [s.value for s in LetterStatus]
    table = (
        letters.pivot_table(index="template", columns="status", values="letters", aggfunc="sum")
        .reindex(index=[t.value for t in Template], columns=statuses)
        .fillna(0)
        .astype("int64")
    )
    table["total"] = table.sum(axis=1)
    table = table[table["total"] > 0].reset_index()
    table.columns.name = None
    return table


def reconciliation_status(totals: pd.DataFrame) -> pd.DataFrame:
    """``csa_closure.service.reconcile.money_totals`` with a PASS or BREAK per row."""
    frame = totals.sort_values(["tranche_id", "segment", "scheme", "creditor"], ignore_index=True)
    return frame.assign(status=frame["difference"].map(lambda d: PASS if d == 0 else BREAK))


def unfinished_work(failed_units: pd.DataFrame, unstarted: pd.DataFrame) -> tuple[str, ...]:
    """Every failed unit of work, and every batch whose selected cases have not started their
    journey, named as an operator looks them up."""
    failed = [
        f"{unit.step.lower()} {unit.batch_id} {_date(unit.due_on)} failed"
        for unit in failed_units.sort_values(["due_on", "batch_id", "step"]).itertuples(index=False)
    ]
    waiting = [
        f"{batch.batch_id}: {batch.cases:,} selected case(s) with no outcome"
        for batch in unstarted.sort_values("batch_id").itertuples(index=False)
    ]
    return tuple(failed + waiting)


def report_totals(
    progress: pd.DataFrame, money: pd.DataFrame, reconciliation: pd.DataFrame, unfinished: tuple[str, ...] = ()
) -> Totals:
    """The headline figures; reconciled only when every row balances and the outcome tables
    agree with the reconciliation to the penny."""
    by_outcome = money.groupby("outcome")["pence"].sum()
    outcome = {name: int(by_outcome.get(name, 0)) for name in OUTCOMES}
    reconciled_sums = {column: int(reconciliation[column].sum()) for column in TOTAL_COLUMNS + ["difference"]}
    agree = all(outcome[name] == reconciled_sums[column] for name, column in RECONCILED_AS.items())
    return Totals(
        cases=int(progress["cases"].sum()),
        by_state={state.value: int(progress[state.value].sum()) for state in STATE_ORDER},
        arrears_pence=reconciled_sums["arrears"],
        transferred_pence=outcome[TRANSFERRED],
        written_off_pence=outcome[WRITTEN_OFF],
        pending_pence=outcome[PENDING],
        on_hold_pence=outcome[ON_HOLD],
        difference_pence=reconciled_sums["difference"],
        reconciled=agree and bool((reconciliation["status"] == PASS).all()),
        unfinished=unfinished,
    )


def _date(day: object) -> str:
    return "" if pd.isna(day) else f"{pd.Timestamp(day):%Y-%m-%d}"
