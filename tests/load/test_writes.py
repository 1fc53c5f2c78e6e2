"""Set-based writes on both backends: values stored as the table's types hold them, a key
written again is updated (but what it keeps), and writing the same rows twice equals once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest
from sqlalchemy import BigInteger, Boolean, Date, DateTime, MetaData, Text, select
from tables import table

from csa_closure.db import make_engine
from load.writes import delete_where_in, insert_new_frame, replace_frame, upsert_frame, upsert_rows

metadata = MetaData()
sample = table(
    "write_sample", metadata, ("case_ref",),
    case_ref=Text, status=Text, owed_pence=BigInteger, posted_on=Date, flagged=Boolean, first_seen=Date,
    stamped_at=DateTime(timezone=True),
)


@pytest.fixture
def target(target_url):
    engine = make_engine(target_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def frame(*rows) -> pd.DataFrame:
    """Rows of (case_ref, status, owed_pence, posted_on, flagged, first_seen) in the dtypes the
    engine's frames carry: Arrow text, nullable integers, datetimes, booleans."""
    refs, statuses, owed, posted, flagged, first = zip(*rows)
    return pd.DataFrame(
        {
            "case_ref": pd.Series(refs, dtype="str"),
            "status": pd.Series(statuses, dtype="str"),
            "owed_pence": pd.Series(owed, dtype="Int64"),
            "posted_on": pd.to_datetime(pd.Series(posted)),
            "flagged": pd.Series(flagged, dtype=bool),
            "first_seen": pd.to_datetime(pd.Series(first)),
        }
    )


def stored(target) -> list[tuple]:
    with target.connect() as conn:
        return [tuple(row) for row in conn.execute(select(sample).order_by(sample.c.case_ref))]


FIRST = frame(
    ("C930000001", "LIVE", 123_456_789_012, "2014-06-30", True, "2014-06-30"),
    ("C930000002", None, None, None, False, "2014-06-30"),
)


def test_a_frame_is_stored_with_dates_nulls_flags_and_big_integers_as_typed(target):
    with target.begin() as conn:
        upsert_frame(conn, sample, FIRST, key=["case_ref"])
    assert stored(target) == [
        ("C930000001", "LIVE", 123_456_789_012, date(2014, 6, 30), True, date(2014, 6, 30), None),
        ("C930000002", None, None, None, False, date(2014, 6, 30), None),
    ]


def test_a_key_written_again_is_updated_but_what_it_keeps_and_twice_equals_once(target):
    with target.begin() as conn:
        upsert_frame(conn, sample, FIRST, key=["case_ref"], keep_on_conflict=["first_seen"])
    later = frame(
        ("C930000002", "CLOSED", 5, "2014-07-07", True, "2014-07-07"),
        ("C930000003", "LIVE", -5, "2014-07-07", False, "2014-07-07"),
    )
    for _ in range(2):
        with target.begin() as conn:
            upsert_frame(conn, sample, later, key=["case_ref"], keep_on_conflict=["first_seen"])
    rows = stored(target)
    assert len(rows) == 3
    assert rows[1] == ("C930000002", "CLOSED", 5, date(2014, 7, 7), True, date(2014, 6, 30), None)
    assert rows[2][5] == date(2014, 7, 7)


def test_rows_of_plain_values_upsert_with_dates_and_datetimes(target):
    stamped = datetime(2014, 7, 7, 9, 30, tzinfo=UTC)
    rows = [{"case_ref": "C930000001", "status": "LIVE", "first_seen": date(2014, 7, 7), "stamped_at": stamped}]
    for _ in range(2):
        with target.begin() as conn:
            upsert_rows(conn, sample, rows, key=["case_ref"])
    [row] = stored(target)
    assert row[:2] == ("C930000001", "LIVE") and row[5] == date(2014, 7, 7)
    assert row[6].replace(tzinfo=UTC) == stamped  # SQLite gives it back without its zone


