"""The supervisor's picture: per unit stage, clues and lapses; the campaign's
figures counted exactly as docs/domain.md §6 counts them (seed 000's 98.2 %)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import Engine, case, func, select

from models.tables import Clue, DeliverableRecord, Lapse, SweepRun, Unit
from statemachine.charts.clue import OPEN_STATES
from statemachine.charts.unit_stage import COMPLETED, stage_deadline, stage_lapse
from statemachine.reports.counting import CONCLUDED, Figures

from services.clues.chart import overdue_sql
from .counting import bucket_sums, figures_of
from services.campaigns.load import plan_of
from services.core.directory import campaign_row

__all__ = ["Figures", "UnitLine", "Status", "campaign_status"]

T, U, L, R, D = Clue.__table__, Unit.__table__, Lapse.__table__, SweepRun.__table__, DeliverableRecord.__table__


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


def _counts(overdue):
    n = lambda cond: func.sum(case((cond, 1), else_=0))  # noqa: E731
    return [*bucket_sums(),
            n(T.c.state.in_([s.value for s in OPEN_STATES])).label("open"),
            n(T.c.state.in_([s.value for s in CONCLUDED])).label("closed"),
            n(overdue).label("overdue")]


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
        # open and closed items of every kind (carried-over ones too), the figures as counted
        line = UnitLine(u.code, u.name, stages.get(u.stage_key, u.stage_key or "—"),
                        int(r.open or 0) if r else 0, int(r.closed or 0) if r else 0,
                        int(r.overdue or 0) if r else 0, lapses.get(u.id, 0), figures_of(r))
        due = deadlines.get(u.stage_key)  # none once completed
        if due is not None:
            line.stage_due = due.due_at or due.deliverables_due_at
            line.stage_lapse = stage_lapse(due, recorded=recorded.get((u.id, u.stage_key), set()),
                                           as_of=as_of)
        lines.append(line)
    return Status(camp.code, camp.title, as_of, last, figures_of(total), lines)
