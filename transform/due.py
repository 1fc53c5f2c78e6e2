"""When each step of the journey falls due (RULEBOOK.md sections 3, 7 and 8), said once, as data.

A unit of work is one step for one batch on one day. A step's work on a day is the records whose
``date`` fell ``days_after`` days before that day and that meet its ``conditions``: the load layer
builds from these both the query that finds the day's units and the one that reads a unit's
cases (``load/journey.py``), so nothing else decides when a step is due.

A field is written ``record.column``, over the records a step reads: ``event`` (an operator's
event), ``tranche``, ``batch``, ``outcome`` (a case's closure outcome) and ``journey`` (its
journey state).
"""

from __future__ import annotations

from dataclasses import dataclass

from transform.codes import EventKind, EventStatus, JourneyState, Step, TrancheKind

Condition = tuple[str, str, object]
"""``(field, operator, value)``, the operator one of ``==``, ``!=``, ``is``, ``is not``."""


@dataclass(frozen=True)
class Due:
    step: Step
    date: str
    conditions: tuple[Condition, ...]
    days_after: int = 0


WAITING_EVENT: Condition = ("event.status", "==", EventStatus.ACCEPTED)

DUE = (
    # an operator's event applies on the day it was received (section 8)
    Due(Step.EVENTS, "event.received_on", (WAITING_EVENT, ("event.kind", "!=", EventKind.NEW_APPLICATION))),
    # a new CMS application closes the paying parent's other cases (section 3)
    Due(Step.REACTIVE, "event.received_on", (WAITING_EVENT, ("event.kind", "==", EventKind.NEW_APPLICATION))),
    # a planned tranche is selected on its selection date, and its batches start then (section 2)
    Due(Step.SELECT, "tranche.selection_date",
        (("tranche.kind", "==", TrancheKind.PLANNED), ("tranche.selected_cases", "is", None))),
    Due(Step.START, "tranche.selection_date", (("batch.started", "is", False),)),
    # the reminder goes one month before liability ends, unless liability ended already (section 3)
    Due(Step.REMIND, "journey.reminder_on",
        (("journey.reminded", "is", False), ("journey.liability_ended", "is", False))),
    Due(Step.END, "journey.liability_end_date", (("journey.liability_ended", "is", False),)),
    # no answer by the deadline: the lapse is the day after it (section 7)
    Due(Step.DEADLINE, "outcome.choice_deadline",
        (("outcome.journey_state", "==", JourneyState.AWAITING_CHOICE),), days_after=1),
)
"""Every step's due rule, in the order a day's steps run."""
