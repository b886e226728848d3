"""The JSON API's tests: the real app served on 127.0.0.1 (tests/web/conftest.py) over a
database seeded through the services with an item of every kind in every state an
action starts from, the people of tests/web/api/plan.yaml, each with a personal
access token (a disabled account's revoked with it).

The seeded database is built once per backend and cloned per test that changes it
(a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL), so a test gets
all of it in milliseconds, never changed by another.
"""
from __future__ import annotations

import itertools
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from sqlalchemy import insert, select, update

from models.db import make_engine
from models.tables import AuditHead, Clue, ClueCallback, EscalationCase, Notice, User
from services.accounts.accounts import Limits
from services.accounts.links import disable, invite
from services.accounts.tokens import create_token
from services.campaigns.load import campaign_id, load_plan
from services.campaigns.plans import read_plan
from services.campaigns.units import record_deliverable
from services.clues.lifecycle import ClueInput, NewClue, add_clues, transition
from services.core.runtime import Runtime
from services.ladder.cases import CaseInput, escalate_unit, fire
from services.lookback import opening
from services.lookback.checks import CheckInput, list_checks, record_check
from services.lookback.rounds import plan_round
from statemachine.lookback.spec import RoundSpec
from statemachine.time.calendar import WorkingCalendar

from ...conftest import at, fresh_pg_url, fresh_sqlite_url
from ..conftest import WebClock, serving, web_settings

PLAN = Path(__file__).with_name("plan.yaml")
CAMPAIGN = "api-2023"
NOW = at("2023-05-20 10:00")  # the domain's clock of the served app
PEOPLE = ("sup.prov", "sup.p1", "off.p1", "sup.gone", "sup.a", "off.a", "off.a1", "sup.b", "off.b", "sup.p2",
          "insp.c")
DISABLED = "sup.gone"
# the source state of each clue trigger, and clues to read and to move as a set
CLUE_SOURCES = {"verify": "received", "transfer": "received", "substantiate": "verifying", "dismiss": "verifying",
                "submit_evidence": "rectifying", "defer": "rectifying", "approve": "rectified",
                "reject": "rectified", "reopen": "closed", "extend": "rectifying", "read": "received",
                "bulk": "rectified", "merge": "received", "redo": "closed",
                "closed-1": "closed", "closed-2": "closed"}  # closed ones: items a round re-checks
_WALK = ("verify", "substantiate", "submit_evidence", "approve")
# when each step was taken: the deadline set on substantiating (2023-06-15) still runs at NOW
_WALKED_ON = ("2023-05-12", "2023-05-15", "2023-05-16", "2023-05-17")
_REACHED = {"received": 0, "verifying": 1, "rectifying": 2, "rectified": 3, "closed": 4}
FULL_CLUE = dict(reason="核实情况属实", measures="退还违规罚款并公开道歉", deadline="2023-06-30", owner="沈书仪",
                 evidence="整改报告及退款凭证", stage_result="已退还罚款 12 笔", long_term_measure="建立罚没收入月度审查制度")
FULL_CASE = dict(reason="整改不到位", minutes="约谈记录：已当面指出问题", report_due="2023-06-20",
                 response="整改报告：已逐项整改", note="经核实整改到位", decision="exempt",
                 grounds="属于推进改革中的失误，符合三个区分开来", receiving_organ="甲市纪委监委",
                 follow_up="已立案调查")
# (trigger, level, state) of each seeded case a step starts from; `read`: a case to read
CASE_SOURCES = {"issue": (1, "proposed"), "withdraw": (1, "proposed"), "many": (1, "proposed"),
                "acknowledge": (1, "issued"), "record_interview": (2, "issued"), "respond": (1, "issued"),
                "return_response": (1, "responded"), "resolve": (1, "responded"), "delist": (3, "responded"),
                "decide": (4, "issued"), "conclude": (5, "issued"), "escalate": (1, "issued"),
                "read": (1, "issued")}


