"""The proportions the synthetic estate is built to, in one place (CONTRACTS.md section 5).

Every share is a probability drawn per case (or per record) with the chunk's own generator, so
an estate of any size lands near these figures; the shape test checks them at 100,000 cases.
"""

from __future__ import annotations

from datetime import date

# --- size and split --------------------------------------------------------------------------

CHUNK_CASES = 10_000
"""Cases generated and written per chunk: memory is bounded by a chunk, whatever N is."""

CSCS_SHARE = 0.30
"""1993 scheme (CSCS) share of cases; the rest are 2003 scheme (CS2)."""

# --- dates ---------------------------------------------------------------------------------------

CSCS_FIRST_START = date(1993, 4, 5)
CS2_FIRST_START = date(2003, 3, 3)
CSCS_LATE_START_SHARE = 0.15
"""CSCS cases starting after CS2 opened (linked cases); the rest start 1993-04-05..2003-03-02."""

YOUNGEST_CASE_DAYS = 180
"""Every case starts at least this long before the extract date, so each profile has a past."""

IMA_WINDOW_END = date(1995, 4, 18)
IMA_SHARE_EARLY = 0.50
"""CSCS cases starting inside the interim-assessment window (1993-04-05..1995-04-18, RULEBOOK
section 6 step 2) whose first periods are IMA charges; phases of 3..30 months give periods
wholly inside the window and periods crossing its end."""
IMA_SHARE_LATE = 0.05
"""CSCS cases starting later that still began on an interim assessment (outside the window)."""
IMA_MONTHS = (3, 30)
IMA_RATE_NUMERATOR = 3
"""Interim assessments were punitive: 3/2 of the full rate."""

# --- profiles: the segment (RULEBOOK section 2, as of the extract date) a case is built for ---

ARREARS_ONLY, NIL_ASSESSED, ENFORCEMENT, NON_COMPLIANT, CLERICAL, SYSTEM, NOTHING_OWED = range(7)
"""Segments 6, 1, 5, 2, 3 and 4 in turn; NOTHING_OWED is closed with no arrears (out of scope)."""

PROFILE_SHARES = {
    ARREARS_ONLY: 0.22,
    NIL_ASSESSED: 0.10,
    ENFORCEMENT: 0.10,
    NON_COMPLIANT: 0.20,
    CLERICAL: 0.05,
    SYSTEM: 0.27,
    NOTHING_OWED: 0.06,
}
ARREARS_SHARE = {
    ARREARS_ONLY: 1.00,
    NIL_ASSESSED: 0.85,
    ENFORCEMENT: 0.95,
    NON_COMPLIANT: 0.95,
    CLERICAL: 0.80,
    SYSTEM: 0.80,
    NOTHING_OWED: 0.0,
}
"""Share of each profile owing arrears: about 85% of all cases."""

PAYING_SHARE = {
    ARREARS_ONLY: 0.30,
    NIL_ASSESSED: 0.25,
    ENFORCEMENT: 0.60,
    NON_COMPLIANT: 0.0,
    CLERICAL: 1.0,
    SYSTEM: 1.0,
    NOTHING_OWED: 0.0,
}
"""Share with a receipt in the 91 days before the extract date (`paying`, RULEBOOK section 6)."""

LIVE_PROFILES = (NIL_ASSESSED, ENFORCEMENT, NON_COMPLIANT, CLERICAL, SYSTEM)
ENDED_PROFILES = (ARREARS_ONLY, NOTHING_OWED)
PAYING_WINDOW_DAYS = 91
LAST_PAYING_RECEIPT_DAYS = 60
"""A paying case's last receipt falls within this many days of the extract date."""

# --- payment, enforcement and flags ------------------------------------------------------------

