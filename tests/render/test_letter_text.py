"""Section 10, the letters' text, rendered from the data a letter row keeps: signposting,
safeguarding, no NINO, amounts and dates; the same row always renders to the same bytes."""

import json
import re

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csa_closure.render.formats import long_date, pounds
from csa_closure.render.letters import render_letters
from transform.codes import Template
from transform.letters import TEMPLATE_VERSION, personalise

CASE = "C930000001"
DV_CASE = "S030000002"
PEOPLE = {
    # ref: (forenames, surname, address, postcode)
    "P000000001": ("Nadia", "Paysworth", "1 High Street\nLeeds", "LS1 1AA"),
    "P000000002": ("Priya", "Carewell", "2 Low Road\nHull", "HU2 2BB"),
    "CS2-11": ("Quentin", "Zebedee", "9 Hidden Close\nDurham", "DH9 9ZZ"),
    "CS2-12": ("Rosa", "Safehouse", "7 Quiet Lane\nYork", "YO7 7YY"),
}
TO_BOTH = [(t, r) for t in Template for r in ("PWC", "NRP") if t != Template.ARREARS_CHOICE]
EVERY_LETTER = TO_BOTH + [(Template.ARREARS_CHOICE, "PWC")]
NINO = re.compile(r"\b[A-CEGHJ-PR-TW-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b", re.IGNORECASE)
SIGNPOSTS = [
    "Child Maintenance Options",
    "free service",
    "0800 988 0988",
    "www.cmoptions.org",
    "Monday to Friday, 8am to 8pm",
    "Saturday, 9am to 4pm",
]


def parties() -> pd.DataFrame:
    return pd.DataFrame(
        [(ref, surname, forenames, address, postcode)
         for ref, (forenames, surname, address, postcode) in PEOPLE.items()],
        columns=["person_ref", "surname", "forenames", "address", "postcode"],
    ).assign(deceased=False, untraced=False)


def context(**changes) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "case_ref": [CASE, DV_CASE],
            "scheme": ["1993", "2003"],
            "nrp_ref": ["P000000001", "CS2-11"],
            "pwc_ref": ["P000000002", "CS2-12"],
            "dv_marker": [False, True],
            "liability_end_date": pd.to_datetime(["2015-02-28", "2015-03-01"]),
            "choice_deadline": pd.to_datetime(["2015-03-30", "2015-03-31"]),
            "arrears_pwc_pence": pd.array([175_000, 175_000], dtype="Int64"),
            "arrears_sos_pence": pd.array([6_499, 6_499], dtype="Int64"),
            "transferred_pence": pd.array([6_499, 6_499], dtype="Int64"),
            "written_off_pence": pd.array([12_345_678, 12_345_678], dtype="Int64"),
            "pending_pence": pd.array([175_000, 175_000], dtype="Int64"),
            "cms_service_type": ["COLLECT_AND_PAY", None],
        }
    )
    return frame.assign(**changes)


def letters(pairs, case_ref: str = CASE) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_ref": case_ref,
            "journey_event": "SELECTION",
            "template": [str(template) for template, _ in pairs],
            "recipient_role": [role for _, role in pairs],
            "created_on": pd.Timestamp("2014-08-31"),
            "status": "PENDING",
        }
    )


def reading(people: pd.DataFrame):
    """``people`` as the legacy systems would be read for a print batch: by reference."""
    return lambda refs: people[people["person_ref"].isin(list(refs))]


def render_bodies(frame: pd.DataFrame, cases: pd.DataFrame, people: pd.DataFrame) -> list[str]:
    """Letters kept as data, as a dispatch renders them."""
    marked = cases.set_index("case_ref")["dv_marker"].reindex(frame["case_ref"]).to_numpy()
    rows = frame.assign(body=personalise(frame, cases), template_version=TEMPLATE_VERSION, dv_marker=marked)
    return render_letters(rows.rename(columns={"case_ref": "csa_case_ref"}), reading(people))


def render(pairs, case_ref: str = CASE, **changes) -> list[str]:
    return render_bodies(letters(pairs, case_ref), context(**changes), parties())


@pytest.mark.parametrize("case_ref", [CASE, DV_CASE])
def test_every_letter_signposts_child_maintenance_options_with_how_to_reach_it(case_ref):
    for body in render(EVERY_LETTER, case_ref):
        for signpost in SIGNPOSTS:
            assert signpost in body