@dataclass
class Seeded:
    """A seeded database of one backend: its URL, the people's tokens, the items' keys."""

    backend: str
    url: str
    tokens: dict[str, str]
    clues: dict[str, str] = field(default_factory=dict)   # CLUE_SOURCES key → number
    cases: dict[str, int] = field(default_factory=dict)   # CASE_SOURCES key → id
    notice: int = 0                                        # a notice addressed to county-a
    checks: dict[str, str] = field(default_factory=dict)  # record | revise → item number (round r-record)


def _clues(engine, calendar) -> dict[str, str]:
    numbers = add_clues(engine, CAMPAIGN, [NewClue(channel="12345", aspect="profit", summary=f"示例问题（{k}）",
                                                   unit="county-a") for k in CLUE_SOURCES],
                        actor="off.a", now=at("2023-04-10"), calendar=calendar)
    full = ClueInput(**{**FULL_CLUE, "deadline": date(2023, 6, 15)})
    out = dict(zip(CLUE_SOURCES, numbers))
    for key, number in out.items():
        for trigger, day in list(zip(_WALK, _WALKED_ON))[:_REACHED[CLUE_SOURCES[key]]]:
            transition(engine, CAMPAIGN, number, trigger, actor="sup.p1" if trigger == "approve" else "off.a",
                       now=at(day), data=full, calendar=calendar)
    # 重办 follows a callback (回访) that found the unit at fault
    with engine.begin() as conn:
        T = Clue.__table__
        row = conn.execute(select(T.c.id, T.c.campaign_id, T.c.unit_id).where(T.c.number == out["redo"])).one()
        conn.execute(update(T).where(T.c.id == row.id).values(callback="at_fault"))
        conn.execute(insert(ClueCallback.__table__).values(
            campaign_id=row.campaign_id, clue_id=row.id, unit_id=row.unit_id, owed_by_unit_id=row.unit_id,
            result="dissatisfied", unit_at_fault=True, at=at("2023-05-18"), by="sup.p1", on_time=True, redo=False))
    return out


def _cases(engine, calendar, cid: int) -> dict[str, int]:
    out = {}
    for key, (level, state) in CASE_SOURCES.items():
        if state == "proposed":  # what the nightly ladder proposes, awaiting a supervisor
            with engine.begin() as conn:
                unit = conn.execute(select(User.unit_id).where(User.username == "off.a")).scalar_one()
                out[key] = conn.execute(insert(EscalationCase.__table__).values(
                    campaign_id=cid, unit_id=unit, level=level, state="proposed", cause="manual",
                    key=f"seed:{key}", automatic=True, reason="核查逾期", proposed_by="system",
                    proposed_at=at("2023-05-10"), updated_at=at("2023-05-10"), updated_by="system",
                    version=1).returning(EscalationCase.id)).scalar_one()
            continue
        v = escalate_unit(engine, CAMPAIGN, "county-a", level, actor="sup.p1", now=at("2023-05-12"),
                          calendar=calendar, data=CaseInput(reason="整改工作不力", receiving_organ="甲市纪委监委"))
        if state == "responded":
            fire(engine, CAMPAIGN, v.id, "respond", actor="off.a", now=at("2023-05-15"), calendar=calendar,
                 data=CaseInput(response="整改报告"))
        out[key] = v.id
    return out


def _round(engine, code: str, teams: list[dict], *, open_it: bool, calendar) -> None:
    spec = RoundSpec.model_validate(dict(code=code, title="专项整治问题整改“回头看”", scope="pref-1",
                                         deadline="2023-09-15", selection={"mode": "all"}, teams=teams))
    plan_round(engine, CAMPAIGN, spec, actor="sup.p1", now=at("2023-05-18"))
    if open_it:
        opening.draw(engine, CAMPAIGN, code, actor="sup.p1", now=at("2023-05-18"))
        opening.notify(engine, CAMPAIGN, code, actor="sup.p1", now=at("2023-05-18"), calendar=calendar)


