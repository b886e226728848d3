"""One definition per machine: an Enum of states and a table of transitions.

The same table drives two paths (docs/architecture.md decision 1):
- single objects go through one module-level `transitions.Machine` per chart
  (STACK-NOTES: `Machine(model=None)` + `events[t].trigger(obj)` costs ~9 µs
  and keeps no reference to the object);
- bulk work asks `sources_for(trigger)` and compiles it into
  `UPDATE … WHERE state IN (sources)`.
Guards are pure functions `(ctx) -> reason | None`; the bulk path gets the
row-dependent ones as SQL predicates from the services layer.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Iterable, TypeVar

from transitions import Machine, MachineError

from statemachine.authority import Who
from statemachine.errors import GuardRefused, InvalidTransition, UnknownState

__all__ = ["Guard", "Transition", "Chart", "Subject", "required"]

S = TypeVar("S", bound=enum.Enum)


@dataclass(frozen=True)
class Guard:
    """A named pure check. `check(ctx)` returns why it refuses, or None."""

    name: str
    check: Callable[[Any], str | None]
    # True when the check looks at the row (owner, level...) rather than
    # only at what the actor supplied; the set path must filter those in SQL.
    row_dependent: bool = False
    # a row guard that is "column in values" says so, and the set path compiles
    # it without a hand-written twin (services/core/persisted.py)
    row_in: tuple[str, frozenset] | None = None


def required(field: str, what: str) -> Callable[[Any], str | None]:
    """A check that `ctx.<field>` was supplied (not None, not blank)."""
    def check(ctx: Any) -> str | None:
        value = getattr(ctx, field)
        if value is None or (isinstance(value, str) and not value.strip()):
            return f"{what} is required"
        return None
    return check


@dataclass(frozen=True)
class Transition(Generic[S]):
    trigger: str
    sources: tuple[S, ...]
    dest: S
    guards: tuple[Guard, ...] = ()
    label: str = ""
    by: Who = Who.unit  # who may fire it (statemachine/authority.py)


@dataclass
class Subject:
    """What the machine mutates: a state plus the context guards read."""

    state: Any
    ctx: Any = None
    entity: str = "item"


class _GuardFailed(Exception):
    def __init__(self, guard: Guard, reason: str):
        self.guard, self.reason = guard, reason


def _condition(guard: Guard) -> Callable[[Any], bool]:
    def run(event_data) -> bool:
        reason = guard.check(event_data.model.ctx)
        if reason:
            raise _GuardFailed(guard, reason)
        return True

    run.__name__ = f"guard_{guard.name}"
    return run


@dataclass
class Chart(Generic[S]):
    """A state chart: states, transitions, and the compiled Machine."""

    name: str
    states: type[S] | list[S]
    transitions: list[Transition[S]]
    final: frozenset = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        self.state_list: list[S] = list(self.states)
        seen: set[tuple[str, Any]] = set()
        self._by: dict[str, Who] = {}
        for t in self.transitions:
            if self._by.setdefault(t.trigger, t.by) is not t.by:
                raise ValueError(f"{self.name}: {t.trigger} names two authorities")
            for s in t.sources:
                if (t.trigger, s) in seen:
                    raise ValueError(f"{self.name}: duplicate transition {t.trigger} from {s}")
                seen.add((t.trigger, s))
        self.machine = Machine(
            model=None,
            states=self.state_list,
            initial=self.state_list[0],
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for t in self.transitions:
            self.machine.add_transition(
                t.trigger,
                list(t.sources),
                t.dest,
                conditions=[_condition(g) for g in t.guards],
            )
        self._by_key = {(t.trigger, s): t for t in self.transitions for s in t.sources}

    # -- introspection -------------------------------------------------
    @property
    def triggers(self) -> list[str]:
        return sorted({t.trigger for t in self.transitions})

    def who(self, trigger: str) -> Who:
        """Who may fire `trigger` (the same for every source state)."""
        return self._by[trigger]

    def triggers_by(self, who: Who) -> frozenset[str]:
        return frozenset(t for t, w in self._by.items() if w is who)

    def allowed(self, state: S) -> list[str]:
        return sorted({t.trigger for t in self.transitions if state in t.sources})

    def find(self, state: S, trigger: str) -> Transition[S] | None:
        return self._by_key.get((trigger, state))

    def sources_for(self, trigger: str) -> dict[S, Transition[S]]:
        return {s: t for (trg, s), t in self._by_key.items() if trg == trigger}

    def coerce(self, value: Any) -> S:
        if isinstance(value, enum.Enum):
            return value
        for s in self.state_list:
            if s.value == value or s.name == value:
                return s
        known = ", ".join(s.value for s in self.state_list)
        raise UnknownState(f"{self.name}: unknown state {value!r} (one of {known})")

    # -- the single path -----------------------------------------------
    def fire(self, subject: Subject, trigger: str) -> Transition[S]:
        """Run `trigger` on `subject` through the transitions Machine.

        Raises InvalidTransition (wrong state / unknown trigger) or
        GuardRefused (a named guard said why); on success the subject's
        state is the destination and the matching Transition is returned.
        """
        state = self.coerce(subject.state)
        subject.state = state
        t = self.find(state, trigger)
        if t is None:
            raise InvalidTransition(
                entity=subject.entity, state=state.value, trigger=trigger,
                allowed=self.allowed(state),
            )
        try:
            ok = self.machine.events[trigger].trigger(subject)
        except _GuardFailed as g:
            raise GuardRefused(
                entity=subject.entity, trigger=trigger, guard=g.guard.name, reason=g.reason
            ) from None
        except MachineError:  # the table and the machine disagree: a bug, not user input
            raise
        if not ok:  # pragma: no cover - every condition raises instead of returning False
            raise RuntimeError(f"{self.name}: {trigger} from {state} refused silently")
        return t

    def mermaid(self) -> str:
        lines = ["stateDiagram-v2", f"    [*] --> {self.state_list[0].name}"]
        for t in self.transitions:
            for s in t.sources:
                lines.append(f"    {s.name} --> {t.dest.name}: {t.trigger}")
        return "\n".join(lines)


def check_guards(guards: Iterable[Guard], ctx: Any, *, entity: str, trigger: str) -> None:
    """Evaluate guards without changing state (bulk path: the shared context)."""
    for g in guards:
        reason = g.check(ctx)
        if reason:
            raise GuardRefused(entity=entity, trigger=trigger, guard=g.name, reason=reason)
