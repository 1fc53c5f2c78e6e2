"""Set-based writes to the target: upserts by business key, COPY-staged on PostgreSQL.

Rows go in as lists of dicts or frames, never one ORM object at a time. On PostgreSQL a frame is
copied into a temporary table and merged with one INSERT .. ON CONFLICT; on SQLite it is an
executemany of the same statement. Either way it runs inside the caller's transaction.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Table, delete, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

COPY_NULL = "\\N"


def upsert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    keep_on_conflict: Sequence[str] = (),
) -> None:
    """Insert ``rows``; where the key exists, overwrite every column but the key and ``keep``."""
    if not rows:
        return
    if conn.dialect.name == "postgresql" and len(rows) > 1000:
        _copy_merge(conn, table, pd.DataFrame(list(rows)), key, keep_on_conflict)
        return
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(table)
    columns = [c for c in rows[0] if c not in key and c not in keep_on_conflict]
    if columns:
        statement = statement.on_conflict_do_update(
            index_elements=list(key), set_={c: statement.excluded[c] for c in columns}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(key))
    conn.execute(statement, list(rows))


def upsert_frame(
    conn: Connection,
    table: Table,
    frame: pd.DataFrame,
    key: Sequence[str],
    keep_on_conflict: Sequence[str] = (),
) -> None:
    """``upsert_rows`` for a frame; dates and NA become the database's dates and NULLs."""
    if frame.empty:
        return
    if conn.dialect.name == "postgresql":
        _copy_merge(conn, table, frame, key, keep_on_conflict)
    else:
        upsert_rows(conn, table, frame_records(frame), key, keep_on_conflict)


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Plain Python rows: datetimes to dates, NA to None, numpy scalars to Python ones."""
    plain = frame.copy()
    for column in plain.columns:
        series = plain[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            plain[column] = pd.Series(
                [None if pd.isna(v) else v.date() for v in series], index=series.index, dtype=object
            )
        else:
            plain[column] = series.astype(object).where(series.notna(), None)
    return plain.to_dict("records")


def delete_where_in(conn: Connection, table: Table, column: str, values: Sequence[Any]) -> None:
    if values:
        conn.execute(delete(table).where(table.c[column].in_(list(values))))


def _copy_merge(
    conn: Connection,
    table: Table,
    frame: pd.DataFrame,
    key: Sequence[str],
    keep_on_conflict: Sequence[str],
) -> None:
    """COPY into a temporary twin of ``table``, then one INSERT .. SELECT .. ON CONFLICT."""
    staging = f"staging_{table.name}"
    columns = list(frame.columns)
    conn.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {table.name}) ON COMMIT DROP"))
    conn.execute(text(f"TRUNCATE {staging}"))
    buffer = io.StringIO()
    _as_copy_text(frame).to_csv(buffer, header=False, index=False, na_rep=COPY_NULL)
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {staging} ({', '.join(columns)}) FROM STDIN (FORMAT csv, NULL '{COPY_NULL}')") as copy:
            copy.write(buffer.getvalue())
    updates = [c for c in columns if c not in key and c not in keep_on_conflict]
    action = (
        "DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in updates)
        if updates
        else "DO NOTHING"
    )
    column_list = ", ".join(columns)
    conn.execute(
        text(
            f"INSERT INTO {table.name} ({column_list}) SELECT {column_list} FROM {staging} "
            f"ON CONFLICT ({', '.join(key)}) {action}"
        )
    )


def _as_copy_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Values that COPY's CSV format reads back exactly: ISO dates, integers without '.0'."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[column] = series.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_bool_dtype(series):
            out[column] = series.map({True: "t", False: "f"})
        elif pd.api.types.is_integer_dtype(series):
            out[column] = series.astype("string")
        else:
            out[column] = series
    return out
