"""Every rule of RULEBOOK.md as pure, vectorised functions over the canonical frames.

No database, no Prefect: frames in, frames out. Money is int64 pence, dates are datetime64
(NaT for none), and every bold number of the rulebook comes from a ``RuleSettings``.
"""
