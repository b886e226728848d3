"""The schema: SQLAlchemy 2 declarative tables.

Services use these through Core (`Clue.__table__`) for set-based, predictable
SQL; the Mapped classes exist for typing, Alembic and readable reads.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (Boolean, Date, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .types import UTCDateTime

__all__ = ["Base", "Campaign", "Stage", "Unit", "User", "DeliverableRecord", "Clue",
           "Lapse", "AuditRecord", "AuditHead", "JobFiring", "SweepRun"]


class Base(DeclarativeBase):
    pass


class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    doc_number: Mapped[str] = mapped_column(String(100))
    issuing_unit: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    sweep_cron: Mapped[str] = mapped_column(String(64))
    plan_json: Mapped[str] = mapped_column(Text)
    plan_file: Mapped[str] = mapped_column(String(500))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    clue_seq: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Stage(Base):
    __tablename__ = "stages"
    __table_args__ = (UniqueConstraint("campaign_id", "key"), UniqueConstraint("campaign_id", "idx"))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    idx: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    ongoing: Mapped[bool] = mapped_column(Boolean, default=False)
    # end of the end date in Asia/Shanghai, precomputed so the sweep compares instants
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deliverables_json: Mapped[str] = mapped_column(Text, default="[]")


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("campaign_id", "code"),
                      Index("ix_units_campaign_stage", "campaign_id", "stage_key"))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    # materialized path "/1/4/9/": subtree checks and roll-ups without recursion
    path: Mapped[str] = mapped_column(String(500), index=True)
    participates: Mapped[bool] = mapped_column(Boolean, default=True)
    stage_key: Mapped[str | None] = mapped_column(String(64))
    stage_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    liaison_json: Mapped[str] = mapped_column(Text, default="null")
    leader_json: Mapped[str] = mapped_column(Text, default="null")
    version: Mapped[int] = mapped_column(Integer, default=1)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("campaign_id", "username"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    role: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")


class DeliverableRecord(Base):
    __tablename__ = "deliverables"
    __table_args__ = (UniqueConstraint("unit_id", "stage_key", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    stage_key: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attachment: Mapped[str] = mapped_column(String(500))


class Clue(Base):
    __tablename__ = "clues"
    __table_args__ = (
        UniqueConstraint("campaign_id", "number"),
        Index("ix_clues_rectify_due", "campaign_id", "state", "deadline_at"),
        Index("ix_clues_verify_due", "campaign_id", "state", "verify_due_at"),
        Index("ix_clues_unit_state", "unit_id", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20), default="clue")  # clue | self_inspection
    channel: Mapped[str] = mapped_column(String(40))
    aspect_key: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)           # 问题表现
    root_cause: Mapped[str | None] = mapped_column(Text)  # 原因剖析
    reporter_name: Mapped[str | None] = mapped_column(String(100))
    reporter_phone: Mapped[str | None] = mapped_column(String(50))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))  # 责任单位
    owner: Mapped[str | None] = mapped_column(String(100))        # 责任人/联系人
    state: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verify_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    measures: Mapped[str | None] = mapped_column(Text)            # 整改措施
    deadline: Mapped[date | None] = mapped_column(Date)           # 完成时限
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result_form: Mapped[str | None] = mapped_column(String(200))  # 成果形式
    evidence: Mapped[str | None] = mapped_column(Text)            # 可验证成果
    stage_result: Mapped[str | None] = mapped_column(Text)        # 阶段性成效
    long_term_measure: Mapped[str | None] = mapped_column(Text)   # 长期举措
    resolution: Mapped[str | None] = mapped_column(String(20))    # dismissed | approved | transferred
    reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)


class Lapse(Base):
    """A missed deadline, recorded once per natural key (ARCH decision 4)."""

    __tablename__ = "lapses"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),
                      Index("ix_lapses_run", "campaign_id", "run_key"),
                      Index("ix_lapses_unit", "unit_id", "kind"))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    clue_id: Mapped[int | None] = mapped_column(ForeignKey("clues.id"))
    kind: Mapped[str] = mapped_column(String(30))  # stage_deadline | verify_overdue | rectify_overdue
    key: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(120))  # stage key or clue number
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    run_key: Mapped[str] = mapped_column(String(64))


class AuditRecord(Base):
    """Append-only, hash-chained per campaign (ARCH decision 6)."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("campaign_id", "seq"),
                      Index("ix_audit_entity", "entity", "entity_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(Integer)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column(Integer)
    from_state: Mapped[str | None] = mapped_column(String(64))
    to_state: Mapped[str | None] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's tip per campaign; its row lock serializes appenders."""

    __tablename__ = "audit_heads"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"),
                                             primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class JobFiring(Base):
    """One row per scheduled fire time: a second scheduler's insert conflicts."""

    __tablename__ = "job_firings"
    job: Mapped[str] = mapped_column(String(100), primary_key=True)
    fire_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SweepRun(Base):
    __tablename__ = "sweep_runs"
    __table_args__ = (Index("ix_sweeps_campaign", "campaign_id", "as_of"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    run_key: Mapped[str] = mapped_column(String(64), unique=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    new_lapses: Mapped[int] = mapped_column(Integer, default=0)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
