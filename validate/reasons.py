"""Every reason a raw record breaks its contract, collected lazily into quarantine reasons.

A reason is ``{"column", "check", "value"}`` (docs/design.md); a record's reasons are a list,
so an operator sees all that is wrong with it at once.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pandera.pandas as pa

from validate.raw import RawContract

Reason = dict[str, Any]

_PANDERA_CHECK_NAMES = {"not_nullable": "not_null"}


def reason(column: str, check: str, value: Any) -> Reason:
    return {"column": column, "check": check, "value": _plain(value)}


def _plain(value: Any) -> Any:
    if value is None or (not isinstance(value, (list, dict)) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def contract_reasons(raw: pd.DataFrame, contract: RawContract) -> dict[Any, list[Reason]]:
    """Reasons per row label of ``raw`` for every check of the contract it fails (lazily)."""
    try:
        contract.schema.validate(raw, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return _reasons_from_failures(raw, contract, errors.failure_cases)
    return {}


def _reasons_from_failures(
    raw: pd.DataFrame, contract: RawContract, failures: pd.DataFrame
) -> dict[Any, list[Reason]]:
    found: dict[Any, list[Reason]] = {}
    seen: set[tuple[Any, str, str]] = set()
    for failure in failures.itertuples(index=False):
        if pd.isna(failure.index):
            raise ValueError(f"{contract.table}: schema failure without a row: {failure}")
        check = _PANDERA_CHECK_NAMES.get(failure.check, failure.check)
        column = contract.row_check_columns.get(check) or failure.column
        row = failure.index
        if (row, column, check) in seen:
            continue
        seen.add((row, column, check))
        found.setdefault(row, []).append(reason(column, check, raw.at[row, column]))
    return found


def merge_reasons(*reason_maps: dict[Any, list[Reason]]) -> dict[Any, list[Reason]]:
    """All reasons per row from several sources, in order, without repeats."""
    merged: dict[Any, list[Reason]] = {}
    for reasons in reason_maps:
        for row, items in reasons.items():
            bucket = merged.setdefault(row, [])
            bucket.extend(item for item in items if item not in bucket)
    return merged
