"""Section 7, the receiving parent's choice: one test per row of the answers table."""

import pandas as pd
import pytest

from transform.choice import answer_refusals, apply_choices, extension_refusals

DEADLINE = pd.Timestamp("2015-07-01")
REF = "C930099001"


def awaiting(untraced=False, abroad=False) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_ref": [REF],
            "pending_pence": [175_000],
            "choice_deadline": [DEADLINE],
            "nrp_untraced": [untraced],
            "nrp_abroad": [abroad],
        }
    )


def answer(choice: str | None = None, received: str = "2015-06-20") -> pd.DataFrame:
    rows = [] if choice is None else [(REF, choice, pd.Timestamp(received))]
    frame = pd.DataFrame(rows, columns=["case_ref", "choice", "received_on"])
    return frame.astype({"received_on": "datetime64[ns]"})


def outcome(cases, answers, as_of="2015-07-10"):
    result = apply_choices(cases, answers, pd.Timestamp(as_of))
    parts = result.parts[["outcome", "reason", "amount_pence", "decided_on"]]
    letters = set(
        result.letters[["journey_event", "template", "recipient_role"]].itertuples(
            index=False, name=None
        )
    )
    return parts.astype({"reason": object}).where(parts.notna(), None).values.tolist(), letters


def to_both(template: str) -> set:
    return {("CHOICE_OUTCOME", template, "PWC"), ("CHOICE_OUTCOME", template, "NRP")}


def test_collect_and_nrp_collectable_transferred():
    parts, letters = outcome(awaiting(), answer("COLLECT"))
    assert parts == [["TRANSFER", None, 175_000, pd.Timestamp("2015-06-20")]]
    assert letters == to_both("ARREARS_TRANSFERRED")


@pytest.mark.parametrize(("untraced", "abroad"), [(True, False), (False, True)])
def test_collect_and_nrp_not_collectable_written_off(untraced, abroad):
    parts, letters = outcome(awaiting(untraced, abroad), answer("COLLECT"))
    assert parts == [["WRITE_OFF", "NOT_COLLECTABLE", 175_000, pd.Timestamp("2015-06-20")]]
    assert letters == to_both("ARREARS_WRITTEN_OFF")


def test_write_off_answer_pwc_declined():
    parts, letters = outcome(awaiting(), answer("WRITE_OFF"))
    assert parts == [["WRITE_OFF", "PWC_DECLINED", 175_000, pd.Timestamp("2015-06-20")]]
    assert letters == to_both("ARREARS_WRITTEN_OFF")


def test_answer_on_the_deadline_day_counts():
    parts, _ = outcome(awaiting(), answer("COLLECT", "2015-07-01"))
    assert parts[0][0] == "TRANSFER"


def test_no_response_by_the_deadline_written_off_dated_the_day_after():
    parts, letters = outcome(awaiting(), answer(), as_of="2015-07-02")
    assert parts == [["WRITE_OFF", "NO_RESPONSE", 175_000, pd.Timestamp("2015-07-02")]]
    assert letters == to_both("ARREARS_WRITTEN_OFF")


def test_no_response_dated_the_day_after_the_deadline_even_when_a_run_catches_up():
    parts, _ = outcome(awaiting(), answer(), as_of="2015-09-30")
    assert parts[0][3] == pd.Timestamp("2015-07-02")


def test_still_waiting_on_the_deadline_day():
    parts, letters = outcome(awaiting(), answer(), as_of="2015-07-01")
    assert parts == [] and letters == set()


def test_answer_received_after_the_run_date_waits_for_its_run():
    parts, _ = outcome(awaiting(), answer("COLLECT", "2015-06-20"), as_of="2015-06-19")
    assert parts == []


def test_choice_recorded_for_the_outcome():
    result = apply_choices(awaiting(), answer("WRITE_OFF"), pd.Timestamp("2015-07-10"))
    assert result.choices.to_dict("records") == [{"case_ref": REF, "choice": "WRITE_OFF"}]


def answer_state(answered_on=None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_ref": [REF],
            "choice_deadline": [DEADLINE],
            "answered_on": pd.to_datetime([answered_on]).astype("datetime64[ns]"),
            "extended": [False],
        }
    )


def received(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"case_ref": [r for r, _ in rows], "received_on": pd.to_datetime([d for _, d in rows])}
    )


def test_answer_after_the_deadline_refused():
    reasons = answer_refusals(received((REF, "2015-07-02"), (REF, "2015-07-01")), answer_state())
    assert reasons.tolist()[0] == "received after the deadline 2015-07-01"


def test_first_answer_decides_later_ones_refused():
    reasons = answer_refusals(received((REF, "2015-06-25"), (REF, "2015-06-20")), answer_state())
    assert reasons.fillna("ok").tolist() == ["already answered on 2015-06-20", "ok"]
    again = answer_refusals(received((REF, "2015-06-25")), answer_state("2015-06-20"))
    assert again.tolist() == ["already answered on 2015-06-20"]


def test_an_answer_received_before_one_recorded_earlier_is_the_first():
    """Recorded late, an answer received before the answer recorded first is the one that
    decides (section 7, by date); one received the same day or after is refused."""
    reasons = answer_refusals(received((REF, "2015-06-10"), (REF, "2015-06-20"), (REF, "2015-06-25")),
                              answer_state("2015-06-20"))
    assert reasons.fillna("ok").tolist() == ["ok", "already answered on 2015-06-20", "already answered on 2015-06-20"]


def test_answer_for_a_case_not_awaiting_a_choice_refused():
    reasons = answer_refusals(received(("C930000404", "2015-06-20")), answer_state())
    assert reasons.tolist() == ["the case is not awaiting a choice"]


def test_one_extension_requested_on_or_before_the_deadline():
    requests = received((REF, "2015-07-01"), (REF, "2015-07-01"))
    assert extension_refusals(requests, answer_state()).fillna("ok").tolist() == [
        "ok",
        "the deadline was already extended once",
    ]
    extended = answer_state().assign(extended=True)
    assert extension_refusals(received((REF, "2015-06-05")), extended).tolist() == [
        "the deadline was already extended once"
    ]


def test_extension_after_the_deadline_refused():
    reasons = extension_refusals(received((REF, "2015-07-02")), answer_state())
    assert reasons.tolist() == ["requested after the deadline 2015-07-01"]
