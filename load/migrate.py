"""Create or upgrade the target schema with Alembic (``csa-closure init``).

Every other command only checks that the schema is current, which needs no Alembic: revisions
are numbered in order and each file is named by its revision (``0005_....py``), so the head is
the highest number (``tests/load/test_migrations.py`` holds Alembic to it). Importing Alembic
would cost a short command such as ``record choice`` a tenth of its time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade_target(engine: Engine) -> str:
    """Bring the target schema to the newest revision; returns that revision."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")
    return head_revision()


def head_revision() -> str:
    """The newest revision: the highest-numbered file in ``migrations/versions``."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def require_current_schema(engine: Engine) -> None:
    """Refuse to run against a target that ``init`` has not brought up to date."""
    head = head_revision()
    found = current_revision(engine)
    if found != head:
        raise SchemaNotCurrent(
            f"target schema is at {found or 'nothing'}, not {head}: run 'csa-closure init' first"
        )


class SchemaNotCurrent(RuntimeError):
    """The target database needs ``csa-closure init``."""
