"""Alembic environment: runs on the engine handed over by ``load.migrate``.

SQLite alters a table by rebuilding it, and dropping the old table breaks the foreign keys of
rows that refer to it. So, as SQLite's own procedure for altering a table has it, foreign keys
are off while the migrations run (the pragma cannot change inside a transaction) and every
reference is checked before the commit.
"""

from alembic import context
from sqlalchemy import text

from load.schema import target_metadata

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.execute(text("PRAGMA foreign_keys=OFF"))
        connection.commit()
    try:
        with connection.begin():
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=sqlite)
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.execute(text("PRAGMA foreign_key_check")).all()
                if broken:
                    raise RuntimeError(f"the migration broke {len(broken)} foreign key references")
    finally:
        if sqlite:
            connection.execute(text("PRAGMA foreign_keys=ON"))
            connection.commit()
