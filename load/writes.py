"""Set-based writes to the target: upserts by business key, COPY-staged on PostgreSQL.

Rows go in as lists of dicts or frames, never one ORM object at a time. On PostgreSQL a frame is
copied into a temporary table and merged with one INSERT .. ON CONFLICT (or, replacing its keys'
rows whole, copied straight in after a delete); on SQLite it is an
executemany of the same statement, its rows handed to the driver as tuples built a column at a
time (SQLAlchemy's own handling of each row's parameters costs more than SQLite's insert at
thousands of rows). Either way it runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy import ColumnElement, Connection, Insert, Table, any_, bindparam, delete, text, update
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from csa_closure.db import strip_values


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
        frame = pd.DataFrame(list(rows))
        _copy_merge(conn, table, frame, key, _update_action(frame.columns, key, keep_on_conflict))
        return
    if conn.dialect.name == "postgresql":
        conn.execute(_upsert(pg_insert(table), rows[0], key, keep_on_conflict), list(rows))
        return
    columns = {name: [row[name] for row in rows] for name in rows[0]}
    _sqlite_execute_many(conn, _upsert(sqlite_insert(table), columns, key, keep_on_conflict), columns)


def _upsert(statement, columns: Sequence[str], key: Sequence[str], keep_on_conflict: Sequence[str]):
    """``statement`` (an INSERT) overwriting every column but the key and ``keep_on_conflict``
    where the key exists."""
    updates = _updated_columns(columns, key, keep_on_conflict)
    if updates:
        return statement.on_conflict_do_update(
            index_elements=list(key), set_={c: statement.excluded[c] for c in updates}
        )
    return statement.on_conflict_do_nothing(index_elements=list(key))


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
        _copy_merge(conn, table, frame, key, _update_action(frame.columns, key, keep_on_conflict))
    else:
        columns = _sqlite_columns(frame)
        _sqlite_execute_many(conn, _upsert(sqlite_insert(table), columns, key, keep_on_conflict), columns)


def replace_frame(conn: Connection, table: Table, frame: pd.DataFrame, key: str) -> None:
    """Write ``frame``'s rows whole over the table's rows of the same ``key`` (one column), for
    a table no other refers to: an extract's snapshot. On PostgreSQL the old rows are deleted
    and the new ones copied straight in, without the staging table and merge of an upsert; on
    SQLite it is the upsert."""
    if conn.dialect.name != "postgresql":
        upsert_frame(conn, table, frame, [key])
        return
    if frame.empty:
        return
    delete_where_in(conn, table, key, frame[key].tolist())
    _copy_into(conn, table.name, frame)


def insert_new_frame(
    conn: Connection, table: Table, frame: pd.DataFrame, key: Sequence[str]
) -> int:
    """Insert the rows of ``frame`` whose ``key`` is not in ``table`` yet; returns how many.

    Unlike ``upsert_frame`` it leaves columns the frame lacks (a surrogate primary key) to the
    table, and never touches an existing row: what was created once stays as it was.
    """
    if frame.empty:
        return 0
    if conn.dialect.name != "postgresql":
        statement = sqlite_insert(table).on_conflict_do_nothing(index_elements=list(key))
        return _sqlite_execute_many(conn, statement, _sqlite_columns(frame))
    return _copy_merge(conn, table, frame, key, "DO NOTHING")


def append_frame(conn: Connection, table: Table, frame: pd.DataFrame) -> None:
    """Insert every row of ``frame`` into an append-only table, leaving its surrogate key to
    the table: COPYed straight in on PostgreSQL."""
    if frame.empty:
        return
    if conn.dialect.name == "postgresql":
        _copy_into(conn, table.name, frame)
    else:
        _sqlite_execute_many(conn, table.insert(), _sqlite_columns(frame))


def update_from_frame(
    conn: Connection, table: Table, frame: pd.DataFrame, key: str, where: ColumnElement | None = None
) -> int:
    """Set the frame's other columns on the rows whose ``key`` matches (and ``where`` holds);
    returns the rows updated. On PostgreSQL the frame is COPYed into a temporary table and
    joined once; on SQLite it is one statement run per row."""
    if frame.empty:
        return 0
    columns = [c for c in frame.columns if c != key]
    conditions = [] if where is None else [where]
    if conn.dialect.name == "postgresql":
        staging = f"staging_{table.name}"
        conn.execute(text(f"DROP TABLE IF EXISTS {staging}"))
        conn.execute(text(
            f"CREATE TEMP TABLE {staging} ON COMMIT DROP AS SELECT {', '.join(frame.columns)} "
            f"FROM {table.name} WITH NO DATA"
        ))
        _copy_into(conn, staging, frame)
        source = sa_table(staging, *(sa_column(c) for c in frame.columns))
        statement = (
            update(table)
            .where(table.c[key] == source.c[key], *conditions)
            .values({c: source.c[c] for c in columns})
        )
        return conn.execute(statement).rowcount
    statement = (
        update(table)
        .where(table.c[key] == bindparam("_key"), *conditions)
        .values({c: bindparam(f"_{c}") for c in columns})
    )
    values = _sqlite_columns(frame)
    rows = [
        {"_key": row[0], **{f"_{c}": v for c, v in zip(columns, row[1:])}}
        for row in zip(values[key], *(values[c] for c in columns))
    ]
    return conn.execute(statement, rows).rowcount


def _sqlite_execute_many(conn: Connection, statement: Insert, columns: dict[str, list]) -> int:
    """Run ``statement`` once per row of ``columns`` (name to values); returns rows written.

    The values reach the driver as SQLAlchemy would bind them: each column's own bind
    processing (dates to ISO text) is applied to values not already in the stored form.
    """
    compiled = statement.compile(dialect=conn.dialect, column_keys=list(columns))
    table = statement.table
    bound = [_bound(table.c[name].type.bind_processor(conn.dialect), columns[name]) for name in compiled.positiontup]
    return conn.exec_driver_sql(compiled.string, list(zip(*bound))).rowcount


def _bound(processor, values: list) -> list:
    if processor is None:
        return values
    return [value if value is None or isinstance(value, str | bool) else processor(value) for value in values]


def _sqlite_columns(frame: pd.DataFrame) -> dict[str, list]:
    """A frame's columns as lists of plain Python values, NA as None and datetimes as the ISO
    dates SQLite's date columns store."""
    columns = {}
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            days = np.datetime_as_string(series.to_numpy(dtype="datetime64[D]"), unit="D").astype(object)
            days[series.isna().to_numpy()] = None
            columns[name] = days.tolist()
        elif series.isna().any():
            columns[name] = series.astype(object).where(series.notna(), None).tolist()
        else:
            columns[name] = series.tolist()
    return columns


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
    """Delete the rows whose ``column`` is one of ``values``. On PostgreSQL the values go as one
    array (``= ANY``): a batch's ten thousand values as separate parameters cost SQLAlchemy and
    psycopg a fifth of a second to render and parse."""
    if not values:
        return
    key = table.c[column]
    if conn.dialect.name == "postgresql":
        chosen = key == any_(bindparam("values", list(values), type_=ARRAY(key.type)))
    else:
        chosen = key.in_(list(values))
    conn.execute(delete(table).where(chosen))


