"""The campaign plan (实施方案) as validated data.

A plan is data, validated but not forced into one shape (docs/domain.md §4.1): stage
names, counts and dates differ between seeds, and some seeds' dates are even
inconsistent (001's summary is due before its rectification stage ends), so
only what would make the software misbehave is refused.
"""
from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from . import limits as L
from .authority import reserved_identity
from .email_address import check_email
from .errors import PlanReferenceError
from .lapses import CAUSES, LADDER_CAUSES, Cause
from .cron import check_cron
from . import ranking as scoring
from .warning import BLUE_WITHIN_DAYS, YELLOW_WITHIN_DAYS

__all__ = ["Plan", "PlanReferenceError", "CampaignInfo", "Aspect", "UnitSpec", "Person", "StageSpec",
           "Deliverable", "ReportingDuty", "Schedule", "ClueRules", "LEVELS", "CHANNELS",
           "CHANNEL_ALIASES", "channel_of",
           "EscalationPolicy", "EscalationRule", "WarningColours", "LAPSE_CAUSES", "FAKED_LEVEL", "Period", "KEY",
           "text_field", "Key", "Name", "Label", "Text", "Documents", "default_organ",
           "RankingRules", "RankingWeights", "RankingDeductions"]

LEVELS = ("central", "province", "prefecture", "county", "department", "team")
# 线索来源 (docs/domain.md §5.1)
CHANNELS = ("12345", "12328", "信访投诉", "新闻媒体", "门户网站/微信", "行政复议", "行政诉讼",
            "实地督察", "暗访", "随机抽查", "案卷评查", "自查自纠", "上级交办")
# the short names people use for a source (docs/domain.md §1: "petitions 信访, media, web,
# 复议, 诉讼"), each naming one source above; what is stored is always the full name
CHANNEL_ALIASES = {"信访": "信访投诉", "投诉": "信访投诉", "媒体": "新闻媒体", "新闻": "新闻媒体",
                   "门户网站": "门户网站/微信", "网站": "门户网站/微信", "微信": "门户网站/微信",
                   "复议": "行政复议", "诉讼": "行政诉讼", "督察": "实地督察", "交办": "上级交办",
                   "自查": "自查自纠"}
KEY = r"^[a-z0-9][a-z0-9_-]*$"


def channel_of(name: str | None) -> str | None:
    """The source (线索来源) `name` stands for: a full name or a short one; None if neither."""
    name = (name or "").strip()
    return name if name in CHANNELS else CHANNEL_ALIASES.get(name)


def text_field(limit: L.Limit):
    """A plan's text field, held to its limit (statemachine/limits.py): what a plan
    brings must fit the column it is loaded into, on PostgreSQL as on SQLite."""
    def check(value: str) -> str:
        why = L.text_problem(value, limit)
        if why:
            raise ValueError(why)
        return value
    return Annotated[str, AfterValidator(check)]


