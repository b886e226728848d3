"""The campaign plan (实施方案) as validated data.

A plan is data, validated but not forced into one shape (DOMAIN §3): stage
names, counts and dates differ between seeds, and some seeds' dates are even
inconsistent (001's summary is due before its rectification stage ends), so
only what would make the software misbehave is refused.
"""
from __future__ import annotations

import re
from datetime import date, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["Plan", "PlanReferenceError", "CampaignInfo", "Aspect", "UnitSpec", "Person", "StageSpec",
           "Deliverable", "ReportingDuty", "Schedule", "ClueRules", "LEVELS", "CHANNELS"]

LEVELS = ("central", "province", "prefecture", "county", "department", "team")
# 线索来源 (DOMAIN §4)
CHANNELS = ("12345", "12328", "信访投诉", "新闻媒体", "门户网站/微信", "行政复议", "行政诉讼",
            "实地督察", "暗访", "随机抽查", "案卷评查", "自查自纠", "上级交办")
KEY = r"^[a-z0-9][a-z0-9_-]*$"
_CRON = re.compile(r"^\S+(\s+\S+){4}$")


class PlanReferenceError(ValueError):
    """A cross-reference check failed; `loc` says where in the plan, so the
    reader can name the field and line rather than the whole plan."""

    def __init__(self, loc: tuple, message: str):
        super().__init__(message)
        self.loc = loc


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Period(_Strict):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class CampaignInfo(_Strict):
    code: str = Field(pattern=KEY, description="short key used on the command line")
    title: str = Field(min_length=2)
    doc_number: str = Field(min_length=2, description="文号, e.g. 忻交发〔2023〕56号")
    issuing_unit: str = Field(min_length=2)
    issued_on: date | None = None
    implements: str | None = Field(None, description="the parent plan this one implements")
    period: Period
    timezone: Literal["Asia/Shanghai"] = "Asia/Shanghai"
    sweep_cron: str = Field("5 0 * * *", description="deadline sweep, cron in the timezone")

    @field_validator("sweep_cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        if not _CRON.match(v):
            raise ValueError("must be a 5-field cron expression, e.g. '5 0 * * *'")
        return v


class Aspect(_Strict):
    key: str = Field(pattern=KEY)
    name: str
    focus: str = ""


class Contact(_Strict):
    name: str
    role: str = ""
    phone: str = ""
    email: str = ""


class UnitSpec(_Strict):
    code: str = Field(pattern=KEY)
    name: str
    level: Literal[LEVELS]  # type: ignore[valid-type]
    parent: str | None = None
    participates: bool | None = None  # default: every unit but the root
    liaison: Contact | None = None    # 联络员
    leader: Contact | None = None     # 分管领导


class Person(_Strict):
    """A user of the system (fictional in shipped plans)."""

    username: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    name: str
    unit: str
    role: Literal["supervisor", "officer", "inspector"] = "officer"
    email: str = ""
    phone: str = ""


class Deliverable(_Strict):
    key: str = Field(pattern=KEY)
    name: str


class StageSpec(_Strict):
    key: str = Field(pattern=KEY)
    name: str
    start: date | None = None
    end: date | None = None     # the deadline; None only for ongoing stages
    ongoing: bool = False       # 长期推进: no hard end
    summary_due: date | None = None
    deliverables: list[Deliverable] = []
    note: str = ""

    @model_validator(mode="after")
    def _dates(self):
        if self.end is None and not self.ongoing:
            raise ValueError("a stage needs an end date unless it is ongoing (ongoing: true)")
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        keys = [d.key for d in self.deliverables]
        if len(keys) != len(set(keys)):
            raise ValueError("deliverable keys must be unique within a stage")
        return self


class Schedule(_Strict):
    kind: Literal["weekly", "monthly", "once", "stage_end"]
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] | None = None
    day: int | Literal["last"] | None = None
    due: date | None = None
    at: time = time(23, 59, 59)
    stage: str | None = None

    @model_validator(mode="after")
    def _shape(self):
        need = {"weekly": "weekday", "monthly": "day", "once": "due", "stage_end": None}[self.kind]
        if need and getattr(self, need) is None:
            raise ValueError(f"a {self.kind} schedule needs '{need}'")
        if isinstance(self.day, int) and not 1 <= self.day <= 31:
            raise ValueError("day must be 1..31 or 'last'")
        return self


class ReportingDuty(_Strict):
    key: str = Field(pattern=KEY)
    name: str
    schedule: Schedule
    start: date | None = None
    until: date | None = None
    owed_by: Literal["participants", "lead"] = "participants"
    typical_cases: int = Field(0, ge=0)
    note: str = ""


class ClueRules(_Strict):
    verify_within_working_days: int = Field(10, ge=1, le=120)
    rectify_within_working_days: int = Field(30, ge=1, le=365)
    number_prefix: str = Field("XS", pattern=r"^[A-Z][A-Z0-9]{0,7}$")


class Plan(_Strict):
    campaign: CampaignInfo
    aspects: list[Aspect] = Field(min_length=1)
    units: list[UnitSpec] = Field(min_length=1)
    people: list[Person] = []
    stages: list[StageSpec] = Field(min_length=1)
    reporting: list[ReportingDuty] = []
    clues: ClueRules = ClueRules()

    @model_validator(mode="after")
    def _references(self):
        def unique(items, attr, where):
            seen: set[str] = set()
            for i, item in enumerate(items):
                k = getattr(item, attr)
                if k in seen:
                    raise PlanReferenceError((where, i, attr), f"duplicate {where} {attr} '{k}'")
                seen.add(k)
            return seen

        unique(self.aspects, "key", "aspects")
        unit_codes = unique(self.units, "code", "units")
        stage_keys = unique(self.stages, "key", "stages")
        unique(self.reporting, "key", "reporting")
        unique(self.people, "username", "people")
        roots = [u for u in self.units if u.parent is None]
        if len(roots) != 1:
            raise PlanReferenceError(("units",), "the unit tree needs exactly one root "
                                     f"(parent: null), found {len(roots)}")
        parents = {u.code: u.parent for u in self.units}
        for i, u in enumerate(self.units):
            if u.parent is not None and u.parent not in unit_codes:
                raise PlanReferenceError(("units", i, "parent"),
                                         f"unit '{u.code}' has unknown parent '{u.parent}'")
        for i, code in enumerate(parents):  # a cycle would make "ancestor" undefined
            seen, cur = set(), code
            while cur is not None:
                if cur in seen:
                    raise PlanReferenceError(("units", i, "parent"),
                                             f"unit '{code}' is in a parent cycle")
                seen.add(cur)
                cur = parents[cur]
        for i, p in enumerate(self.people):
            if p.unit not in unit_codes:
                raise PlanReferenceError(("people", i, "unit"),
                                         f"person '{p.username}' belongs to unknown unit '{p.unit}'")
        for i, d in enumerate(self.reporting):
            if d.schedule.stage and d.schedule.stage not in stage_keys:
                raise PlanReferenceError(("reporting", i, "schedule", "stage"),
                                         f"reporting duty '{d.key}' names unknown stage "
                                         f"'{d.schedule.stage}'")
        for i, s in enumerate(self.stages[:-1]):
            if s.ongoing:
                raise PlanReferenceError(("stages", i, "ongoing"),
                                         f"stage '{s.key}' is ongoing but is not the last stage")
        return self

    @property
    def root(self) -> UnitSpec:
        return next(u for u in self.units if u.parent is None)

    def participants(self) -> list[UnitSpec]:
        root = self.root.code
        return [u for u in self.units
                if (u.participates if u.participates is not None else u.code != root)]
