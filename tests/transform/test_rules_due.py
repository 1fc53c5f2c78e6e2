"""When steps fall due: one rule per step, in the order a day's steps run."""

from transform.codes import JourneyState, Step
from transform.due import DUE

DUE_BY_STEP = {due.step: due for due in DUE}


def test_every_step_has_one_due_rule_in_the_order_a_day_runs():
    assert [due.step for due in DUE] == list(Step)


def test_a_lapse_falls_due_the_day_after_the_deadline_of_a_case_still_awaiting_its_choice():
    lapse = DUE_BY_STEP[Step.DEADLINE]
    assert (lapse.date, lapse.days_after) == ("outcome.choice_deadline", 1)
    assert ("outcome.journey_state", "==", JourneyState.AWAITING_CHOICE) in lapse.conditions


def test_a_reminder_is_not_due_once_liability_has_ended():
    assert ("journey.liability_ended", "is", False) in DUE_BY_STEP[Step.REMIND].conditions
