"""The migrations build exactly the schema ``load/schema.py`` declares, on both backends."""

from __future__ import annotations

import re
from datetime import date

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError

from csa_closure.db import make_engine
from load.migrate import alembic_config, upgrade_target
from load.schema import cms_arrears_instalment, cms_case, cms_unpaid_maintenance, target_metadata


def _normalised(sql: str) -> str:
    """A CHECK's condition as comparable text: no brackets, quotes or spacing."""
    return re.sub(r"[\s()\"`]", "", str(sql)).lower()


def _declared_checks() -> set[tuple[str, str | None, str]]:
    return {
        (table.name, constraint.name, _normalised(constraint.sqltext))
        for table in target_metadata.sorted_tables
        for constraint in [*table.constraints, *(c for column in table.columns for c in column.constraints)]
        if isinstance(constraint, CheckConstraint)
    }


def test_the_migrated_schema_is_the_declared_one(target_url):
    engine = make_engine(target_url)
    upgrade_target(engine)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), target_metadata)
        inspector = inspect(conn)
        migrated_checks = {
            (table, check["name"], _normalised(check["sqltext"]))
            for table in inspector.get_table_names()
            for check in inspector.get_check_constraints(table)
        }
    engine.dispose()
    assert differences == []
    assert _declared_checks()  # the comparison below has something to compare
    assert migrated_checks == _declared_checks()


def test_a_target_with_transfers_upgrades_keeping_them_and_refuses_a_zero_amount(target_url):
    """The rebuilt table keeps its rows and the instalments that refer to them."""
    engine = make_engine(target_url)
    command.upgrade(alembic_config(engine), "0002")
    with engine.begin() as conn:
        conn.execute(insert(cms_case).values(
            cms_case_id=1, csa_case_ref="C930000001", origin_scheme="1993", paying_parent_ref="P000000001",
            receiving_parent_ref="P000000002", service_type="DIRECT_PAY", opened_on=date(2015, 1, 1),
            tranche_id="T0001", batch_id="T0001-B001",
        ))
        conn.execute(insert(cms_unpaid_maintenance).values(
            id=1, cms_case_id=1, creditor="PWC", amount_pence=500, origin_scheme="1993",
            accrued_from=date(2014, 1, 1), accrued_to=date(2014, 6, 1), transferred_on=date(2015, 1, 1),
            batch_id="T0001-B001",
        ))
        conn.execute(insert(cms_arrears_instalment).values(
            unpaid_maintenance_id=1, instalment_no=1, due_on=date(2015, 2, 1), amount_pence=500
        ))
    upgrade_target(engine)
    with engine.connect() as conn:
        assert conn.execute(select(cms_arrears_instalment.c.amount_pence)).scalars().all() == [500]
        assert conn.execute(select(cms_unpaid_maintenance.c.amount_pence)).scalars().all() == [500]
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(update(cms_unpaid_maintenance).values(amount_pence=0))
    engine.dispose()
