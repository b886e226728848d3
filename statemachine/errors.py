"""The domain's exception hierarchy; every expected refusal is one of these.

    RectifyError                  base: its str() is the one line a user sees
    ├── InvalidTransition         trigger not allowed in the current state
    ├── GuardRefused              trigger allowed, but a named guard said no
    ├── PermissionDenied          the actor may not act on that unit
    ├── ConflictError             a stale write (version changed meanwhile)
    ├── NotFound                  unknown campaign / unit / clue / user
    └── InvalidInput              a bad plan file, CSV row, argument, ...
"""
from __future__ import annotations

__all__ = [
    "RectifyError",
    "InvalidTransition",
    "GuardRefused",
    "PermissionDenied",
    "ConflictError",
    "NotFound",
    "InvalidInput",
]


class RectifyError(Exception):
    """An expected condition: shown to the user as one line, never a traceback."""

    exit_code = 1
    http_status = 400


class InvalidTransition(RectifyError):
    http_status = 409

    def __init__(self, *, entity: str, state: str, trigger: str, allowed: list[str]):
        self.entity, self.state, self.trigger, self.allowed = entity, state, trigger, allowed
        allowed_txt = ", ".join(allowed) if allowed else "none (final state)"
        super().__init__(
            f"{entity}: cannot '{trigger}' in state '{state}'; allowed: {allowed_txt}"
        )


class GuardRefused(RectifyError):
    http_status = 422

    def __init__(self, *, entity: str, trigger: str, guard: str, reason: str):
        self.entity, self.trigger, self.guard, self.reason = entity, trigger, guard, reason
        super().__init__(f"{entity}: '{trigger}' refused ({guard}): {reason}")


class PermissionDenied(RectifyError):
    http_status = 403


class ConflictError(RectifyError):
    http_status = 409


class NotFound(RectifyError):
    http_status = 404


class InvalidInput(RectifyError):
    http_status = 422