Key, Name, UnitName, Title = text_field(L.KEY), text_field(L.NAME), text_field(L.UNIT_NAME), text_field(L.TITLE)
Label, Phone, Email, Text = text_field(L.LABEL), text_field(L.PHONE), text_field(L.EMAIL), text_field(L.TEXT)


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
    code: Key = Field(pattern=KEY, description="short key used on the command line")
    title: Title = Field(min_length=2)
    doc_number: text_field(L.DOC_NUMBER) = Field(min_length=2, description="文号, e.g. 忻交发〔2023〕56号")
    issuing_unit: UnitName = Field(min_length=2)
    issued_on: date | None = None
    implements: Title | None = Field(None, description="the parent plan this one implements")
    period: Period
    timezone: Literal["Asia/Shanghai"] = "Asia/Shanghai"
    sweep_cron: text_field(L.CRON) = Field("5 0 * * *", description="deadline sweep, cron in the timezone")

    @field_validator("sweep_cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        return check_cron(v)


class Aspect(_Strict):
    key: Key = Field(pattern=KEY)
    name: Label
    focus: Text = ""
    # other wordings of the same aspect in the units' sheets, e.g. the 2022
    # self-inspection template's headings that a carried-over item keeps
    aliases: list[Label] = []


class Contact(_Strict):
    name: Name
    role: Label = ""
    phone: Phone = ""
    email: Email = ""

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        return check_email(v)


class UnitSpec(_Strict):
    code: Key = Field(pattern=KEY)
    name: UnitName
    level: Literal[LEVELS]  # type: ignore[valid-type]
    parent: Key | None = None
    participates: bool | None = None  # default: every unit but the root
    liaison: Contact | None = None    # 联络员
    leader: Contact | None = None     # 分管领导
    # 主送机关: the organ that receives the unit's notices, by its full name (宁武县交通运输局
    # for the county 宁武县); default: `default_organ`
    organ: UnitName | None = None


# a region's name (宁武县, 忻州市, 海西州, 鄂托克前旗, 大柴旦行委, 五台山风景区): not an organ
_REGION = re.compile(r"(省|自治区|市|州|盟|县|旗|区|行委|风景区|新区|开发区)$")
_REGION_PREFIX = re.compile(r"^(.+?(?:自治区|自治州|省|市|州|盟|旗|县|区|行委))(?![市州县区旗盟])(?=.)")
# an issuing unit's department part (忻州市|交通运输局): what a county's own organ is called;
# a government department's name carries over to a county, a party office's does not
# (依法治市办 is 依法治县办 below it): those plans name their organs
_DEPARTMENT = re.compile(r"(局|厅|队|中心)$")


def default_organ(unit_name: str, issuing_unit: str) -> str:
    """The full name of the organ that receives a unit's notices when the plan gives none:
    the unit's name when it already names an organ; for a bare region (宁武县) the region
    followed by the issuing unit's department (忻州市交通运输局 → 宁武县交通运输局)."""
    if not _REGION.search(unit_name):
        return unit_name
    m = _REGION_PREFIX.match(issuing_unit)
    department = issuing_unit[m.end():] if m else ""
    if not _DEPARTMENT.search(department) or "委" in department:
        return unit_name
    return unit_name + department


class Person(_Strict):
    """A user of the system (fictional in shipped plans)."""

    username: Key = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    name: Name
    unit: Key
    role: Literal["supervisor", "officer", "inspector"] = "officer"
    email: Email = ""
    phone: Phone = ""

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        return check_email(v)

    @field_validator("username")
    @classmethod
    def _not_reserved(cls, v: str) -> str:
        why = reserved_identity(v)
        if why:
            raise ValueError(why.replace("act as a user of the plan", "choose another username"))
        return v


class Deliverable(_Strict):
    key: Key = Field(pattern=KEY)
    name: Label


class StageSpec(_Strict):
    key: Key = Field(pattern=KEY)
    name: Name
    start: date | None = None
    end: date | None = None     # the deadline; None only for ongoing stages
    ongoing: bool = False       # 长期推进: no hard end
    # the stage's summary date; for an ongoing stage also when its deliverables are owed
    # (003: 总结提升 "10月25日前阶段性完成，长期推进"; statemachine/charts/unit_stage.stage_deadline)
    summary_due: date | None = None
    deliverables: list[Deliverable] = []
    note: Text = ""

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
    stage: Key | None = None

    @model_validator(mode="after")
    def _shape(self):
        need = {"weekly": "weekday", "monthly": "day", "once": "due", "stage_end": None}[self.kind]
        if need and getattr(self, need) is None:
            raise ValueError(f"a {self.kind} schedule needs '{need}'")
        if isinstance(self.day, int) and not 1 <= self.day <= 31:
            raise ValueError("day must be 1..31 or 'last'")
        return self


class ReportingDuty(_Strict):
    key: Key = Field(pattern=KEY)
    name: Label
    schedule: Schedule
    start: date | None = None
    until: date | None = None
    owed_by: Literal["participants", "lead"] = "participants"
    typical_cases: int = Field(0, ge=0)
    note: Text = ""


# a span of working time: '1 working day', '4 working hours' (statemachine/time/spans.py)
SPAN_PATTERN = r"^\s*([1-9][0-9]{0,2})\s+working\s+(day|days|hour|hours)\s*$"


class ClueRules(_Strict):
    verify_within_working_days: int = Field(10, ge=1, le=120)
    rectify_within_working_days: int = Field(30, ge=1, le=365)
    number_prefix: str = Field("XS", pattern=r"^[A-Z][A-Z0-9]{0,7}$")
    # 延期 granted per item (statemachine/charts/extension.py): 12345 work-order practice
    # grants one extension per order as a rule; a plan may allow more, or none (0)
    max_extensions: int = Field(1, ge=0, le=10)
    # 签收: an item assigned to a unit (received, reassigned) is signed for within this
    # span ('1 working day', '4 working hours'; statemachine/time/spans.py); none: the
    # plan asks for no signing and items arrive signed (statemachine/charts/signing.py)
    sign_for: str | None = Field(None, pattern=SPAN_PATTERN)
    # 退单: a unit returns an item that is not its own within this span of its assignment
    return_window: str = Field("2 working days", pattern=SPAN_PATTERN)
    # 回访 after 销号 (statemachine/charts/callback.py): within 3 working days is common in
    # provincial 12345 rules; set your province's value
    callback_within_working_days: int = Field(3, ge=1, le=30)


# What a lapse is about; each kind the sweep records is a cause on the ladder.
# `faked` (弄虚作假) is what a look-back check finds; it is 追责问责 at least.
LAPSE_CAUSES = LADDER_CAUSES  # statemachine/lapses.py: each cause once
FAKED_LEVEL = CAUSES[Cause.faked].level


class EscalationRule(_Strict):
    cause: Literal[LAPSE_CAUSES]  # type: ignore[valid-type]
    level: int = Field(1, ge=1, le=5, description="1 通报批评 … 5 移交纪检监察")


class WarningColours(_Strict):
    """Early warning before a deadline (docs/domain.md §12): blue, then yellow; red once overdue."""

    blue_within_days: int = Field(BLUE_WITHIN_DAYS, ge=0)
    yellow_within_days: int = Field(YELLOW_WITHIN_DAYS, ge=0)

    @model_validator(mode="after")
    def _ordered(self):
        if self.yellow_within_days > self.blue_within_days:
            raise ValueError("yellow_within_days must not exceed blue_within_days")
        return self


def _default_rules() -> list[EscalationRule]:
    # each cause at its default level (statemachine/lapses.py: 工作不力、进展缓慢 → 通报批评,
    # a 销号 refused again and again → 函询约谈, 弄虚作假 → 追责问责)
    return [EscalationRule(cause=c.value, level=i.level) for c, i in CAUSES.items() if i.level is not None]


class EscalationPolicy(_Strict):
    issuer_code: text_field(L.ISSUER_CODE) = Field("整治督", min_length=1,
                             description="发文机关代字 of the notices, e.g. 忻交督 → 忻交督〔2023〕3号")
    rules: list[EscalationRule] = Field(default_factory=_default_rules)
    auto_levels: list[int] = Field([1], description="levels issued without a supervisor's confirmation")
    response_working_days: dict[int, int] = Field(
        {1: 10, 2: 20, 3: 30, 4: 30, 5: 60}, description="the unit's response window per level")
    chase_working_days: int = Field(5, ge=1, le=60, description="after 催办, this long before the next level")
    no_progress_working_days: int = Field(15, ge=1, le=120, description="the 躺平 signal")
    repeated_reject_count: int = Field(2, ge=1, le=10)
    channels: list[Literal["email", "webhook", "file"]] = ["email", "webhook", "file"]
    # one notice per unit, level and night listing all its causes, instead of one per cause
    # (the seeds sanction 地方和单位, not each lapse: 002, 003, 004)
    combine_causes: bool = Field(False, description="one notice per unit and night for all its causes")
    warning: WarningColours = WarningColours()

    @field_validator("auto_levels")
    @classmethod
    def _levels(cls, v: list[int]) -> list[int]:
        bad = [x for x in v if not 1 <= x <= 5]
        if bad:
            raise ValueError(f"levels are 1..5, got {bad}")
        return v

    @field_validator("response_working_days")
    @classmethod
    def _windows(cls, v: dict[int, int]) -> dict[int, int]:
        full = {1: 10, 2: 20, 3: 30, 4: 30, 5: 60} | v
        if set(full) != {1, 2, 3, 4, 5} or any(not 1 <= d <= 365 for d in full.values()):
            raise ValueError("response windows are working days (1..365) for levels 1..5")
        return full

    @model_validator(mode="after")
    def _unique_causes(self):
        causes = [r.cause for r in self.rules]
        if len(causes) != len(set(causes)):
            raise ValueError("one rule per cause")
        if (self.level_for("faked") or FAKED_LEVEL) < FAKED_LEVEL:
            raise ValueError("faked (弄虚作假) is answered by 追责问责 (level 4) or 移交纪检监察 (5)")
        return self

    def level_for(self, cause: str) -> int | None:
        return next((r.level for r in self.rules if r.cause == cause), None)

    def levels(self) -> dict[str, int]:
        """cause → level; 弄虚作假 found by a look-back always has one, even when a
        plan's own rules leave it out."""
        return {"faked": FAKED_LEVEL} | {r.cause: r.level for r in self.rules}


class Documents(_Strict):
    """How the plan's notices (公文, GB/T 9704-2012) are headed and closed, and the
    facts of an interview a supervisor does not give."""

    issuer_mark: UnitName | None = Field(None, description="发文机关标志; default: the issuing unit + 文件")
    printer: UnitName | None = Field(None, description="印发机关 of the 版记; default: the issuing unit + 办公室")
    task_force: UnitName | None = Field(None, description="抄送: the task force (工作专班/领导小组办公室)")
    cc_leader: bool = Field(True, description="抄送 the unit's 分管领导 named in the plan")
    contact: Name | None = Field(None, description="联系人 printed after the signature")
    phone: Phone | None = None
    interview_place: Label | None = Field(None, description="约谈地点; default: the issuing unit's 会议室")
    interview_time: time = Field(time(9, 30), description="约谈时间 of the day")
    interview_after_working_days: int = Field(3, ge=1, le=30, description="约谈 this many working days after issue")
    attendees: Label = Field("你单位主要负责同志、分管负责同志", description="约谈对象")


class RankingWeights(_Strict):
    """考核排名: how the 100 points are shared among the rates (statemachine/ranking.py);
    a rate with nothing to measure drops out and the others are scaled up."""

    sign_on_time: int = Field(10, ge=0, le=100, description="签收及时率")
    close_on_time: int = Field(40, ge=0, le=100, description="按时办结率")
    satisfaction: int = Field(30, ge=0, le=100, description="满意率 (满意 + 基本满意)")
    no_redo: int = Field(10, ge=0, le=100, description="1 − 重办率")
    no_extension: int = Field(10, ge=0, le=100, description="1 − 延期率")


class RankingDeductions(_Strict):
    lapse: Decimal = Field(Decimal(2), ge=0, le=100, description="per lapse (逾期)")
    escalation: Decimal = Field(Decimal(3), ge=0, le=100, description="per escalation case issued (督办)")
    refused_return: Decimal = Field(Decimal(1), ge=0, le=100, description="per 退单 refused")


class RankingRules(_Strict):
    # defaults: the shape common in provincial 12345 work-order assessment (rates weighted to
    # 100 points, fixed deductions); set your province's values
    weights: RankingWeights = RankingWeights()
    deductions: RankingDeductions = RankingDeductions()
    floor: Decimal = Field(Decimal(0), ge=0, le=100, description="a score never falls below this")
    list_size: int = Field(3, ge=1, le=50, description="红榜 / 黑榜: the best and the worst N")

    @model_validator(mode="after")
    def _some_weight(self):
        if not any(self.weights.model_dump().values()):
            raise ValueError("at least one ranking weight must be above 0")
        return self

    def rules(self):
        """The pure rules (statemachine/ranking.py)."""
        return scoring.RankingRules(weights=scoring.Weights(**self.weights.model_dump()),
                                    deductions=scoring.Deductions(**self.deductions.model_dump()),
                                    floor=self.floor, list_size=self.list_size)


class Plan(_Strict):
    campaign: CampaignInfo
    aspects: list[Aspect] = Field(min_length=1)
    units: list[UnitSpec] = Field(min_length=1)
    people: list[Person] = []
    stages: list[StageSpec] = Field(min_length=1)
    reporting: list[ReportingDuty] = []
    clues: ClueRules = ClueRules()
    escalation: EscalationPolicy = EscalationPolicy()
    documents: Documents = Documents()
    ranking: RankingRules = RankingRules()

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
                if len(seen) == L.MAX_UNIT_DEPTH:  # its path must fit units.path
                    raise PlanReferenceError(("units", i, "parent"),
                                             f"unit '{code}' is more than {L.MAX_UNIT_DEPTH} "
                                             f"levels below the root")
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
        for i, u in enumerate(self.units):  # a derived 主送机关 must fit where a name goes
            why = L.text_problem(self.organ_of(u), L.UNIT_NAME)
            if why:
                raise PlanReferenceError(("units", i, "organ"), f"unit '{u.code}': organ {why}")
        for i, s in enumerate(self.stages[:-1]):
            if s.ongoing:
                raise PlanReferenceError(("stages", i, "ongoing"),
                                         f"stage '{s.key}' is ongoing but is not the last stage")
        return self

    def name_collisions(self) -> list[str]:
        """Unit names that cannot stand for their unit, one sentence each. Allowed (two
        城区 in one province is real), but then the name alone is refused where it is
        ambiguous and a code is needed (services/core/directory.py, resolve_unit), and
        the plan's reader should know that before the first command refuses it."""
        codes = {u.code for u in self.units}
        by_name: dict[str, list[str]] = {}
        for u in self.units:
            by_name.setdefault(u.name, []).append(u.code)
        out = [f"units {', '.join(cs)} share the name '{name}': "
               f"the name alone is refused, give their codes" for name, cs in by_name.items() if len(cs) > 1]
        out += [f"unit '{u.code}' is named '{u.name}', which is another unit's code: "
                f"'{u.name}' means that unit, give '{u.code}' for this one"
                for u in self.units if u.name in codes and u.name != u.code]
        return out

    def organ_of(self, unit: UnitSpec | str) -> str:
        """主送机关: the full name of the organ that receives the unit's notices."""
        if isinstance(unit, str):
            unit = next(u for u in self.units if u.code == unit)
        return unit.organ or default_organ(unit.name, self.campaign.issuing_unit)

    @property
    def root(self) -> UnitSpec:
        return next(u for u in self.units if u.parent is None)

    def participants(self) -> list[UnitSpec]:
        root = self.root.code
        return [u for u in self.units
                if (u.participates if u.participates is not None else u.code != root)]