def seed(backend: str, url: str, calendar: WorkingCalendar) -> Seeded:
    engine = make_engine(url)
    try:
        cid = load_plan(engine, read_plan(PLAN), source=str(PLAN), now=at("2023-03-15"))
        s = Seeded(backend, url, {})
        s.clues = _clues(engine, calendar)
        s.cases = _cases(engine, calendar, cid)
        with engine.connect() as conn:
            s.notice = conn.execute(select(Notice.id).where(Notice.case_id == s.cases["read"])).scalar_one()
        record_deliverable(engine, CAMPAIGN, "county-a", "impl_plan", attachment="实施方案.pdf", actor="off.a",
                           now=at("2023-04-01"))
        t1 = {"code": "t1", "name": "第一督察组", "members": ["insp.c"]}
        _round(engine, "r-open", [t1], open_it=False, calendar=calendar)
        _round(engine, "r-cancel", [t1], open_it=False, calendar=calendar)
        _round(engine, "r-assign", [t1, {"code": "t2", "name": "第二督察组", "members": ["off.b"]}], open_it=True,
               calendar=calendar)
        _round(engine, "r-record", [t1], open_it=True, calendar=calendar)
        _round(engine, "r-close", [t1], open_it=True, calendar=calendar)
        checks = [c for c in list_checks(engine, CAMPAIGN, "r-record") if c.unit == "county-a"]
        s.checks = {"record": checks[0].number, "revise": checks[1].number}
        record_check(engine, CAMPAIGN, "r-record", s.checks["revise"], "confirmed", actor="sup.p1",
                     now=at("2023-05-19"), calendar=calendar, data=CheckInput(method="随机抽查"))
        s.tokens = _tokens(engine)
        disable(engine, CAMPAIGN, DISABLED, by="operator", now=datetime.now(timezone.utc))
        return s
    finally:
        engine.dispose()


def _tokens(engine) -> dict[str, str]:
    now, limits = datetime.now(timezone.utc), Limits()
    out = {}
    with engine.connect() as conn:
        ids = dict(conn.execute(select(User.username, User.id)).all())
    for name in PEOPLE:
        invite(engine, CAMPAIGN, name, by="operator", now=now, valid_for=limits.link_valid)
        out[name] = create_token(engine, ids[name], name="api tests", days=30, now=now, limits=limits).token
    return out


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def seeded(request, tmp_path_factory, sqlite_template, calendar) -> Seeded:
    if request.param == "sqlite":
        url = fresh_sqlite_url(sqlite_template, tmp_path_factory.mktemp("api-seed"))
    else:
        url = fresh_pg_url(request.getfixturevalue("pg_template"))
    return seed(request.param, url, calendar)


def clone(s: Seeded, folder: Path) -> str:
    """A database of its own holding what `s` holds."""
    if s.backend == "sqlite":
        path = folder / "clone.db"
        shutil.copy(s.url.removeprefix("sqlite:///"), path)
        return f"sqlite:///{path}"
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(s.url)
    name = f"c_{os.getpid()}_{next(_clones)}"
    dsn = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {url.database}")
    return url.set(database=name).render_as_string(hide_password=False)


_clones = itertools.count()


@dataclass
class Api:
    url: str
    runtime: Runtime
    seeded: Seeded

    @property
    def engine(self):
        return self.runtime.engine

    def client(self, username: str | None) -> httpx.Client:
        """A client signed in by `username`'s token; None: nobody."""
        headers = {"Authorization": f"Bearer {self.seeded.tokens[username]}"} if username else {}
        return httpx.Client(base_url=self.url, headers=headers, follow_redirects=False, timeout=60)

    def head(self) -> int:
        """The audit chain's sequence number: every change moves it."""
        with self.engine.connect() as conn:
            return conn.execute(select(AuditHead.seq).where(
                AuditHead.campaign_id == campaign_id(self.engine, CAMPAIGN))).scalar_one()


@contextmanager
def serving_api(s: Seeded, folder: Path, *, url: str | None = None) -> Iterator[Api]:
    """The app over a clone of `s` (or over `url`), the domain's clock at NOW."""
    runtime = Runtime(web_settings(url or clone(s, folder), folder), now=NOW)
    try:
        with serving(runtime, WebClock(datetime.now(timezone.utc).replace(microsecond=0))) as base:
            yield Api(base, runtime, s)
    finally:
        runtime.close()


@pytest.fixture
def api(seeded, tmp_path) -> Iterator[Api]:
    with serving_api(seeded, tmp_path) as a:
        yield a
