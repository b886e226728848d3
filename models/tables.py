"""The schema: SQLAlchemy 2 declarative tables.

Services use these through Core (`Clue.__table__`) for set-based, predictable
SQL; the Mapped classes exist for typing, Alembic and readable reads.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .types import UTCDateTime

__all__ = ["Base", "Campaign", "Stage", "Unit", "User", "DeliverableRecord", "Clue",
           "Lapse", "AuditRecord", "AuditHead", "JobFiring", "CampaignScheduler", "SweepRun", "EscalationCase",
           "CaseLapse", "DocCounter", "Notice", "OutboxMessage", "InspectionRound", "InspectionTeam",
           "RoundUnit", "InspectionCheck", "ReportSubmission", "GeneratedReport", "Credential",
           "SignInLink", "WebSession", "AccessToken", "EvidenceFile", "PlanVersion", "ClueReturn", "Document",
           "ClueSource", "ClueCallback"]


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
    # the plan's notice template overrides as loaded ({file name: text}, JSON), never
    # read from a folder again (notifications/documents/overrides.py)
    notice_templates_json: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    clue_seq: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)


class PlanVersion(Base):
    """Each plan a campaign ran under: the load (version 1) and every revision, with the
    文号 that made it and the SHA-256 of the stored plan JSON (services/campaigns/revision.py)."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("campaign_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    doc_number: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    plan_json: Mapped[str] = mapped_column(Text)
    plan_file: Mapped[str] = mapped_column(String(500))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    loaded_by: Mapped[str] = mapped_column(String(64))


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
    # the first source's 工单号 and reporter; every source, with its own, is in clue_sources
    source_ref: Mapped[str | None] = mapped_column(String(100))  # 工单号 in the system it came from
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
    progress: Mapped[str | None] = mapped_column(Text)            # 完成情况 / 整改进度 (the unit's words)
    remark: Mapped[str | None] = mapped_column(Text)              # 备注
    typical_note: Mapped[str | None] = mapped_column(Text)        # chosen as a 典型案例: why
    resolution: Mapped[str | None] = mapped_column(String(20))    # dismissed | approved | transferred
    reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # 销号 refused this many times: repeated refusals feed the escalation ladder
    reject_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # 挂账: running | suspended (statemachine/charts/clock.py); 延期 granted so far
    clock: Mapped[str] = mapped_column(String(12), default="running", server_default="running")
    extension_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # 签收 / 改派 (statemachine/charts/signing.py, returns.py): when the unit got it, by when it
    # signs (None: the plan asks for no signing), who signed when; reassigned this many times
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sign_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signing: Mapped[str] = mapped_column(String(12), default="signed", server_default="signed")
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_by: Mapped[str | None] = mapped_column(String(64))
    assign_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # 合并: the item this one was merged into (a plain id: SQLite adds no foreign key in place)
    merged_into_id: Mapped[int | None] = mapped_column(Integer)
    # 回访: none | owed | made | at_fault (statemachine/charts/callback.py), owed by when
    callback: Mapped[str] = mapped_column(String(12), default="none", server_default="none")
    callback_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)


