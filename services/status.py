"""The supervisor's picture: per unit stage, clues and lapses; the campaign's
figures counted exactly as docs/domain.md §6 counts them (seed 000's 98.2 %)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import Engine, and_, case, func, select

from models.tables import Clue, DeliverableRecord, Lapse, SweepRun, Unit
from statemachine.unit_stage import COMPLETED, stage_deadline, stage_lapse

from .clue_effects import overdue_sql
from .campaigns import plan_of
from .directory import campaign_row

__all__ = ["Figures", "UnitLine", "Status", "campaign_status"]

T, U, L, R, D = Clue.__table__, Unit.__table__, Lapse.__table__, SweepRun.__table__, DeliverableRecord.__table__
CONCLUDED = ("closed", "transferred")  # 已办结: 销号, 查无实据, 移交
ONGOING = ("long_term",)               # 持续推进中


@dataclass
class Figures:
    """"共受理问题线索 N 件，已办结 N 件，持续推进中 N 件，正在办理 N 件；自查自纠问题 N 件，已整改 N 件"."""

    clues: int = 0
    concluded: int = 0
    ongoing: int = 0
    in_progress: int = 0
    self_inspection: int = 0
    self_rectified: int = 0

    @property
    def rate(self) -> float | None:
        """(concluded + ongoing + self-inspection rectified) / all items."""
        total = self.clues + self.self_inspection
        if not total:
            return None
        return (self.concluded + self.ongoing + self.self_rectified) / total

    def sentence(self) -> str:
        rate = "—" if self.rate is None else f"{self.rate * 100:.1f}%"
        return (f"共受理问题线索 {self.clues} 件，已办结 {self.concluded} 件，持续推进中 {self.ongoing} 件，"
                f"正在办理 {self.in_progress} 件；自查自纠问题 {self.self_inspection} 件，"
                f"已整改 {self.self_rectified} 件；整改率 {rate}")


@dataclass
class UnitLine:
    code: str
    name: str
    stage: str
    open: int
    closed: int
    overdue: int
    lapses: int
    figures: Figures = field(default_factory=Figures)
    # when the unit's stage is due: its end, or an ongoing stage's deliverables date
    stage_due: datetime | None = None
    # what the stage rule finds as of now (stage_deadline | deliverables_overdue), the
    # sweep's next run records it if it has not yet
    stage_lapse: str | None = None

    def as_dict(self) -> dict:
        d = asdict(self)
        d["rate"] = self.figures.rate
        d["stage_due"] = self.stage_due.isoformat() if self.stage_due else None
        return d


@dataclass
class Status:
    campaign: str
    title: str
    as_of: datetime
    last_sweep: datetime | None
    figures: Figures
    units: list[UnitLine]

    def as_dict(self) -> dict:
        return {"campaign": self.campaign, "title": self.title, "as_of": self.as_of.isoformat(),
                "last_sweep": self.last_sweep.isoformat() if self.last_sweep else None,
                "figures": asdict(self.figures) | {"rate": self.figures.rate,
                                                   "sentence": self.figures.sentence()},
                "units": [u.as_dict() for u in self.units]}


def _counts(where):
    is_clue = T.c.kind == "clue"
    is_self = T.c.kind == "self_inspection"
    done = T.c.state.in_(CONCLUDED + ONGOING)
    n = lambda cond: func.sum(case((cond, 1), else_=0))  # noqa: E731
    return [
        n(is_clue).label("clues"),
        n(and_(is_clue, T.c.state.in_(CONCLUDED))).label("concluded"),
        n(and_(is_clue, T.c.state.in_(ONGOING))).label("ongoing"),
        n(is_self).label("self_inspection"),
        n(and_(is_self, done)).label("self_rectified"),
        n(T.c.state.in_(CONCLUDED)).label("closed"),
        n(where).label("overdue"),
    ]


def _figures(r) -> Figures:
    clues = int(r.clues or 0)
    concluded, ongoing = int(r.concluded or 0), int(r.ongoing or 0)
    return Figures(clues, concluded, ongoing, clues - concluded - ongoing,
                   int(r.self_inspection or 0), int(r.self_rectified or 0))


def campaign_status(engine: Engine, campaign: str, *, as_of: datetime) -> Status:
    overdue = overdue_sql(as_of)
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        plan = plan_of(conn, camp.id)
        stages = {s.key: s.name for s in plan.stages} | {COMPLETED: "已完成"}
        deadlines = {s.key: stage_deadline(s) for s in plan.stages}
        recorded: dict[tuple[int, str], set[str]] = {}
        for r in conn.execute(select(D.c.unit_id, D.c.stage_key, D.c.key).where(D.c.campaign_id == camp.id)):
            recorded.setdefault((r.unit_id, r.stage_key), set()).add(r.key)
        per_unit = {r.unit_id: r for r in conn.execute(
            select(T.c.unit_id, *_counts(overdue)).where(T.c.campaign_id == camp.id)
            .group_by(T.c.unit_id)).all()}
        total = conn.execute(select(*_counts(overdue)).where(T.c.campaign_id == camp.id)).one()
        lapses = dict(conn.execute(select(L.c.unit_id, func.count()).where(L.c.campaign_id == camp.id)
                                   .group_by(L.c.unit_id)).all())
        units = conn.execute(select(U).where(U.c.campaign_id == camp.id, U.c.participates.is_(True))
                             .order_by(U.c.path)).all()
        last = conn.execute(select(func.max(R.c.as_of)).where(R.c.campaign_id == camp.id)).scalar()
    lines = []
    for u in units:
        r = per_unit.get(u.id)
        f = _figures(r) if r else Figures()
        total_items = f.clues + f.self_inspection
        closed = int(r.closed or 0) if r else 0
        line = UnitLine(u.code, u.name, stages.get(u.stage_key, u.stage_key or "—"),
                        total_items - closed, closed, int(r.overdue or 0) if r else 0,
                        lapses.get(u.id, 0), f)
        due = deadlines.get(u.stage_key)  # none once completed
        if due is not None:
            line.stage_due = due.due_at or due.deliverables_due_at
            line.stage_lapse = stage_lapse(due, recorded=recorded.get((u.id, u.stage_key), set()),
                                           as_of=as_of)
        lines.append(line)
    return Status(camp.code, camp.title, as_of, last, _figures(total), lines)