@pytest.mark.parametrize("case_ref", [CASE, DV_CASE])
def test_every_letter_carries_its_recipients_name_and_address_the_date_and_the_case(case_ref):
    cases = context().set_index("case_ref")
    bodies = render(EVERY_LETTER, case_ref)
    for (_, role), body in zip(EVERY_LETTER, bodies):
        forenames, surname, address, postcode = PEOPLE[cases.at[case_ref, f"{role.lower()}_ref"]]
        assert f"{forenames} {surname}\n{address}\n{postcode}\n" in body
        assert f"Dear {forenames} {surname}," in body
        assert "31 August 2014" in body
        assert case_ref in body


def test_with_a_domestic_abuse_marker_no_letter_names_or_locates_the_other_parent():
    bodies = render(EVERY_LETTER, DV_CASE)
    for (_, role), body in zip(EVERY_LETTER, bodies):
        other = "CS2-11" if role == "PWC" else "CS2-12"
        forenames, surname, address, postcode = PEOPLE[other]
        for detail in [forenames, surname, postcode, *address.split("\n")]:
            assert detail not in body, (role, detail)


def test_without_the_marker_the_other_parent_may_be_named_but_never_located():
    bodies = render(EVERY_LETTER, CASE)
    for (_, role), body in zip(EVERY_LETTER, bodies):
        other = "P000000001" if role == "PWC" else "P000000002"
        forenames, surname, address, postcode = PEOPLE[other]
        assert f"{forenames} {surname}" in " ".join(body.split())  # prose may wrap the name
        for detail in [postcode, *address.split("\n")]:
            assert detail not in body, (role, detail)


def test_no_letter_shows_anything_like_a_national_insurance_number():
    for case_ref in (CASE, DV_CASE):
        for body in render(EVERY_LETTER, case_ref):
            assert not NINO.search(body)


def test_amounts_are_formatted_from_whole_pence():
    assert [pounds(p) for p in (0, 5, 100, 6_499, 175_000, 12_345_678, -250)] == [
        "£0.00", "£0.05", "£1.00", "£64.99", "£1,750.00", "£123,456.78", "-£2.50",
    ]
    choice, written_off, transferred = render(
        [(Template.ARREARS_CHOICE, "PWC"), (Template.ARREARS_WRITTEN_OFF, "NRP"),
         (Template.ARREARS_TRANSFERRED, "PWC")]
    )
    assert "£1,750.00" in choice
    assert "£123,456.78" in written_off
    assert "£64.99" in transferred
    assert "Collect and Pay" in transferred


def test_dates_are_written_out_and_the_choice_says_how_and_by_when_to_answer():
    assert long_date(pd.Timestamp("2015-02-28")) == "28 February 2015"
    assert long_date(pd.Timestamp("2015-03-01")) == "1 March 2015"
    notice, choice = render([(Template.INITIAL_NOTICE, "NRP"), (Template.ARREARS_CHOICE, "PWC")])
    assert "28 February 2015" in notice
    assert "30 March 2015" in choice
    assert '"collect"' in choice and '"write off"' in choice


@pytest.mark.parametrize("case_ref", [CASE, DV_CASE])
def test_the_values_keep_the_letters_index_and_references_but_no_name_or_address(case_ref):
    frame = letters(TO_BOTH, case_ref).set_axis(range(100, 100 + len(TO_BOTH)))
    values = personalise(frame, context())
    assert list(values.index) == list(frame.index)
    cases = context().set_index("case_ref")
    for (_, role), body in zip(TO_BOTH, values):
        kept = json.loads(body)
        assert set(kept) <= {"scheme", "recipient_ref", "other_parent_ref", "liability_end_date",
                             "choice_deadline", "pending_pence", "written_off_pence",
                             "transferred_pence", "service_type"}
        assert kept["recipient_ref"] == cases.at[case_ref, f"{role.lower()}_ref"]
        assert ("other_parent_ref" in kept) == (case_ref != DV_CASE)
        for details in PEOPLE.values():
            assert not any(detail in body for detail in details)


def test_the_same_letter_renders_to_the_same_bytes():
    assert render(EVERY_LETTER) == render(EVERY_LETTER)
    frame = letters(EVERY_LETTER).assign(body=lambda f: personalise(f, context()),
                                         template_version=TEMPLATE_VERSION, dv_marker=False)
    rows = frame.rename(columns={"case_ref": "csa_case_ref"})
    assert render_letters(rows, reading(parties())) == render_letters(rows.iloc[::-1], reading(parties()))[::-1]


