"""Random walks over the clue lifecycle with CLUE_CHART as the oracle (SQLite).

Hypothesis fires random triggers, by random actors, with random inputs present
or missing, through the single and the bulk path; a small model predicts each
outcome, and after every step the database must agree with the model, the
audit chain must hold and count every change, and the campaign figures must
add up.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, settings, strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, rule,
                                 run_state_machine_as_test)
from sqlalchemy import func, select

from models.db import make_engine
from models.tables import AuditRecord, Clue
from services.campaigns.load import campaign_id
from services.campaigns.plans import read_plan
from services.clues import lifecycle as clues
from services.core.audit import verify
from services.reports.status import campaign_status
from statemachine.charts.clue import CLUE_CHART, SUPERVISOR_TRIGGERS, ClueState
from statemachine.errors import GuardRefused, InvalidTransition, PermissionDenied
from statemachine.time.calendar import WorkingCalendar

from ..conftest import SMALL_PLAN, at

T, A = Clue.__table__, AuditRecord.__table__
ENROLLED = 3  # county-a, county-b, town-c1: every unit of the small plan but the root

# (unit, kind) of the clues each example starts with
CLUES = [("county-a", "clue"), ("county-a", "self_inspection"), ("county-b", "clue")]
ACTORS = {  # username -> (unit, role, units strictly below)
    "off.a": ("county-a", "officer", set()),
    "off.b": ("county-b", "officer", set()),
    "sup.city": ("city", "supervisor", {"county-a", "county-b", "town-c1"}),
    "sup.a": ("county-a", "supervisor", {"town-c1"}),
}
FIELDS = ("reason", "measures", "deadline", "owner", "evidence", "stage_result", "long_term_measure")
VALUES = dict(reason="原因", measures="措施", deadline=date(2023, 6, 30), owner="赵书涵",
              evidence="附件.pdf", stage_result="阶段成效", long_term_measure="长效机制")
NATURAL = {"county-a": "off.a", "county-b": "off.b"}
EXTENDED = date(2023, 7, 14)  # what an extension (延期) asks for: later than VALUES' deadline


def _input(trigger: str, given) -> "clues.ClueInput":
    values = dict(VALUES, deadline=EXTENDED) if trigger == "extend" else VALUES
    return clues.ClueInput(**{f: values[f] for f in given})

# Draws are biased towards what can succeed, so walks reach the deep states
# (rectified, long_term, closed, reopened) and not only the refusals.
CLUE = st.integers(0, len(CLUES) - 1)
# 合并 and 重办 are fired by use cases of their own that supply their guards' facts (the item kept,
# the callback at fault); tests/integration/test_merging.py and test_callbacks.py walk them
GENERIC = [t for t in CLUE_CHART.triggers if t not in ("merge", "redo")]
TRIGGER = st.one_of(st.sampled_from(GENERIC), st.integers(0, 99))
ACTOR = st.one_of(st.none(), st.sampled_from(sorted(ACTORS)))
INPUTS = st.one_of(st.just(frozenset(FIELDS)), st.frozensets(st.sampled_from(FIELDS)))
MAX_EXTENSIONS = read_plan(SMALL_PLAN).clues.max_extensions
GUARD_FIELD = {"has_reason": "reason", "has_measures": "measures", "has_deadline": "deadline",
               "has_owner": "owner", "has_evidence": "evidence", "has_stage_result": "stage_result",
               "has_long_term_measure": "long_term_measure"}


def _note(outcome: str) -> None:
    if currently_in_test_context():  # the fixed walks below run outside Hypothesis
        event(outcome)


@dataclass
class Model:
    number: str
    unit: str
    kind: str
    state: ClueState = ClueState.received
    owner: bool = False       # a responsible person is on the row
    moves: int = 0
    deadline: date | None = None  # the running rectification deadline (walks never pass it)
    extensions: int = 0           # 延期 granted: the plan allows max_extensions, reopen or not


def _may_single(actor: str, unit: str, trigger: str) -> bool:
    own, role, below = ACTORS[actor]
    if trigger in SUPERVISOR_TRIGGERS:
        return role == "supervisor" and unit in below
    return own == unit or (role == "supervisor" and unit in below)


def _in_bulk_scope(actor: str, unit: str, trigger: str) -> bool:
    own, role, below = ACTORS[actor]
    if trigger in SUPERVISOR_TRIGGERS:
        return unit in below
    return unit == own or (role == "supervisor" and unit in below)


def _input_guards_fail(trigger: str, given: set[str], m: Model) -> str | None:
    """The first guard (in table order) that refuses, or None."""
    t = next(t for t in CLUE_CHART.transitions if t.trigger == trigger)
    for g in t.guards:
        field = GUARD_FIELD.get(g.name)
        if g.name == "extends_in_time":  # 延期 moves a running deadline to a later day
            if m.deadline is None or EXTENDED <= m.deadline:
                return g.name
        elif g.name == "extensions_left":  # counted over the item's life: a reopen keeps the count
            if m.extensions >= MAX_EXTENSIONS:
                return g.name
        elif field == "owner":
            if "owner" not in given and not m.owner:
                return g.name
        elif field and field not in given:
            return g.name
    return None


class ClueMachine(RuleBasedStateMachine):
    template: Path
    workdir: Path
    calendar = WorkingCalendar()

    @initialize()
    def start(self):
        ClueMachine.examples = getattr(ClueMachine, "examples", 0) + 1
        path = self.workdir / f"example-{ClueMachine.examples}.db"
        shutil.copy(self.template, path)
        self.engine = make_engine(f"sqlite:///{path}")  # the small plan is loaded in the template
        self.code = read_plan(SMALL_PLAN).campaign.code
        self.cid = campaign_id(self.engine, self.code)
        items = [clues.NewClue(channel="自查自纠" if kind == "self_inspection" else "12345",
                               aspect="profit", summary="问题", unit=unit) for unit, kind in CLUES]
        numbers = clues.add_clues(self.engine, self.code, items, actor="sup.city",
                                  now=at("2023-03-20"), calendar=self.calendar)
        self.model = [Model(n, unit, kind) for n, (unit, kind) in zip(numbers, CLUES)]
        self.now = at("2023-03-21 08:00")

    def teardown(self):
        if hasattr(self, "engine"):
            self.engine.dispose()

    def _tick(self):
        self.now += timedelta(minutes=37)
        return self.now

    def _states(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return dict(conn.execute(select(T.c.number, T.c.state)).all())

    def _apply(self, m: Model, trigger: str, given: set[str], before: dict[str, str]):
        dest = CLUE_CHART.find(m.state, trigger).dest
        m.state, m.moves = dest, m.moves + 1
        if trigger == "substantiate":
            m.owner = True
        if trigger in ("substantiate", "reopen", "extend"):
            m.deadline = EXTENDED if trigger == "extend" else VALUES["deadline"]
        m.extensions += trigger == "extend"
        after = self._states()
        # nothing but the one clue moved, and only along the table
        assert {n for n in after if after[n] != before[n]} <= {m.number}
        assert after[m.number] == dest.value

    def _pick(self, i, trigger, actor):
        """Resolve the biased draws: an int picks a trigger the state allows, None the natural actor."""
        m = self.model[i]
        if isinstance(trigger, int):
            # transfer is final and allowed almost everywhere: leave it to the uniform draw
            allowed = [t for t in CLUE_CHART.allowed(m.state) if t != "transfer" and t in GENERIC] \
                or [t for t in CLUE_CHART.allowed(m.state) if t in GENERIC] or GENERIC
            trigger = allowed[trigger % len(allowed)]
        if actor is None:
            actor = "sup.city" if trigger in SUPERVISOR_TRIGGERS else NATURAL[m.unit]
        return m, trigger, actor

    @rule(i=CLUE, trigger=TRIGGER, actor=ACTOR, given=INPUTS)
    def fire_one(self, i, trigger, actor, given):
        m, trigger, actor = self._pick(i, trigger, actor)
        data = _input(trigger, given)
        before = self._states()
        if not _may_single(actor, m.unit, trigger):
            expected = PermissionDenied
        elif CLUE_CHART.find(m.state, trigger) is None:
            expected = InvalidTransition
        else:
            expected = GuardRefused if _input_guards_fail(trigger, given, m) else None
        _note(f"single: {expected.__name__ if expected else 'moved'}")
        try:
            clues.transition(self.engine, self.code, m.number, trigger, actor=actor,
                             now=self._tick(), data=data)
        except (PermissionDenied, InvalidTransition, GuardRefused) as e:
            assert type(e) is expected, f"{trigger} by {actor} on {m}: {e!r}, expected {expected}"
            assert self._states() == before
            return
        assert expected is None, f"{trigger} by {actor} on {m} succeeded, expected {expected}"
        self._apply(m, trigger, given, before)

    @rule(i=CLUE, trigger=TRIGGER, actor=ACTOR, given=INPUTS)
    def fire_bulk(self, i, trigger, actor, given):
        m, trigger, actor = self._pick(i, trigger, actor)
        data = _input(trigger, given)
        before = self._states()
        shared = next(t for t in CLUE_CHART.transitions if t.trigger == trigger).guards
        shared_fails = any(GUARD_FIELD.get(g.name) not in (None, "owner")
                           and GUARD_FIELD[g.name] not in given for g in shared)
        if trigger in SUPERVISOR_TRIGGERS and ACTORS[actor][1] != "supervisor":
            expected = PermissionDenied
        elif shared_fails:
            expected = GuardRefused
        else:
            expected = None
        try:
            res = clues.bulk_transition(self.engine, self.code, trigger, actor=actor,
                                        now=self._tick(), data=data, numbers=[m.number])
        except (PermissionDenied, GuardRefused) as e:
            _note(f"bulk: {type(e).__name__}")
            assert type(e) is expected, f"bulk {trigger} by {actor} on {m}: {e!r}, expected {expected}"
            assert self._states() == before
            return
        assert expected is None, f"bulk {trigger} by {actor} on {m} succeeded, expected {expected}"
        moves = (_in_bulk_scope(actor, m.unit, trigger)
                 and CLUE_CHART.find(m.state, trigger) is not None
                 and _input_guards_fail(trigger, given, m) is None)
        _note(f"bulk: {'moved' if moves else 'skipped'}")
        if moves:
            dest = CLUE_CHART.find(m.state, trigger).dest
            assert res.moved == [(m.number, m.state.value, dest.value)]
            self._apply(m, trigger, given, before)
        else:
            assert res.moved == []
            assert self._states() == before

    # -- invariants --------------------------------------------------------------
    @invariant()
    def rows_match_the_model(self):
        with self.engine.connect() as conn:
            rows = {r.number: r for r in conn.execute(select(T.c.number, T.c.state, T.c.version))}
        for m in self.model:
            assert rows[m.number].state == m.state.value, m
            assert rows[m.number].version == 1 + m.moves, m

    @invariant()
    def the_audit_chain_holds_and_counts_every_change(self):
        with self.engine.connect() as conn:
            n = conn.execute(select(func.count()).select_from(A).where(A.c.campaign_id == self.cid)
                             ).scalar_one()
        moves = sum(m.moves for m in self.model)
        assert n == 1 + ENROLLED + len(self.model) + moves
        result = verify(self.engine, self.cid)
        assert result.ok and result.records == n, result

    @invariant()
    def the_campaign_figures_add_up(self):
        f = campaign_status(self.engine, self.code, as_of=self.now).figures
        clue_states = [m.state for m in self.model if m.kind == "clue"]
        self_states = [m.state for m in self.model if m.kind == "self_inspection"]
        concluded = {ClueState.closed, ClueState.transferred}
        assert f.clues + f.self_inspection == len(self.model)
        assert (f.clues, f.self_inspection) == (len(clue_states), len(self_states))
        assert f.concluded + f.ongoing + f.in_progress == f.clues
        assert f.concluded == sum(s in concluded for s in clue_states)
        assert f.ongoing == sum(s == ClueState.long_term for s in clue_states)
        assert f.self_rectified == sum(s in concluded | {ClueState.long_term} for s in self_states)


def test_random_walks_agree_with_the_chart(sqlite_campaign_template, tmp_path):
    ClueMachine.template, ClueMachine.workdir = sqlite_campaign_template, tmp_path
    run_state_machine_as_test(ClueMachine, settings=settings(
        max_examples=25, stateful_step_count=30, deadline=None, derandomize=False,
        suppress_health_check=[HealthCheck.too_slow]))


@pytest.mark.parametrize("path,expected", [
    (["verify", "substantiate", "defer", "submit_evidence", "reject"], "rectifying"),
    (["verify", "dismiss", "reopen", "submit_evidence", "approve", "reopen"], "rectifying"),
    (["verify", "substantiate", "extend", "submit_evidence"], "rectified"),
])
def test_a_long_walk_keeps_version_and_audit_in_step(sqlite_campaign_template, tmp_path, path, expected):
    # a fixed walk through the machine, so the invariants are checked on a known long path too
    ClueMachine.template, ClueMachine.workdir = sqlite_campaign_template, tmp_path
    machine = ClueMachine()
    machine.start()
    try:
        for trigger in path:
            actor = "sup.city" if trigger in SUPERVISOR_TRIGGERS else "off.a"
            machine.fire_one(0, trigger, actor, set(FIELDS))
            machine.rows_match_the_model()
            machine.the_audit_chain_holds_and_counts_every_change()
            machine.the_campaign_figures_add_up()
        assert machine.model[0].state.value == expected
        assert machine.model[0].moves == len(path)
    finally:
        machine.teardown()
