"""Named pandera checks (each name is a quarantine reason's ``check``, docs/design.md) and the
operations on text they and the batch's own checks are made of.

Frames hold Arrow-backed text, and these operations run on its Arrow arrays in one pass each
(regular expressions, hash lookups, casts); pandas' own versions of several of them go through
Python objects, at ten times the cost on a batch's hundreds of thousands of ledger lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandera import Check
from pandera.engines import pandas_engine

from csa_closure.text import aligned, arrow_text, is_in

ISO_DATE = "%Y-%m-%d"
CS2_DATE = "%d/%m/%Y"
POUNDS_PATTERN = r"^\d{1,9}\.\d{2}$"
PENCE_PATTERN = r"^-?\d{1,11}$"
"""CSCS pence, less than £1,000,000,000 either way as CS2's pounds are (nine digits before the
point): the sums of a case's or the estate's amounts cannot overflow int64 (92 million lines
at the bound would be needed)."""
MAX_ID_DIGITS = 18


def parse_dates(values: pd.Series, date_format: str) -> pd.Series:
    """Dates from text in one exact format (``ISO_DATE`` or ``CS2_DATE``); anything else (a day
    that does not exist, a missing zero, a stray blank, a year pandas cannot hold) becomes NaT."""
    return aligned(values, _parse_days(arrow_text(values), date_format))


def _parse_days(text: pa.Array, date_format: str) -> pa.Array:
    """The dates of ``text``. Each distinct text is parsed once, by Arrow: a batch's
    hundreds of thousands of ledger dates hold a few thousand distinct days."""
    encoded = pc.dictionary_encode(text)
    days = encoded.dictionary
    parsed = pc.strptime(days, format=date_format, unit="s", error_is_null=True)
    exact = pc.and_kleene(
        _written_as(days, parsed, date_format),
        pc.and_kleene(pc.greater_equal(parsed, _FIRST_DAY), pc.less_equal(parsed, _LAST_DAY)),
    )
    parsed = pc.if_else(exact, parsed, pa.scalar(None, parsed.type)).cast(pa.timestamp("ns"))
    return parsed.take(encoded.indices)


def rows_where(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """``frame[keep]`` for a frame of Arrow-backed text, filtered by Arrow a column at a time
    (pandas takes such columns by a list of positions, at a higher cost)."""
    mask = pa.array(keep)
    columns = {name: pc.filter(arrow_text(frame[name]), mask).to_pandas().array for name in frame.columns}
    return pd.DataFrame(columns, index=frame.index[keep], copy=False)


_FIRST_DAY = pa.scalar(pd.Timestamp.min.ceil("D").to_pydatetime(), pa.timestamp("s"))
_LAST_DAY = pa.scalar(pd.Timestamp.max.floor("D").to_pydatetime(), pa.timestamp("s"))

_LAYOUTS = {
    ISO_DATE: (r"^\d{4}-\d{2}-\d{2}$", "0001-01-01", {pc.year: (0, 4), pc.month: (5, 7), pc.day: (8, 10)}),
    CS2_DATE: (r"^\d{2}/\d{2}/\d{4}$", "01/01/0001", {pc.year: (6, 10), pc.month: (3, 5), pc.day: (0, 2)}),
}
"""Per format: its layout, a text of that layout, and where its year, month and day are written."""


def _written_as(days: pa.Array, parsed: pa.Array, date_format: str) -> pa.Array:
    """Whether each text is its parsed day written in ``date_format``: the layout's digits, and
    the year, month and day that strptime kept (it takes '1/6/2014', and rolls 30 February over
    into March). The same as printing the day back, at a fraction of Arrow's ``strftime``."""
    pattern, placeholder, fields = _LAYOUTS[date_format]
    laid_out = pc.match_substring_regex(days, pattern)
    digits = pc.if_else(laid_out, days, pa.scalar(placeholder, days.type))
    written = laid_out
    for field, (start, stop) in fields.items():
        number = pc.cast(pc.utf8_slice_codeunits(digits, start, stop), pa.int64())
        written = pc.and_kleene(written, pc.equal(field(parsed), number))
    return written


def _numpy(values: pa.Array):
    return values.to_numpy(zero_copy_only=False)


