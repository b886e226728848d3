"""What an operator reads after a night (issue 15): the cases a pass acted on, one
row each, and what waits for a person.

`case_rows`: one row per case the escalation pass touched, as it stands after
the pass: the cause in Chinese, the level, the 文号 of its latest notice, the
deadline that matters now and the state. A case proposed and issued in one pass
is one row ("已下发通知"); an escalation is shown by the new case it opened, not
by the case it left.

`waiting`: proposals a supervisor has not confirmed or withdrawn (by age) and
items whose unit asked for 销号 (整改完成, awaiting review), each with the early
warning colour of the deadline it holds up: for a 销号 the item's own deadline;
for a proposal the chase window (a supervisor is expected to decide within the
time a unit is given after a 催办).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

from sqlalchemy import Engine, select

from models.tables import Clue, EscalationCase, Notice, Unit
from statemachine.charts.clue import ClueState
from statemachine.charts.ladder import CASE_LABELS, LEVEL_LABELS, CaseState, Level
from statemachine.lapses import CAUSES
from statemachine.time.calendar import WorkingCalendar, end_of_day, local_date
from statemachine.warning import WARNING_LABELS, warning_colour

from services.campaigns.load import plan_of
from services.core.idsets import one_of

__all__ = ["CaseRow", "WaitingRow", "case_rows", "waiting", "ACTION_LABELS", "cause_label"]

E, N, U, T = EscalationCase.__table__, Notice.__table__, Unit.__table__, Clue.__table__

ACTION_LABELS = {"proposed": "拟督办(待确认)", "issued": "已下发通知", "chased": "已催办",
                 "escalated": "升级督办"}
# the order a pass takes its steps (flows/ladder.py): a later action on a case is what it did
_ORDER = ("proposed", "issued", "escalated", "chased")


def cause_label(cause: str) -> str:
    return next((info.label for c, info in CAUSES.items() if c.value == cause), cause)


@dataclass(frozen=True)
class CaseRow:
    case_id: int
    unit: str
    unit_name: str
    cause: str        # 未按期完成阶段任务
    level: str        # 通报批评
    doc_number: str   # 忻交督〔2023〕3号, "—" when no notice yet
    due: str          # YYYY-MM-DD (Asia/Shanghai), "—" when none
    state: str        # 待确认, 待回复 …
    action: str       # what this pass did: 已下发通知 …
    from_case: int | None = None  # the case an escalation left

    def as_row(self) -> dict:
        return {"案件": self.case_id, "单位": self.unit_name, "问题": self.cause, "措施": self.level,
                "文号": self.doc_number, "回复时限": self.due, "状态": self.state, "本次": self.action,
                "原案件": self.from_case or "—"}


def case_rows(engine: Engine, campaign_id: int, actions: Mapping[int, list[str]]) -> list[CaseRow]:
    """`actions`: case id → what the pass did to it, in order (LadderLine.action)."""
    last = {cid: max(acts, key=_ORDER.index) for cid, acts in actions.items() if acts}
    if not last:
        return []
    with engine.connect() as conn:
        escalated = [cid for cid, a in last.items() if a == "escalated"]
        children = {r.parent_id: r.id for r in conn.execute(
            select(E.c.id, E.c.parent_id).where(E.c.campaign_id == campaign_id,
                                                one_of(conn, E.c.parent_id, escalated)).order_by(E.c.id))}
        shown = {children.get(cid, cid): (a, cid if cid in children else None) for cid, a in last.items()}
        rows = conn.execute(select(E, U.c.code.label("unit_code"), U.c.name.label("unit_name"))
                            .join(U, U.c.id == E.c.unit_id)
                            .where(one_of(conn, E.c.id, list(shown))).order_by(E.c.id)).all()
        numbers = {r.case_id: r.doc_number for r in conn.execute(
            select(N.c.case_id, N.c.doc_number).where(one_of(conn, N.c.case_id, list(shown))).order_by(N.c.id))}
    out = []
    for r in rows:
        action, parent = shown[r.id]
        due = r.chase_due_at or r.response_due_at
        out.append(CaseRow(r.id, r.unit_code, r.unit_name, cause_label(r.cause), LEVEL_LABELS[Level(r.level)],
                           numbers.get(r.id, "—"), f"{local_date(due):%Y-%m-%d}" if due else "—",
                           CASE_LABELS.get(CaseState(r.state), r.state), ACTION_LABELS[action], parent))
    return out


@dataclass(frozen=True)
class WaitingRow:
    what: str         # 待确认督办 | 待审核销号
    ref: str          # case id or item number
    unit_name: str
    item: str         # 通报批评 · 未按期完成阶段任务, or the item's summary
    since: datetime
    days: int
    due: datetime | None
    warning: str      # 红色预警(逾期) … or 正常

    def as_row(self) -> dict:
        return {"待办": self.what, "编号": self.ref, "单位": self.unit_name, "事项": self.item,
                "等待天数": self.days, "自": f"{local_date(self.since):%Y-%m-%d}",
                "时限": f"{local_date(self.due):%Y-%m-%d}" if self.due else "—", "预警": self.warning}


def waiting(engine: Engine, campaign_id: int, *, now: datetime, calendar: WorkingCalendar) -> list[WaitingRow]:
    """What waits for a person, the longest waiting first."""
    with engine.connect() as conn:
        policy = plan_of(conn, campaign_id).escalation
        proposed = conn.execute(select(E, U.c.name.label("unit_name")).join(U, U.c.id == E.c.unit_id).where(
            E.c.campaign_id == campaign_id, E.c.state == CaseState.proposed.value)).all()
        closing = conn.execute(select(T, U.c.name.label("unit_name")).join(U, U.c.id == T.c.unit_id).where(
            T.c.campaign_id == campaign_id, T.c.state == ClueState.rectified.value)).all()
    w = policy.warning

    def colour(due: datetime | None) -> str:
        c = warning_colour(due, now, blue_within_days=w.blue_within_days, yellow_within_days=w.yellow_within_days)
        return WARNING_LABELS[c] or "正常"

    rows = []
    for r in proposed:
        due = end_of_day(calendar.add_working_days(local_date(r.proposed_at), policy.chase_working_days))
        rows.append(WaitingRow("待确认督办", str(r.id), r.unit_name,
                               f"{LEVEL_LABELS[Level(r.level)]} · {cause_label(r.cause)}", r.proposed_at,
                               (now - r.proposed_at).days, due, colour(due)))
    for r in closing:
        summary = r.summary if len(r.summary) <= 40 else r.summary[:39] + "…"
        rows.append(WaitingRow("待审核销号", r.number, r.unit_name, summary, r.updated_at,
                               (now - r.updated_at).days, r.deadline_at, colour(r.deadline_at)))
    return sorted(rows, key=lambda r: (-r.days, r.what, r.ref))
