"""The rulebook's vocabulary: the codes that rules write into frames and the target tables."""

from __future__ import annotations

from enum import StrEnum


class Creditor(StrEnum):
    """Who an amount of arrears is owed to (RULEBOOK.md section 1)."""

    PWC = "PWC"
    SOS = "SOS"


class LineKind(StrEnum):
    """The kinds of ledger line in the canonical model (docs/design.md)."""

    CHARGE = "CHARGE"
    IMA_CHARGE = "IMA_CHARGE"
    RECEIPT = "RECEIPT"
    ADJUSTMENT = "ADJUSTMENT"


class Verification(StrEnum):
    """Outcome of arrears verification (section 5)."""

    VERIFIED = "VERIFIED"
    HOLD = "HOLD"


class HoldReason(StrEnum):
    """Why a case is on hold (section 5)."""

    MISMATCH = "MISMATCH"
    CREDIT_BALANCE = "CREDIT_BALANCE"


class HoldResolution(StrEnum):
    """What a caseworker accepted to resolve a hold (section 8)."""

    LEDGER = "ledger"
    RECORDED = "recorded"
    AMOUNT = "amount"


class Outcome(StrEnum):
    """Outcome of one part of a creditor's arrears (sections 6 and 7)."""

    TRANSFER = "TRANSFER"
    WRITE_OFF = "WRITE_OFF"
    AWAITING_CHOICE = "AWAITING_CHOICE"


NO_ARREARS = "NO_ARREARS"
"""The case-level outcome of a case whose verified arrears are zero: it takes no decision."""


class WriteOffReason(StrEnum):
    """Why arrears were written off (sections 6 and 7, CONTRACTS.md ``write_off``)."""

    NRP_DECEASED = "NRP_DECEASED"
    IMA_1993_1995 = "IMA_1993_1995"
    SOS_NON_PAYING = "SOS_NON_PAYING"
    PWC_DECEASED = "PWC_DECEASED"
    BELOW_THRESHOLD = "BELOW_THRESHOLD"
    NOT_COST_EFFECTIVE = "NOT_COST_EFFECTIVE"
    NOT_COLLECTABLE = "NOT_COLLECTABLE"
    PWC_DECLINED = "PWC_DECLINED"
    NO_RESPONSE = "NO_RESPONSE"


class Choice(StrEnum):
    """The receiving parent's answer to the arrears choice (section 7)."""

    COLLECT = "COLLECT"
    WRITE_OFF = "WRITE_OFF"


class JourneyEvent(StrEnum):
    """The journey event a letter belongs to (section 10)."""

    SELECTION = "SELECTION"
    REMINDER = "REMINDER"
    LIABILITY_END = "LIABILITY_END"
    DECISION = "DECISION"
    CHOICE_OUTCOME = "CHOICE_OUTCOME"


class Template(StrEnum):
    """The letter templates of section 10."""

    INITIAL_NOTICE = "INITIAL_NOTICE"
    REMINDER = "REMINDER"
    LIABILITY_ENDED = "LIABILITY_ENDED"
    ARREARS_CHOICE = "ARREARS_CHOICE"
    ARREARS_WRITTEN_OFF = "ARREARS_WRITTEN_OFF"
    ARREARS_TRANSFERRED = "ARREARS_TRANSFERRED"


class LetterStatus(StrEnum):
    """Status of a letter (CONTRACTS.md ``letter``)."""

    PENDING = "PENDING"
    DISPATCHED = "DISPATCHED"
    UNDELIVERABLE = "UNDELIVERABLE"


class Recipient(StrEnum):
    """The parent a letter goes to."""

    PWC = "PWC"
    NRP = "NRP"


BOTH_PARENTS: tuple[Recipient, ...] = (Recipient.PWC, Recipient.NRP)


class JourneyState(StrEnum):
    """Where a selected case stands (CONTRACTS.md ``closure_outcome.journey_state``)."""

    AWAITING_LIABILITY_END = "AWAITING_LIABILITY_END"
    ON_HOLD = "ON_HOLD"
    AWAITING_CHOICE = "AWAITING_CHOICE"
    CLOSED = "CLOSED"


class ServiceType(StrEnum):
    """The CMS service a new case is opened with (CONTRACTS.md ``cms_case.service_type``)."""

    DIRECT_PAY = "DIRECT_PAY"
    COLLECT_AND_PAY = "COLLECT_AND_PAY"
    ARREARS_ONLY = "ARREARS_ONLY"


class Cause(StrEnum):
    """Why a case's journey state changed (the audit trail's ``cause``)."""

    SELECTION = "SELECTION"
    LIABILITY_END = "LIABILITY_END"
    DECISION = "DECISION"
    HOLD_RESOLUTION = "HOLD_RESOLUTION"
    CHOICE = "CHOICE"
    NO_RESPONSE = "NO_RESPONSE"


class EventKind(StrEnum):
    """What operations recorded (``operator_event.kind``, section 8)."""

    APPLICATION = "APPLICATION"
    NEW_APPLICATION = "NEW_APPLICATION"
    CHOICE = "CHOICE"
    EXTENSION = "EXTENSION"
    HOLD_RESOLUTION = "HOLD_RESOLUTION"


class EventStatus(StrEnum):
    """Where a recorded event stands (``operator_event.status``)."""

    ACCEPTED = "ACCEPTED"
    APPLIED = "APPLIED"
    REFUSED = "REFUSED"


class Step(StrEnum):
    """The journey's units of work, in the order they run on one day (``batch_run.step``)."""

    EVENTS = "EVENTS"
    REACTIVE = "REACTIVE"
    SELECT = "SELECT"
    START = "START"
    REMIND = "REMIND"
    END = "END"
    DEADLINE = "DEADLINE"


class UnitState(StrEnum):
    """How a unit of work's last attempt ended (``batch_run.state``)."""

    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class RunState(StrEnum):
    """Where a command's run stands (``engine_run.state``)."""

    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    INTERRUPTED = "INTERRUPTED"
    """Its process ended without recording how (killed, a power cut): found by the next run."""


class TrancheKind(StrEnum):
    """A planned tranche (``T0001``) or a reactive one (``R20150314``), section 2 and 3."""

    PLANNED = "PLANNED"
    REACTIVE = "REACTIVE"


class PrintBatchState(StrEnum):
    """A print batch claimed, its file not yet in place; or dispatched (``print_batch.state``)."""

    CLAIMED = "CLAIMED"
    DISPATCHED = "DISPATCHED"