def test_a_letter_kept_as_text_by_an_earlier_engine_prints_as_it_was():
    kept = pd.DataFrame({"csa_case_ref": [CASE], "template": ["REMINDER"], "template_version": [0],
                         "recipient_role": ["PWC"], "created_on": [pd.Timestamp("2015-01-28")],
                         "body": ["Dear parent,\nas it was written\n"], "dv_marker": [False]})
    assert render_letters(kept, reading(parties())) == ["Dear parent,\nas it was written\n"]


def test_a_letter_an_earlier_engine_kept_with_its_names_prints_them_without_reading_the_parties():
    values = {"scheme": "1993", "name": "Priya Carewell", "address": ["2 Low Road", "HU2 2BB"],
              "other_parent": "Nadia Paysworth", "liability_end_date": "2015-02-28"}
    kept = pd.DataFrame({"csa_case_ref": [CASE], "template": ["LIABILITY_ENDED"], "template_version": [1],
                         "recipient_role": ["PWC"], "created_on": [pd.Timestamp("2015-02-28")],
                         "body": [json.dumps(values)], "dv_marker": [False]})
    (body,) = render_letters(kept, reading(parties().iloc[0:0]))
    assert "Priya Carewell\n2 Low Road\nHU2 2BB\n" in body and "Nadia Paysworth" in " ".join(body.split())


def test_a_letter_whose_recipient_is_gone_from_the_legacy_systems_is_refused_not_printed():
    nobody = parties().iloc[0:0]
    with pytest.raises(ValueError, match=f"the PWC of case {CASE} is not in the legacy systems"):
        render_bodies(letters([(Template.LIABILITY_ENDED, "PWC")]), context(), nobody)


@given(st.text(), st.text(), st.text(), st.text())
def test_no_value_can_add_a_line_or_a_control_character_to_a_letter(surname, forenames, street, postcode):
    """Whatever a name or an address holds, the letter keeps its shape: one line for the name
    (if any), one per address line and the postcode, and no form feed or other control."""
    people = parties()
    row = people.index[people["person_ref"] == "P000000002"][0]
    people.loc[row, ["surname", "forenames", "address", "postcode"]] = [surname, forenames, street, postcode]
    (plain,) = render([(Template.LIABILITY_ENDED, "PWC")])
    (body,) = render_bodies(letters([(Template.LIABILITY_ENDED, "PWC")]), context(), people)
    named = (forenames + " " + surname).strip() != ""
    plain_block = 1 + 3  # name, two address lines, postcode
    block = int(named) + len(street.split("\n")) + 1
    assert body.count("\n") == plain.count("\n") - plain_block + block
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]", body)


def test_an_untraced_recipient_gets_a_body_without_an_address_block():
    people = parties()
    untraced = people.assign(address=people["address"].where(people["person_ref"] != "P000000002"))
    (body,) = render_bodies(letters([(Template.LIABILITY_ENDED, "PWC")]), context(), untraced)
    assert "Priya Carewell\n\nDate: 31 August 2014" in body


def test_a_letter_missing_an_amount_it_must_show_is_refused_not_printed():
    with pytest.raises(ValueError, match="amount"):
        render([(Template.ARREARS_WRITTEN_OFF, "PWC")],
               written_off_pence=pd.array([None, None], dtype="Int64"))


def test_the_arrears_choice_goes_to_the_receiving_parent_only():
    with pytest.raises(ValueError, match="PWC only"):
        render([(Template.ARREARS_CHOICE, "NRP")])


def test_a_case_marked_after_its_letter_was_made_prints_no_other_parent():
    """Section 10: a newer extract recorded a domestic-abuse marker after the letter was made
    (its values still name the other parent): the printed letter does not name them."""
    frame = letters(TO_BOTH).assign(body=lambda f: personalise(f, context()), template_version=TEMPLATE_VERSION)
    rows = frame.rename(columns={"case_ref": "csa_case_ref"})
    assert all("other_parent_ref" in json.loads(body) for body in rows["body"])
    unmarked = render_letters(rows.assign(dv_marker=False), reading(parties()))
    marked = render_letters(rows.assign(dv_marker=True), reading(parties()))
    other = {"PWC": "Nadia Paysworth", "NRP": "Priya Carewell"}
    for role, before, after in zip(rows["recipient_role"], unmarked, marked):
        assert other[role] in " ".join(before.split())
        assert other[role] not in " ".join(after.split())
