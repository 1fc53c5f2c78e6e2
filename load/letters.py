"""The ``letter`` table: letters created exactly once, read back for print, marked dispatched.

A letter's business key is (case, journey event, template, recipient): inserting it again,
however often a run repeats, does nothing. Dispatch reads the pending letters in print order
and marks exactly those, guarded on their still being pending.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pandas as pd
from sqlalchemy import Connection, select, update

from load.schema import letter
from load.writes import insert_new_frame
from transform.codes import LetterStatus

LETTER_KEY = ("csa_case_ref", "journey_event", "template", "recipient_role")
INSERT_COLUMNS = [*LETTER_KEY, "status", "created_on", "body"]
PRINT_COLUMNS = ["letter_id", "csa_case_ref", "template", "recipient_role", "created_on", "body"]
CHUNK_SIZE = 5_000


def insert_letters(conn: Connection, letters: pd.DataFrame) -> int:
    """Create the letters not created before; returns how many were new.

    ``letters``: ``case_ref``, ``journey_event``, ``template``, ``recipient_role``,
    ``status``, ``created_on``, ``body``.
    """
    rows = letters.rename(columns={"case_ref": "csa_case_ref"})[INSERT_COLUMNS]
    return insert_new_frame(conn, letter, rows, LETTER_KEY)


def pending_letters(conn: Connection, chunk_size: int = CHUNK_SIZE) -> Iterator[pd.DataFrame]:
    """Every PENDING letter in print order (created_on, case, letter_id), chunk by chunk.

    Locked for update on PostgreSQL, so a concurrent dispatch waits and then finds them gone;
    on SQLite the guard of ``mark_dispatched`` does the same job.
    """
    statement = (
        select(*(letter.c[column] for column in PRINT_COLUMNS))
        .where(letter.c.status == LetterStatus.PENDING.value)
        .order_by(letter.c.created_on, letter.c.csa_case_ref, letter.c.letter_id)
        .with_for_update()
        .execution_options(yield_per=chunk_size)
    )
    result = conn.execute(statement)
    for rows in result.partitions():
        yield pd.DataFrame.from_records(rows, columns=PRINT_COLUMNS)


def mark_dispatched(conn: Connection, letter_ids: Sequence[int], print_batch: str) -> int:
    """Mark ``letter_ids`` DISPATCHED in ``print_batch``, only those still PENDING; returns
    how many were marked, so the caller can refuse a batch another dispatch took first."""
    marked = 0
    for start in range(0, len(letter_ids), CHUNK_SIZE):
        chunk = list(letter_ids[start : start + CHUNK_SIZE])
        marked += conn.execute(
            update(letter)
            .where(letter.c.letter_id.in_(chunk), letter.c.status == LetterStatus.PENDING.value)
            .values(status=LetterStatus.DISPATCHED.value, print_batch=print_batch)
        ).rowcount
    return marked
