"""Throughput of the rules: classify + verify + allocate + decide over synthetic cases.

Builds ``--cases`` synthetic cases in memory (ledgers of 20–30 lines a case) in chunks of
``--chunk`` cases, times the four rule stages on each chunk (building the data is not timed)
and prints cases per second. Target: 50,000 cases/s on one core.

    taskset -c 1 .venv/bin/python bench/bench_rules.py --cases 1000000 --chunk 100000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from csa_closure.settings import RuleSettings
from transform.allocation import allocate_payments
from transform.dates import reference_date
from transform.decision import decide_arrears
from transform.ledger import creditor_balances, lines_known_on
from transform.segments import classify_segments, last_receipt_on
from transform.verification import verify_arrears

AS_OF = pd.Timestamp("2015-06-01")
EXTRACTED_ON = pd.Timestamp("2014-06-30")
FIRST_DAY = np.datetime64("1993-04-05", "D")
DAYS = int((np.datetime64("2014-06-30", "D") - FIRST_DAY).astype(int))


def synthetic_chunk(
    first: int, count: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``count`` canonical cases from number ``first`` with their ledgers."""
    numbers = np.arange(first, first + count)
    case_refs = np.char.add("C", np.char.zfill(numbers.astype(str), 9))
    lines_per_case = rng.integers(20, 31, count)
    owner = np.repeat(np.arange(count), lines_per_case)
    size = len(owner)
    kind = rng.choice(
        np.array(["CHARGE", "IMA_CHARGE", "RECEIPT", "ADJUSTMENT"]),
        size,
        p=[0.55, 0.05, 0.35, 0.05],
    )
    charge = (kind == "CHARGE") | (kind == "IMA_CHARGE")
    credit = (kind == "RECEIPT") | ((kind == "ADJUSTMENT") & (rng.random(size) < 0.5))
    amount = np.where(credit, -rng.integers(500, 12_000, size), rng.integers(1_000, 20_000, size))
    posted = FIRST_DAY + rng.integers(0, DAYS, size).astype("timedelta64[D]")
    period_from = np.where(charge, posted - np.timedelta64(35, "D"), np.datetime64("NaT"))
    ledger = pd.DataFrame(
        {
            "case_ref": pd.Series(case_refs[owner], dtype="str"),
            "line_ref": np.arange(size, dtype=np.int64) + first * 40,
            "posted_date": posted.astype("datetime64[ns]"),
            "kind": pd.Series(kind, dtype="str"),
            "creditor": pd.Series(np.where(rng.random(size) < 0.6, "PWC", "SOS"), dtype="str"),
            "amount_pence": amount.astype(np.int64),
            "period_from": period_from.astype("datetime64[ns]"),
            "period_to": np.where(
                charge, posted - np.timedelta64(5, "D"), np.datetime64("NaT")
            ).astype("datetime64[ns]"),
        }
    )
    balances = creditor_balances(ledger, pd.Series(case_refs, dtype="str"))
    misstated = rng.random(count) < 0.03
    status = rng.choice(np.array(["LIVE", "ARREARS_ONLY", "CLOSED"]), count, p=[0.7, 0.25, 0.05])
    cases = pd.DataFrame(
        {
            "case_ref": pd.Series(case_refs, dtype="str"),
            "scheme": pd.Series(np.where(rng.random(count) < 0.3, "1993", "2003"), dtype="str"),
            "case_start_date": (
                FIRST_DAY + rng.integers(0, DAYS, count).astype("timedelta64[D]")
            ).astype("datetime64[ns]"),
            "status": pd.Series(status, dtype="str"),
            "weekly_liability_pence": rng.integers(0, 5, count) * 1_000,
            "payment_method": pd.Series(
                rng.choice(
                    np.array(["COLLECTION", "MAINTENANCE_DIRECT", "DEO", "NONE"]),
                    count,
                    p=[0.6, 0.25, 0.1, 0.05],
                ),
                dtype="str",
            ),
            "enforcement_action": pd.Series(
                np.where(rng.random(count) < 0.1, "LIABILITY_ORDER", None), dtype="str"
            ),
            "clerical": rng.random(count) < 0.1,
            "recorded_total_pence": balances.sum(axis=1).to_numpy() + np.where(misstated, 5_000, 0),
            "recorded_sos_pence": balances["sos_pence"].to_numpy(),
            "nrp_deceased": rng.random(count) < 0.02,
            "pwc_deceased": rng.random(count) < 0.01,
            "extracted_on": np.full(count, EXTRACTED_ON.to_datetime64()).astype("datetime64[ns]"),
        }
    )
    return cases, ledger


def run_rules(cases: pd.DataFrame, ledger: pd.DataFrame, rules: RuleSettings) -> int:
    """Classify, verify, allocate and decide as of one date; returns the number of parts."""
    lines = lines_known_on(ledger, AS_OF, cases.set_index("case_ref")["extracted_on"])
    reference = reference_date(AS_OF, cases["extracted_on"])
    cases = cases.assign(
        last_receipt_on=last_receipt_on(
            lines, pd.Series(reference.to_numpy(), index=cases["case_ref"])
        ).to_numpy(),
        decided_on=AS_OF,
    )
    classify_segments(cases, AS_OF, rules)
    verification = verify_arrears(cases, lines, AS_OF, rules)
    verified = (verification["outcome"] == "VERIFIED").to_numpy()
    debits = allocate_payments(lines)
    decision = decide_arrears(cases[verified], debits, rules)
    return len(decision.parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2014)
    args = parser.parse_args()
    rules = RuleSettings()
    rng = np.random.default_rng(args.seed)
    timed = 0.0
    lines = 0
    for first in range(0, args.cases, args.chunk):
        count = min(args.chunk, args.cases - first)
        cases, ledger = synthetic_chunk(first, count, rng)
        lines += len(ledger)
        started = time.perf_counter()
        parts = run_rules(cases, ledger, rules)
        elapsed = time.perf_counter() - started
        timed += elapsed
        print(
            f"cases {first:>9,}+{count:,}: {len(ledger):,} lines, {parts:,} parts, "
            f"{elapsed:.2f} s, {count / elapsed:,.0f} cases/s"
        )
    print(
        f"total {args.cases:,} cases, {lines:,} ledger lines: {timed:.1f} s, "
        f"{args.cases / timed:,.0f} cases/s"
    )


if __name__ == "__main__":
    main()
