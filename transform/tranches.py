"""Sections 2 and 3: the tranche plan, its batches, and reactive closures.

The plan walks the segment groups in order, one tranche per selection date, re-classifying the
unselected cases on each date through a caller-supplied ``segment_on(date)`` (so a newer
extract can move a case between segments).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from csa_closure.settings import RuleSettings
from transform.codes import TrancheKind
from transform.dates import reactive_liability_end_date
from transform.segments import LIVE, NOTHING_TO_DO

SegmentOn = Callable[[pd.Timestamp], pd.Series]
"""The segment of every case of the plan's ``cases`` on a date, indexed like ``cases``."""


@dataclass(frozen=True)
class TranchePlan:
    """The planned selections and what the plan left out.

    ``selections``: one row per selected case: ``case_ref``, ``selected_on``, ``segment`` (as
    classified that day), ``tranche_id``, ``batch_id``. ``tranches``: one row per tranche:
    ``tranche_id``, ``selection_date``, ``segment_group`` (the walk's current group, a position
    in ``rules.segment_groups``), ``planned_cases``. ``nothing_to_do``: unselected cases out
    of scope on the last date walked. ``unplanned``: in-scope cases left for after ``until``.
    """

    selections: pd.DataFrame
    tranches: pd.DataFrame
    nothing_to_do: int
    unplanned: int


def plan_tranches(
    cases: pd.DataFrame,
    segment_on: SegmentOn,
    first_selection: pd.Timestamp,
    until: pd.Timestamp | None,
    rules: RuleSettings,
    current_group: int | None = None,
) -> TranchePlan:
    """One tranche per selection date from ``first_selection`` to ``until`` (inclusive).

    ``cases`` holds the unselected cases (``case_ref``, ``case_start_date``). Without ``until``
    the plan runs until every in-scope case is selected. Capacity, interval, groups and batch
    size come from ``rules`` (override them with ``rules.model_copy(update=...)``).
    ``current_group`` (a position in ``rules.segment_groups``) continues a walk already under
    way, as a selection on the planned date does; without it the walk starts afresh.
    """
    if until is not None and until < first_selection:
        raise ValueError(f"the plan ends ({until:%Y-%m-%d}) before it starts")
    order = np.lexsort((cases["case_ref"].to_numpy(), cases["case_start_date"].to_numpy()))
    group_of_segment = np.full(7, -1, dtype=np.int64)  # segments 0 (nothing to do) to 6
    for position, segments in enumerate(rules.segment_groups):
        group_of_segment[list(segments)] = position
    selected = np.zeros(len(cases), dtype=bool)
    tranches: list[tuple[pd.Timestamp, np.ndarray, np.ndarray]] = []
    groups: list[int] = []
    current, exhausted = (-1, True) if current_group is None else (current_group, False)
    on = first_selection
    classified, segment = None, np.empty(0, dtype=np.int8)
    while until is None or on <= until:
        segments = segment_on(on)
        if segments is not classified:  # the same segments from date to date: put in order once
            classified, segment = segments, segments.reindex(cases.index).to_numpy()[order]
        group = np.where(selected, -1, group_of_segment[segment])
        if not (group >= 0).any():
            break
        if exhausted or not (group == current).any():
            later = group[group > current]
            current = int(later.min()) if len(later) else current
        earlier_first = np.concatenate(
            [np.flatnonzero((group >= 0) & (group < current)), np.flatnonzero(group == current)]
        )
        picked = earlier_first[: rules.tranche_capacity]
        selected[picked] = True
        tranches.append((on, picked, segment[picked]))
        groups.append(current)
        exhausted = not (group[~selected] == current).any()
        on = on + pd.Timedelta(days=rules.selection_interval_days)
    unselected = segment[~selected]
    selections = _planned_selections(cases["case_ref"].to_numpy()[order], tranches, rules)
    return TranchePlan(
        selections=selections,
        tranches=pd.DataFrame(
            {
                "tranche_id": selections["tranche_id"].unique(),
                "selection_date": pd.Series(
                    [on for on, _, _ in tranches], dtype="datetime64[ns]"
                ),
                "segment_group": pd.Series(groups, dtype="int64"),
                "planned_cases": pd.Series([len(p) for _, p, _ in tranches], dtype="int64"),
            }
        ),
        nothing_to_do=int((unselected == NOTHING_TO_DO).sum()),
        unplanned=int((unselected != NOTHING_TO_DO).sum()),
    )


def _planned_selections(
    case_refs: np.ndarray,
    tranches: list[tuple[pd.Timestamp, np.ndarray, np.ndarray]],
    rules: RuleSettings,
) -> pd.DataFrame:
    """Number the tranches T0001.. in date order and cut them into batches."""
    sizes = [len(picked) for _, picked, _ in tranches]
    positions = np.concatenate([picked for _, picked, _ in tranches] or [np.empty(0, np.int64)])
    segments = np.concatenate([segment for _, _, segment in tranches] or [np.empty(0, np.int8)])
    numbers = np.repeat(np.arange(1, len(tranches) + 1), sizes)
    selections = pd.DataFrame(
        {
            "case_ref": case_refs[positions],
            "selected_on": np.repeat(
                np.array([on for on, _, _ in tranches], dtype="datetime64[ns]"), sizes
            ),
            "segment": segments.astype("int8"),
            "tranche_id": "T" + pd.Series(numbers, dtype="str").str.zfill(4),
        }
    )
    return selections.assign(batch_id=batch_ids(selections, rules))


