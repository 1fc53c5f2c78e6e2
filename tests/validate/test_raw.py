"""The raw contracts' own pieces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from validate.raw import Text


def test_text_columns_are_checked_once_per_column_and_refuse_anything_but_text():
    schema = pa.DataFrameSchema({"code": pa.Column(Text(), nullable=True)})
    text = pd.DataFrame({"code": pd.array(["A", None], dtype="str")})
    assert schema.validate(text).equals(text)
    assert Text().check(pa.engines.pandas_engine.Engine.dtype(text["code"].dtype), text["code"]) is True
    for other in (pd.DataFrame({"code": [1, 2]}), pd.DataFrame({"code": np.array([1.5, 2.5])})):
        with pytest.raises(pa.errors.SchemaErrors, match="dtype"):
            schema.validate(other, lazy=True)
