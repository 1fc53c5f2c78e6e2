"""Text columns as Arrow arrays: the frames' strings are Arrow-backed (pandas' ``str``), and
some of pandas' own operations on them go value by value in Python.

Every layer may use these: the extract's checks and the journey's rules test membership of
thousands of case references per batch.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def arrow_text(values: pd.Series | pd.Index) -> pa.Array:
    """The text of a frame's column as one Arrow array (no copy for Arrow-backed text)."""
    text = pa.array(values.array)
    if not pa.types.is_large_string(text.type) and not pa.types.is_string(text.type):
        text = pa.array(values.array, pa.large_string(), from_pandas=True)
    return text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text


def aligned(values: pd.Series, result: pa.Array) -> pd.Series:
    """An Arrow result computed from ``values`` as a Series on their index: text stays
    Arrow-backed (pandas' ``str``), anything else becomes numpy."""
    text = pa.types.is_large_string(result.type) or pa.types.is_string(result.type)
    data = result.to_pandas().array if text else result.to_numpy(zero_copy_only=False)
    return pd.Series(data, index=values.index, name=values.name, copy=False)


def is_in(values: pd.Series, allowed: Iterable[str] | pd.Series | pd.Index) -> pd.Series:
    """``values.isin(allowed)`` for text, as one Arrow hash lookup: pandas' own builds an Arrow
    scalar per allowed value, a hundred times slower at a batch's thousands."""
    text = arrow_text(values)
    value_set = arrow_text(allowed) if isinstance(allowed, pd.Series | pd.Index) else pa.array(list(allowed))
    return aligned(values, pc.is_in(text, value_set=value_set.cast(text.type)))
