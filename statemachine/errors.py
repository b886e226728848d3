"""The one tree of expected errors: every refusal Rectify means to make is one of these.

Each class knows the one line a user sees (its str()), the exit code of the
command line and the HTTP status the web service will answer with. Whatever
else escapes is a bug and keeps its traceback.

    class                        exit  HTTP  raised when
    RectifyError                    1   400  base: its str() is the one line a user sees
    ├── UsageError                  2   400  the command line itself is wrong (option, command, argument)
    ├── InvalidInput                1   422  a bad argument, CSV row, file, setting, ...
    │   ├── UnknownState            1   422  a state name the chart does not have
    │   ├── TextRefused             1   422  text with a control character, or longer than its field
    │   ├── PlanError               1   422  a plan or round file that does not validate
    │   │   └── PlanReferenceError  1   422  a cross-reference inside one (unit, person, stage)
    │   ├── NoticeTemplateError     1   422  a notice that cannot be rendered (kind, field, template)
    │   ├── TooLarge                1   413  an uploaded file (or body) larger than allowed
    │   └── UnsupportedType         1   415  an uploaded file whose content is not an accepted type
    ├── InvalidTransition           1   409  trigger not allowed in the current state
    ├── GuardRefused                1   422  trigger allowed, but a named guard said no
    ├── PermissionDenied            1   403  the actor may not act on that unit (or a forged CSRF token)
    │   ├── NotSignedIn             1   401  no session or token, an expired one, a wrong password
    │   └── TooManyAttempts         1   429  sign-in failures: the account is locked, the address slowed
    ├── NotFound                    1   404  unknown campaign / unit / clue / user
    ├── ConflictError               1   409  a stale write (version changed meanwhile)
    ├── AuditBroken                 3   500  the audit chain does not hold (tampered with)
    ├── RunFailed                   1   500  a step of a run of several failed; the others ran
    ├── Misconfigured               1   503  the installation cannot do this until an operator acts
    │   ├── NotInitialised          1   503  no database, no schema, or an older schema
    │   └── CalendarError           1   503  the working-day calendar
    │       ├── CalendarNotCovered  1   503  a date in a year no calendar covers
    │       └── CalendarFileError   1   503  the calendar override file is unreadable or malformed
    └── ServiceUnavailable          1   503  a service Rectify relies on did not answer
        ├── PrefectUnavailable      1   503  the Prefect API (deployments, `serve`)
        └── DeliveryError           1   502  a channel (SMTP, webhook, file drop) failed one message

UnknownState, TextRefused, PlanReferenceError and the calendar errors are also ValueErrors:
pydantic turns a ValueError raised in a validator into a field error (that is
how a plan's cross-reference check names its line), and callers that parse
input catch ValueError around them.
"""
from __future__ import annotations

from datetime import date

__all__ = [
    "RectifyError",
    "UsageError",
    "InvalidInput",
    "UnknownState",
    "TextRefused",
    "PlanError",
    "PlanReferenceError",
    "NoticeTemplateError",
    "TooLarge",
    "UnsupportedType",
    "InvalidTransition",
    "GuardRefused",
    "PermissionDenied",
    "NotSignedIn",
    "TooManyAttempts",
    "NotFound",
    "ConflictError",
    "AuditBroken",
    "RunFailed",
    "Misconfigured",
    "NotInitialised",
    "CalendarError",
    "CalendarNotCovered",
    "CalendarFileError",
    "ServiceUnavailable",
    "PrefectUnavailable",
    "DeliveryError",
]


class RectifyError(Exception):
    """An expected condition: shown to the user as one line, never a traceback."""

    exit_code = 1
    http_status = 400


class UsageError(RectifyError):
    exit_code = 2


class InvalidInput(RectifyError):
    http_status = 422


class UnknownState(InvalidInput, ValueError):
    pass


class TextRefused(InvalidInput, ValueError):
    """Text a field cannot store (statemachine/limits.py); its message names the field."""


class PlanError(InvalidInput):
    pass


class PlanReferenceError(PlanError, ValueError):
    """A cross-reference check failed; `loc` says where in the plan, so the
    reader can name the field and line rather than the whole plan."""

    def __init__(self, loc: tuple, message: str):
        super().__init__(message)
        self.loc = loc


class NoticeTemplateError(InvalidInput):
    """A notice that cannot be rendered; its message is one line naming kind and field."""


class TooLarge(InvalidInput):
    """Refused for its size (an evidence file over RECTIFY_EVIDENCE_MAX_MB)."""

    http_status = 413


class UnsupportedType(InvalidInput):
    """Refused for what its content is, whatever its name says (services/evidence/kinds.py)."""

    http_status = 415


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


class NotSignedIn(PermissionDenied):
    """The web does not know who is asking: its answer says how to become known."""

    http_status = 401


class TooManyAttempts(PermissionDenied):
    """Refused before the password is even checked; `retry_after` in seconds."""

    http_status = 429

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class NotFound(RectifyError):
    http_status = 404


class ConflictError(RectifyError):
    http_status = 409


class AuditBroken(RectifyError):
    """Records deleted, altered or cut off behind a lowered head: nothing is
    built on such a chain (no head goes out, no witness line is written)."""

    exit_code = 3
    http_status = 500


class RunFailed(RectifyError):
    """A run of several independent steps (the nightly job) in which one or more
    failed while the others ran; `result` is what the run did, `failed` the steps."""

    http_status = 500

    def __init__(self, message: str, *, failed: tuple[str, ...] = (), result: object = None):
        super().__init__(message)
        self.failed, self.result = failed, result


class Misconfigured(RectifyError):
    # The request may be fine; the server cannot serve it as set up.
    http_status = 503


class NotInitialised(Misconfigured):
    pass


class CalendarError(Misconfigured, ValueError):
    pass


class CalendarNotCovered(CalendarError):
    def __init__(self, year: int, needed: date):
        self.year, self.needed = year, needed
        super().__init__(f"no working-day calendar for {year} (needed for {needed.isoformat()}): "
                         f"add the year to the calendar override file (RECTIFY_CALENDAR_OVERRIDES)")


class CalendarFileError(CalendarError):
    pass


class ServiceUnavailable(RectifyError):
    http_status = 503


class PrefectUnavailable(ServiceUnavailable):
    pass


class DeliveryError(ServiceUnavailable):
    """A failed attempt; its str() is one line for the outbox's last_error."""

    http_status = 502