def _copy_merge(
    conn: Connection, table: Table, frame: pd.DataFrame, key: Sequence[str], action: str
) -> int:
    """COPY ``frame`` into a temporary table of its own columns, then one INSERT .. SELECT ..
    ON CONFLICT (key) ``action``; returns the rows the INSERT wrote."""
    staging = f"staging_{table.name}"
    column_list = ", ".join(frame.columns)
    conn.execute(text(f"DROP TABLE IF EXISTS {staging}"))
    conn.execute(
        text(
            f"CREATE TEMP TABLE {staging} ON COMMIT DROP AS "
            f"SELECT {column_list} FROM {table.name} WITH NO DATA"
        )
    )
    _copy_into(conn, staging, frame)
    return conn.execute(
        text(
            f"INSERT INTO {table.name} ({column_list}) SELECT {column_list} FROM {staging} "
            f"ON CONFLICT ({', '.join(key)}) {action}"
        )
    ).rowcount


def _updated_columns(columns: Sequence[str], key: Sequence[str], keep: Sequence[str]) -> list[str]:
    """The columns an upsert overwrites where the key exists: all but the key and ``keep``."""
    return [c for c in columns if c not in key and c not in keep]


def _update_action(columns: Sequence[str], key: Sequence[str], keep: Sequence[str]) -> str:
    updates = _updated_columns(columns, key, keep)
    if not updates:
        return "DO NOTHING"
    return "DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in updates)


def _copy_into(conn: Connection, staging: str, frame: pd.DataFrame) -> None:
    """COPY ``frame`` into the table ``staging``, column by name, in the caller's transaction.

    Arrow writes the CSV (pandas' writer took longer than the COPY itself), every value quoted
    but NULL: COPY's CSV reads an unquoted empty field as NULL and a quoted one as empty text,
    so no text can be mistaken for NULL."""
    data = pa.BufferOutputStream()
    pa_csv.write_csv(_as_copy_table(frame), data, write_options=_COPY_CSV)
    raw = conn.connection.driver_connection
    try:
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {staging} ({', '.join(frame.columns)}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(memoryview(data.getvalue()))
    except Exception as error:  # the driver's own, past SQLAlchemy: its message quotes the row
        raise strip_values(error) from None


_COPY_CSV = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")


def _as_copy_table(frame: pd.DataFrame) -> pa.Table:
    """The frame in Arrow, as COPY reads it back exactly: the frames' dates (datetimes at
    midnight) as days, instants with their zone, integers as integers. Each column in one
    chunk: Arrow's CSV writer (26.0) writes garbage for columns chunked unlike each other
    around empty chunks, as frames put together with ``concat`` can be."""
    table = pa.Table.from_pandas(frame, preserve_index=False).combine_chunks()
    for position, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is None:
            days = pc.cast(table.column(position), pa.date32(), safe=False)
            table = table.set_column(position, field.name, days)
    return table
