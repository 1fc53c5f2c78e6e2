"""The ``letter`` and ``print_batch`` tables: letters created exactly once, claimed into a
print batch before its file is written, marked dispatched once it is.

A letter's business key is (case, journey event, template, recipient): inserting it again,
however often a run repeats, does nothing. A print batch is claimed in one transaction (its row
``CLAIMED``, its letters named by ``letter.print_batch``), so a dispatch interrupted at any point
leaves either nothing claimed or a batch that the next dispatch finishes under the same id.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, delete, func, insert, select, true, update

from load.schema import legacy_case, letter, print_batch
from load.writes import insert_new_frame, update_from_frame
from transform.codes import LetterStatus, PrintBatchState

LETTER_KEY = ("csa_case_ref", "journey_event", "template", "recipient_role")
INSERT_COLUMNS = [*LETTER_KEY, "status", "created_on", "body", "template_version"]
PRINT_COLUMNS = [
    "letter_id", "csa_case_ref", "template", "template_version", "recipient_role", "created_on", "body",
]
CHUNK_SIZE = 5_000


def insert_letters(conn: Connection, letters: pd.DataFrame) -> int:
    """Create the letters not created before; returns how many were new.

    ``letters``: ``case_ref``, ``journey_event``, ``template``, ``recipient_role``,
    ``status``, ``created_on``, ``body`` (its values, JSON), ``template_version``.
    """
    rows = letters.rename(columns={"case_ref": "csa_case_ref"})[INSERT_COLUMNS]
    return insert_new_frame(conn, letter, rows, LETTER_KEY)


def claim_pending(conn: Connection, batch_id: str, claimed_at: datetime) -> int:
    """Claim every pending letter not in a batch yet for a new print batch; returns how many
    (none: no batch is recorded)."""
    conn.execute(
        insert(print_batch).values(
            print_batch=batch_id, state=PrintBatchState.CLAIMED, claimed_at=claimed_at, letters=0
        )
    )
    claimed = conn.execute(
        update(letter)
        .where(letter.c.status == LetterStatus.PENDING.value, letter.c.print_batch.is_(None))
        .values(print_batch=batch_id)
    ).rowcount
    if claimed:
        conn.execute(update(print_batch).where(print_batch.c.print_batch == batch_id).values(letters=claimed))
    else:
        conn.execute(delete(print_batch).where(print_batch.c.print_batch == batch_id))
    return claimed


def claimed_batches(conn: Connection) -> list[dict]:
    """Print batches claimed but not yet dispatched (an interrupted dispatch's), oldest first."""
    rows = conn.execute(
        select(print_batch).where(print_batch.c.state == PrintBatchState.CLAIMED).order_by(print_batch.c.claimed_at)
    ).mappings()
    return [dict(row) for row in rows]


def claimed_letters(conn: Connection, batch_id: str, chunk_size: int = CHUNK_SIZE) -> Iterator[pd.DataFrame]:
    """A claimed batch's letters in print order (created_on, case, letter_id), chunk by chunk,
    each with its case's domestic-abuse marker as the latest extract has it (``dv_marker``; a
    case the snapshot does not hold counts as marked)."""
    marked = func.coalesce(legacy_case.c.dv_marker, true()).label("dv_marker")
    statement = (
        select(*(letter.c[column] for column in PRINT_COLUMNS), marked)
        .select_from(letter.outerjoin(legacy_case, legacy_case.c.case_ref == letter.c.csa_case_ref))
        .where(letter.c.print_batch == batch_id, letter.c.status == LetterStatus.PENDING.value)
        .order_by(letter.c.created_on, letter.c.csa_case_ref, letter.c.letter_id)
        .execution_options(yield_per=chunk_size)
    )
    result = conn.execute(statement)
    for rows in result.partitions():
        yield pd.DataFrame.from_records(rows, columns=[*PRINT_COLUMNS, "dv_marker"])


def mark_dispatched(
    conn: Connection,
    batch_id: str,
    rendered: pd.DataFrame,
    undeliverable: Sequence[int],
    sha256: str,
    dispatched_at: datetime,
) -> int:
    """The batch's letters DISPATCHED, each with the hash of the text printed (``rendered``:
    ``letter_id``, ``rendered_sha256``), those left out of it UNDELIVERABLE; the batch with its
    file's hash. Returns the letters marked dispatched."""
    if undeliverable:
        conn.execute(
            update(letter)
            .where(letter.c.letter_id.in_(list(undeliverable)), letter.c.print_batch == batch_id)
            .values(status=LetterStatus.UNDELIVERABLE.value)
        )
    marked = update_from_frame(
        conn,
        letter,
        rendered.assign(status=LetterStatus.DISPATCHED.value),
        key="letter_id",
        where=(letter.c.print_batch == batch_id) & (letter.c.status == LetterStatus.PENDING.value),
    )
    conn.execute(
        update(print_batch)
        .where(print_batch.c.print_batch == batch_id)
        .values(state=PrintBatchState.DISPATCHED, sha256=sha256, dispatched_at=dispatched_at)
    )
    return marked


def pending_count(conn: Connection) -> int:
    return conn.execute(
        select(func.count()).select_from(letter).where(letter.c.status == LetterStatus.PENDING.value)
    ).scalar_one()
