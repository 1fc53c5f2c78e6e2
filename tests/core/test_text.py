import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from csa_closure.text import is_in

REFS = st.one_of(st.none(), st.sampled_from(["C001", "C002", "CS2-7", "", "c001"]))


@given(st.lists(REFS), st.lists(REFS))
def test_is_in_agrees_with_pandas_for_every_kind_of_allowed_values(values, allowed):
    series = pd.Series(values, index=np.arange(len(values)) * 2, dtype="str")
    expected = series.isin(allowed).tolist()  # pandas' own, the slow way
    texts = [v for v in allowed if v is not None]
    for given_as in (pd.Series(allowed, dtype="str"), pd.Index(allowed, dtype="str"), allowed):
        found = is_in(series, given_as)
        assert found.index.equals(series.index)
        assert found.tolist() == expected
    assert is_in(series, set(texts)).tolist() == series.isin(texts).tolist()


def test_is_in_reads_text_held_as_python_objects():
    refs = pd.Series(np.array(["C001", None, "C003"], dtype=object))
    assert is_in(refs, pd.Series(["C003", "C001"], dtype="str")).tolist() == [True, False, True]
