"""Database engines for the legacy source and the CMS target, SQLite or PostgreSQL.

SQLite is the embedded default: WAL and a busy timeout make a second reader harmless, and the
parent folder of a target file URL is created so a fresh clone runs with nothing set up.

The engine only reads a legacy database: its engine is read-only (SQLite opened ``mode=ro``,
PostgreSQL sessions ``default_transaction_read_only``), and a legacy database that is not
there is refused rather than created. Only ``generate`` writes one, through a writable engine.

A legacy SQLite database keeps SQLite's rollback journal instead of WAL. The extract reads it
through ADBC's driver, which carries its own copy of SQLite, beside Python's ``sqlite3`` in the
same process. Two copies of SQLite do not see each other's locks, so in WAL mode one copy opening
the database resets the shared-memory index the other has mapped, and that process dies of a bus
error ("How To Corrupt An SQLite Database File", section 2.2.1). Without WAL there is no shared
memory to lose: the writable engine takes a legacy file out of WAL, and a read-only one, which
cannot, refuses a file in WAL.

Every engine hides bound values from its errors: a failed write of letters or quarantine rows
would otherwise carry names and addresses into logs and the audit.
"""

from __future__ import annotations

from functools import lru_cache, partial
from pathlib import Path
from urllib.parse import quote, unquote

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import OperationalError

from csa_closure.refusal import Refusal

POSTGRES_READ_ONLY = "-c default_transaction_read_only=on"
"""libpq's ``options`` for a read-only session: every transaction refuses to write."""

_SQLITE_WAL_HEADER = b"\x02\x02"
"""Bytes 18 and 19 of a SQLite file's header, its read and write versions, in WAL mode."""


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def make_engine(url: str, *, legacy: bool = False, writable: bool = False) -> Engine:
    """An engine for ``url``; psycopg 3 for PostgreSQL, tuned pragmas for SQLite.

    ``legacy``: a legacy source database, read-only and refused if it does not exist, unless
    ``writable`` (the synthetic estate's generator, and tests that write legacy rows).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    read_only = legacy and not writable
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, legacy=legacy, read_only=read_only)
    if read_only:
        options = " ".join(filter(None, [parsed.query.get("options"), POSTGRES_READ_ONLY]))
        parsed = parsed.update_query_dict({"options": options})
    engine = create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
    event.listen(engine, "handle_error", _error_without_values)
    if read_only:
        _refuse_missing_postgres(engine)
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


def _sqlite_engine(parsed: URL, *, legacy: bool, read_only: bool) -> Engine:
    path = sqlite_file(parsed)
    if read_only:
        if path is None:
            raise Refusal("the legacy database must be a SQLite file, not an in-memory database")
        if not path.is_file():
            raise Refusal(f"the legacy database {path} does not exist")
        if _in_wal(path):
            raise Refusal(
                f"the legacy database {path} is in WAL mode, which the extract's two SQLite libraries "
                f"cannot share: run sqlite3 {path} 'PRAGMA journal_mode=DELETE' first"
            )
        parsed = parsed.set(database=f"file:{quote(str(path.resolve()))}", query={"mode": "ro", "uri": "true"})
    elif path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise Refusal(f"the database's folder {path.parent} cannot be made: {error.strerror or error}") from None
    engine = create_engine(parsed, connect_args={"timeout": 60}, hide_parameters=True)
    # A legacy file still in WAL from an earlier version is taken out of it on connecting.
    journal_mode = None if read_only else "DELETE" if legacy else "WAL"
    event.listen(engine, "connect", partial(_sqlite_pragmas, journal_mode=journal_mode))
    event.listen(engine, "handle_error", _error_without_values)
    return engine


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL, written as a path or as a ``file:`` URI; None in memory."""
    database = url.database
    if not database or database == ":memory:":
        return None
    if url.query.get("uri") == "true" and database.startswith("file:"):
        return Path(unquote(database.removeprefix("file:")))
    return Path(database)


def _in_wal(path: Path) -> bool:
    with path.open("rb") as file:
        header = file.read(20)
    return header[18:20] == _SQLITE_WAL_HEADER


def _refuse_missing_postgres(engine: Engine) -> None:
    """A legacy database that the server does not have is refused in one line."""
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        # A failed connection carries the server's message, but not its code (3D000).
        if f'database "{engine.url.database}" does not exist' in str(error.orig):
            raise Refusal(f"the legacy database {engine.url.database} does not exist") from None
        raise


def _sqlite_pragmas(dbapi_connection, _record, journal_mode: str | None) -> None:
    cursor = dbapi_connection.cursor()
    if journal_mode is not None:  # a read-only connection cannot change it
        cursor.execute(f"PRAGMA journal_mode={journal_mode}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA cache_size=-200000")
    cursor.close()


@lru_cache(maxsize=8)
def engine_for(url: str, *, legacy: bool = False, writable: bool = False) -> Engine:
    """One engine per URL and process, shared by the tasks of a flow run."""
    return make_engine(url, legacy=legacy, writable=writable)