class Text(pandas_engine.STRING):
    """pandas' text, whose dtype check answers once for the column: pandera's own answers
    once per value, and then builds a failure report of none, for every column of a batch."""

    def check(self, pandera_dtype, data_container=None) -> bool:
        return bool(super().check(pandera_dtype))  # one answer: no data container is passed on


TEXT = Text()  # type: ignore[call-arg]  # mypy reads pandera's dataclass fields, not its __init__
"""The one text dtype of every contract's columns (pandera's dtypes are frozen)."""


def normalise_key(values: pd.Series) -> pd.Series:
    """The business key as the legacy systems mean it, as SQL's ``upper(trim(key))`` has it for
    the whole-table duplicate query: blanks trimmed, ASCII letters in upper case."""
    return aligned(values, pc.ascii_upper(pc.utf8_trim(arrow_text(values), " ")))


def repeated(*keys: pd.Series) -> np.ndarray:
    """Rows whose key (the ``keys`` columns together) occurs more than once, as pandas'
    ``duplicated(keep=False)`` has it (NA counts as a value).

    Each column becomes integer codes (equal codes, equal text) and the codes are combined, so
    the near-unique keys of a batch's hundreds of thousands of lines are hashed as integers.
    """
    combined = np.zeros(len(keys[0]), dtype=np.int64)
    for key in keys:
        codes = _codes(arrow_text(key))
        combined, _ = pd.factorize(combined * (codes.max(initial=0) + 1) + codes)
    return np.bincount(combined)[combined] > 1 if len(combined) else np.zeros(0, dtype=bool)


def _codes(text: pa.Array) -> np.ndarray:
    """Integer codes of text values, NA included: canonical numbers (no sign, no leading zero)
    are their own value, anything else is dictionary-encoded."""
    if pc.all(_canonical_numbers(text)).as_py() is not False:
        numbers = _numpy(pc.cast(text, pa.int64()).fill_null(-1))
        return pd.factorize(numbers)[0].astype(np.int64)
    return _numpy(pc.dictionary_encode(text, null_encoding="encode").indices).astype(np.int64)


def _canonical_numbers(text: pa.Array) -> pa.Array:
    """Whether each text is a number written as its own value: digits, no leading zero."""
    no_leading_zero = pc.or_kleene(pc.invert(pc.starts_with(text, "0")), pc.equal(pc.binary_length(text), 1))
    return pc.and_kleene(_digits(text, MAX_ID_DIGITS), no_leading_zero)


def recode(values: pd.Series, codes: dict[str, str] | pd.Series) -> pd.Series:
    """``values.map(codes)`` for text (a dict, or a Series from its index to its values): one
    Arrow hash lookup, where pandas' ``map`` builds an index of the codes for every call."""
    if isinstance(codes, pd.Series):
        keys, coded = arrow_text(codes.index.to_series()), arrow_text(codes)
    else:
        keys, coded = pa.array(list(codes)), pa.array(list(codes.values()), pa.large_string())
    text = arrow_text(values)
    return aligned(values, coded.take(pc.index_in(text, value_set=keys.cast(text.type))))


def _column_check(name: str, passes: Callable[[pd.Series], pd.Series]) -> Check:
    """A check of one text column; a missing value passes (``not_null`` is the column's own
    check). Missing values pass here rather than by pandera's ``ignore_na``, which hands the
    check a copy of the column without them, a copy per check."""
    return Check(lambda values: passes(values) | values.isna(), name=name, ignore_na=False)


def code(allowed: Iterable[str]) -> Check:
    allowed = sorted(allowed)
    return _column_check("code", lambda s: is_in(s, allowed))


def _digits(text: pa.Array, most: int) -> pa.Array:
    """Whether each text is 1 to ``most`` ASCII digits: the regex ``^\\d{1,most}$`` at a
    fifth of its cost."""
    return pc.and_kleene(pc.ascii_is_decimal(text), pc.less_equal(pc.binary_length(text), most))


def identifier() -> Check:
    """An integer key read as text: 1 to 18 digits."""
    return _column_check("format", lambda s: aligned(s, _digits(arrow_text(s), MAX_ID_DIGITS).fill_null(False)))


