"""A query's rows as a frame, read by the driver straight into Arrow and typed by the query's
own columns, inside the caller's transaction.

The journey reads its batches' rows many times a run; SQLAlchemy's result rows (a Python object
a row, each date parsed by a Python call) cost more than the query itself. PostgreSQL streams the
rows as CSV through COPY into Arrow's reader; SQLite's driver hands over its tuples, and each
column is typed at once. Dates come back as ``datetime64[ns]`` at midnight, integers as
``int64`` (``Int64`` where a value may be missing), flags as ``bool``, text as ``str``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Boolean, Connection, Date, DateTime, Integer, Numeric
from sqlalchemy.sql import Select

from csa_closure.db import strip_values


def read_frame(
    conn: Connection, statement: Select, dates: Sequence[str] = (), integers: Sequence[str] = ()
) -> pd.DataFrame:
    """``statement``'s rows as a frame typed by its selected columns. ``dates`` and ``integers``
    name columns whose type the query does not carry (a literal, a label of an expression);
    integers named there are nullable ``Int64`` whatever they hold."""
    columns = list(statement.selected_columns.keys())
    kinds = {name: _kind(column.type) for name, column in zip(columns, statement.selected_columns)}
    kinds |= {name: "date" for name in dates} | {name: "integer" for name in integers}
    sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    raw = conn.connection.driver_connection
    try:
        if conn.dialect.name == "postgresql":
            frame = _postgres(raw, sql, columns, kinds)
        else:
            frame = _sqlite(raw, sql, columns, kinds)
    except Exception as error:  # the driver's own, past SQLAlchemy's handling
        raise strip_values(error) from None
    for name in integers:
        frame[name] = frame[name].astype("Int64")
    return frame


def _kind(sql_type) -> str:
    if isinstance(sql_type, Boolean):
        return "flag"
    if isinstance(sql_type, DateTime):
        return "instant"
    if isinstance(sql_type, Date):
        return "date"
    if isinstance(sql_type, (Integer, Numeric)):
        return "integer"
    return "text"


_ARROW = {"flag": pa.bool_(), "date": pa.date32(), "integer": pa.int64(), "text": pa.large_string(),
          "instant": pa.large_string()}


def _postgres(raw, sql: str, columns: list[str], kinds: dict[str, str]) -> pd.DataFrame:
    buffer = io.BytesIO()
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
            for data in copy:
                buffer.write(data)
    options = pa_csv.ConvertOptions(
        column_types={name: _ARROW[kinds[name]] for name in columns},
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,  # COPY quotes an empty text, and leaves NULL bare
        true_values=["t"],
        false_values=["f"],
    )
    read = pa_csv.ReadOptions(column_names=columns, autogenerate_column_names=False)
    if not buffer.getbuffer().nbytes:
        table = pa.table({name: pa.array([], type=_ARROW[kinds[name]]) for name in columns})
    else:
        table = pa_csv.read_csv(io.BytesIO(buffer.getvalue()), read_options=read, convert_options=options)
    return _typed(table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get), kinds)


def _sqlite(raw, sql: str, columns: list[str], kinds: dict[str, str]) -> pd.DataFrame:
    cursor = raw.cursor()
    try:
        rows = cursor.execute(sql).fetchall()
    finally:
        cursor.close()
    frame = pd.DataFrame.from_records(rows, columns=columns, coerce_float=False)
    return _typed(frame, kinds)


def _typed(frame: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    for name, kind in kinds.items():
        column = frame[name]
        if kind == "date":
            frame[name] = pd.to_datetime(column, format="ISO8601").astype("datetime64[ns]")
        elif kind == "instant":
            frame[name] = pd.to_datetime(column, utc=True, format="ISO8601")
        elif kind == "flag":
            frame[name] = column.astype(bool) if not column.isna().any() else column.astype("boolean")
        elif kind == "integer":
            frame[name] = column.astype("Int64") if column.isna().any() else column.astype("int64")
    return frame
