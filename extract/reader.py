"""Reads legacy rows as text, straight into Arrow-backed frames, through ADBC.

The legacy tables are read-only to the engine and their rows are read by the hundred thousand,
so they skip the DBAPI's row tuples: ADBC hands the driver's columns to Arrow in C, without
a Python object per value. Every column is read as text (``as_text``),
so a value that breaks the contract is read, not lost (the validation stage decides what it is).
SQLAlchemy still builds the statements; they reach the driver with their values inlined.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlencode

import adbc_driver_manager as adbc
import adbc_driver_postgresql.dbapi as adbc_postgresql
import adbc_driver_sqlite.dbapi as adbc_sqlite
import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine, Integer, Select, Table, Text, cast, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from csa_closure.db import sqlite_file, strip_values
from csa_closure.retry import transient_retry

SQLITE_BUSY_TIMEOUT_MS = 60_000

# One Arrow batch per result: SQLite's driver infers each column's type from the rows of a
# batch, so a text column whose first rows are all NULL would otherwise come back as integers.
_SQLITE_WHOLE_RESULT = {"adbc.sqlite.query.batch_rows": str(2**30)}


class as_text(FunctionElement):
    """A legacy column read as its text: ``CAST(column AS TEXT)``, but for PostgreSQL's integer
    columns. Those can hold nothing but integers, so they travel as integers and the reader
    writes them as text (Arrow's ``cast``): casting them on the server took a fifth of a second
    more of a CSCS batch's ledger read. SQLite's integer columns may hold any text: cast."""

    type = Text()
    inherit_cache = True
    name = "as_text"


@compiles(as_text)
def _cast_to_text(element: as_text, compiler, **kw) -> str:
    (column,) = element.clauses
    return compiler.process(cast(column, Text), **kw)


@compiles(as_text, "postgresql")
def _integers_as_they_are(element: as_text, compiler, **kw) -> str:
    (column,) = element.clauses
    if isinstance(column.type, Integer):
        return compiler.process(column, **kw)
    return _cast_to_text(element, compiler, **kw)


def raw_select(table: Table):
    """Every column as text, so a value that breaks the contract is read, not lost."""
    return select(*(as_text(column).label(column.name) for column in table.columns))


class LegacyReader:
    """One ADBC connection to a legacy database, reading statements into text frames."""

    def __init__(self, engine: Engine, connection) -> None:
        self._dialect = engine.dialect
        self._connection = connection

    def frame(self, statement: Select) -> pd.DataFrame:
        """The statement's rows as a frame of its selected columns, each of pandas ``str`` in one
        Arrow chunk."""
        columns = list(statement.selected_columns.keys())
        sql = str(statement.compile(dialect=self._dialect, compile_kwargs={"literal_binds": True}))
        with self._connection.cursor() as cursor:
            if self._dialect.name == "sqlite":
                cursor.adbc_statement.set_options(**_SQLITE_WHOLE_RESULT)
            try:
                cursor.execute(sql)
                table = cursor.fetch_arrow_table()
            except adbc.Error as error:  # its message quotes the query and what it read
                raise strip_values(error) from None
        text = pa.schema([(name, pa.large_string()) for name in columns])  # pandas' own text
        # One chunk a column: the checks work on a column's Arrow array, which several chunks
        # would have them copy into one for every check.
        return table.rename_columns(columns).cast(text).combine_chunks().to_pandas()


class _IdleConnections:
    """Connections this process's readers have finished with, kept for the next reader of the
    same database: ADBC's PostgreSQL driver reads the server's type catalogue as it connects
    (~0.1 s), more than a journey unit's reads of its few hundred cases cost. The newest
    ``keep`` are kept; older ones are closed."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._idle: list[tuple[str, object]] = []
        self._lock = threading.Lock()

    def take(self, database: str):
        with self._lock:
            for position in range(len(self._idle) - 1, -1, -1):
                if self._idle[position][0] == database:
                    return self._idle.pop(position)[1]
        return None

    def give_back(self, database: str, connection) -> None:
        with self._lock:
            self._idle.append((database, connection))
            surplus, self._idle = self._idle[: -self._keep], self._idle[-self._keep :]
        for _, old in surplus:
            old.close()

    def close(self, database: str) -> None:
        """Close every idle connection to ``database``: one of them has just failed, and the
        others, as old, would fail the retry too."""
        with self._lock:
            closing = [connection for name, connection in self._idle if name == database]
            self._idle = [(name, connection) for name, connection in self._idle if name != database]
        for connection in closing:
            connection.close()


_IDLE = _IdleConnections(keep=4)


@contextmanager
def legacy_reader(engine: Engine) -> Iterator[LegacyReader]:
    """A reader on ``engine``'s database, read-only on SQLite, and on PostgreSQL where the engine
    is. Its connection is kept for the next reader if all went well, and closed if anything
    failed."""
    database = engine.url.render_as_string(hide_password=False)
    connection = _IDLE.take(database) or _connect(engine)
    try:
        yield LegacyReader(engine, connection)
    except BaseException:
        connection.close()
        _IDLE.close(database)
        raise
    _IDLE.give_back(database, connection)


@transient_retry
def _connect(engine: Engine):
    url = engine.url
    if url.get_backend_name() == "sqlite":
        path = sqlite_file(url)
        if path is None:
            raise ValueError("the legacy database must be a SQLite file, not an in-memory database")
        connection = adbc_sqlite.connect(f"file:{quote(str(path.resolve()))}?mode=ro", autocommit=True)
        with connection.cursor() as cursor:  # wait out a writer's lock, as the engines do
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        return connection
    if url.get_backend_name() == "postgresql":
        # The engine's query (its read-only ``options`` among them), encoded as libpq reads it:
        # a space as %20, not '+'.
        libpq_url = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
        query = urlencode(dict(url.query), quote_via=quote)
        return adbc_postgresql.connect(f"{libpq_url}?{query}" if query else libpq_url, autocommit=True)
    raise ValueError(f"unsupported legacy database: {url.get_backend_name()}")