def text_matches(values: pd.Series, pattern: str) -> pd.Series:
    """Whether each text matches ``pattern`` (anchored, RE2 syntax, ASCII ``\\d``); NA is False."""
    return aligned(values, pc.match_substring_regex(arrow_text(values), pattern).fill_null(False))


def has_control_characters(values: pd.Series) -> pd.Series:
    """Whether each text holds a control character, Unicode's category Cc: the C0 controls
    (tab, line feed, form feed, NUL..), DEL and the C1 controls (NA is False). In a name or an
    address one could break the lines and pages of a print file.

    Every column of a batch is checked, so this reads the column's UTF-8 bytes in one pass
    rather than each text on its own, as a regular expression would: a control character is a
    byte below 0x20 or 0x7F, or, for the C1 controls, 0xC2 then 0x80 to 0x9F; the texts holding
    one are found by their offsets."""
    text = arrow_text(values)
    offsets_type = np.int64 if pa.types.is_large_string(text.type) else np.int32
    _, offsets_buffer, data_buffer = text.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=offsets_type)[text.offset : text.offset + len(text) + 1]
    found = np.zeros(len(text), dtype=bool)
    if data_buffer is not None and len(text):
        data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]
        control = (data < 0x20) | (data == 0x7F)
        control[:-1] |= (data[:-1] == 0xC2) & (data[1:] >= 0x80) & (data[1:] <= 0x9F)
        at = np.flatnonzero(control) + offsets[0]
        found[np.searchsorted(offsets, at, side="right") - 1] = True
    if text.null_count:
        found &= _numpy(text.is_valid())
    return pd.Series(found, index=values.index, name=values.name, copy=False)


def matches(pattern: str, name: str) -> Check:
    return _column_check(name, lambda s: text_matches(s, pattern))


def pence() -> Check:
    """Whole pence as integer text (the CSCS typed columns, read as text)."""
    return matches(PENCE_PATTERN, "amount")


def pounds() -> Check:
    """Unsigned pounds with exactly two decimals (the CS2 amounts)."""
    return matches(POUNDS_PATTERN, "amount")


def ref(pattern: str) -> Check:
    """A reference whose whole text matches ``pattern``."""
    return matches(f"^(?:{pattern})$", "format")


def row_check(name: str, passes) -> Check:
    """A check over whole rows; ``passes`` takes the frame and returns a boolean Series."""
    return Check(passes, name=name)


def _parse_integers(values: pd.Series, pattern: str, strip: str | None = None) -> pd.Series:
    """Integers from text matching ``pattern``; anything else becomes NA. Never via float."""
    text = arrow_text(values)
    matching = pc.if_else(pc.match_substring_regex(text, pattern), text, pa.scalar(None, text.type))
    integers = _integers(matching, strip)
    return pd.Series(
        pd.arrays.IntegerArray(_numpy(integers.fill_null(0)), _numpy(integers.is_null())),
        index=values.index,
        name=values.name,
    )


def _integers(text: pa.Array, strip: str | None) -> pa.Array:
    if strip is not None:
        text = pc.replace_substring(text, strip, "")
    return pc.cast(text, pa.int64())


def to_int64(values: pd.Series, strip: str | None = None) -> pd.Series:
    """Integer text that validation has passed as ``int64`` (``strip`` taken out first: the
    point of CS2 pounds). Mapping sees only clean rows, so text that is not a whole number, or
    none, is a fault here and raises."""
    integers = _integers(arrow_text(values), strip)
    if integers.null_count:
        raise ValueError(f"{values.name}: {integers.null_count} missing values in validated rows")
    return aligned(values, integers)


def parse_pence(values: pd.Series) -> pd.Series:
    """CSCS whole pence (text) as nullable integers."""
    return _parse_integers(values, PENCE_PATTERN)


def parse_pounds(values: pd.Series) -> pd.Series:
    """CS2 pounds with two decimals (text) as nullable integer pence: '23.50' -> 2350."""
    return _parse_integers(values, POUNDS_PATTERN, strip=".")


def pounds_as_pence(values: pd.Series) -> pd.Series:
    """CS2 pounds with two decimals that validation has passed, as ``int64`` pence: '23.50' -> 2350."""
    return to_int64(values, strip=".")
