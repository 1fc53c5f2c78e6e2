"""Create or upgrade the target schema with Alembic (``csa-closure init``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from csa_closure.db import sqlite_file

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade_target(engine: Engine) -> str:
    """Bring the target schema to the newest revision; returns that revision."""
    config = alembic_config(engine)
    command.upgrade(config, "head")
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def require_current_schema(engine: Engine) -> None:
    """Refuse to run against a target that ``init`` has not brought up to date (and a SQLite
    target that is not there, before connecting would create it)."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    path = sqlite_file(engine.url) if engine.dialect.name == "sqlite" else None
    if path is not None and not path.exists():
        raise SchemaNotCurrent(f"the target database {path} does not exist: run 'csa-closure init' first")
    found = current_revision(engine)
    if found != head:
        raise SchemaNotCurrent(
            f"target schema is at {found or 'nothing'}, not {head}: run 'csa-closure init' first"
        )


class SchemaNotCurrent(RuntimeError):
    """The target database needs ``csa-closure init``."""
