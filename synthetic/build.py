"""One chunk of cases of one scheme, drawn as numpy arrays before any legacy formatting.

The draw works backwards from what each case must show at the extract date: its profile (the
segment it is built for), its arrears per creditor and whether it is paying. Charges come from
the assessment periods, then receipts are sized so that the ledger balance of each creditor is
exactly the arrears drawn; the recorded balances are the ledger balances plus deliberate
differences. Everything is vectorised over the chunk; the only loops are over a few profiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic import shape
from synthetic.dates import day_number, first_day_of_month, month_of, years_before
from synthetic.words import (
    FORENAMES,
    LOCALITIES,
    SURNAMES,
    TEXT,
    join,
    ninos,
    pick,
    postcodes,
    street_lines,
    towns,
)

LIVE, ARREARS_ONLY_STATUS, CLOSED = range(3)
CHARGE, IMA_CHARGE, RECEIPT, ADJUSTMENT = range(4)
PWC, SOS = range(2)
ENFORCEMENT_ACTIONS = 8
"""Actions are drawn as indices into the eight CS2 codes; CSCS names RDO and LSDO alike."""


@dataclass
class Cases:
    """One row per case; money in pence, dates as day numbers, parents as person indices."""

    profile: np.ndarray
    start: np.ndarray
    status: np.ndarray
    nil: np.ndarray
    interim: np.ndarray
    weekly: np.ndarray
    charged_weekly: np.ndarray
    payment: np.ndarray
    action: np.ndarray
    clerical: np.ndarray
    dv: np.ndarray
    recorded_total: np.ndarray
    recorded_sos: np.ndarray
    nrp: np.ndarray
    pwc: np.ndarray


@dataclass
class Persons:
    """One row per parent; text columns are string arrays, with a mask where a value is NULL."""

    surname: np.ndarray
    forenames: np.ndarray
    birth: np.ndarray
    nino: np.ndarray
    nino_missing: np.ndarray
    line1: np.ndarray
    line2: np.ndarray
    line2_missing: np.ndarray
    town: np.ndarray
    postcode: np.ndarray
    untraced: np.ndarray
    abroad: np.ndarray
    died: np.ndarray
    death: np.ndarray


@dataclass
class Children:
    case: np.ndarray
    number: np.ndarray
    birth: np.ndarray


@dataclass
class Ledger:
    """Ledger lines grouped by case in posting order; amounts signed (+ raises the debt)."""

    case: np.ndarray
    seq: np.ndarray
    posted: np.ndarray
    kind: np.ndarray
    creditor: np.ndarray
    amount: np.ndarray
    period_from: np.ndarray
    period_to: np.ndarray
    has_period: np.ndarray


@dataclass
class SchemeDraw:
    cases: Cases
    persons: Persons
    children: Children
    ledger: Ledger


@dataclass
class _Life:
    """What the draw decides first about each case, before its ledger."""

    profile: np.ndarray
    start: np.ndarray
    charge_end: np.ndarray
    paying: np.ndarray
    last_receipt: np.ndarray
    arrears: np.ndarray
    ima_months: np.ndarray


def draw_scheme(rng: np.random.Generator, n: int, scheme: str, extract_day: int) -> SchemeDraw:
    """``n`` cases of ``scheme`` ('1993' or '2003') as seen on the extract day."""
    life = _draw_life(rng, n, scheme, extract_day)
    ledger, balances, weekly = _draw_ledger(rng, life)
    recorded_pwc, recorded_sos = _recorded_balances(rng, life, balances)
    persons, nrp, pwc, pwc_age = _draw_persons(rng, life, extract_day)
    cases = _draw_case_record(rng, life, weekly)
    cases.recorded_total = recorded_pwc + recorded_sos
    cases.recorded_sos = recorded_sos
    cases.nrp, cases.pwc = nrp, pwc
    return SchemeDraw(cases, persons, _draw_children(rng, life, pwc_age), ledger)


def _by_profile(profile: np.ndarray, table: dict[int, float]) -> np.ndarray:
    return np.array([table[p] for p in range(len(table))])[profile]


def _draw_life(rng: np.random.Generator, n: int, scheme: str, extract_day: int) -> _Life:
    shares = np.array([shape.PROFILE_SHARES[p] for p in range(len(shape.PROFILE_SHARES))])
    profile = rng.choice(len(shares), size=n, p=shares / shares.sum())
    latest = extract_day - shape.YOUNGEST_CASE_DAYS
    cs2_first = day_number(shape.CS2_FIRST_START)
    if scheme == "1993":
        cscs_first = day_number(shape.CSCS_FIRST_START)
        early = rng.integers(cscs_first, min(cs2_first, latest + 1), n)
        late = rng.integers(min(cs2_first, latest), latest + 1, n)
        start = np.where(rng.random(n) < shape.CSCS_LATE_START_SHARE, late, early)
        window_end = day_number(shape.IMA_WINDOW_END)
        ima_share = np.where(start < window_end, shape.IMA_SHARE_EARLY, shape.IMA_SHARE_LATE)
        ima = rng.random(n) < ima_share
    else:
        start = rng.integers(cs2_first, latest + 1, n)
        ima = np.zeros(n, dtype=bool)
    ima_months = np.where(ima, rng.integers(shape.IMA_MONTHS[0], shape.IMA_MONTHS[1] + 1, n), 0)

    charging_now = np.isin(profile, shape.LIVE_PROFILES) & (profile != shape.NIL_ASSESSED)
    stopped = rng.integers(start + 90, extract_day - 30 + 1)
    charge_end = np.where(charging_now, extract_day, stopped)

    paying = rng.random(n) < _by_profile(profile, shape.PAYING_SHARE)
    recent = extract_day - rng.integers(0, shape.LAST_PAYING_RECEIPT_DAYS + 1, n)
    older = rng.integers(start + 14, extract_day - shape.PAYING_WINDOW_DAYS)
    last_receipt = np.where(paying, recent, older)

    owes = rng.random(n) < _by_profile(profile, shape.ARREARS_SHARE)
    under = rng.integers(1_000, 100_000, n)
    over = 100_000 + rng.lognormal(np.log(shape.OVER_1000_MEDIAN_PENCE), shape.OVER_1000_SIGMA, n)
    over = np.minimum(over.astype(np.int64), shape.ARREARS_CAP_PENCE)
    arrears = np.where(owes, np.where(rng.random(n) < shape.UNDER_1000_SHARE, under, over), 0)
    return _Life(profile, start, charge_end, paying, last_receipt, arrears, ima_months)


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of ``counts`` items: each item's group and its position within the group."""
    owner = np.repeat(np.arange(len(counts)), counts)
    offsets = np.cumsum(counts) - counts
    return owner, np.arange(len(owner)) - offsets[owner]


