"""A look-back round or field inspection as a supervisor writes it (a YAML file).

    code: lb-2023-08
    title: 专项整治问题整改“回头看”
    kind: look_back              # or field_inspection (实地督察)
    scope: xinzhou               # the subtree of units re-checked
    items: [clue, self_inspection, carried_over]
    closed: {start: 2023-04-01, end: 2023-08-20}   # items closed in this period
    selection: {mode: sample, share: 0.2, min_per_unit: 1, risk_weighted: true, seed: 20230824}
    deadline: 2023-09-28         # every check recorded by then
    visits: {start: 2023-09-18, end: 2023-09-25}   # teams visit units in this window
    methods: [随机抽查, 案卷审查]
    teams:
      - {code: team-1, name: 第一督察组, leader: insp.a, members: [insp.a, insp.b]}

Validated here as far as the file alone allows; units and people are checked
against the campaign when the round is planned.
"""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from statemachine.charts.lookback import ITEM_KINDS, METHODS, ROUND_KINDS, method_key
from statemachine import limits as L
from statemachine.plan import KEY, Key, Label, Name, Period, PlanReferenceError, Text, text_field

__all__ = ["RoundSpec", "Selection", "TeamSpec", "RiskSpec"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class RiskSpec(_Strict):
    fast: float = Field(3.0, ge=1, le=100)
    fast_ratio: float = Field(0.25, gt=0, le=1)
    thin_evidence: float = Field(3.0, ge=1, le=100)
    thin_evidence_chars: int = Field(10, ge=0, le=10_000)
    full_unit: float = Field(2.0, ge=1, le=100)


class Selection(_Strict):
    mode: Literal["all", "sample"] = "all"
    count: int | None = Field(None, ge=1, description="items drawn per unit")
    share: float | None = Field(None, gt=0, le=1, description="share of each unit's items drawn")
    min_per_unit: int = Field(1, ge=1)
    risk_weighted: bool = False
    risk: RiskSpec = RiskSpec()
    seed: int | None = Field(None, ge=0, lt=2 ** 53, description="recorded; drawn at random if absent")

    @model_validator(mode="after")
    def _shape(self):
        if self.mode == "sample" and (self.count is None) == (self.share is None):
            raise ValueError("a sample needs exactly one of 'count' (per unit) or 'share'")
        if self.mode == "all" and (self.count is not None or self.share is not None
                                   or self.risk_weighted):
            raise ValueError("mode 'all' takes every closed item: drop count/share/risk_weighted "
                             "or use mode: sample")
        return self


class TeamSpec(_Strict):
    code: Key = Field(pattern=KEY)
    name: Name = Field(min_length=1)
    leader: Key | None = None
    members: list[Key] = Field(min_length=1, description="usernames of the campaign's people")
    unit: text_field(L.UNIT_NAME) | None = Field(None, description="the team's own unit; the organiser's by default")

    @model_validator(mode="after")
    def _leader_is_member(self):
        if self.leader and self.leader not in self.members:
            raise ValueError(f"leader '{self.leader}' is not one of the members")
        if len(set(self.members)) != len(self.members):
            raise ValueError("a member is listed twice")
        return self


class RoundSpec(_Strict):
    code: Key = Field(pattern=KEY)
    title: text_field(L.COLUMNS["inspection_rounds.title"]) = Field(min_length=2)
    kind: Literal[tuple(ROUND_KINDS)] = "look_back"  # type: ignore[valid-type]
    scope: text_field(L.UNIT_NAME)
    items: list[Literal[tuple(ITEM_KINDS)]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(ITEM_KINDS), min_length=1)
    closed: Period | None = None
    selection: Selection = Selection()
    deadline: date
    visits: Period | None = None
    methods: list[Label] = Field(default_factory=list)
    announce_items: bool = Field(True, description="false for unannounced visits (四不两直)")
    reopen_working_days: int = Field(20, ge=1, le=365, description="a relapsed item's new deadline")
    teams: list[TeamSpec] = []
    note: Text = ""

    @field_validator("methods")
    @classmethod
    def _methods(cls, v: list[str]) -> list[str]:
        keys = []
        for m in v:
            k = method_key(m)
            if k is None:
                raise ValueError(f"unknown method '{m}' (one of {'、'.join(METHODS.values())})")
            keys.append(k)
        return keys

    @model_validator(mode="after")
    def _consistent(self):
        # PlanReferenceError carries the field, so a round file's error names its line
        if self.visits and self.visits.end > self.deadline:
            raise PlanReferenceError(("visits", "end"), f"the visit window ends {self.visits.end}, "
                                                        f"after the deadline {self.deadline}")
        seen_codes: set[str] = set()
        seen: dict[str, str] = {}
        for i, t in enumerate(self.teams):
            if t.code in seen_codes:
                raise PlanReferenceError(("teams", i, "code"), f"team codes must be unique ('{t.code}' twice)")
            seen_codes.add(t.code)
            for m in t.members:
                if m in seen:
                    raise PlanReferenceError(("teams", i, "members"), f"'{m}' is in two teams ({seen[m]}, {t.code})")
                seen[m] = t.code
        return self
