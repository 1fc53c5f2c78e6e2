"""The words the report shows for the engine's codes: journey states, outcomes, reasons."""

from __future__ import annotations

from transform.codes import JourneyState, WriteOffReason
from transform.report import ON_HOLD, PENDING, TRANSFERRED, WRITTEN_OFF

STATE_LABELS = {
    JourneyState.CLOSED: "closed",
    JourneyState.AWAITING_CHOICE: "awaiting choice",
    JourneyState.AWAITING_LIABILITY_END: "awaiting liability end",
    JourneyState.ON_HOLD: "on hold",
}
OUTCOME_LABELS = {
    TRANSFERRED: "transferred to the CMS",
    WRITTEN_OFF: "written off",
    PENDING: "pending",
    ON_HOLD: "on hold",
}
REASON_LABELS = {
    "PWC": "owed to the receiving parent",
    "SOS": "owed to the Secretary of State",
    WriteOffReason.NRP_DECEASED: "paying parent died",
    WriteOffReason.IMA_1993_1995: "interim assessment 1993-95",
    WriteOffReason.SOS_NON_PAYING: "SoS part, not paying",
    WriteOffReason.PWC_DECEASED: "receiving parent died",
    WriteOffReason.BELOW_THRESHOLD: "below £65",
    WriteOffReason.NOT_COST_EFFECTIVE: "not cost-effective",
    WriteOffReason.NOT_COLLECTABLE: "not collectable",
    WriteOffReason.PWC_DECLINED: "receiving parent declined",
    WriteOffReason.NO_RESPONSE: "no answer by the deadline",
    JourneyState.AWAITING_LIABILITY_END: "decision at liability end",
    JourneyState.AWAITING_CHOICE: "awaiting the parent's choice",
    "MISMATCH": "ledger and record disagree",
    "CREDIT_BALANCE": "credit balance",
}
"""Creditors, write-off reasons, what pending money waits for, and hold reasons."""


def reason_label(code: str) -> str:
    """A reason's words; a code without any reads as itself in lower case."""
    return REASON_LABELS.get(code, code.replace("_", " ").lower())