def group_sum(values: np.ndarray, group: np.ndarray, groups: int) -> np.ndarray:
    """Integer sums of ``values`` by ``group`` (exact: no float weights)."""
    total = np.zeros(groups, dtype=np.int64)
    np.add.at(total, group, values)
    return total


def split_total(rng: np.random.Generator, totals: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cut each total into ``counts`` uneven whole parts summing exactly to it (integer
    arithmetic on cumulative random weights, so no penny is lost to rounding)."""
    owner, k = expand(counts)
    weight = rng.integers(50, 151, len(owner))
    cumulative = np.concatenate(([0], np.cumsum(weight)))
    offsets = np.cumsum(counts) - counts
    before = cumulative[offsets]
    group_weight = cumulative[offsets + counts] - before
    within = cumulative[1:] - before[owner]
    bound = totals[owner] * within // np.maximum(group_weight[owner], 1)
    previous = np.where(k == 0, 0, np.concatenate(([0], bound[:-1])))
    return bound - previous


def _draw_ledger(rng: np.random.Generator, life: _Life) -> tuple[Ledger, np.ndarray, np.ndarray]:
    """Charges per assessment period, adjustments and receipts. Returns the ledger, the
    balances drawn (an (n, 2) array per case and creditor, PWC then SOS) and the weekly rate
    the charges were made at."""
    n = len(life.start)
    case, j, period_from, period_to, is_ima, periods = _charge_periods(life)
    creditor = _charge_creditors(rng, case, j, periods)
    units = (period_to - period_from + 1) * np.where(is_ima, shape.IMA_RATE_NUMERATOR, 2)
    weekly = _historic_weekly(rng, life.arrears, group_sum(units, case, n))
    charge = weekly[case] * units // 14
    charges = group_sum(charge, case * 2 + creditor, 2 * n).reshape(n, 2)

    target = _arrears_by_creditor(rng, life, charges)
    group_case = np.repeat(np.arange(n), 2)
    has_charges = charges.ravel() > 0
    debit = _occasional(rng, has_charges, shape.DEBIT_ADJUSTMENT_SHARE)
    credit = _occasional(rng, has_charges, shape.CREDIT_ADJUSTMENT_SHARE)
    base = charges.ravel() + debit - credit - target.ravel()
    floor = np.where(life.paying[group_case] & has_charges, shape.MIN_RECEIPT_PENCE, 0)
    brought_forward = np.maximum(0, floor - base)
    received = base + brought_forward

    kind = np.where(is_ima, IMA_CHARGE, CHARGE)
    charge_lines = (case, period_to, kind, creditor, charge, period_from, period_to)
    receipts = _draw_receipts(rng, life, received, group_case)
    adjustments = _draw_adjustments(rng, life, group_case, debit, credit, brought_forward)
    return _assemble(n, [charge_lines, receipts, adjustments]), target, weekly


def _charge_periods(life: _Life) -> tuple[np.ndarray, ...]:
    """Assessment periods from the case start to the end of charging: calendar-month blocks of
    1, 3, 6 or 12 months (the shortest keeping at most MAX_CHARGE_PERIODS), the first starting
    on the start date, the last cut at the end of charging; the first ones of an interim phase
    are IMA charges. Returns each period's case, number, dates and IMA flag, and the count of
    periods per case."""
    first_month = month_of(life.start)
    span = month_of(life.charge_end) - first_month + 1
    most = shape.MAX_CHARGE_PERIODS
    period_months = np.select([span <= most, span <= 3 * most, span <= 6 * most], [1, 3, 6], 12)
    periods = (span - 1) // period_months + 1
    case, j = expand(periods)
    block = first_month[case] + j * period_months[case]
    period_from = np.maximum(first_day_of_month(block), life.start[case])
    period_to = np.minimum(first_day_of_month(block + period_months[case]) - 1, life.charge_end[case])
    is_ima = j < -(-life.ima_months // period_months)[case]
    return case, j, period_from, period_to, is_ima, periods


def _charge_creditors(
    rng: np.random.Generator, case: np.ndarray, j: np.ndarray, periods: np.ndarray
) -> np.ndarray:
    """SOS for the early periods while the receiving parent was on benefit, PWC after."""
    n = len(periods)
    u = rng.random(n)
    mixed = rng.uniform(0.1, 0.9, n)
    sos_fraction = np.select(
        [u < shape.SOS_ONLY_SHARE, u < shape.SOS_ONLY_SHARE + shape.SOS_MIXED_SHARE], [1.0, mixed], 0.0
    )
    sos_periods = np.rint(sos_fraction * periods).astype(np.int64)
    return np.where(j < sos_periods[case], SOS, PWC)


def _occasional(rng: np.random.Generator, allowed: np.ndarray, share: float) -> np.ndarray:
    """An adjustment amount on about ``share`` of the allowed groups, else 0."""
    low, high = shape.ADJUSTMENT_RANGE_PENCE
    size = len(allowed)
    return np.where(allowed & (rng.random(size) < share), rng.integers(low, high + 1, size), 0)


def _historic_weekly(rng: np.random.Generator, arrears: np.ndarray, units: np.ndarray) -> np.ndarray:
    """The rate charged over the case's life: drawn, raised where needed so charges cover the
    arrears (arrears at most CHARGE_COVER of the charges), within the weekly range."""
    n = len(arrears)
    low, high = shape.WEEKLY_RANGE_PENCE
    drawn = np.clip(rng.lognormal(np.log(shape.WEEKLY_MEDIAN_PENCE), 0.6, n), low, high).astype(np.int64)
    drawn = np.where(rng.random(n) < shape.FLAT_RATE_SHARE, shape.FLAT_RATE_PENCE, drawn)
    cover = int(shape.CHARGE_COVER * 100)
    needed = -(-arrears * 14 * 100 // (units * cover))
    return np.minimum(np.maximum(drawn, needed), high)


def _arrears_by_creditor(rng: np.random.Generator, life: _Life, charges: np.ndarray) -> np.ndarray:
    """Split each case's arrears in proportion to its charges per creditor; give the credit
    balances (paying live cases only) to a creditor that was charged."""
    n = len(life.arrears)
    sos = life.arrears * charges[:, SOS] // charges.sum(axis=1)
    target = np.stack([life.arrears - sos, sos], axis=1)
    live_paying = sum(shape.PROFILE_SHARES[p] * shape.PAYING_SHARE[p] for p in shape.LIVE_PROFILES)
    in_credit = (
        np.isin(life.profile, shape.LIVE_PROFILES)
        & life.paying
        & (rng.random(n) < shape.CREDIT_BALANCE_SHARE / live_paying)
    )
    creditor = np.where(charges[:, PWC] > 0, PWC, SOS)
    low, high = shape.CREDIT_RANGE_PENCE
    rows = np.flatnonzero(in_credit)
    target[rows, creditor[rows]] = -rng.integers(low, high + 1, len(rows))
    return target


def _draw_receipts(
    rng: np.random.Generator, life: _Life, received: np.ndarray, group_case: np.ndarray
) -> tuple:
    """Receipt lines per case and creditor, spread from two weeks after the start to the last
    receipt date, the last line on that date (so paying cases show a recent receipt)."""
    first = life.start[group_case] + 14
    last = life.last_receipt[group_case]
    lines = np.minimum(received // shape.MIN_RECEIPT_PENCE, 1 + (last - first) // 182)
    lines = np.where(received > 0, np.clip(lines, 1, shape.MAX_RECEIPT_LINES), 0)
    group, k = expand(lines)
    amount = split_total(rng, received, lines)
    posted = np.where(k == lines[group] - 1, last[group], rng.integers(first[group], last[group] + 1))
    none = np.full(len(group), -1, dtype=np.int64)
    return (group_case[group], posted, np.full(len(group), RECEIPT), group % 2, -amount, none, none)


def _draw_adjustments(
    rng: np.random.Generator,
    life: _Life,
    group_case: np.ndarray,
    debit: np.ndarray,
    credit: np.ndarray,
    brought_forward: np.ndarray,
) -> tuple:
    """Occasional debit and credit adjustments, plus arrears brought forward where the charges
    alone do not reach the arrears (posted in the case's first month)."""
    start, end = life.start[group_case], life.charge_end[group_case]
    groups = np.arange(len(group_case))
    parts = []
    for amount, posted in (
        (debit, rng.integers(start, end + 1)),
        (-credit, rng.integers(start, end + 1)),
        (brought_forward, start + rng.integers(0, 31, len(start))),
    ):
        rows = np.flatnonzero(amount != 0)
        parts.append((groups[rows], posted[rows], amount[rows]))
    group = np.concatenate([p[0] for p in parts])
    none = np.full(len(group), -1, dtype=np.int64)
    return (
        group_case[group],
        np.concatenate([p[1] for p in parts]),
        np.full(len(group), ADJUSTMENT),
        group % 2,
        np.concatenate([p[2] for p in parts]),
        none,
        none,
    )


def _assemble(n: int, sources: list[tuple]) -> Ledger:
    """All lines of the chunk ordered by case then posting date, numbered within each case."""
    columns = [np.concatenate([np.asarray(s[i], dtype=np.int64) for s in sources]) for i in range(7)]
    case, posted, kind, creditor, amount, period_from, period_to = columns
    order = np.lexsort((posted, case))
    case = case[order]
    _, seq = expand(np.bincount(case, minlength=n))
    return Ledger(
        case=case,
        seq=seq + 1,
        posted=posted[order],
        kind=kind[order],
        creditor=creditor[order],
        amount=amount[order],
        period_from=period_from[order],
        period_to=period_to[order],
        has_period=period_from[order] >= 0,
    )


def _recorded_balances(
    rng: np.random.Generator, life: _Life, balances: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The case record's balances: the ledger's, nil for a creditor in credit, and on a few
    cases a difference over the tolerance (or within it) on one creditor, never below nil."""
    n = len(life.arrears)
    recorded = np.maximum(balances, 0)
    in_credit = (balances < 0).any(axis=1)
    eligible = (life.profile != shape.NOTHING_OWED) & ~in_credit
    mismatch = eligible & (rng.random(n) < shape.MISMATCH_SHARE)
    tolerated = eligible & ~mismatch & (rng.random(n) < shape.TOLERATED_DIFFERENCE_SHARE)
    size = np.where(
        mismatch,
        rng.integers(shape.MISMATCH_RANGE_PENCE[0], shape.MISMATCH_RANGE_PENCE[1] + 1, n),
        rng.integers(shape.TOLERATED_RANGE_PENCE[0], shape.TOLERATED_RANGE_PENCE[1] + 1, n),
    )
    both = (recorded > 0).all(axis=1)
    creditor = np.where(both, rng.random(n) < 0.5, recorded[:, SOS] > 0).astype(np.int64)
    rows = np.flatnonzero(mismatch | tolerated)
    current = recorded[rows, creditor[rows]]
    down = (rng.random(n)[rows] < 0.5) & (current > size[rows])
    recorded[rows, creditor[rows]] = current + np.where(down, -size[rows], size[rows])
    return recorded[:, PWC], recorded[:, SOS]


def _draw_case_record(rng: np.random.Generator, life: _Life, weekly_charged: np.ndarray) -> Cases:
    """Status, assessment, payment method, enforcement and flags that put each case in the
    segment of its profile (RULEBOOK section 2)."""
    n = len(life.profile)
    profile = life.profile
    status = np.select(
        [profile == shape.ARREARS_ONLY, profile == shape.NOTHING_OWED], [ARREARS_ONLY_STATUS, CLOSED], LIVE
    )
    nil = profile == shape.NIL_ASSESSED
    weekly = np.where((status == LIVE) & ~nil, weekly_charged, 0)

    payment = np.full(n, shape.NO_METHOD)
    for p, shares in shape.PAYMENT_SHARES.items():
        rows = np.flatnonzero(profile == p)
        payment[rows] = rng.choice(4, size=len(rows), p=shares)
    enforcing = profile == shape.ENFORCEMENT
    by_deo = rng.random(n) < shape.ENFORCEMENT_DEO_SHARE
    payment = np.where(enforcing, np.where(by_deo, shape.DEO, shape.COLLECTION), payment)
    arrears_only_action = (profile == shape.ARREARS_ONLY) & (rng.random(n) < shape.ARREARS_ONLY_ACTION_SHARE)
    with_action = (enforcing & ~by_deo) | arrears_only_action
    action = np.where(with_action, rng.integers(0, ENFORCEMENT_ACTIONS, n), -1)

    elsewhere = rng.random(n) < shape.CLERICAL_SHARE_ELSEWHERE
    clerical = np.select([profile == shape.CLERICAL, profile == shape.SYSTEM], [True, False], elsewhere)
    return Cases(
        profile=profile,
        start=life.start,
        status=status,
        nil=nil,
        interim=~nil & (rng.random(n) < shape.INTERIM_SHARE),
        weekly=weekly,
        charged_weekly=weekly_charged,
        payment=payment,
        action=action,
        clerical=clerical,
        dv=rng.random(n) < shape.DV_SHARE,
        recorded_total=np.zeros(n, dtype=np.int64),
        recorded_sos=np.zeros(n, dtype=np.int64),
        nrp=np.zeros(n, dtype=np.int64),
        pwc=np.zeros(n, dtype=np.int64),
    )


def _draw_persons(
    rng: np.random.Generator, life: _Life, extract_day: int
) -> tuple[Persons, np.ndarray, np.ndarray, np.ndarray]:
    """Both parents of each case, numbered in case order (NRP before PWC). A few cases share
    the NRP of another case; a shared NRP is alive. Returns the persons, the NRP and PWC index
    of each case and each PWC's age at the case start (to keep children plausible)."""
    n = len(life.start)
    shared = rng.random(n) < shape.SECOND_CASE_NRP_SHARE
    pool = np.flatnonzero(~shared)
    if len(pool) == 0:
        shared[:] = False
        pool = np.arange(n)
    owner = np.arange(n)
    owner[shared] = rng.choice(pool, size=int(shared.sum()))
    owns_shared = np.zeros(n, dtype=bool)
    owns_shared[owner[shared]] = True

    nrp_cases = np.flatnonzero(~shared)
    person_case = np.concatenate([nrp_cases, np.arange(n)])
    role = np.concatenate([np.zeros(len(nrp_cases), dtype=np.int64), np.ones(n, dtype=np.int64)])
    order = np.lexsort((role, person_case))
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    nrp = np.empty(n, dtype=np.int64)
    nrp[nrp_cases] = position[: len(nrp_cases)]
    nrp[shared] = nrp[owner[shared]]
    pwc = position[len(nrp_cases) :]

    case = person_case[order]
    is_nrp = role[order] == 0
    m = len(case)
    age = np.where(is_nrp, rng.uniform(19, 55, m), rng.uniform(20, 45, m))
    ended_unpaid = np.isin(life.profile[case], shape.ENDED_PROFILES) & ~life.paying[case]
    died = np.where(
        is_nrp,
        ended_unpaid & ~owns_shared[case] & (rng.random(m) < shape.NRP_DECEASED_SHARE_OF_ENDED),
        rng.random(m) < shape.PWC_DECEASED_SHARE,
    )
    after = np.where(is_nrp, np.maximum(life.charge_end, life.last_receipt)[case], life.start[case]) + 1
    death = rng.integers(np.minimum(after, extract_day - 1), extract_day)
    untraced = rng.random(m) < np.where(is_nrp, shape.NRP_UNTRACED_SHARE, shape.PWC_UNTRACED_SHARE)
    abroad = rng.random(m) < np.where(is_nrp, shape.NRP_ABROAD_SHARE, shape.PWC_ABROAD_SHARE)
    first_name = rng.integers(0, len(FORENAMES), m)
    other_name = (first_name + rng.integers(1, len(FORENAMES), m)) % len(FORENAMES)
    names = np.array(FORENAMES, dtype=TEXT)
    second_name = np.where(rng.random(m) < 0.3, join(" ", names[other_name]), "")
    persons = Persons(
        surname=pick(rng, SURNAMES, m),
        forenames=join(names[first_name], second_name),
        birth=years_before(life.start[case], age),
        nino=ninos(rng, m),
        nino_missing=rng.random(m) < shape.NINO_MISSING_SHARE,
        line1=street_lines(rng, m, abroad),
        line2=pick(rng, LOCALITIES, m),
        line2_missing=abroad | (rng.random(m) >= shape.ADDRESS_LINE2_SHARE),
        town=towns(rng, m, abroad),
        postcode=postcodes(rng, m),
        untraced=untraced,
        abroad=abroad,
        died=died,
        death=death,
    )
    return persons, nrp, pwc, age[pwc]


def _draw_children(rng: np.random.Generator, life: _Life, pwc_age: np.ndarray) -> Children:
    """One to three children per case, each under 14 at the case start and born when the
    receiving parent was at least 17."""
    n = len(life.start)
    counts = rng.choice(len(shape.CHILDREN_SHARES), size=n, p=shape.CHILDREN_SHARES) + 1
    case, k = expand(counts)
    oldest = np.minimum(14.0, pwc_age[case] - 17.0)
    birth = years_before(life.start[case], rng.uniform(0.0, oldest))
    return Children(case=case, number=k + 1, birth=birth)
