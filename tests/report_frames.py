"""A small report's grouped frames, as ``load.report`` reads them: two selected tranches and one
planned, figures that add up to the penny. Shared by the report's model and rendering tests."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd

from transform.report import ReportRows

CLOCK = date(2014, 10, 1)


def frame(columns: str, *rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=columns.split())


def report_rows(**changes: pd.DataFrame) -> ReportRows:
    """Two selected tranches and one planned; the figures add up to the penny."""
    rows = dict(
        tranches=frame(
            "tranche_id kind selection_date segment_group planned_cases",
            ("T0001", "PLANNED", pd.Timestamp("2014-07-07"), "1", 5),
            ("T0002", "PLANNED", pd.Timestamp("2014-07-14"), "6", 2),
            ("T0003", "PLANNED", pd.Timestamp("2014-07-21"), "2", 7),
        ),
        states=frame(
            "tranche_id journey_state cases",
            ("T0001", "CLOSED", 3), ("T0001", "AWAITING_CHOICE", 1), ("T0001", "ON_HOLD", 1),
            ("T0002", "AWAITING_LIABILITY_END", 2),
        ),
        transfers=frame("creditor cases pence", ("PWC", 2, 150_000), ("SOS", 1, 20_001)),
        write_offs=frame("reason cases pence", ("NO_RESPONSE", 1, 30_000), ("BELOW_THRESHOLD", 1, 6_499)),
        pending=frame("journey_state cases pence", ("AWAITING_CHOICE", 1, 80_000),
                      ("AWAITING_LIABILITY_END", 2, 12_345)),
        holds=frame("hold_reason journey_state cases pence", ("MISMATCH", "ON_HOLD", 1, 34_000),
                    ("CREDIT_BALANCE", "CLOSED", 1, 0)),
        letters=frame("template status letters", ("INITIAL_NOTICE", "PENDING", 10),
                      ("INITIAL_NOTICE", "DISPATCHED", 4), ("ARREARS_CHOICE", "UNDELIVERABLE", 1)),
        quarantine=frame(
            "source_table reasons records",
            ("cscs_case", json.dumps([{"column": "case_ref", "check": "format", "value": "X1"},
                                      {"column": "nrp_ref", "check": "format", "value": "Q"},
                                      {"column": "pwc_ref", "check": "not_null", "value": None}]), 2),
            ("cscs_case", json.dumps([{"column": "case_ref", "check": "format", "value": "X2"}]), 1),
            ("cs2_ledger", json.dumps([{"column": "amt", "check": "amount", "value": "1.2.3"}]), 3),
        ),
        held_cases=frame("scheme cases", ("2003", 4), ("1993", 2)),
        reconciliation=frame(
            "tranche_id segment scheme creditor arrears transferred written_off pending on_hold difference",
            ("T0001", 2, "1993", "PWC", 296_499, 150_000, 36_499, 80_000, 30_000, 0),
            ("T0001", 2, "1993", "SOS", 24_001, 20_001, 0, 0, 4_000, 0),
            ("T0002", 6, "2003", "PWC", 12_345, 0, 0, 12_345, 0, 0),
        ),
        failed_units=frame("batch_id step due_on last_error"),
        unstarted=frame("batch_id cases"),
        runs=frame(
            "command as_of started_at finished_at state",
            ("advance", pd.Timestamp("2014-10-01"), pd.Timestamp("2026-12-06 05:00:03", tz="UTC"), None, "INTERRUPTED"),
            ("plan", pd.Timestamp("2014-07-07"), pd.Timestamp("2026-12-01 09:30:00", tz="UTC"),
             pd.Timestamp("2026-12-01 09:30:40", tz="UTC"), "COMPLETED"),
        ),
    )
    return ReportRows(**(rows | changes))


def empty_rows() -> ReportRows:
    """What the reads give before anything is selected: the columns, no rows."""
    full = report_rows()
    return ReportRows(**{name: getattr(full, name).iloc[0:0].astype(object) for name in full.__dataclass_fields__})
