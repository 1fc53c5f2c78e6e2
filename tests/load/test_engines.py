"""Engines never put bound values into their errors: they would carry personal data to logs."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from csa_closure.db import make_engine
from load.migrate import upgrade_target
from load.schema import quarantine

NAME = "Mrs Personal-Data, 1 Secret Street"


def test_a_failed_write_names_no_bound_value(target_url):
    engine = make_engine(target_url)
    upgrade_target(engine)
    row = dict(source_table="cscs_person", source_key="P000000001", reasons="[]", raw=NAME,
               extract_run="E1", first_seen=date(2014, 6, 30), last_seen=date(2014, 6, 30))
    with engine.begin() as conn:
        conn.execute(insert(quarantine), [row])
    with pytest.raises(IntegrityError) as failed, engine.begin() as conn:
        conn.execute(insert(quarantine), [row])  # the same record again: a unique key broken
    engine.dispose()
    assert "hidden due to hide_parameters" in str(failed.value)
    assert NAME not in str(failed.value)