class ClueSource(Base):
    """One way a matter reached the campaign (a 12345 work order, a letter …): an item keeps
    every one, merged duplicates' too, so each reporter gets feedback (services/clues/sources.py)."""

    __tablename__ = "clue_sources"
    __table_args__ = (
        # a work order imported twice is one source: its number is unique per channel
        Index("uq_clue_sources_ref", "campaign_id", "channel", "source_ref", unique=True),
        Index("ix_clue_sources_clue", "clue_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    clue_id: Mapped[int] = mapped_column(ForeignKey("clues.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(40))
    source_ref: Mapped[str | None] = mapped_column(String(100))  # 工单号
    reporter_name: Mapped[str | None] = mapped_column(String(100))
    reporter_phone: Mapped[str | None] = mapped_column(String(50))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    merged_from_id: Mapped[int | None] = mapped_column(Integer)  # the duplicate it came with (合并)


class ClueCallback(Base):
    """回访: a reporter called back after 办结 (statemachine/charts/callback.py); the ranking
    counts these rows (result, on time, unit at fault, 重办)."""

    __tablename__ = "clue_callbacks"
    __table_args__ = (Index("ix_clue_callbacks_clue", "clue_id"),
                      Index("ix_clue_callbacks_unit", "campaign_id", "unit_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    clue_id: Mapped[int] = mapped_column(ForeignKey("clues.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))        # the item's unit (责任单位)
    owed_by_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))  # the level that calls back
    result: Mapped[str] = mapped_column(String(20))  # satisfied | basically_satisfied | dissatisfied | unreachable
    note: Mapped[str | None] = mapped_column(Text)
    unit_at_fault: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_time: Mapped[bool] = mapped_column(Boolean, default=True)
    redo: Mapped[bool] = mapped_column(Boolean, default=False)
    redo_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ExtensionRequest(Base):
    """延期 asked for by a unit and decided by the level above (statemachine/charts/extension.py)."""

    __tablename__ = "extension_requests"
    __table_args__ = (Index("ix_extension_requests_clue", "clue_id", "state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    clue_id: Mapped[int] = mapped_column(ForeignKey("clues.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    state: Mapped[str] = mapped_column(String(12))            # requested | approved | refused
    reason: Mapped[str] = mapped_column(Text)                 # why the unit asks
    asked: Mapped[date] = mapped_column(Date)                 # the date asked for
    previous: Mapped[date] = mapped_column(Date)              # the deadline when asked
    granted: Mapped[date | None] = mapped_column(Date)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(Text)        # why refused (or a note)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)


class ClueReturn(Base):
    """退单 by a unit and the level above's answer (statemachine/charts/returns.py): one row per
    return, the countable record of refused returns (unit, clue, when, outcome = state)."""

    __tablename__ = "clue_returns"
    __table_args__ = (Index("ix_clue_returns_clue", "clue_id", "state"),
                      Index("ix_clue_returns_unit", "unit_id", "state"))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    clue_id: Mapped[int] = mapped_column(ForeignKey("clues.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))      # the unit that returned it
    state: Mapped[str] = mapped_column(String(12))                     # requested | reassigned | refused
    reason: Mapped[str] = mapped_column(Text)                          # why it is not the unit's
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    to_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))  # reassigned to
    decision: Mapped[str | None] = mapped_column(Text)                 # why refused (or a note)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)


class ClueSuspension(Base):
    """A spell of a stopped clock (挂账): from `started_at` until `ended_at`."""

    __tablename__ = "clue_suspensions"
    __table_args__ = (Index("ix_clue_suspensions_clue", "clue_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    clue_id: Mapped[int] = mapped_column(ForeignKey("clues.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_by: Mapped[str] = mapped_column(String(64))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(64))
    working_days: Mapped[int | None] = mapped_column(Integer)  # how far the deadlines moved


class Lapse(Base):
    """A missed deadline, recorded once per natural key (docs/architecture.md decision 4)."""

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
    """Append-only, hash-chained per campaign (docs/architecture.md decision 6)."""

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


class CampaignScheduler(Base):
    """Which scheduling method owns a campaign's schedule (issue 17): one at a time."""

    __tablename__ = "campaign_schedulers"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"),
                                             primary_key=True)
    method: Mapped[str] = mapped_column(String(16))   # embedded | serve | workers
    detail: Mapped[str] = mapped_column(String(200))  # where: host:pid, the pool and API
    since: Mapped[datetime] = mapped_column(UTCDateTime)


class SweepRun(Base):
    """One sweep of a campaign: the night it is about (`as_of`) and when it ran
    (`ran_at`); two rows of one night are two runs of it (a retry, or two workers)."""

    __tablename__ = "sweep_runs"
    __table_args__ = (Index("ix_sweeps_campaign", "campaign_id", "as_of"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    run_key: Mapped[str] = mapped_column(String(64), unique=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)      # the instant the run is about (the night)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime)     # when it ran: the wall clock at its start
    new_lapses: Mapped[int] = mapped_column(Integer, default=0)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))


class EscalationCase(Base):
    """A measure of the ladder (督办) against a unit: 通报批评 … 移交纪检监察.

    `key` is the natural key of how the case came to be (a lapse's unit and
    cause, an escalation of another case, a supervisor's action): a second
    flow run or scheduler cannot create it twice. `open_key` is set while the
    case is open, so a unit has at most one open case per cause.
    """

    __tablename__ = "escalation_cases"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),
                      UniqueConstraint("campaign_id", "open_key"),
                      Index("ix_cases_due", "campaign_id", "state", "response_due_at"),
                      Index("ix_cases_unit", "unit_id", "state"))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    level: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(30))
    cause: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(160))
    open_key: Mapped[str | None] = mapped_column(String(160))
    stage_key: Mapped[str | None] = mapped_column(String(64))
    clue_id: Mapped[int | None] = mapped_column(ForeignKey("clues.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("escalation_cases.id"))
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text)
    required_action: Mapped[str | None] = mapped_column(Text)
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    chased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    chase_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response: Mapped[str | None] = mapped_column(Text)
    response_attachment: Mapped[str | None] = mapped_column(String(500))
    interview_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    interview_minutes: Mapped[str | None] = mapped_column(Text)
    # the 约谈 a supervisor arranged when issuing it; None: the plan's `documents:` defaults
    interview_scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    interview_place: Mapped[str | None] = mapped_column(String(200))
    interview_attendees: Mapped[str | None] = mapped_column(String(200))
    decision: Mapped[str | None] = mapped_column(String(20))   # accountable | exempt
    decision_text: Mapped[str | None] = mapped_column(Text)
    exemption_grounds: Mapped[str | None] = mapped_column(Text)  # 三个区分开来
    receiving_organ: Mapped[str | None] = mapped_column(String(200))
    follow_up: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)


