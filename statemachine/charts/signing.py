"""签收: a unit signs for an item assigned to it, and when that is late.

    unsigned ─sign─▶ signed

An item assigned to a unit (on receipt, or reassigned to it, 改派) is signed for by
a member of that unit (Who.member: a supervisor above does not sign in its name)
within the plan's `clues.sign_for`. As on 12345 platforms, acting on an item
requires signing first: the clue chart's `verify` waits for it (`SIGNED`, a row
guard of the clue chart), and an unsigned item may still be returned (退单,
statemachine/charts/returns.py). A plan that sets no `sign_for` asks for no
signing: its items arrive signed.

Not signed by the due instant is a lapse (`sign_for_overdue`): `sign_for_overdue`
below is the rule, services/clues/signing.py its SQL twin
(tests/integration/test_sign_for_rule_sql.py proves they agree). Signed late is a
lapse too (a later sweep still finds it); a return asked for in time excuses the
signing while it waits for the level above.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from statemachine.authority import Who
from .clue import OPEN_STATES
from .table import Chart, Guard, Transition

__all__ = ["SigningState", "SigningContext", "SIGNING_CHART", "LABELS", "TRIGGER_LABELS", "sign_for_overdue",
           "SIGNED", "UNSIGNED", "OPEN_VALUES"]


class SigningState(str, enum.Enum):
    unsigned = "unsigned"
    signed = "signed"


SIGNED, UNSIGNED = SigningState.signed.value, SigningState.unsigned.value
LABELS = {SigningState.unsigned: "待签收", SigningState.signed: "已签收"}
TRIGGER_LABELS = {"sign": "签收"}
OPEN_VALUES = frozenset(s.value for s in OPEN_STATES)


@dataclass
class SigningContext:
    clue_state: str | None = None


def _open(ctx: SigningContext) -> str | None:
    if ctx.clue_state not in OPEN_VALUES:
        return f"only an open item is signed for; it is {ctx.clue_state}"
    return None


OPEN = Guard("open", _open, row_dependent=True, row_in=("state", OPEN_VALUES))

S = SigningState
SIGNING_CHART: Chart[SigningState] = Chart(
    name="signing",
    states=SigningState,
    transitions=[Transition("sign", (S.unsigned,), S.signed, (OPEN,), by=Who.member)],
)


def sign_for_overdue(*, state: str, signing: str, sign_due_at: datetime | None, signed_at: datetime | None,
                     return_waiting: bool, as_of: datetime) -> bool:
    """Whether the item's signing is a lapse at `as_of`: still unsigned while open past its
    due instant, or signed after it. `return_waiting`: a return (退单) asked for by the due
    instant waits for the level above, which excuses the signing meanwhile."""
    if sign_due_at is None or not sign_due_at < as_of:
        return False
    if signed_at is not None:
        return signed_at > sign_due_at
    return signing == UNSIGNED and state in OPEN_VALUES and not return_waiting
