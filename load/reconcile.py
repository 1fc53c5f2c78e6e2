"""What reconciliation reads: a batch's rows, read inside the unit's own transaction before it
commits, and the money of every tranche, segment and scheme summed in the database. The checks
themselves are in ``transform.reconciliation``."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import BigInteger, ColumnElement, Connection, Text, cast, func, select

from load.journey import read_frame
from load.schema import (
    case_journey,
    closure_outcome,
    cms_arrears_instalment,
    cms_case,
    cms_unpaid_maintenance,
    legacy_case,
    letter,
    write_off,
)

OUTCOME_READ = [
    closure_outcome.c.csa_case_ref.label("case_ref"),
    closure_outcome.c.tranche_id,
    closure_outcome.c.segment,
    closure_outcome.c.scheme,
    closure_outcome.c.journey_state,
    closure_outcome.c.arrears_pwc_pence,
    closure_outcome.c.arrears_sos_pence,
    closure_outcome.c.transferred_pence,
    closure_outcome.c.written_off_pence,
    closure_outcome.c.pending_pence,
    closure_outcome.c.on_hold_pence,
    closure_outcome.c.choice_deadline,
]


def batch_rows(conn: Connection, batch_id: str, case_refs: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """Every row a batch's reconciliation reads (of the cases of it a unit changed, if given)."""
    o = closure_outcome
    where = [o.c.batch_id == batch_id]
    if case_refs is not None:
        where.append(o.c.csa_case_ref.in_(list(case_refs)))
    refs = select(o.c.csa_case_ref).where(*where).scalar_subquery()
    lines = select(
        cms_case.c.csa_case_ref.label("case_ref"),
        cms_unpaid_maintenance.c.id.label("unpaid_maintenance_id"),
        cms_unpaid_maintenance.c.creditor,
        cms_unpaid_maintenance.c.amount_pence,
    ).select_from(cms_unpaid_maintenance.join(cms_case)).where(cms_case.c.csa_case_ref.in_(refs))
    return {
        "outcomes": read_frame(conn, select(*OUTCOME_READ).where(*where), dates=["choice_deadline"],
                               integers=["arrears_pwc_pence", "arrears_sos_pence"]),
        "journeys": read_frame(
            conn,
            select(case_journey.c.csa_case_ref.label("case_ref"), case_journey.c.ledger_pwc_pence,
                   case_journey.c.ledger_sos_pence).where(case_journey.c.csa_case_ref.in_(refs)),
            integers=["ledger_pwc_pence", "ledger_sos_pence"],
        ),
        "write_offs": read_frame(
            conn,
            select(write_off.c.csa_case_ref.label("case_ref"), write_off.c.creditor, write_off.c.reason,
                   write_off.c.amount_pence).where(write_off.c.csa_case_ref.in_(refs)),
        ),
        "lines": read_frame(conn, lines),
        "instalments": read_frame(
            conn,
            select(cms_arrears_instalment.c.unpaid_maintenance_id, cms_arrears_instalment.c.amount_pence)
            .where(cms_arrears_instalment.c.unpaid_maintenance_id.in_(
                select(lines.subquery().c.unpaid_maintenance_id)
            )),
        ),
        "letters": read_frame(
            conn,
            select(letter.c.csa_case_ref.label("case_ref"), letter.c.template, letter.c.recipient_role,
                   letter.c.status).where(letter.c.csa_case_ref.in_(refs)),
        ),
        "parents": read_frame(
            conn,
            select(legacy_case.c.case_ref, legacy_case.c.nrp_deceased, legacy_case.c.pwc_deceased)
            .where(legacy_case.c.case_ref.in_(refs)),
        ),
    }


def money_rows(conn: Connection, tranche_id: str | None = None) -> dict[str, pd.DataFrame]:
    """The money rows ``transform.reconciliation.money_totals`` reads, summed in the database by
    tranche, segment, scheme and journey state: each such group reads as one case (``case_ref``
    is the group's key), so the whole estate is reconciled without a row per case in memory."""
    o, j = closure_outcome.c, case_journey.c
    where = [o.tranche_id == tranche_id] if tranche_id else []
    keys = [o.tranche_id, o.segment, o.scheme, o.journey_state]
    group = _group_key(keys).label("case_ref")
    outcomes = read_frame(conn, select(
        group, o.tranche_id, o.segment, o.scheme, o.journey_state,
        *(_sum(o[c]).label(c) for c in ("arrears_pwc_pence", "arrears_sos_pence", "pending_pence",
                                        "transferred_pence", "written_off_pence")),
    ).select_from(closure_outcome).where(*where).group_by(*keys))
    journeys = read_frame(conn, select(group, _sum(j.ledger_pwc_pence).label("ledger_pwc_pence"),
                                       _sum(j.ledger_sos_pence).label("ledger_sos_pence"))
                          .select_from(case_journey.join(closure_outcome, o.csa_case_ref == j.csa_case_ref))
                          .where(*where).group_by(*keys))
    write_offs = read_frame(
        conn,
        select(group, write_off.c.creditor, _sum(write_off.c.amount_pence).label("amount_pence"))
        .select_from(write_off.join(closure_outcome, o.csa_case_ref == write_off.c.csa_case_ref))
        .where(*where)
        .group_by(*keys, write_off.c.creditor),
    )
    m = cms_unpaid_maintenance.c
    lines = read_frame(
        conn,
        select(group, m.creditor, _sum(m.amount_pence).label("amount_pence"))
        .select_from(
            cms_unpaid_maintenance.join(cms_case).join(closure_outcome, o.csa_case_ref == cms_case.c.csa_case_ref)
        )
        .where(*where)
        .group_by(*keys, m.creditor),
    )
    return {"outcomes": outcomes, "journeys": journeys, "write_offs": write_offs, "lines": lines}


def _sum(column) -> ColumnElement:
    """A sum of pence as a whole number on both backends (PostgreSQL sums BIGINT as NUMERIC)."""
    return cast(func.coalesce(func.sum(column), 0), BigInteger)


def _group_key(columns) -> ColumnElement:
    """One text key for a group of cases, joining the grouping columns."""
    parts = [cast(column, Text) for column in columns]
    key = parts[0]
    for part in parts[1:]:
        key = key.op("||")("|").op("||")(part)
    return key