class CaseLapse(Base):
    """Which case answered which lapse: the primary key makes it once per lapse."""

    __tablename__ = "case_lapses"
    lapse_id: Mapped[int] = mapped_column(ForeignKey("lapses.id", ondelete="CASCADE"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("escalation_cases.id", ondelete="CASCADE"),
                                         index=True)


class DocCounter(Base):
    """发文字号: the last number issued per issuing unit and year; never reused."""

    __tablename__ = "doc_counters"
    issuer: Mapped[str] = mapped_column(String(100), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Notice(Base):
    """A rendered official document (通报, 约谈通知书, 督办通知书, 催办通知书, 摘牌通知 …)."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),
                      UniqueConstraint("issuer", "year", "seq"),
                      Index("ix_notices_case", "case_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("escalation_cases.id"))
    kind: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(160))
    issuer: Mapped[str] = mapped_column(String(100))   # the 发文机关代字, e.g. 忻交督
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    doc_number: Mapped[str] = mapped_column(String(100))
    addressee_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    title: Mapped[str] = mapped_column(String(300))
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """A message to deliver, written in the transaction of the change it announces.

    `key` is the idempotency key: one message per (notice, channel, recipient),
    sent as Message-ID / Idempotency-Key so a receiver can drop a repeat.
    A sender leases a message (`claimed_until`) before sending, so two drains
    never send it at once and a crashed drain's lease simply expires.
    """

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("key"),
                      Index("ix_outbox_due", "state", "next_attempt_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))
    channel: Mapped[str] = mapped_column(String(20))    # email | webhook | file
    recipient: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))      # pending | sent | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InspectionRound(Base):
    """A look-back round (回头看) or field inspection (实地督察), docs/domain.md §9."""

    __tablename__ = "inspection_rounds"
    __table_args__ = (UniqueConstraint("campaign_id", "code"),
                      Index("ix_rounds_due", "campaign_id", "state", "deadline_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))      # look_back | field_inspection
    state: Mapped[str] = mapped_column(String(20))
    organiser_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    scope_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    spec_json: Mapped[str] = mapped_column(Text)       # the validated RoundSpec
    seed: Mapped[str] = mapped_column(String(20))      # recorded so anyone can re-draw the sample
    deadline: Mapped[date] = mapped_column(Date)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    visit_from: Mapped[date | None] = mapped_column(Date)
    visit_to: Mapped[date | None] = mapped_column(Date)
    candidates: Mapped[int] = mapped_column(Integer, default=0)
    selected: Mapped[int] = mapped_column(Integer, default=0)
    digest: Mapped[str | None] = mapped_column(String(64))  # of the drawn item numbers
    tally_json: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)


class InspectionTeam(Base):
    """督察组: members are the campaign's people (usernames)."""

    __tablename__ = "inspection_teams"
    __table_args__ = (UniqueConstraint("round_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_rounds.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    leader: Mapped[str | None] = mapped_column(String(64))
    members_json: Mapped[str] = mapped_column(Text)


class RoundUnit(Base):
    """A unit in a round: its team, visit day, and what the draw saw there.

    `candidates_json` keeps a sample's candidates ([number, weight] pairs), so
    the draw can be repeated from the recorded seed afterwards."""

    __tablename__ = "round_units"
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_rounds.id", ondelete="CASCADE"),
                                          primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_teams.id"))
    visit_on: Mapped[date | None] = mapped_column(Date)
    candidates: Mapped[int] = mapped_column(Integer, default=0)
    selected: Mapped[int] = mapped_column(Integer, default=0)
    candidates_json: Mapped[str | None] = mapped_column(Text)


class InspectionCheck(Base):
    """One selected item's re-check; (round, clue) is its natural key."""

    __tablename__ = "inspection_checks"
    __table_args__ = (UniqueConstraint("round_id", "clue_id"),
                      Index("ix_checks_round_state", "round_id", "state"),
                      Index("ix_checks_round_unit", "round_id", "unit_id"),
                      Index("ix_checks_clue", "clue_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_rounds.id", ondelete="CASCADE"))
    clue_id: Mapped[int] = mapped_column(ForeignKey("clues.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_teams.id"))
    state: Mapped[str] = mapped_column(String(20))
    method: Mapped[str | None] = mapped_column(String(20))
    inspector: Mapped[str | None] = mapped_column(String(100))
    findings: Mapped[str | None] = mapped_column(Text)
    attachment: Mapped[str | None] = mapped_column(String(500))
    checked_on: Mapped[date | None] = mapped_column(Date)
    new_deadline: Mapped[date | None] = mapped_column(Date)  # a relapse's rectification deadline
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # reopen/escalation done
    applied_note: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)


class ReportSubmission(Base):
    """A unit's report under a reporting duty (报送) for one period; one per
    (unit, duty, period). `late` is fixed when it is recorded."""

    __tablename__ = "report_submissions"
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id", "duty_key", "period"),
                      Index("ix_submissions_duty", "campaign_id", "duty_key", "period"))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    duty_key: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by: Mapped[str] = mapped_column(String(64))
    attachment: Mapped[str] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(Text)
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class GeneratedReport(Base):
    """A generated report (roll-up, final summary) of a unit for a period; one per
    (unit, kind, period), so a scheduled run that repeats writes nothing new."""

    __tablename__ = "generated_reports"
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id", "kind", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    kind: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(32))
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    generated_by: Mapped[str] = mapped_column(String(64))
    files_json: Mapped[str] = mapped_column(Text)  # format -> "document:<name>" (before 0013: a path)
    digest: Mapped[str] = mapped_column(String(64))
    flow_run_id: Mapped[str | None] = mapped_column(String(64))


class Document(Base):
    """A file the batch makes (a report in one format), kept in the database: the one
    store every worker and the web app already share, written in the same transaction
    as the record that names it (services/reports/store.py). `name` is where it is in
    the store (`reports/<campaign>/<unit>/<kind>-<period>.<format>`), never a host's path."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("campaign_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(300))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime)


# -- the web's sign-in (services/accounts/): an account is one of the plan's people --------
# Every secret a browser or a client holds (a link's token, a session id, an access
# token) is stored only as its SHA-256: a copy of the database signs nobody in.


class Credential(Base):
    """A person's password (Argon2) and the state of their account; none until invited."""

    __tablename__ = "credentials"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # failed sign-ins in a row
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInLink(Base):
    """A one-time link (invite, reset): valid until `expires_at`, used at most once."""

    __tablename__ = "signin_links"
    __table_args__ = (Index("ix_signin_links_user", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(10))  # invite | reset
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # or voided by a later link


class WebSession(Base):
    """A signed-in browser: ends when idle, at its absolute expiry, or at sign-out."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_user", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    address: Mapped[str] = mapped_column(String(64), default="")


class AccessToken(Base):
    """A personal access token (Bearer) made by its owner, shown once."""

    __tablename__ = "access_tokens"
    __table_args__ = (Index("ix_access_tokens_user", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))  # the token's first characters, to tell them apart
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EvidenceFile(Base):
    """An uploaded evidence file (可验证成果) of a clue, a case or a report submission.

    The file itself lies in the evidence store under its SHA-256 (services/evidence/),
    never under a name from the upload; `name` is the upload's name, cleaned, for
    display and downloads only. The same digest is in the attach record of the audit
    chain, so a file swapped in the store, or a row pointed at another file, shows."""

    __tablename__ = "evidence_files"
    __table_args__ = (UniqueConstraint("campaign_id", "owner_kind", "owner_id", "sha256"),
                      Index("ix_evidence_owner", "owner_kind", "owner_id"),
                      Index("ix_evidence_sha256", "sha256"))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    owner_kind: Mapped[str] = mapped_column(String(20))  # clue | case | submission
    owner_id: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))  # the owner's unit: who may see it
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
