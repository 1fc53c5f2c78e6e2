"""PostgreSQL's planner statistics and dead rows kept in hand by the runs that change the target.

An extract or an advance rewrites a large share of the target in minutes. The planner needs
statistics of each table's new size and spread to read a batch through an index rather than
scan the table, and the rows that updates leave dead must be reclaimed for reuse. Autovacuum
does both where it runs, but it is off on some servers and slow to come round on a busy one, so
the runs ask, after units of work, which tables have changed by autovacuum's own measure:
those with many dead rows get ``VACUUM (ANALYZE)``, those only grown or changed ``ANALYZE``.
SQLite keeps no dead rows to reclaim: nothing to do there.
"""

from __future__ import annotations

from sqlalchemy import Engine, bindparam, text

from load.schema import target_metadata

BASE_ROWS = 1_000
ANALYZE_SHARE = 0.1
VACUUM_SHARE = 0.2
"""A table is analyzed once rows changed since its last analysis exceed ``BASE_ROWS`` plus
this share of its rows, and vacuumed once its dead rows exceed ``VACUUM_SHARE`` of them:
autovacuum's defaults (50 rows, 10% and 20%), but for the base, which spares small tables."""

_DUE = text(
    "SELECT relname, n_dead_tup > :base + :vacuum * n_live_tup FROM pg_stat_user_tables"
    " WHERE schemaname = current_schema() AND relname IN :tables"
    " AND (n_mod_since_analyze > :base + :analyze * n_live_tup OR n_dead_tup > :base + :vacuum * n_live_tup)"
    " ORDER BY relname"
).bindparams(bindparam("tables", expanding=True))


def maintain_tables(target: Engine) -> list[str]:
    """Vacuum and analyze, or only analyze, the target's tables that have changed enough since
    they were last analyzed or vacuumed; returns their names. Changes no row: safe to interrupt
    anywhere."""
    if target.dialect.name != "postgresql":
        return []
    with target.connect() as conn:
        due = conn.execute(
            _DUE,
            {"tables": sorted(target_metadata.tables), "base": BASE_ROWS, "analyze": ANALYZE_SHARE,
             "vacuum": VACUUM_SHARE},
        ).all()
    if due:
        with target.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table, dead in due:
                conn.execute(text(f'VACUUM (ANALYZE) "{table}"' if dead else f'ANALYZE "{table}"'))
    return [table for table, _ in due]
