"""Bulk writes of chunk rows: COPY on PostgreSQL (psycopg 3), executemany on SQLite.

Each chunk is one transaction, so an interrupted run leaves whole chunks; the estate is only
complete once ``generate_estate`` returns.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sqlalchemy import Engine

from csa_closure.db import is_postgres
from synthetic.rows import Rows
from synthetic.words import TEXT, join


class _DriverWriter:
    """The driver's own connection, its commits not waiting for the disk while generating."""

    UNSYNCED: str

    def __init__(self, engine: Engine) -> None:
        self._pooled = engine.raw_connection()
        self._connection = self._pooled.driver_connection
        self._connection.execute(self.UNSYNCED)

    def close(self) -> None:
        self._pooled.close()


class SqliteWriter(_DriverWriter):
    """One executemany per table and chunk, committed per chunk; no fsync while generating."""

    UNSYNCED = "PRAGMA synchronous=OFF"

    def write(self, chunk: Iterable[Rows]) -> None:
        for rows in chunk:
            names = list(rows.columns)
            sql = f"INSERT INTO {rows.table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            self._connection.executemany(sql, zip(*(_python_values(rows, name) for name in names)))
        self._connection.commit()

    def close(self) -> None:
        self._connection.execute("PRAGMA synchronous=NORMAL")
        super().close()


class PostgresWriter(_DriverWriter):
    """One COPY per table and chunk from a tab-separated text buffer, committed per chunk."""

    UNSYNCED = "SET synchronous_commit TO OFF"

    def write(self, chunk: Iterable[Rows]) -> None:
        with self._connection.cursor() as cursor:
            for rows in chunk:
                if not len(rows):
                    continue
                statement = f"COPY {rows.table.name} ({', '.join(rows.columns)}) FROM STDIN"
                with cursor.copy(statement) as copy:
                    copy.write(_copy_text(rows))
        self._connection.commit()


def open_writer(engine: Engine) -> SqliteWriter | PostgresWriter:
    return PostgresWriter(engine) if is_postgres(engine) else SqliteWriter(engine)


def _python_values(rows: Rows, name: str) -> list:
    """A column as Python values, None where NULL."""
    values = rows.columns[name]
    if name not in rows.nulls or not rows.nulls[name].any():
        return values.tolist()
    values = values.astype(object)
    values[rows.nulls[name]] = None
    return values.tolist()


def _copy_text(rows: Rows) -> str:
    """COPY text format. The generated values never hold tabs, newlines or backslashes, so
    none needs escaping; NULL is \\N."""
    fields = []
    for name, values in rows.columns.items():
        text = values.astype(TEXT)
        if name in rows.nulls:
            text = np.where(rows.nulls[name], "\\N", text).astype(TEXT)
        fields.append(text)
    line = fields[0]
    for field in fields[1:]:
        line = join(line, "\t", field)
    return "\n".join(line.tolist()) + "\n"