COLLECTION, MAINTENANCE_DIRECT, DEO, NO_METHOD = range(4)
PAYMENT_SHARES = {
    ARREARS_ONLY: (0.50, 0.0, 0.0, 0.50),
    NIL_ASSESSED: (0.40, 0.0, 0.0, 0.60),
    NON_COMPLIANT: (0.60, 0.25, 0.0, 0.15),
    CLERICAL: (0.70, 0.30, 0.0, 0.0),
    SYSTEM: (0.70, 0.30, 0.0, 0.0),
    NOTHING_OWED: (0.0, 0.0, 0.0, 1.0),
}
"""(COLLECTION, MAINTENANCE_DIRECT, DEO, NONE) per profile; ENFORCEMENT is decided below."""
ENFORCEMENT_DEO_SHARE = 0.50
"""Enforcement cases paying by deduction from earnings; the others carry an enforcement action."""
ARREARS_ONLY_ACTION_SHARE = 0.20
"""Arrears-only cases with an enforcement action on record (segment 6 still wins)."""
CLERICAL_SHARE_ELSEWHERE = 0.05
"""Offline flag on profiles other than CLERICAL and SYSTEM (it does not change their segment)."""
DV_SHARE = 0.03
INTERIM_SHARE = 0.05
"""Cases whose current assessment is interim (CSCS INTERIM, CS2 DFT)."""
FLAT_RATE_SHARE = 0.10
"""Cases assessed at the flat rate (CS2 rate FLT)."""
FLAT_RATE_PENCE = 500
REDUCED_RATE_BELOW_PENCE = 2_000
WEEKLY_MEDIAN_PENCE = 2_500
WEEKLY_RANGE_PENCE = (600, 25_000)

# --- money ---------------------------------------------------------------------------------------

UNDER_1000_SHARE = 0.55
"""Cases with arrears owing under £1,000 in total (uniform £10..£999.99); the rest owe
£1,000 plus a log-normal amount (median £1,500), capped at £80,000."""
OVER_1000_MEDIAN_PENCE = 150_000
OVER_1000_SIGMA = 1.1
ARREARS_CAP_PENCE = 8_000_000
CHARGE_COVER = 0.85
"""Arrears are at most this share of the charges: the historic rate is raised to cover them."""

SOS_ONLY_SHARE = 0.18
SOS_MIXED_SHARE = 0.44
"""Cases whose early periods (receiving parent on benefit) were owed to the Secretary of State:
all of them on 18%, a uniform 10..90% of the periods on 44%. About 40% of arrears are SoS."""

MAX_CHARGE_PERIODS = 48
"""Assessment periods are 1, 3, 6 or 12 calendar months: the shortest keeping at most 48."""
MAX_RECEIPT_LINES = 24
MIN_RECEIPT_PENCE = 500
DEBIT_ADJUSTMENT_SHARE = 0.12
CREDIT_ADJUSTMENT_SHARE = 0.08
ADJUSTMENT_RANGE_PENCE = (500, 20_000)

MISMATCH_SHARE = 0.03
"""Cases (other than closed with nothing owed) whose recorded balance differs from the ledger
by 101..30,000 pence for one creditor. Credit-balance cases record nil for the creditor in
credit, so they add about 0.4 points of differences over 100 pence."""
TOLERATED_DIFFERENCE_SHARE = 0.05
"""Cases whose recorded balance differs by 1..100 pence: inside the verification tolerance."""
MISMATCH_RANGE_PENCE = (101, 30_000)
TOLERATED_RANGE_PENCE = (1, 100)

CREDIT_BALANCE_SHARE = 0.005
"""Cases with a negative ledger balance for one creditor (an overpayment of £1..£20), drawn
among paying live cases."""
CREDIT_RANGE_PENCE = (100, 2_000)

# --- parents and children ------------------------------------------------------------------------

NRP_DECEASED_SHARE_OF_ENDED = 0.08
"""Ended, non-paying cases whose NRP has died (liability ended on the death): about 1.7% of all."""
PWC_DECEASED_SHARE = 0.015
NRP_UNTRACED_SHARE = 0.05
PWC_UNTRACED_SHARE = 0.01
NRP_ABROAD_SHARE = 0.02
PWC_ABROAD_SHARE = 0.005
SECOND_CASE_NRP_SHARE = 0.02
"""Cases whose NRP is also the NRP of another case (with another PWC) in the same scheme."""
NINO_MISSING_SHARE = 0.05
ADDRESS_LINE2_SHARE = 0.50
CHILDREN_SHARES = (0.50, 0.33, 0.17)
"""One, two or three qualifying children."""

# --- deliberately malformed records ---------------------------------------------------------------

MALFORMED_SHARE = 0.005
"""Share of each legacy table's records made malformed, split over the kinds for that table."""
DIRTY_CASE_SHARE = 0.04
"""Cases that carry the spoiled case, child and ledger records: dirt clusters in badly kept
cases, and about 0.5% of ledger lines spread at random would taint a fifth of all cases."""
