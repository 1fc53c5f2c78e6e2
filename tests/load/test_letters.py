"""The ``letter`` and ``print_batch`` tables: a letter is created once however often a run
repeats, claimed into one print batch, and marked dispatched once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest
from sqlalchemy import func, select

from csa_closure.db import make_engine
from load.letters import claim_pending, claimed_batches, claimed_letters, insert_letters, mark_dispatched
from load.migrate import upgrade_target
from load.schema import letter


@pytest.fixture
def target(target_url):
    engine = make_engine(target_url)
    upgrade_target(engine)
    yield engine
    engine.dispose()


def letters(*rows) -> pd.DataFrame:
    """Letters (case, template, role, status, created_on) of the SELECTION event."""
    return pd.DataFrame(
        {
            "case_ref": [r[0] for r in rows],
            "journey_event": "SELECTION",
            "template": [r[1] for r in rows],
            "recipient_role": [r[2] for r in rows],
            "status": [r[3] for r in rows],
            "created_on": pd.to_datetime([r[4] for r in rows]),
            "body": [f'{{"name": "parent of {r[0]} ({r[2]})", "scheme": "1993"}}' for r in rows],
            "template_version": 1,
        }
    )


FIRST = letters(
    ("C930000002", "INITIAL_NOTICE", "PWC", "PENDING", "2014-08-31"),
    ("C930000002", "INITIAL_NOTICE", "NRP", "UNDELIVERABLE", "2014-08-31"),
    ("C930000001", "INITIAL_NOTICE", "PWC", "PENDING", "2014-08-31"),
)


def stored(target) -> list[tuple]:
    with target.connect() as conn:
        return conn.execute(
            select(letter.c.csa_case_ref, letter.c.template, letter.c.recipient_role,
                   letter.c.status, letter.c.created_on, letter.c.body)
            .order_by(letter.c.letter_id)
        ).all()


def test_inserting_again_creates_nothing_and_keeps_the_first_letter(target):
    with target.begin() as conn:
        assert insert_letters(conn, FIRST) == 3
    first = stored(target)
    again = pd.concat(
        [FIRST.assign(body="changed", status="PENDING"),
         letters(("C930000003", "INITIAL_NOTICE", "NRP", "PENDING", "2014-09-07"))],
        ignore_index=True,
    )
    with target.begin() as conn:
        assert insert_letters(conn, again) == 1
        assert insert_letters(conn, again) == 0
    rows = stored(target)
    assert rows[:3] == first
    assert len(rows) == 4
    assert rows[0][4] == date(2014, 8, 31)
    assert rows[0][5] == FIRST.at[0, "body"]


def test_a_frame_repeating_a_key_creates_one_letter(target):
    twice = pd.concat([FIRST.iloc[:1], FIRST.iloc[:1]], ignore_index=True)
    with target.begin() as conn:
        assert insert_letters(conn, twice) == 1
        assert conn.execute(select(func.count()).select_from(letter)).scalar_one() == 1


def test_pending_letters_are_claimed_once_come_in_print_order_and_are_marked_once(target):
    with target.begin() as conn:
        insert_letters(conn, FIRST)
    now = datetime(2015, 1, 1, tzinfo=UTC)
    with target.begin() as conn:
        assert claim_pending(conn, "PB1", now) == 2
        assert claim_pending(conn, "PB2", now) == 0  # nothing left to claim: no batch recorded
    with target.connect() as conn:
        assert [b["print_batch"] for b in claimed_batches(conn)] == ["PB1"]
        claimed = pd.concat(list(claimed_letters(conn, "PB1", chunk_size=1)), ignore_index=True)
    assert list(claimed["csa_case_ref"]) == ["C930000001", "C930000002"]
    rendered = pd.DataFrame({"letter_id": claimed["letter_id"], "rendered_sha256": ["a" * 64, "b" * 64]})
    with target.begin() as conn:
        assert mark_dispatched(conn, "PB1", rendered, [], "f" * 64, now) == 2
        assert mark_dispatched(conn, "PB1", rendered, [], "f" * 64, now) == 0
        assert claimed_batches(conn) == []
    with target.connect() as conn:
        batches = conn.execute(
            select(letter.c.status, letter.c.print_batch, letter.c.rendered_sha256)
            .order_by(letter.c.status, letter.c.csa_case_ref)
        ).all()
    assert [tuple(b) for b in batches] == [
        ("DISPATCHED", "PB1", "a" * 64), ("DISPATCHED", "PB1", "b" * 64), ("UNDELIVERABLE", None, None)
    ]
