"""Look-back rounds on real databases: the draw, teams and 回避, checks and who may
record them, closing (reopen, 追责问责 for faked results, tally), re-runs that
change nothing, cancelling, and the overdue-check lapse."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import delete, func, select

from models.tables import (EscalationCase, InspectionCheck, InspectionRound, Lapse, Notice,
                           OutboxMessage)
from services.campaigns.load import campaign_id
from services.clues.lifecycle import ClueInput, NewClue, add_clues, bulk_transition, get_clue, transition
from services.core.audit import verify
from services.ladder import sweep
from services.lookback import checks as round_checks, closing as round_close, opening as round_open, rounds
from services.lookback.findings import round_report, verify_sample
from statemachine.errors import GuardRefused, InvalidInput, PermissionDenied
from statemachine.lookback.spec import RoundSpec

from ..conftest import at

CHANNELS = ("email", "file", "webhook")
TEAMS = [{"code": "t1", "name": "第一督察组", "leader": "insp.city", "members": ["insp.city"]},
         {"code": "t2", "name": "第二督察组", "members": ["insp.b"]}]


def closed_items(engine, campaign, calendar, per_unit: dict[str, int], *, kind: str | None = None,
                 evidence: str = "整改报告、现场照片及制度文件") -> list[str]:
    items = [NewClue(channel="12345", aspect="profit", summary=f"{u} 问题 {i}", unit=u, kind=kind)
             for u, n in per_unit.items() for i in range(n)]
    numbers = add_clues(engine, campaign, items, actor="sup.city", now=at("2023-04-10"), calendar=calendar)
    kw = dict(actor="sup.city", numbers=numbers)
    bulk_transition(engine, campaign, "verify", now=at("2023-04-11"), **kw)
    bulk_transition(engine, campaign, "substantiate", now=at("2023-04-12"), **kw,
                    data=ClueInput(measures="立即整改", deadline=date(2023, 6, 30), owner="王主任"))
    bulk_transition(engine, campaign, "submit_evidence", now=at("2023-05-12"), **kw,
                    data=ClueInput(evidence=evidence))
    assert len(bulk_transition(engine, campaign, "approve", now=at("2023-05-20"), **kw).moved) == len(numbers)
    return numbers


def spec(**over) -> RoundSpec:
    base = dict(code="lb-1", title="专项整治问题整改“回头看”", scope="city", deadline="2023-09-15",
                visits={"start": "2023-09-01", "end": "2023-09-08"}, methods=["随机抽查", "案卷审查"],
                selection={"mode": "all"}, teams=TEAMS)
    return RoundSpec.model_validate(base | over)


def open_round(engine, campaign, calendar, s: RoundSpec, when="2023-08-24 10:00"):
    rounds.plan_round(engine, campaign, s, actor="sup.city", now=at(when))
    drawn = round_open.draw(engine, campaign, s.code, actor="sup.city", now=at(when))
    round_open.notify(engine, campaign, s.code, actor="sup.city", now=at(when), calendar=calendar,
                      channels=CHANNELS)
    return drawn


def close(engine, campaign, calendar, code="lb-1", when="2023-09-16"):
    missed = round_close.begin_close(engine, campaign, code, actor="sup.city", now=at(when))
    reopened = round_close.reopen_found(engine, campaign, code, now=at(when))
    cases = round_close.escalate_faked(engine, campaign, code, now=at(when), calendar=calendar)
    tally = round_close.finish_close(engine, campaign, code, actor="sup.city", now=at(when))
    return missed, reopened, cases, tally


def checks_of(engine, campaign, code="lb-1", **kw):
    return {c.number: c for c in round_checks.list_checks(engine, campaign, code, **kw)}


def inspector_for(check) -> str:
    return "insp.city" if check.team == "t1" else "insp.b"


def record(engine, campaign, calendar, check, outcome, *, on="2023-09-02", **data):
    data.setdefault("method", "随机抽查")
    if outcome != "confirmed":
        data.setdefault("findings", "现场核查发现问题")
    return round_checks.record_check(engine, campaign, "lb-1", check.number, outcome,
                                     actor=inspector_for(check), now=at(on), calendar=calendar,
                                     data=round_checks.CheckInput(**data))


def count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table.__table__).where(*where)).scalar()


# -- the draw ---------------------------------------------------------------------------------
def test_mode_all_checks_every_closed_item_below_the_organiser_once(engine, campaign, calendar):
    closed = closed_items(engine, campaign, calendar, {"county-a": 3, "county-b": 2, "town-c1": 1})
    still_open = add_clues(engine, campaign, [NewClue("12345", "profit", "未办结", "county-a")],
                           actor="sup.city", now=at("2023-04-10"), calendar=calendar)
    d = open_round(engine, campaign, calendar, spec())
    assert (d.candidates, d.selected, d.units) == (6, 6, 3)
    assert set(checks_of(engine, campaign)) == set(closed) and still_open[0] not in checks_of(engine, campaign)
    again = round_open.draw(engine, campaign, "lb-1", actor="sup.city", now=at("2023-08-25"))
    assert again.already and count(engine, InspectionCheck) == 6
    assert verify_sample(engine, campaign, "lb-1").ok
    assert verify(engine, campaign_id(engine, campaign)).ok


def test_a_sample_takes_a_share_per_unit_at_least_one_and_redraws_from_its_seed(engine, campaign, calendar):
    closed_items(engine, campaign, calendar, {"county-a": 10, "county-b": 4, "town-c1": 1})
    s = spec(selection={"mode": "sample", "share": 0.3, "seed": 7, "risk_weighted": True})
    d = open_round(engine, campaign, calendar, s)
    per_unit = {r["unit"]: r["selected"] for r in d.per_unit}
    assert per_unit == {"county-a": 3, "county-b": 2, "town-c1": 1}  # ceil(30 %), at least one
    check = verify_sample(engine, campaign, "lb-1")
    assert check.ok and check.redrawn_digest == check.recorded_digest == d.digest
    # hand-picking afterwards shows: drop one drawn check
    with engine.begin() as conn:
        victim = conn.execute(select(InspectionCheck.id).limit(1)).scalar()
        conn.execute(delete(InspectionCheck).where(InspectionCheck.id == victim))
    bad = verify_sample(engine, campaign, "lb-1")
    assert not bad.ok and any("digest mismatch" in x for x in bad.differences)
    assert any("drawn but not checked" in x for x in bad.differences)


def test_the_same_seed_draws_the_same_items_in_another_round(engine, campaign, calendar):
    closed_items(engine, campaign, calendar, {"county-a": 12, "county-b": 6})
    sel = {"mode": "sample", "count": 2, "seed": 99}
    open_round(engine, campaign, calendar, spec(code="lb-1", selection=sel))
    open_round(engine, campaign, calendar, spec(code="lb-2", selection=sel))
    assert set(checks_of(engine, campaign, "lb-1")) == set(checks_of(engine, campaign, "lb-2"))
    assert len(checks_of(engine, campaign, "lb-1")) == 4


def test_the_period_and_item_kinds_limit_the_candidates(engine, campaign, calendar):
    closed_items(engine, campaign, calendar, {"county-a": 2})
    carried = closed_items(engine, campaign, calendar, {"county-b": 2}, kind="carried_over")
    d = open_round(engine, campaign, calendar, spec(items=["carried_over"]))
    assert d.selected == 2 and set(checks_of(engine, campaign)) == set(carried)
    d2 = open_round(engine, campaign, calendar, spec(code="lb-2", closed={"start": "2023-06-01",
                                                                           "end": "2023-08-01"}))
    assert d2.selected == 0  # everything was closed on 05-20


# -- teams ---------------------------------------------------------------------------------------
def test_a_team_never_inspects_the_unit_a_member_comes_from(engine, campaign, calendar):
    closed_items(engine, campaign, calendar, {"county-a": 1, "county-b": 9})
    open_round(engine, campaign, calendar, spec())
    v = rounds.get_round(engine, campaign, "lb-1")
    t2 = next(t for t in v.teams if t.code == "t2")  # insp.b is from county-b
    assert "county-b" not in [u[0] for u in t2.units]
    assert {c.team for c in checks_of(engine, campaign, unit="county-b").values()} == {"t1"}
    with pytest.raises(InvalidInput, match="回避"):
        round_checks.reassign_unit(engine, campaign, "lb-1", "county-b", "t2", actor="sup.city",
                                   now=at("2023-08-25"))
    moved = round_checks.reassign_unit(engine, campaign, "lb-1", "county-a", "t2", actor="sup.city",
                                       now=at("2023-08-25"), visit_on=date(2023, 9, 4))
    assert moved == 1 and {c.team for c in checks_of(engine, campaign, unit="county-a").values()} == {"t2"}


def test_units_and_teams_are_notified_with_one_numbered_notice(engine, campaign, calendar):
    closed_items(engine, campaign, calendar, {"county-a": 2, "county-b": 1})
    open_round(engine, campaign, calendar, spec())
    with engine.connect() as conn:
        n = conn.execute(select(Notice.__table__)).one()
        msgs = conn.execute(select(OutboxMessage.__table__)).all()
    assert n.kind == "inspection" and n.doc_number == "整治督〔2023〕1号"
    assert "关于开展专项整治问题整改“回头看”的通知" in n.title and "各有关单位" in n.text
    assert "第一督察组" in n.text and "随机抽查" in n.text
    # the seed re-draws the sample from the round's record; the units' notice does not print it
    assert "抽样种子" not in n.text and "种子" not in n.html and "示例市交通运输局办公室" in n.text
    keys = {m.key for m in msgs}
    assert any(":open:county-a:webhook:" in k for k in keys)
    assert any(":team:t1:email:insp.city@example.test" in k for k in keys)
    unit_msg = next(m for m in msgs if m.key.endswith(":open:county-a:file:county-a"))
    assert "抽取核查事项 2 件" in unit_msg.body_text
    before = count(engine, OutboxMessage)
    again = round_open.notify(engine, campaign, "lb-1", actor="sup.city", now=at("2023-08-25"),
                              calendar=calendar, channels=CHANNELS)
    assert again.already and count(engine, OutboxMessage) == before and count(engine, Notice) == 1


# -- checks ---------------------------------------------------------------------------------------
def test_only_the_items_team_or_the_organiser_records_a_check(engine, campaign, calendar):
    closed_items(engine, campaign, calendar, {"county-b": 1, "town-c1": 1})
    open_round(engine, campaign, calendar, spec())
    checks = checks_of(engine, campaign)
    t1_item = next(c for c in checks.values() if c.team == "t1")
    with pytest.raises(PermissionDenied, match="not in it"):
        round_checks.record_check(engine, campaign, "lb-1", t1_item.number, "confirmed",
                                  actor="insp.b" if t1_item.team == "t1" else "insp.city",
                                  now=at("2023-09-02"), calendar=calendar,
                                  data=round_checks.CheckInput(method="random"))
    with pytest.raises(PermissionDenied):
        round_checks.record_check(engine, campaign, "lb-1", t1_item.number, "confirmed", actor="off.a",
                                  now=at("2023-09-02"), calendar=calendar,
                                  data=round_checks.CheckInput(method="random"))
    v = round_checks.record_check(engine, campaign, "lb-1", t1_item.number, "confirmed", actor="sup.city",
                                  now=at("2023-09-02"), calendar=calendar,
                                  data=round_checks.CheckInput(method="案卷审查", inspector="李明远"))
    assert v.state == "confirmed" and v.method == "file_review"


@pytest.mark.parametrize("data, message", [
    ({"method": None}, "method"),
    ({"method": "四不两直"}, "this round uses"),
    ({"method": "瞎看"}, "unknown method"),
    ({"findings": None}, "findings"),
    ({"checked_on": date(2023, 9, 20)}, "future"),
    ({"checked_on": date(2023, 8, 30)}, "outside the visit window"),
    ({"deadline": date(2023, 9, 1)}, "must be after"),
    # the reopened item's deadline is set by the check, within the plan's limit of its day (§5.7)
    ({"deadline": date(2024, 9, 1)}, r"^--deadline: the deadline 2024-09-01 is beyond the plan's limit of 90 "
                                     r"working days \(at most 2024-01-16\)"),
    ({"findings": "问题\x0b反弹"}, r"^findings: a control character \(U\+000B\)"),
    ({"inspector": "吴" * 101}, r"^inspector: 101 characters, at most 100$"),
])
def test_a_bad_check_is_refused_and_changes_nothing(engine, campaign, calendar, data, message):
    closed_items(engine, campaign, calendar, {"county-a": 1})
    open_round(engine, campaign, calendar, spec())
    (check,) = checks_of(engine, campaign).values()
    base = {"method": "随机抽查", "findings": "问题反弹"} | data
    with pytest.raises((InvalidInput, GuardRefused), match=message):
        round_checks.record_check(engine, campaign, "lb-1", check.number, "relapsed", actor="insp.city",
                                  now=at("2023-09-05"), calendar=calendar,
                                  data=round_checks.CheckInput(**base))
    assert checks_of(engine, campaign)[check.number].state == "pending"


def test_checks_are_recorded_only_while_the_round_is_open(engine, campaign, calendar):
    closed_items(engine, campaign, calendar, {"county-a": 1})
    rounds.plan_round(engine, campaign, spec(), actor="sup.city", now=at("2023-08-24"))
    round_open.draw(engine, campaign, "lb-1", actor="sup.city", now=at("2023-08-24"))
    (check,) = checks_of(engine, campaign).values()
    with pytest.raises(InvalidInput, match="is planned"):
        record(engine, campaign, calendar, check, "confirmed")


def test_a_supervisor_revises_a_recorded_check(engine, campaign, calendar):
    closed_items(engine, campaign, calendar, {"county-a": 1})
    open_round(engine, campaign, calendar, spec())
    (check,) = checks_of(engine, campaign).values()
    record(engine, campaign, calendar, check, "relapsed")
    with pytest.raises(PermissionDenied):
        round_checks.revise_check(engine, campaign, "lb-1", check.number, actor="insp.city",
                                  now=at("2023-09-03"), reason="录入错误")
    v = round_checks.revise_check(engine, campaign, "lb-1", check.number, actor="sup.city",
                                  now=at("2023-09-03"), reason="录入错误")
    assert v.state == "pending" and v.findings is None and v.new_deadline is None


# -- closing ----------------------------------------------------------------------------------------
def test_closing_reopens_relapses_escalates_faked_results_and_tallies(engine, campaign, calendar):
    closed_items(engine, campaign, calendar, {"county-a": 3, "county-b": 1})
    open_round(engine, campaign, calendar, spec())
    a = sorted(checks_of(engine, campaign, unit="county-a").values(), key=lambda c: c.number)
    record(engine, campaign, calendar, a[0], "relapsed", deadline=date(2023, 10, 31))
    record(engine, campaign, calendar, a[1], "faked", findings="整改照片系摆拍")
    record(engine, campaign, calendar, a[2], "confirmed")
    missed, reopened, cases, tally = close(engine, campaign, calendar)
    assert missed == 1  # county-b's item was never checked
    assert sorted((r.number, r.note) for r in reopened) == [(a[0].number, "reopened"), (a[1].number, "reopened")]
    relapsed = get_clue(engine, campaign, a[0].number)
    assert relapsed.state == "rectifying" and relapsed.reopen_count == 1
    assert relapsed.deadline_at.astimezone().date() >= date(2023, 10, 31)
    assert relapsed.history[-1]["trigger"] == "reopen" and "问题反弹" in relapsed.history[-1]["reason"]
    assert json.loads(relapsed.history[-1]["detail"])["check"] == a[0].id
    # faked → 追责问责 proposed against the owning unit, with the check's finding as its fact
    assert [(c.unit, c.measure, c.action) for c in cases] == [("county-a", "追责问责", "proposed")]
    with engine.connect() as conn:
        case = conn.execute(select(EscalationCase.__table__)).one()
    assert (case.level, case.cause, case.state) == (4, "faked", "proposed")
    t = tally["totals"]
    assert (t["selected"], t["checked"], t["confirmed"], t["relapsed"], t["faked"], t["missed"]) == (4, 3, 1, 1, 1, 1)
    unit_a = next(u for u in tally["units"] if u["key"] == "county-a")
    assert unit_a["relapse_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert [r["number"] for r in tally["reopened"]] == [a[0].number, a[1].number]
    # the whole close again: nothing twice
    assert close(engine, campaign, calendar)[:3] == (0, [], [])
    assert count(engine, EscalationCase) == 1 and count(engine, Lapse, Lapse.kind == "faked") == 1
    assert get_clue(engine, campaign, a[0].number).reopen_count == 1
    assert round_report(engine, campaign, "lb-1", now=at("2023-10-01")).final
    assert verify(engine, campaign_id(engine, campaign)).ok


def test_a_relapsed_item_is_rectified_and_struck_off_again(engine, campaign, calendar):
    closed_items(engine, campaign, calendar, {"county-a": 1})
    open_round(engine, campaign, calendar, spec())
    (check,) = checks_of(engine, campaign).values()
    record(engine, campaign, calendar, check, "relapsed")
    close(engine, campaign, calendar)
    n = check.number
    transition(engine, campaign, n, "submit_evidence", actor="off.a", now=at("2023-09-25"),
               data=ClueInput(evidence="二次整改报告"))
    v = transition(engine, campaign, n, "approve", actor="sup.city", now=at("2023-09-28"))
    assert v.state == "closed" and v.reopen_count == 1
    triggers = [h["trigger"] for h in get_clue(engine, campaign, n).history]
    assert triggers[-3:] == ["reopen", "submit_evidence", "approve"]
    report = round_report(engine, campaign, "lb-1", now=at("2023-10-01"))
    assert report.final and [(x["number"], x["item_state"]) for x in report.tally["reopened"]] == [(n, "closed")]


def test_an_item_reopened_by_hand_meanwhile_is_not_reopened_twice(engine, campaign, calendar):
    closed_items(engine, campaign, calendar, {"county-a": 1})
    open_round(engine, campaign, calendar, spec())
    (check,) = checks_of(engine, campaign).values()
    record(engine, campaign, calendar, check, "relapsed")
    transition(engine, campaign, check.number, "reopen", actor="sup.city", now=at("2023-09-03"),
               data=ClueInput(reason="群众再次反映", deadline=date(2023, 10, 10)))
    _, reopened, _, _ = close(engine, campaign, calendar)
    assert [r.note for r in reopened] == ["already rectifying"]
    assert get_clue(engine, campaign, check.number).reopen_count == 1


def test_cancelling_a_round_acts_on_nothing_it_found(engine, campaign, calendar):
    closed_items(engine, campaign, calendar, {"county-a": 2})
    open_round(engine, campaign, calendar, spec())
    first, second = checks_of(engine, campaign).values()
    record(engine, campaign, calendar, first, "relapsed")
    v = rounds.cancel_round(engine, campaign, "lb-1", reason="范围有误，重新部署", actor="sup.city",
                            now=at("2023-09-03"))
    assert v.state == "cancelled" and v.checks == {"relapsed": 1, "cancelled": 1}
    assert get_clue(engine, campaign, first.number).state == "closed"
    with pytest.raises(InvalidInput, match="cancelled"):
        rounds.preflight(engine, campaign, "lb-1", actor="sup.city", action="close")


# -- who plans -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("actor, scope, message", [
    ("off.a", "county-a", "only a supervisor"),
    ("sup.a", "county-b", "only a supervisor"),
    ("insp.city", "city", "only a supervisor"),
])
def test_only_a_supervisor_of_the_scope_plans_a_round(engine, campaign, actor, scope, message):
    with pytest.raises(PermissionDenied, match=message):
        rounds.plan_round(engine, campaign, spec(scope=scope, teams=[]), actor=actor, now=at("2023-08-24"))
    assert count(engine, InspectionRound) == 0


@pytest.mark.parametrize("over, message", [
    ({"scope": "nowhere"}, "scope: unknown unit"),
    ({"deadline": "2023-08-01", "visits": None}, "has passed"),
    ({"teams": [{"code": "t9", "name": "第九组", "members": ["ghost"]}]}, "unknown user 'ghost'"),
])
def test_a_bad_round_is_refused_with_the_field_named(engine, campaign, over, message):
    with pytest.raises(InvalidInput, match=message):
        rounds.plan_round(engine, campaign, spec(**over), actor="sup.city", now=at("2023-08-24"))
    assert count(engine, InspectionRound) == 0


def test_a_unit_no_team_may_inspect_refuses_the_draw(engine, campaign, calendar):
    closed_items(engine, campaign, calendar, {"county-b": 1})
    rounds.plan_round(engine, campaign, spec(teams=[TEAMS[1]]), actor="sup.city", now=at("2023-08-24"))
    with pytest.raises(InvalidInput, match="county-b"):
        round_open.draw(engine, campaign, "lb-1", actor="sup.city", now=at("2023-08-24"))
    assert count(engine, InspectionCheck) == 0


# -- the sweep ----------------------------------------------------------------------------------------
def test_checks_pending_after_the_deadline_are_a_lapse_of_the_team_once(engine, campaign, calendar):
    closed_items(engine, campaign, calendar, {"county-a": 2, "county-b": 1})
    open_round(engine, campaign, calendar, spec())
    cid = campaign_id(engine, campaign)

    def run(when):
        params = sweep.parameters(engine, cid, at(when), calendar)
        return sweep.run_step(engine, "check_overdue", campaign_id=cid, as_of=at(when), run_key=when,
                              params=params)

    assert run("2023-09-15 23:00") == 0
    teams_owing = {c.team for c in checks_of(engine, campaign).values()}
    assert run("2023-09-16 00:05") == len(teams_owing)
    assert run("2023-09-17 00:05") == 0
    with engine.connect() as conn:
        subjects = set(conn.execute(select(Lapse.subject).where(Lapse.kind == "check_overdue")).scalars())
    assert subjects == {f"lb-1/{t}" for t in teams_owing}


def test_the_shipped_example_round_plans_against_the_xinzhou_campaign(engine, calendar):
    from pathlib import Path

    from services.campaigns.load import load_plan
    from services.campaigns.plans import parse_yaml_model, read_plan

    load_plan(engine, read_plan("003-xinzhou-2023"), source="003", now=at("2023-03-15"))
    f = Path(__file__).resolve().parents[2] / "deploy" / "rounds" / "xinzhou-lookback.example.yaml"
    s = parse_yaml_model(f.read_text(encoding="utf-8"), RoundSpec, source=str(f), shape="a round")
    v = rounds.plan_round(engine, "xinzhou-2023", s, actor="sup.xinzhou", now=at("2023-08-24"))
    assert (v.state, v.seed, [t.code for t in v.teams]) == ("planned", "20230824", ["team-1", "team-2"])


def test_risk_weighting_draws_thin_evidence_more_often(engine, campaign, calendar):
    thin = set(closed_items(engine, campaign, calendar, {"county-a": 5}, evidence="照片"))
    closed_items(engine, campaign, calendar, {"county-a": 5})
    drawn_thin = drawn_all = 0
    for seed in range(20):
        code = f"r{seed}"
        open_round(engine, campaign, calendar, spec(code=code, teams=[], visits=None, selection={
            "mode": "sample", "count": 2, "risk_weighted": True, "seed": seed}))
        picked = set(checks_of(engine, campaign, code))
        drawn_thin += len(picked & thin)
        drawn_all += len(picked)
        assert verify_sample(engine, campaign, code).ok
    assert drawn_all == 40 and drawn_thin >= 28  # weight 3 vs 1: about 3 in 4 draws are thin
