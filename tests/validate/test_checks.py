"""The Arrow-backed checks against pandas' own answers and the contract's edge cases."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csa_closure.text import is_in
from validate.checks import (
    CS2_DATE,
    ISO_DATE,
    PENCE_PATTERN,
    Text,
    code,
    has_control_characters,
    identifier,
    normalise_key,
    parse_dates,
    parse_pence,
    parse_pounds,
    recode,
    repeated,
    rows_where,
    text_matches,
    to_int64,
)


def text(values, index=None) -> pd.Series:
    return pd.Series(values, index=index, dtype="str")


keys = st.lists(st.one_of(st.none(), st.sampled_from(["1", "2", "01", "10", "a", "A", " 1", "C930000001"])))


@given(keys, keys)
def test_repeated_is_duplicated_keep_false_with_na_as_a_value(first, second):
    size = min(len(first), len(second))
    a, b = text(first[:size]), text(second[:size])
    expected = pd.DataFrame({"a": a.astype(object), "b": b.astype(object)}).duplicated(keep=False)
    assert repeated(a, b).tolist() == expected.tolist()
    assert repeated(a).tolist() == a.astype(object).duplicated(keep=False).tolist()


def test_repeated_tells_numbers_from_their_zero_padded_text():
    assert repeated(text(["7", "007", "7"])).tolist() == [True, False, True]
    assert repeated(text([])).tolist() == []


@given(st.lists(st.one_of(st.none(), st.sampled_from(["A", "R", "X", "Q", ""]))))
def test_is_in_and_recode_agree_with_pandas(values):
    series = text(values, index=np.arange(len(values)) * 3)
    codes = {"A": "LIVE", "R": "ARREARS_ONLY", "X": "CLOSED"}
    assert is_in(series, codes).tolist() == series.astype(object).isin(list(codes)).tolist()
    recoded = recode(series, codes)
    assert recoded.index.equals(series.index)
    assert recoded.astype(object).where(recoded.notna(), None).tolist() == [codes.get(v) for v in values]


def test_recode_from_a_series_and_is_in_another_series():
    numbers = pd.Series(["S030000002", "S030000001"], index=pd.Index(["2", "1"], dtype="str"), dtype="str")
    assert recode(text(["1", "2", "3"]), numbers).tolist()[:2] == ["S030000001", "S030000002"]
    assert is_in(text(["1", None, "9"]), text(["1", "9"])).tolist() == [True, False, True]


def test_dates_parse_in_one_exact_format_and_anything_else_is_nat():
    iso = parse_dates(
        text(["2014-06-30", "2014-02-30", "30/06/2014", None, "2014-06-30"], index=[5, 6, 7, 8, 9]), ISO_DATE
    )
    assert iso.index.tolist() == [5, 6, 7, 8, 9]
    assert iso.dtype == "datetime64[ns]"
    assert iso.tolist()[0] == pd.Timestamp("2014-06-30") and iso.tolist()[4] == pd.Timestamp("2014-06-30")
    assert iso.iloc[1:4].isna().all()
    dmy = parse_dates(text(["31/02/2009", "01/06/2014", "2014-06-01", "unknown"]), CS2_DATE)
    assert dmy.isna().tolist() == [True, False, True, True]
    inexact = ["1/6/2014", " 01/06/2014", "01/06/2014 ", "01/06/14", "01/06/0014", "01/06/+2014", "01/06/3000"]
    assert parse_dates(text(inexact), CS2_DATE).isna().all()
    assert parse_dates(text(["1678-01-01", "2262-04-01"]), ISO_DATE).notna().all()  # pandas' limits hold
    assert parse_dates(text([]), ISO_DATE).dtype == "datetime64[ns]"


def test_rows_where_keeps_the_rows_of_a_text_frame_as_pandas_does():
    index = [10, 11, 12, 13]
    frame = pd.DataFrame(
        {
            "day": text(["2014-06-30", None, "2015-01-31", "x"], index=index),
            "other": text(["a", "b", None, "d"], index=index),
        }
    )
    keep = np.array([True, False, True, True])
    assert rows_where(frame, keep).equals(frame[keep])
    assert rows_where(frame.iloc[0:0], keep[0:0]).equals(frame.iloc[0:0])


def test_a_missing_value_passes_a_column_check_and_is_left_to_not_null():
    values = text([None, "A", "Q", None])
    assert code(["A"])(values).check_output.tolist() == [True, True, False, True]
    assert identifier()(text([None, "12", "x"])).check_output.tolist() == [True, True, False]


def _printed_back(texts: list[str], date_format: str) -> list:
    """The definition: a text is a date when it parses and prints back as itself, on a day
    pandas can hold."""
    days = []
    for value in texts:
        try:
            day = datetime.strptime(value, date_format).date()
        except ValueError:
            day = None
        exact = day is not None and day.strftime(date_format) == value
        days.append(pd.Timestamp(day) if exact and date(1677, 9, 22) <= day <= date(2262, 4, 11) else None)
    return days


def _laid_out(numbers, date_format: str) -> str:
    year, month, day = numbers
    return f"{year:04d}-{month:02d}-{day:02d}" if date_format == ISO_DATE else f"{day:02d}/{month:02d}/{year:04d}"


day_numbers = st.tuples(
    st.one_of(st.integers(1670, 2270), st.integers(1, 9999)),
    st.integers(0, 13),
    st.one_of(st.sampled_from([0, 28, 29, 30, 31, 32]), st.integers(1, 28)),  # month ends, rolled over
)
date_texts = st.one_of(
    st.text(alphabet="0123456789-/ +", min_size=6, max_size=11),
    day_numbers.map(lambda numbers: _laid_out(numbers, ISO_DATE)),
    day_numbers.map(lambda numbers: _laid_out(numbers, CS2_DATE)),
)


@given(st.lists(date_texts, max_size=30), st.sampled_from([ISO_DATE, CS2_DATE]))
def test_a_date_is_a_text_that_prints_back_as_itself(texts, date_format):
    parsed = parse_dates(text(texts), date_format)
    assert [None if pd.isna(day) else day for day in parsed.tolist()] == _printed_back(texts, date_format)


def test_amounts_parse_to_whole_pence_never_through_floats():
    assert parse_pounds(text(["23.50", "0.05", "1,000.00", "3.0O", "2.5", None, "999999999.99"])).tolist() == [
        2350,
        5,
        pd.NA,
        pd.NA,
        pd.NA,
        pd.NA,
        99_999_999_999,
    ]
    assert parse_pence(text(["-500", "12", "1.5", "٣", "1\n"])).tolist() == [-500, 12, pd.NA, pd.NA, pd.NA]
    assert text_matches(text(["-500", "x", None]), PENCE_PATTERN).tolist() == [True, False, False]


def test_an_amount_is_less_than_a_billion_pounds_either_way_so_sums_of_them_stay_in_int64():
    assert parse_pence(text(["99999999999", "-99999999999", "100000000000", "-100000000000"])).tolist() == [
        99_999_999_999,
        -99_999_999_999,
        pd.NA,
        pd.NA,
    ]
    assert parse_pounds(text(["999999999.99", "1000000000.00"])).tolist() == [99_999_999_999, pd.NA]


CONTROL = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]]


@given(
    st.lists(st.one_of(st.none(), st.text(), st.text(alphabet=st.sampled_from(CONTROL + ["a", "é", " "]))), max_size=20)
)
def test_a_control_character_is_any_of_unicode_category_cc(values):
    found = has_control_characters(text(values))
    assert found.tolist() == [v is not None and any(unicodedata.category(c) == "Cc" for c in v) for v in values]


def test_control_characters_are_found_in_a_slice_of_an_arrow_array_with_missing_values():
    array = pa_arrow.array(["a\tb", None, "ok", "", "x\u0085", None, "é\x7f"], pa_arrow.large_string()).slice(1)
    values = pd.Series(pd.arrays.ArrowStringArray(array), index=[10, 11, 12, 13, 14, 15])
    assert has_control_characters(values).to_dict() == {10: False, 11: False, 12: False, 13: True, 14: False, 15: True}


def test_every_c0_and_c1_control_and_del_is_found_and_nothing_else_of_the_basic_planes():
    assert all(unicodedata.category(c) == "Cc" for c in CONTROL)
    assert has_control_characters(text([f"a{c}b" for c in CONTROL])).all()
    others = [chr(c) for c in range(0x20, 0x3000) if chr(c) not in CONTROL and unicodedata.category(chr(c)) != "Cs"]
    assert not has_control_characters(text(others)).any()


def test_an_identifier_is_one_to_eighteen_ascii_digits():
    ids = text(["0", "007", "123456789012345678", "1234567890123456789", "", "12a", "-1", " 1", "٣", "1\n"])
    assert identifier()(ids).check_output.tolist() == [True, True, True] + [False] * 7


def test_validated_integers_map_exactly_and_a_bad_one_is_a_fault():
    assert to_int64(text(["23.50", "0.07"]), strip=".").tolist() == [2350, 7]
    assert to_int64(text(["9007199254740993"])).tolist() == [9_007_199_254_740_993]  # beyond a double
    with pytest.raises(ValueError, match="missing"):
        to_int64(text(["1", None]))


def test_keys_are_normalised_as_the_whole_table_query_does():
    assert normalise_key(text([" p000000006 ", "P000000006", None], index=[3, 4, 5])).tolist() == [
        "P000000006",
        "P000000006",
        np.nan,
    ]


def test_text_columns_are_checked_once_per_column_and_refuse_anything_but_text():
    schema = pa.DataFrameSchema({"code": pa.Column(Text(), nullable=True)})
    text = pd.DataFrame({"code": pd.array(["A", None], dtype="str")})
    assert schema.validate(text).equals(text)
    assert Text().check(pa.engines.pandas_engine.Engine.dtype(text["code"].dtype), text["code"]) is True
    for other in (pd.DataFrame({"code": [1, 2]}), pd.DataFrame({"code": np.array([1.5, 2.5])})):
        with pytest.raises(pa.errors.SchemaErrors, match="dtype"):
            schema.validate(other, lazy=True)
