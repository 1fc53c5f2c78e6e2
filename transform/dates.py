"""Calendar arithmetic of the rulebook: month steps, notice periods, deadlines, ages.

All functions take and return pandas Series of datetime64 (NaT stays NaT), so one call dates a
whole tranche. Month arithmetic follows section 3: add calendar months and, where the day does
not exist in the target month, use that month's last day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csa_closure.settings import RuleSettings


def add_months(dates: pd.Series, months: int) -> pd.Series:
    """Add calendar months, clipping to the target month's last day (31 Aug + 6 = 28/29 Feb)."""
    days = dates.to_numpy().astype("datetime64[D]")
    month = days.astype("datetime64[M]")
    day_in_month = days - month.astype("datetime64[D]")
    target = month + np.timedelta64(months, "M")
    target_length = (target + np.timedelta64(1, "M")).astype("datetime64[D]") - target.astype(
        "datetime64[D]"
    )
    shifted = target.astype("datetime64[D]") + np.minimum(
        day_in_month, target_length - np.timedelta64(1, "D")
    )
    return pd.Series(shifted, index=dates.index, name=dates.name).astype(dates.dtype)


def add_days(dates: pd.Series, days: int) -> pd.Series:
    """Add a number of calendar days (notice periods and deadlines count days, not months)."""
    return dates + pd.Timedelta(days=days)


def liability_end_date(selected_on: pd.Series, rules: RuleSettings) -> pd.Series:
    """E = S + 6 months: when ongoing liability stops for a planned selection (section 3)."""
    return add_months(selected_on, rules.liability_notice_months)


def reactive_liability_end_date(received_on: pd.Series, rules: RuleSettings) -> pd.Series:
    """E = application date + 30 days for a reactive closure (section 3)."""
    return add_days(received_on, rules.reactive_notice_days)


def reminder_date(liability_end: pd.Series, rules: RuleSettings) -> pd.Series:
    """Reminder letters go one calendar month before liability ends (section 3)."""
    return add_months(liability_end, -rules.reminder_months_before_end)


def choice_deadline(decided_on: pd.Series, rules: RuleSettings) -> pd.Series:
    """The last day (inclusive) the receiving parent may answer the arrears choice (section 6)."""
    return add_days(decided_on, rules.choice_window_days)


def extended_deadline(deadline: pd.Series, rules: RuleSettings) -> pd.Series:
    """The deadline after the one extension a parent may ask for (section 7)."""
    return add_days(deadline, rules.extension_days)


def reference_date(as_of: pd.Timestamp | pd.Series, extracted_on: pd.Series) -> pd.Series:
    """Earlier of the as-of and extract dates: the engine knows the ledger only up to the extract.

    ``as_of`` is one run date or a date per case (a decision date, aligned with the extract).
    """
    return extracted_on.where(extracted_on < as_of, as_of)


def whole_years(start: pd.Series, on: pd.Series) -> pd.Series:
    """Whole years from ``start`` to ``on`` as a birthday counts age (29 Feb counts on 1 Mar)."""
    start_index = start.dt.month * 100 + start.dt.day
    on_index = on.dt.month * 100 + on.dt.day
    years = on.dt.year - start.dt.year - (on_index < start_index).astype("int64")
    return years.astype("int64")
