"""Properties over random ledgers: conservation, allocation bounds, instalments, determinism."""

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rules_builders import cases, decide, ledger

from csa_closure.settings import RuleSettings
from transform.allocation import allocate_payments
from transform.instalments import instalment_schedule
from transform.ledger import is_debit
from transform.verification import verify_arrears

pytestmark = pytest.mark.slow  # hundreds of drawn estates: the full lane's, not the fast one's

RULES = RuleSettings()
AS_OF = pd.Timestamp("2015-06-01")
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

line = st.tuples(
    st.sampled_from(["CHARGE", "IMA_CHARGE", "RECEIPT", "ADJUSTMENT", "ADJUSTMENT"]),
    st.sampled_from(["PWC", "SOS"]),
    st.integers(1, 200_000),
    st.dates(pd.Timestamp("1993-01-01").date(), pd.Timestamp("2014-06-30").date()),
    st.one_of(st.none(), st.integers(0, 800)),
    st.integers(0, 400),
)
estate = st.lists(
    st.tuples(
        st.lists(line, max_size=12),
        st.sampled_from(["1993", "2003"]),
        st.booleans(),
        st.booleans(),
        st.dates(pd.Timestamp("1993-04-01").date(), pd.Timestamp("2014-01-01").date()),
    ),
    min_size=1,
    max_size=6,
)


def build(drawn) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cases and ledger from drawn data; signs follow the line kind, periods end after start."""
    rows, lines, line_ref = [], [], 0
    for number, (case_lines, scheme, nrp_deceased, pwc_deceased, start) in enumerate(drawn):
        ref = f"C93{number:07d}"
        rows.append(
            {
                "case_ref": ref,
                "scheme": scheme,
                "nrp_deceased": nrp_deceased,
                "pwc_deceased": pwc_deceased,
                "case_start_date": pd.Timestamp(start),
            }
        )
        for kind, creditor, amount, posted, period_days_before, period_length in case_lines:
            line_ref += 1
            posted_on = pd.Timestamp(posted)
            credit = kind == "RECEIPT" or (kind == "ADJUSTMENT" and amount % 2)
            period = (None, None)
            if kind in ("CHARGE", "IMA_CHARGE") and period_days_before is not None:
                period_from = posted_on - pd.Timedelta(days=period_days_before)
                period = (period_from, period_from + pd.Timedelta(days=period_length))
            lines.append(
                (ref, line_ref, posted_on, kind, creditor, -amount if credit else amount, *period)
            )
    return cases(*rows), ledger(*lines)


def verified(drawn) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The drawn cases whose ledger balances are not negative, recorded as the ledger says."""
    frame, lines = build(drawn)
    balance = lines.groupby(["case_ref", "creditor"])["amount_pence"].sum().unstack(fill_value=0)
    balance = balance.reindex(index=frame["case_ref"], columns=["PWC", "SOS"], fill_value=0)
    frame = frame.assign(
        recorded_total_pence=balance.sum(axis=1).to_numpy(),
        recorded_sos_pence=balance["SOS"].to_numpy(),
    )
    verification = verify_arrears(frame, lines, AS_OF, RULES)
    ok = (verification["outcome"] == "VERIFIED").to_numpy()
    return frame[ok], lines[lines["case_ref"].isin(frame.loc[ok, "case_ref"])], verification[ok]


@PROPERTY_SETTINGS
@given(estate)
def test_decision_parts_sum_exactly_to_the_verified_arrears(drawn):
    frame, lines, verification = verified(drawn)
    decision = decide(frame, lines)
    parts = decision.parts.groupby(["case_ref", "creditor"])["amount_pence"].sum()
    for creditor in ("PWC", "SOS"):
        expected = verification.set_index("case_ref")[f"ledger_{creditor.lower()}_pence"]
        got = (
            parts.xs(creditor, level="creditor")
            if creditor in parts.index.get_level_values(1)
            else pd.Series(dtype="int64")
        )
        assert got.reindex(expected.index, fill_value=0).tolist() == expected.tolist()
    assert (decision.parts["amount_pence"] > 0).all()
    assert decision.parts["amount_pence"].dtype == "int64"


@PROPERTY_SETTINGS
@given(estate)
def test_allocation_keeps_every_outstanding_part_between_zero_and_its_debit(drawn):
    _, lines = build(drawn)
    allocated = allocate_payments(lines)
    debits = allocated[is_debit(allocated)]
    assert (allocated.loc[~is_debit(allocated), "outstanding_pence"] == 0).all()
    assert (debits["outstanding_pence"] >= 0).all()
    assert (debits["outstanding_pence"] <= debits["amount_pence"]).all()
    balance = lines.groupby(["case_ref", "creditor"])["amount_pence"].sum()
    outstanding = debits.groupby(["case_ref", "creditor"])["outstanding_pence"].sum()
    assert (
        outstanding.reindex(balance.index, fill_value=0).tolist() == balance.clip(lower=0).tolist()
    )


@PROPERTY_SETTINGS
@given(
    st.lists(
        st.tuples(
            st.integers(1, 10**10),
            st.dates(pd.Timestamp("2014-01-01").date(), pd.Timestamp("2030-12-31").date()),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_instalments_sum_exactly_to_their_line(drawn):
    lines = pd.DataFrame(
        {
            "line_id": range(len(drawn)),
            "amount_pence": [amount for amount, _ in drawn],
            "transferred_on": pd.to_datetime([day for _, day in drawn]),
        }
    )
    schedule = instalment_schedule(lines, RULES)
    sums = schedule.groupby("line_id")["amount_pence"].sum()
    assert sums.tolist() == lines["amount_pence"].tolist()
    counts = schedule.groupby("line_id").size()
    assert (counts <= RULES.max_instalments).all()
    assert (schedule["due_on"].dt.day == 1).all()
    assert (schedule["amount_pence"] > 0).all()


@PROPERTY_SETTINGS
@given(estate, st.randoms(use_true_random=False))
def test_the_same_input_always_gives_the_same_output(drawn, random):
    frame, lines, _ = verified(drawn)
    first = decide(frame, lines)
    again = decide(frame, lines)
    shuffled = decide(frame, lines.sample(frac=1, random_state=random.randint(0, 2**31)))
    for other in (again, shuffled):
        for name in ("parts", "letters", "cases", "accrued"):
            expected = getattr(first, name)
            got = getattr(other, name)
            key = list(expected.columns[:2])
            pd.testing.assert_frame_equal(
                got.sort_values(key, kind="stable").reset_index(drop=True),
                expected.sort_values(key, kind="stable").reset_index(drop=True),
            )