def test_replacing_writes_rows_whole_over_their_key_and_twice_equals_once(target):
    with target.begin() as conn:
        replace_frame(conn, sample, FIRST, key="case_ref")
    later = frame(
        ("C930000002", "CLOSED", 5, "2014-07-07", True, "2014-07-07"),
        ("C930000003", "LIVE", -5, None, False, "2014-07-07"),
    )
    for _ in range(2):
        with target.begin() as conn:
            replace_frame(conn, sample, later, key="case_ref")
            replace_frame(conn, sample, later.iloc[:0], key="case_ref")
    assert stored(target) == [
        ("C930000001", "LIVE", 123_456_789_012, date(2014, 6, 30), True, date(2014, 6, 30), None),
        ("C930000002", "CLOSED", 5, date(2014, 7, 7), True, date(2014, 7, 7), None),
        ("C930000003", "LIVE", -5, None, False, date(2014, 7, 7), None),
    ]


def test_inserting_new_rows_counts_only_the_new_and_never_touches_the_old(target):
    with target.begin() as conn:
        assert insert_new_frame(conn, sample, FIRST, key=["case_ref"]) == 2
    again = pd.concat([FIRST.assign(status="CHANGED"), frame(("C930000009", "LIVE", 1, None, False, None))])
    with target.begin() as conn:
        assert insert_new_frame(conn, sample, again, key=["case_ref"]) == 1
    assert [row[1] for row in stored(target)] == ["LIVE", None, "LIVE"]


def test_delete_where_in_deletes_exactly_the_named_keys(target):
    refs = [f"C93{n:07d}" for n in range(5_000)]
    with target.begin() as conn:
        upsert_rows(conn, sample, [{"case_ref": ref, "status": "LIVE"} for ref in refs], key=["case_ref"])
    with target.begin() as conn:
        delete_where_in(conn, sample, "case_ref", refs[::2] + ["C939999999"])
        delete_where_in(conn, sample, "case_ref", [])
    with target.connect() as conn:
        assert sorted(conn.execute(select(sample.c.case_ref)).scalars()) == refs[1::2]


AWKWARD_TEXTS = ["", "a,b", 'say "no"', "two\nlines", "back\\slash", " padded ", "\\N", "\\N\\N"]


def test_awkward_text_empty_text_and_null_are_stored_exactly_and_instants_keep_their_time(target):
    """Past 1,000 rows a write is COPY on PostgreSQL, whose CSV must tell '' from NULL, and
    whose NULL marker no text may equal."""
    stamped = datetime(2014, 7, 7, 9, 30, tzinfo=UTC)
    texts = AWKWARD_TEXTS + [None]
    rows = [
        {
            "case_ref": f"C93{n:07d}",
            "status": texts[n % len(texts)],
            "first_seen": date(2014, 7, 7),
            "stamped_at": stamped,
        }
        for n in range(1_200)
    ]
    with target.begin() as conn:
        upsert_rows(conn, sample, rows, key=["case_ref"])
    with target.connect() as conn:
        stored_rows = conn.execute(
            select(sample.c.status, sample.c.first_seen, sample.c.stamped_at).order_by(sample.c.case_ref)
        ).all()
    assert [row.status for row in stored_rows] == [row["status"] for row in rows]
    assert {row.first_seen for row in stored_rows} == {date(2014, 7, 7)}
    assert {row.stamped_at.replace(tzinfo=UTC) for row in stored_rows} == {stamped}


def test_a_frame_put_together_from_pieces_is_copied_as_it_reads(target):
    """Columns chunked unlike each other around empty chunks (``concat`` of pieces, as the
    journey's letters are) once came out of the COPY's CSV as NUL bytes."""
    pieces = [FIRST.iloc[:0], FIRST.iloc[:1], FIRST.iloc[:0], FIRST.iloc[1:]]
    joined = pd.concat(pieces, ignore_index=True)
    joined["status"] = pd.concat([FIRST["status"].iloc[:0]] * 2 + [FIRST["status"]], ignore_index=True)
    with target.begin() as conn:
        upsert_frame(conn, sample, joined, key=["case_ref"])
    assert [row[:3] for row in stored(target)] == [("C930000001", "LIVE", 123_456_789_012), ("C930000002", None, None)]
