"""Who may do what over HTTP: every action of the API × every relation of the person to the
unit whose item it is (甲市一县, county-a; a round's organiser 甲市, pref-1), the expected
answer GENERATED from the rules, never written case by case:

    signed out, or a disabled account      401
    the chart's `by` for the trigger       statemachine.authority.permits(who, relation) → 2xx, else 403
    reading an item                        Who.unit (services/core/visibility.py) → 200, else 403
    a list                                 200; the item listed ⇔ the person sees it (an account's
                                           audit records: that person alone)
    verifying the whole audit chain        sees_campaign: a supervisor of the root unit (省, prov)
    a page (the same with a token)         as its API; signed out: 303 to the sign-in page, and a
                                           refusal is the Chinese error page with its one line
    a set of clues                         services/core/authority_sql.py: refused outright (403) only
                                           when no row could ever be permitted; the row moved ⇔ permits

and a refusal changes nothing (the audit chain's head stays where it was). One database
per relation (a clone of the seeded one), on SQLite and PostgreSQL.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

import pytest
from sqlalchemy import select

from models.tables import Clue
from services.core.authority_sql import rows_permitted
from services.core.directory import Actor, actor as lookup_actor, campaign_row, unit_by_code
from services.core.visibility import sees_campaign
from statemachine.authority import Who, permits
from statemachine.charts.clue import CLUE_CHART
from statemachine.charts.ladder import CASE_CHART
from statemachine.charts.lookback import CHECK_CHART, ROUND_CHART
from statemachine.charts.unit_stage import stage_chart
from statemachine.errors import PermissionDenied

from .conftest import CAMPAIGN, CASE_SOURCES, CLUE_SOURCES, DISABLED, FULL_CASE, FULL_CLUE, serving_api

RELATIONS = {
    "own unit": "off.a",
    "own unit, its supervisor": "sup.a",
    "parent's supervisor": "sup.p1",
    "parent, not a supervisor": "off.p1",
    "grandparent's supervisor": "sup.prov",
    "sibling": "off.b",
    "sibling's supervisor": "sup.b",
    "other prefecture's supervisor": "sup.p2",
    "unit below": "off.a1",
    "inspection team member (other prefecture)": "insp.c",
    "disabled account (parent's supervisor)": DISABLED,
    "signed out": None,
}
TEAM_T1 = {"insp.c"}  # the team the seeded rounds' county-a checks are assigned to


@dataclass
class Who_:
    """Where the person stands, as the rules read it."""

    actor: Actor
    county_a: object
    pref_1: object
    root: object

    def on_unit(self, who: Who) -> bool:
        return permits(who, self.actor.relation_to(self.county_a))

    def on_round(self, who: Who, *, team: bool = False) -> bool:
        member = team and self.actor.username in TEAM_T1
        return permits(who, self.actor.relation_to(self.pref_1, team_member=member))

    def sees_round(self) -> bool:
        # a round's organisers, the units it inspects (scope 甲市), its teams
        return self.on_round(Who.unit) or self.actor.unit.path.startswith(self.pref_1.path) \
            or self.actor.username in TEAM_T1

    def sees_campaign(self) -> bool:
        return sees_campaign(self.actor, self.root)

    def sees_check(self) -> bool:
        return self.on_round(Who.unit) or self.on_unit(Who.unit) or self.actor.username in TEAM_T1


@dataclass(frozen=True)
class Act:
    name: str
    method: str
    path: Callable
    allowed: Callable[[Who_], bool]
    ok: int = 200
    json: Callable | None = None
    files: Callable | None = None
    data: dict | None = None
    listed: Callable | None = None  # a list: (page, seeded) → whether the item is in it
    sees: Callable[[Who_], bool] | None = None  # whether the listed item is the person's to see (Who.unit)
    changes: bool = True            # a write that, taken, leaves a record (a dry run leaves none)
    page: bool = False              # a page: HTML (the item found in its text), not JSON


def _clue_steps():
    for trigger in CLUE_CHART.triggers:
        yield Act(f"clue {trigger}", "POST", lambda s, t=trigger: f"/api/v1/clues/{s.clues[t]}/actions/{t}",
                  lambda w, t=trigger: w.on_unit(CLUE_CHART.who(t)),
                  json=lambda s: FULL_CLUE | {"into": s.clues["read"]})  # 合并: into an item of the same unit


def _case_steps():
    for trigger in (t for t in CASE_CHART.triggers if CASE_CHART.who(t) is not Who.system):
        yield Act(f"case {trigger}", "POST", lambda s, t=trigger: f"/api/v1/cases/{s.cases[t]}/actions/{t}",
                  lambda w, t=trigger: w.on_unit(CASE_CHART.who(t)), json=lambda s: FULL_CASE)


STAGES = stage_chart(("deploy", "rectify", "summary"))
CSV = "channel,aspect,summary,unit\n12345,profit,导入的问题：罚款不开票,county-a\n".encode()


_LEDGERS: dict[str, bytes] = {}


def _edited_ledger(s) -> bytes:
    """County A's ledger as exported, with one item's 备注 changed: importing it needs the
    right to act for county A."""
    if s.url not in _LEDGERS:
        from io import BytesIO

        from models.db import make_engine
        from services.ledgers.export import export_ledger

        engine = make_engine(s.url)
        try:
            wb = export_ledger(engine, CAMPAIGN, "county-a", "004", on=date(2023, 5, 20))
        finally:
            engine.dispose()
        ws = wb.active
        cells = {c.value: c.column for row in ws.iter_rows() for c in row if c.value in ("备注", "编号")}
        row = next(r for r in range(1, ws.max_row + 1)
                   if str(ws.cell(r, cells["编号"]).value or "").startswith("XS-"))
        ws.cell(row, cells["备注"]).value = "已复核"
        out = BytesIO()
        wb.save(out)
        _LEDGERS[s.url] = out.getvalue()
    return _LEDGERS[s.url]


def _items(page: dict) -> list:
    return page["items"] if isinstance(page, dict) and "items" in page else page


ACTIONS: list[Act] = [
    # reading one item
    Act("read a clue", "GET", lambda s: f"/api/v1/clues/{s.clues['read']}", lambda w: w.on_unit(Who.unit)),
    Act("read a case", "GET", lambda s: f"/api/v1/cases/{s.cases['read']}", lambda w: w.on_unit(Who.unit)),
    Act("read the unit", "GET", lambda s: "/api/v1/units/county-a", lambda w: w.on_unit(Who.unit)),
    Act("read a notice", "GET", lambda s: f"/api/v1/notices/{s.notice}", lambda w: w.on_unit(Who.unit)),
    Act("download a notice", "GET", lambda s: f"/api/v1/notices/{s.notice}/download?format=txt",
        lambda w: w.on_unit(Who.unit)),
    Act("list the unit's reports", "GET", lambda s: "/api/v1/reports?unit=county-a", lambda w: w.on_unit(Who.unit)),
    Act("import a ledger (dry run)", "POST", lambda s: "/api/v1/ledgers/import", lambda w: w.on_unit(Who.unit),
        files=lambda s: {"file": ("台账.xlsx", _edited_ledger(s), "application/octet-stream")},
        data={"check": "true"}, changes=False),
    Act("export the ledger", "GET", lambda s: "/api/v1/ledgers/county-a?template=004",
        lambda w: w.on_unit(Who.unit)),
    Act("read a round", "GET", lambda s: "/api/v1/rounds/r-record", lambda w: w.sees_round()),
    Act("read a check", "GET", lambda s: f"/api/v1/rounds/r-record/checks/{s.checks['record']}",
        lambda w: w.sees_round() and w.sees_check()),
    # lists: everyone signed in gets one, with only what they see
    Act("list clues", "GET", lambda s: "/api/v1/clues?limit=200", lambda w: True,
        listed=lambda page, s: s.clues["read"] in {c["number"] for c in _items(page)}),
    Act("list cases", "GET", lambda s: "/api/v1/cases?limit=200", lambda w: True,
        listed=lambda page, s: s.cases["read"] in {c["id"] for c in _items(page)}),
    Act("list notices", "GET", lambda s: "/api/v1/notices?limit=200", lambda w: True,
        listed=lambda page, s: s.notice in {n["id"] for n in _items(page)}),
    Act("list units", "GET", lambda s: "/api/v1/units", lambda w: True,
        listed=lambda page, s: "county-a" in {u["code"] for u in _items(page)}),
    Act("list reports owed", "GET", lambda s: "/api/v1/duties?limit=200", lambda w: True,
        listed=lambda page, s: "county-a" in {d["unit"] for d in _items(page)}),
    Act("list rounds", "GET", lambda s: "/api/v1/rounds", lambda w: True,
        listed=lambda page, s: "r-record" in {r["code"] for r in page}, sees=lambda w: w.sees_round()),
    Act("the figures", "GET", lambda s: "/api/v1/campaign/figures", lambda w: True,
        listed=lambda page, s: "county-a" in {u["code"] for u in page["units"]}),
    Act("the audit log", "GET", lambda s: "/api/v1/audit?entity=clue&limit=5", lambda w: True,
        listed=lambda page, s: bool(page["records"])),
    # off.a's sign-in and tokens: recorded under county-a, yet theirs alone to read
    Act("the audit log of accounts", "GET", lambda s: "/api/v1/audit?entity=account&limit=200", lambda w: True,
        listed=lambda page, s: any(r["actor"] == "off.a" for r in page["records"]),
        sees=lambda w: w.actor.username == "off.a"),
    Act("verify the audit chain", "GET", lambda s: "/api/v1/audit/verify", lambda w: w.sees_campaign()),
    # the pages, read with the same token: what they show follows the same rules
    Act("the clue list page", "GET", lambda s: "/clues?state=received", lambda w: True, page=True,
        listed=lambda html, s: f'href="/clues/{s.clues["read"]}"' in html),
    Act("a clue's page", "GET", lambda s: f"/clues/{s.clues['read']}", lambda w: w.on_unit(Who.unit), page=True),
    Act("a case's page", "GET", lambda s: f"/cases/{s.cases['read']}", lambda w: w.on_unit(Who.unit), page=True),
    Act("the notices list page", "GET", lambda s: "/notices", lambda w: True, page=True,
        listed=lambda html, s: f'href="/notices/{s.notice}"' in html),
    Act("a notice's printable page", "GET", lambda s: f"/notices/{s.notice}", lambda w: w.on_unit(Who.unit),
        page=True),
    Act("the rounds list page", "GET", lambda s: "/rounds", lambda w: True, page=True,
        listed=lambda html, s: 'href="/rounds/r-record"' in html, sees=lambda w: w.sees_round()),
    Act("a round's page", "GET", lambda s: "/rounds/r-record", lambda w: w.sees_round(), page=True),
    Act("a round's checklist", "GET", lambda s: "/rounds/r-record?team=t1", lambda w: w.sees_round(), page=True,
        listed=lambda html, s: f'href="/clues/{s.checks["record"]}"' in html,
        sees=lambda w: w.sees_round() and w.sees_check()),
    Act("the audit trail page", "GET", lambda s: "/audit", lambda w: True, page=True,
        listed=lambda html, s: 'href="/audit/verify"' in html, sees=lambda w: w.sees_campaign()),
    Act("the audit verification page", "GET", lambda s: "/audit/verify", lambda w: w.sees_campaign(), page=True),
    # clues
    *_clue_steps(),
    Act("add a clue", "POST", lambda s: "/api/v1/clues", lambda w: w.on_unit(Who.unit), ok=201,
        json=lambda s: {"unit": "county-a", "channel": "12345", "aspect": "profit", "summary": "路政执法人员态度粗暴"}),
    Act("import clues", "POST", lambda s: "/api/v1/clues/import", lambda w: w.on_unit(Who.unit), ok=201,
        files=lambda s: {"file": ("whatever.csv", CSV, "text/csv")}),
    # cases
    *_case_steps(),
    Act("confirm many cases", "POST", lambda s: "/api/v1/cases/actions/issue",
        lambda w: w.on_unit(CASE_CHART.who("issue")),
        json=lambda s: {"ids": [s.cases["many"]]}),
    Act("escalate the unit", "POST", lambda s: "/api/v1/units/county-a/escalate", lambda w: w.on_unit(Who.supervisor),
        ok=201, json=lambda s: {"level": 1, "reason": "整改工作不力，躺平式应付"}),
    # the unit's stage, its reports
    Act("record a deliverable", "POST", lambda s: "/api/v1/units/county-a/deliverables",
        lambda w: w.on_unit(Who.unit), ok=201,
        json=lambda s: {"key": "report", "stage": "rectify", "attachment": "整改报告.pdf"}),
    Act("advance the stage", "POST", lambda s: "/api/v1/units/county-a/advance",
        lambda w: w.on_unit(STAGES.who("advance"))),
    Act("submit a report owed", "POST", lambda s: "/api/v1/duties", lambda w: w.on_unit(Who.unit), ok=201,
        json=lambda s: {"unit": "county-a", "duty": "weekly", "period": "2023-05-25", "attachment": "周报.docx"}),
    Act("generate a report", "POST", lambda s: "/api/v1/reports", lambda w: w.on_unit(Who.unit), ok=201,
        json=lambda s: {"kind": "weekly", "unit": "county-a", "formats": ["md"]}),
    # rounds and checks
    Act("open a round", "POST", lambda s: "/api/v1/rounds/r-open/open", lambda w: w.on_round(ROUND_CHART.who("open"))),
    Act("cancel a round", "POST", lambda s: "/api/v1/rounds/r-cancel/cancel",
        lambda w: w.on_round(ROUND_CHART.who("cancel")), json=lambda s: {"reason": "与实地督察时间冲突"}),
    Act("assign a unit to a team", "POST", lambda s: "/api/v1/rounds/r-assign/assign",
        lambda w: w.on_round(Who.organiser), json=lambda s: {"unit": "county-a", "team": "t2"}),
    Act("close a round", "POST", lambda s: "/api/v1/rounds/r-close/close",
        lambda w: w.on_round(ROUND_CHART.who("begin_close"))),
    Act("record a check", "POST", lambda s: f"/api/v1/rounds/r-record/checks/{s.checks['record']}/record",
        lambda w: w.on_round(CHECK_CHART.who("confirm"), team=True),
        json=lambda s: {"outcome": "confirmed", "method": "随机抽查"}),
    Act("revise a check", "POST", lambda s: f"/api/v1/rounds/r-record/checks/{s.checks['revise']}/revise",
        lambda w: w.on_round(CHECK_CHART.who("revise"), team=True), json=lambda s: {"reason": "记录的方法有误"}),
]


def _where(api, username):
    with api.engine.connect() as conn:
        cid = campaign_row(conn, CAMPAIGN).id
        return Who_(lookup_actor(conn, cid, username), unit_by_code(conn, cid, "county-a"),
                    unit_by_code(conn, cid, "pref-1"), unit_by_code(conn, cid, "prov"))


def test_every_action_has_the_rules_answer_for_every_relation_covered():
    """Every step of every chart a person takes is in the matrix (a new one must be added)."""
    names = {a.name for a in ACTIONS}
    assert {f"clue {t}" for t in CLUE_CHART.triggers} <= names
    assert {f"case {t}" for t in CASE_CHART.triggers if CASE_CHART.who(t) is not Who.system} <= names
    assert set(CASE_SOURCES) - {"read", "many"} == \
        {t for t in CASE_CHART.triggers if CASE_CHART.who(t) is not Who.system}
    assert set(CLUE_SOURCES) >= set(CLUE_CHART.triggers)


@pytest.mark.parametrize("relation", list(RELATIONS))
def test_each_action_answers_as_the_rules_say(seeded, tmp_path, relation):
    username = RELATIONS[relation]
    wrong = []
    with serving_api(seeded, tmp_path) as api, api.client(username) as client:
        w = _where(api, username) if username and username != DISABLED else None
        for act in ACTIONS:
            before = api.head()
            r = client.request(act.method, act.path(seeded), json=act.json(seeded) if act.json else None,
                               files=act.files(seeded) if act.files else None, data=act.data)
            if w is None:
                expected = 303 if act.page else 401  # a page sends the browser to sign in
            else:
                expected = act.ok if act.allowed(w) else 403
            if r.status_code != expected:
                wrong.append(f"{act.name}: {r.status_code}, the rules say {expected}: {r.text[:200]}")
                continue
            if expected == 303:
                if not r.headers["location"].startswith("/sign-in?next="):
                    wrong.append(f"{act.name}: signed out, sent to {r.headers['location']}")
            elif expected >= 400:
                if act.page:
                    if not r.headers["content-type"].startswith("text/html") or \
                            '<p class="error" role="alert">' not in r.text or "may not" not in r.text:
                        wrong.append(f"{act.name}: not the error page with its reason: {r.text[:200]}")
                else:
                    body = r.json()
                    if r.headers["content-type"] != "application/problem+json" or not body["detail"]:
                        wrong.append(f"{act.name}: not a problem with its reason: {r.text[:200]}")
                if api.head() != before:
                    wrong.append(f"{act.name}: refused ({expected}), yet the audit chain moved")
            elif act.listed is not None:
                sees = act.sees(w) if act.sees else w.on_unit(Who.unit)
                if act.listed(r.text if act.page else r.json(), seeded) != sees:
                    wrong.append(f"{act.name}: the item listed: {not sees}, the rules say {sees}")
            elif act.method == "POST" and (api.head() != before) != act.changes:
                wrong.append(f"{act.name}: answered {r.status_code}; recorded: {api.head() != before}")
        wrong += _set_of_clues(api, client, w)
    assert not wrong, f"{relation} ({username}):\n" + "\n".join(wrong)


def _set_of_clues(api, client, w: Who_ | None) -> list[str]:
    """The set path (`fire_set`): out-of-reach rows are left alone, not refused."""
    number = api.seeded.clues["bulk"]
    before = api.head()
    r = client.post("/api/v1/clues/actions/approve", json={"numbers": [number]})
    if w is None:
        return [] if r.status_code == 401 else [f"a set of clues: {r.status_code}, the rules say 401"]
    who = CLUE_CHART.who("approve")
    try:
        rows_permitted(who, w.actor, Clue.__table__.c.unit_id, what="approve")
        status = 200
    except PermissionDenied:
        status = 403
    moved = w.on_unit(who)
    with api.engine.connect() as conn:
        state = conn.execute(select(Clue.state).where(Clue.number == number)).scalar_one()
    wrong = []
    if r.status_code != status:
        wrong.append(f"a set of clues: {r.status_code}, the rules say {status}: {r.text[:200]}")
    elif status == 200 and ([m["number"] for m in r.json()["moved"]], r.json()["skipped"]) != \
            (([number], 0) if moved else ([], 1)):
        wrong.append(f"a set of clues: {r.json()}, the rules say moved: {moved}")
    if state != ("closed" if moved else "rectified") or (api.head() > before) != moved:
        wrong.append(f"a set of clues: the clue is {state}, the rules say moved: {moved}")
    return wrong
