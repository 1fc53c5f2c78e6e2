"""Database engines for the legacy source and the CMS target, SQLite or PostgreSQL.

SQLite is the embedded default: WAL and a busy timeout make a second reader harmless, and the
parent folder of a file URL is created so a fresh clone runs with nothing set up.

A legacy SQLite database keeps SQLite's rollback journal instead of WAL. The extract reads it
through ADBC's driver, which carries its own copy of SQLite, beside Python's ``sqlite3`` in the
same process. Two copies of SQLite do not see each other's locks, so in WAL mode one copy opening
the database resets the shared-memory index the other has mapped, and that process dies of a bus
error ("How To Corrupt An SQLite Database File", section 2.2.1). The engine only reads a legacy
database, and without WAL there is no shared memory to lose.
"""

from __future__ import annotations

from functools import lru_cache, partial
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def make_engine(url: str, *, legacy: bool = False) -> Engine:
    """An engine for ``url``; psycopg 3 for PostgreSQL, tuned pragmas for SQLite (``legacy``
    for a legacy source database: rollback journal, not WAL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 60}, hide_parameters=True)
        # A legacy file still in WAL from an earlier version is taken out of it on connecting.
        event.listen(engine, "connect", partial(_sqlite_pragmas, journal_mode="DELETE" if legacy else "WAL"))
    else:
        engine = create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
    event.listen(engine, "handle_error", _error_without_values)
    return engine


def strip_values(error: BaseException) -> BaseException:
    """Make a database driver's error say what went wrong without any value it was given.

    PostgreSQL quotes values in its messages ('Failing row contains (...)', a COPY line, an
    input it could not read), so a failed write of letters or quarantine rows would carry
    names and addresses into logs, state messages and the audit. Where the server gave a
    SQLSTATE, the message becomes the condition and the names of the table, column and
    constraint; otherwise (SQLite, a lost connection) its first line, which quotes no values.
    The error keeps its type and SQLSTATE, so retries still tell transient faults apart.
    """
    sqlstate = getattr(error, "sqlstate", None)
    diag = getattr(error, "diag", None)
    if sqlstate:
        names = [
            f"{label} {name}"
            for label, name in (
                ("table", getattr(diag, "table_name", None)),
                ("column", getattr(diag, "column_name", None)),
                ("constraint", getattr(diag, "constraint_name", None)),
            )
            if name
        ]
        error.args = (", ".join([f"{type(error).__name__} (SQLSTATE {sqlstate})", *names]),)
    elif error.args:
        error.args = (str(error).split("\n", 1)[0],)
    return error


def _error_without_values(context: ExceptionContext) -> None:
    """SQLAlchemy's error, and the driver's it wraps, told without values (``strip_values``);
    bound parameters are hidden by ``hide_parameters``."""
    original = strip_values(context.original_exception)
    wrapped = context.sqlalchemy_exception
    if wrapped is not None:
        wrapped.args = (f"({type(original).__module__}.{type(original).__name__}) {original}",)


def _sqlite_pragmas(dbapi_connection, _record, journal_mode: str) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA journal_mode={journal_mode}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA cache_size=-200000")
    cursor.close()


@lru_cache(maxsize=8)
def engine_for(url: str, *, legacy: bool = False) -> Engine:
    """One engine per URL and process, shared by the tasks of a flow run."""
    return make_engine(url, legacy=legacy)
