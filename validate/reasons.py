"""Every reason a raw record breaks its contract, collected lazily into quarantine reasons.

A reason is ``{"column", "check", "value"}`` (docs/design.md); a record's reasons are a list,
so an operator sees all that is wrong with it at once.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pandera.pandas as pa

from validate.checks import has_control_characters
from validate.raw import ParsedRows, RawContract

Reason = dict[str, Any]

_PANDERA_CHECK_NAMES = {"not_nullable": "not_null"}


def reason(column: str, check: str, value: Any) -> Reason:
    return {"column": column, "check": check, "value": _plain(value)}


def _plain(value: Any) -> Any:
    if value is None or (not isinstance(value, (list, dict)) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def contract_reasons(rows: ParsedRows, contract: RawContract) -> dict[Any, list[Reason]]:
    """Reasons per row label of ``rows`` for every check of the contract it fails (lazily), and
    a ``control_character`` reason for each of its text values, in any column, that holds one."""
    raw = rows.text
    found = merge_reasons(
        _schema_reasons(raw, contract.table, contract.schema, raw, reported_column=None),
        _date_reasons(rows),
    )
    for row_check in contract.row_checks:
        inputs = row_check.inputs(rows)
        found = merge_reasons(
            found, _schema_reasons(raw, contract.table, row_check.schema, inputs, row_check.reported_column)
        )
    return merge_reasons(found, _control_character_reasons(raw))


def _date_reasons(rows: ParsedRows) -> dict[Any, list[Reason]]:
    """A ``date`` reason for each text of a date column that is not a date in its format (a
    missing one is ``not_null``'s to report, where the column requires a value)."""
    return reasons_at(
        rows.text,
        (
            (row, column, "date")
            for column, days in rows.dates.items()
            for row in rows.text.index[(rows.text[column].notna() & days.isna()).to_numpy()]
        ),
    )


def _control_character_reasons(raw: pd.DataFrame) -> dict[Any, list[Reason]]:
    """Every column of a raw frame is text, the names and addresses the schemas leave
    unchecked included."""
    return reasons_at(
        raw,
        (
            (row, column, "control_character")
            for column in raw.columns
            for row in raw.index[has_control_characters(raw[column]).to_numpy()]
        ),
    )


def _schema_reasons(
    raw: pd.DataFrame, table: str, schema: pa.DataFrameSchema, checked: pd.DataFrame, reported_column: str | None
) -> dict[Any, list[Reason]]:
    try:
        schema.validate(checked, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return _reasons_from_failures(raw, table, errors.failure_cases, reported_column)
    return {}


def _reasons_from_failures(
    raw: pd.DataFrame, table: str, failures: pd.DataFrame, reported_column: str | None
) -> dict[Any, list[Reason]]:
    if failures["index"].isna().any():
        failure = failures[failures["index"].isna()].iloc[0].to_dict()
        raise ValueError(f"{table}: schema failure without a row: {failure}")
    checks = failures["check"].astype(object).map(lambda check: _PANDERA_CHECK_NAMES.get(check, check))
    columns = failures["column"].astype(object) if reported_column is None else reported_column
    found = pd.DataFrame({"row": failures["index"].to_numpy(), "column": columns, "check": checks})
    found = found.drop_duplicates()
    return reasons_at(raw, zip(found["row"], found["column"], found["check"]))


def reasons_at(raw: pd.DataFrame, places) -> dict[Any, list[Reason]]:
    """Reasons per row for ``(row, column, check)`` places, each with the raw value there.

    The values are looked up a column at a time: label lookups one value at a time cost more
    than the rest of a batch's validation.
    """
    places = list(places)
    rows_of: dict[str, list] = {}
    for row, column, _check in places:
        rows_of.setdefault(column, []).append(row)
    values = {column: dict(zip(rows, raw[column].loc[rows].astype(object))) for column, rows in rows_of.items()}
    found: dict[Any, list[Reason]] = {}
    for row, column, check in places:
        found.setdefault(row, []).append(reason(column, check, values[column][row]))
    return found


def merge_reasons(*reason_maps: dict[Any, list[Reason]]) -> dict[Any, list[Reason]]:
    """All reasons per row from several sources, in order, without repeats."""
    merged: dict[Any, list[Reason]] = {}
    for reasons in reason_maps:
        for row, items in reasons.items():
            bucket = merged.setdefault(row, [])
            bucket.extend(item for item in items if item not in bucket)
    return merged