@dataclass(frozen=True)
class SegmentsToTake:
    """What a planned tranche takes on its date (section 2, step 2): the unselected cases of
    the ``earlier`` segments first, then those of the ``current`` group's."""

    earlier: tuple[int, ...]
    current: tuple[int, ...]

    @property
    def segments(self) -> tuple[int, ...]:
        return self.earlier + self.current


def segments_to_take(waiting: pd.Series, planned_group: int, rules: RuleSettings) -> SegmentsToTake:
    """The groups a selection takes from, given the unselected in-scope cases by segment
    (``waiting``): the planned group while it has cases, else the next group that has
    (step 3), after every group before it."""
    has_cases = [
        position for position, segments in enumerate(rules.segment_groups)
        if any(int(waiting.get(segment, 0)) > 0 for segment in segments)
    ]
    later = [position for position in has_cases if position > planned_group]
    current = planned_group if planned_group in has_cases or not later else min(later)
    earlier = tuple(s for group in rules.segment_groups[:current] for s in group)
    return SegmentsToTake(earlier, tuple(rules.segment_groups[current]))


def choose_for_tranche(candidates: pd.DataFrame, take: SegmentsToTake, capacity: int) -> pd.DataFrame:
    """The cases a tranche selects from ``candidates`` (``case_ref``, ``segment``,
    ``case_start_date``: at least the first ``capacity`` of each segment in that order): the
    earlier segments' first, each part in order of case start date then case reference."""
    later = candidates["segment"].isin(take.current).to_numpy()
    order = np.lexsort((candidates["case_ref"].to_numpy(), candidates["case_start_date"].to_numpy(), later))
    return candidates.iloc[order[:capacity]].reset_index(drop=True)


def batch_ids(selections: pd.DataFrame, rules: RuleSettings, batches_before: int = 0) -> pd.Series:
    """Cut each tranche into batches of ``batch_size`` in case reference order (``T0007-B003``),
    numbered after the ``batches_before`` the tranche holds already.

    The ids depend only on the tranche's cases, so a rerun gives the same ones.
    """
    order = selections.sort_values(["tranche_id", "case_ref"])
    number = order.groupby("tranche_id", sort=False).cumcount() // rules.batch_size + 1 + batches_before
    batch = order["tranche_id"] + "-B" + number.astype("str").str.zfill(3)
    return batch.reindex(selections.index)


def reactive_tranche_id(selected_on: pd.Series) -> pd.Series:
    """Reactive tranches are named by date (``R20150314``) and take no number."""
    return "R" + selected_on.dt.strftime("%Y%m%d")


def reactive_closures(
    applications: pd.DataFrame, cases: pd.DataFrame, rules: RuleSettings, batches_before: int = 0
) -> pd.DataFrame:
    """Cases closed reactively by new CMS applications naming their NRP with another PWC.

    ``applications``: ``nrp_ref``, ``pwc_ref``, ``received_on`` (one day's). ``cases``: the
    not-yet-selected cases (``case_ref``, ``nrp_ref``, ``pwc_ref``, ``status``); only those with
    ongoing liability close reactively, as the closure runs the liability journey. The earliest
    application closes a case. Their batches follow the ``batches_before`` the day's tranche
    holds already (applications of that day recorded late). Returns ``case_ref``,
    ``selected_on``, ``liability_end_date``, ``tranche_id``, ``batch_id``.
    """
    open_cases = cases.loc[cases["status"] == LIVE, ["case_ref", "nrp_ref", "pwc_ref"]]
    matches = open_cases.merge(
        applications[["nrp_ref", "pwc_ref", "received_on"]],
        on="nrp_ref",
        suffixes=("", "_applicant"),
    )
    matches = matches[matches["pwc_ref"] != matches["pwc_ref_applicant"]]
    first = matches.sort_values(["received_on", "case_ref"]).drop_duplicates("case_ref")
    closures = pd.DataFrame(
        {
            "case_ref": first["case_ref"],
            "selected_on": first["received_on"],
            "liability_end_date": reactive_liability_end_date(first["received_on"], rules),
            "tranche_id": reactive_tranche_id(first["received_on"]),
        }
    ).reset_index(drop=True)
    return closures.assign(batch_id=batch_ids(closures, rules, batches_before))


def reactive_tranche(closures: pd.DataFrame, received_on: date, before: dict | None) -> dict:
    """The day's reactive tranche once ``closures`` (with their ``segment``) have joined the
    cases it holds ``before`` (its ``segment_group`` and ``selected_cases``, or None)."""
    segments = {int(segment) for segment in closures["segment"]}
    cases = len(closures)
    if before is not None:
        segments |= {int(segment) for segment in before["segment_group"].split(",")}
        cases += before["selected_cases"]
    return {
        "tranche_id": closures["tranche_id"].iloc[0],
        "kind": TrancheKind.REACTIVE.value,
        "selection_date": received_on,
        "segment_group": ",".join(map(str, sorted(segments))),
        "capacity": cases,
        "planned_cases": cases,
        "selected_cases": cases,
    }
