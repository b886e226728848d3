"""The escalation ladder on real databases: lapses become cases once, notices
are numbered in sequence, chases and escalations happen once, permissions
follow the tree."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from models.tables import CaseLapse, EscalationCase, Notice, OutboxMessage
from services.campaigns.load import campaign_id
from services.clues.lifecycle import NewClue, add_clues
from services.core.audit import verify
from services.ladder import automatic as rnd
from services.ladder import cases as esc
from services.ladder import sweep
from statemachine.errors import GuardRefused, InvalidTransition, PermissionDenied

from ..conftest import at

CHANNELS = ("webhook", "file")


def daily(engine, campaign, calendar, when: str):
    """What the nightly job does: sweep, then the escalation pass."""
    as_of = at(when)
    cid = campaign_id(engine, campaign)
    params = sweep.parameters(engine, cid, as_of, calendar)
    for step in sweep.STEPS:
        sweep.run_step(engine, step, campaign_id=cid, as_of=as_of, run_key=f"r-{when}", params=params)
    kw = dict(now=as_of, calendar=calendar)
    lines = rnd.propose_for_lapses(engine, campaign, **kw)
    for step in (rnd.issue_automatic, rnd.escalate_unanswered, rnd.chase_overdue):
        lines += step(engine, campaign, channels=CHANNELS, **kw)
    return [(ln.unit, ln.measure, ln.action) for ln in lines]


def count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table.__table__).where(*where)).scalar()


def notices(engine) -> list[tuple[str, str, str]]:
    N = Notice.__table__
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(N.c.doc_number, N.c.kind, N.c.title).order_by(N.c.id))]


def test_a_missed_stage_deadline_gives_one_criticism_issued_once(engine, campaign, calendar):
    assert daily(engine, campaign, calendar, "2023-04-07 23:00") == []
    first = daily(engine, campaign, calendar, "2023-04-08 00:05")
    # county-a, county-b and town-c1 all missed 动员部署 (due 04-07): 通报批评 is automatic
    assert sorted(first) == sorted([(u, "通报批评", a) for u in ("county-a", "county-b", "town-c1")
                                    for a in ("proposed", "issued")])
    assert [n[0] for n in notices(engine)] == ["整治督〔2023〕1号", "整治督〔2023〕2号", "整治督〔2023〕3号"]
    assert count(engine, OutboxMessage) == 3 * len(CHANNELS)
    # again, and the next day: nothing new
    assert daily(engine, campaign, calendar, "2023-04-08 00:05") == []
    assert daily(engine, campaign, calendar, "2023-04-09 00:05") == []
    assert count(engine, EscalationCase) == 3 and len(notices(engine)) == 3
    assert count(engine, OutboxMessage) == 3 * len(CHANNELS)
    assert verify(engine, campaign_id(engine, campaign)).ok


def test_lapses_of_one_unit_and_cause_share_its_open_case(engine, campaign, calendar):
    add_clues(engine, campaign, [NewClue(channel="12345", aspect="profit", summary=f"乱罚款{i}",
                                         unit="county-b") for i in range(3)],
              actor="sup.city", now=at("2023-03-20"), calendar=calendar)
    daily(engine, campaign, calendar, "2023-04-08 00:05")  # verification due 04-04 passed
    kinds = {c.cause: c.lapses for c in esc.list_cases(engine, campaign, unit="county-b")}
    assert kinds == {"stage_deadline": 1, "verify_overdue": 3}
    assert count(engine, CaseLapse) == count(engine, EscalationCase) + 2


def test_unanswered_criticism_is_chased_once_then_escalated_for_confirmation(engine, campaign, calendar):
    daily(engine, campaign, calendar, "2023-04-08 00:05")
    [case] = esc.list_cases(engine, campaign, unit="county-b")
    due = case.response_due_at  # 10 working days after 04-08 (Qingming 04-05 is before)
    assert due.astimezone(at("2023-04-08").tzinfo).date().isoformat() == "2023-04-21"
    assert daily(engine, campaign, calendar, "2023-04-21 23:00") == []
    chased = daily(engine, campaign, calendar, "2023-04-22 00:05")
    assert sorted(chased) == [(u, "通报批评", "chased") for u in ("county-a", "county-b", "town-c1")]
    assert daily(engine, campaign, calendar, "2023-04-23 00:05") == []  # once
    assert [k for _, k, _ in notices(engine)].count("chase") == 3
    # the chase gives 5 working days (04-23 is a 调休 workday, then 04-24..27): due 04-27
    assert daily(engine, campaign, calendar, "2023-04-27 12:00") == []
    up = daily(engine, campaign, calendar, "2023-04-28 00:05")
    assert sorted(up) == sorted([(u, m, a) for u in ("county-a", "county-b", "town-c1")
                                 for m, a in (("通报批评", "escalated"),)])
    cases = esc.list_cases(engine, campaign, unit="county-b")
    assert [(c.measure, c.state, c.parent_id) for c in cases] == [
        ("通报批评", "escalated", None), ("函询约谈", "proposed", cases[0].id)]
    assert daily(engine, campaign, calendar, "2023-05-30 00:05") == []  # proposed cases wait
    # a supervisor confirms: the interview notice gets the next number
    v = esc.fire(engine, campaign, cases[1].id, "issue", actor="sup.city", now=at("2023-05-30"),
                 calendar=calendar, channels=CHANNELS)
    assert v.state == "issued"
    assert notices(engine)[-1][0] == "整治督〔2023〕7号" and notices(engine)[-1][1] == "interview"
    N = Notice.__table__
    with engine.connect() as conn:
        text = conn.execute(select(N.c.text).where(N.c.doc_number == "整治督〔2023〕7号")).scalar_one()
    # who attends, when and where; the facts the measure rests on are its first case's
    assert "请你单位主要负责同志、分管负责同志于2023年6月2日9时30分到示例市交通运输局会议室接受约谈" in text
    assert "未按期完成“动员部署”阶段任务（阶段截止时间为2023年4月7日）" in text and "乙县交通运输局：" in text


def test_permissions_follow_the_tree(engine, campaign, calendar):
    daily(engine, campaign, calendar, "2023-04-08 00:05")
    case_a = esc.list_cases(engine, campaign, unit="county-a")[0]
    case_c1 = esc.list_cases(engine, campaign, unit="town-c1")[0]
    kw = dict(now=at("2023-04-10"), calendar=calendar)
    with pytest.raises(PermissionDenied, match="their own unit"):
        esc.fire(engine, campaign, case_a.id, "escalate", actor="sup.a",
                 data=esc.CaseInput(reason="r"), **kw)
    with pytest.raises(PermissionDenied, match="only a supervisor"):
        esc.fire(engine, campaign, case_c1.id, "escalate", actor="off.a",
                 data=esc.CaseInput(reason="r"), **kw)
    with pytest.raises(PermissionDenied):  # county-b answers for county-b only
        esc.fire(engine, campaign, case_a.id, "respond", actor="off.b",
                 data=esc.CaseInput(response="已整改"), **kw)
    # the unit answers, a supervisor above resolves; county-a's supervisor does town-c1's
    esc.fire(engine, campaign, case_a.id, "acknowledge", actor="off.a", **kw)
    esc.fire(engine, campaign, case_a.id, "respond", actor="off.a", data=esc.CaseInput(response="已整改"), **kw)
    with pytest.raises(PermissionDenied):
        esc.fire(engine, campaign, case_a.id, "resolve", actor="sup.a", **kw)
    assert esc.fire(engine, campaign, case_a.id, "resolve", actor="sup.city", **kw).state == "resolved"
    esc.fire(engine, campaign, case_c1.id, "respond", actor="off.c1", data=esc.CaseInput(response="已整改"), **kw)
    assert esc.fire(engine, campaign, case_c1.id, "resolve", actor="sup.a", **kw).state == "resolved"
    with pytest.raises(InvalidTransition, match="allowed: none"):
        esc.fire(engine, campaign, case_a.id, "resolve", actor="sup.city", **kw)


def test_a_listed_supervision_ends_by_delisting_with_its_notice(engine, campaign, calendar):
    [number] = add_clues(engine, campaign, [NewClue(channel="暗访", aspect="profit", summary="违规设置测速",
                                                    unit="county-b")],
                         actor="sup.city", now=at("2023-05-04"), calendar=calendar)
    kw = dict(calendar=calendar, channels=CHANNELS)
    v = esc.escalate_unit(engine, campaign, "county-b", 3, actor="sup.city", now=at("2023-05-05"),
                          data=esc.CaseInput(reason="违规设置测速设备问题整改迟缓", clue=number), **kw)
    assert (v.measure, v.state, v.clue) == ("挂牌督办", "issued", number)
    esc.fire(engine, campaign, v.id, "respond", actor="off.b", now=at("2023-05-20"),
             data=esc.CaseInput(response="已拆除", attachment="拆除照片.zip"), **kw)
    with pytest.raises(GuardRefused, match="resolvable_by_verification"):  # only 摘牌 ends it
        esc.fire(engine, campaign, v.id, "resolve", actor="sup.city", now=at("2023-05-21"), **kw)
    with pytest.raises(GuardRefused, match="has_note"):
        esc.fire(engine, campaign, v.id, "delist", actor="sup.city", now=at("2023-05-22"), **kw)
    done = esc.fire(engine, campaign, v.id, "delist", actor="sup.city", now=at("2023-05-22"),
                    data=esc.CaseInput(note="实地核查已拆除"), **kw)
    assert done.state == "resolved"
    full = esc.get_case(engine, campaign, v.id)
    assert [n.kind for n in full.notices] == ["listed", "delisting"]
    assert [n.doc_number for n in full.notices] == ["整治督〔2023〕1号", "整治督〔2023〕2号"]
    assert [h["trigger"] for h in full.history] == ["propose", "issue", "respond", "delist"]
    listed, delisting = (n.text for n in full.notices)
    # the listed problem by its summary and number, the reason, the deadline; the 摘牌 names the listing
    assert f"问题“违规设置测速”（编号{number}）" in listed and "违规设置测速设备问题整改迟缓" in listed
    assert "决定对上述问题予以挂牌督办" in listed and "前整改到位" in listed
    assert "以《挂牌督办通知书》（整治督〔2023〕1号）对你单位下列问题予以挂牌督办" in delisting
    assert f"问题“违规设置测速”（编号{number}）" in delisting and "核查情况：实地核查已拆除。" in delisting


def test_accountability_exempts_only_with_grounds_and_transfer_names_its_organ(engine, campaign, calendar):
    kw = dict(calendar=calendar, channels=())
    v = esc.escalate_unit(engine, campaign, "county-a", 4, actor="sup.city", now=at("2023-06-01"),
                          data=esc.CaseInput(reason="整改弄虚作假"), **kw)
    with pytest.raises(GuardRefused, match="三个区分开来"):
        esc.fire(engine, campaign, v.id, "decide", actor="sup.city", now=at("2023-06-20"),
                 data=esc.CaseInput(decision="exempt"), **kw)
    d = esc.fire(engine, campaign, v.id, "decide", actor="sup.city", now=at("2023-06-20"),
                 data=esc.CaseInput(decision="exempt", grounds="属于缺乏经验先行先试出现的失误"), **kw)
    assert (d.state, d.decision) == ("resolved", "exempt")
    with pytest.raises(GuardRefused, match="organ"):
        esc.escalate_unit(engine, campaign, "county-a", 5, actor="sup.city", now=at("2023-06-21"),
                          data=esc.CaseInput(reason="辅警违纪线索"), **kw)
    assert count(engine, EscalationCase) == 1  # the refused transfer left nothing
    t = esc.escalate_unit(engine, campaign, "county-a", 5, actor="sup.city", now=at("2023-06-21"),
                          data=esc.CaseInput(reason="辅警违纪线索", receiving_organ="示例市纪委监委"), **kw)
    assert t.measure == "移交纪检监察" and t.state == "issued"
    assert [n[0] for n in notices(engine)] == ["整治督〔2023〕1号", "整治督〔2023〕2号"]


def test_two_rounds_at_once_act_once(engine, campaign, calendar):
    as_of = at("2023-04-08 00:05")
    cid = campaign_id(engine, campaign)
    params = sweep.parameters(engine, cid, as_of, calendar)
    for step in sweep.STEPS:
        sweep.run_step(engine, step, campaign_id=cid, as_of=as_of, run_key="r", params=params)
    errors = []

    def round_():
        try:
            rnd.propose_for_lapses(engine, campaign, now=as_of, calendar=calendar)
            rnd.issue_automatic(engine, campaign, now=as_of, calendar=calendar, channels=CHANNELS)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=round_) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert count(engine, EscalationCase) == 3 and len(notices(engine)) == 3
    assert count(engine, CaseLapse) == 3


def test_a_case_refused_in_a_chunk_leaves_no_record_and_no_gap_while_the_others_go_through(
        engine, campaign, calendar):
    from models.tables import AuditRecord
    from statemachine.errors import ConflictError

    as_of = at("2023-04-08 00:05")
    cid = campaign_id(engine, campaign)
    params = sweep.parameters(engine, cid, as_of, calendar)
    for step in sweep.STEPS:
        sweep.run_step(engine, step, campaign_id=cid, as_of=as_of, run_key="r", params=params)
    rnd.propose_for_lapses(engine, campaign, now=as_of, calendar=calendar)
    ids = sorted(r.id for r in _cases(engine))
    calls = []

    def act(uow, ladder, row):  # the middle case is issued, then refused (as a concurrent writer would)
        calls.append(row.id)
        esc.apply_trigger(uow, ladder, row, "issue", actor=None, now=as_of)
        if row.id == ids[1]:
            raise ConflictError("changed meanwhile")
        return "issued"

    lines = rnd._in_chunks(engine, campaign, calendar, CHANNELS, lambda ladder: [
        EscalationCase.state == "proposed"], act)
    assert [ln.case_id for ln in lines] == [ids[0], ids[2]]
    assert calls == [ids[0], ids[1], ids[0], ids[1], ids[2]]  # in one go, then case by case
    assert [n[0] for n in notices(engine)] == ["整治督〔2023〕1号", "整治督〔2023〕2号"]  # no gap
    assert {r.id: r.state for r in _cases(engine)} == {ids[0]: "issued", ids[1]: "proposed", ids[2]: "issued"}
    assert count(engine, AuditRecord, AuditRecord.entity_id == ids[1], AuditRecord.trigger == "issue") == 0
    assert verify(engine, cid).ok


def _cases(engine):
    with engine.connect() as conn:
        return conn.execute(select(EscalationCase.__table__)).all()


@pytest.fixture
def combined(engine, tmp_path) -> str:
    """The small plan with `escalation.combine_causes: true` (seeds 002–004's choice)."""
    from services.campaigns.load import load_plan
    from services.campaigns.plans import read_plan

    from ..conftest import SMALL_PLAN

    path = tmp_path / "plan.yaml"
    path.write_text(SMALL_PLAN.read_text(encoding="utf-8") + "\nescalation: {combine_causes: true}\n",
                    encoding="utf-8")
    plan = read_plan(path)
    assert plan.escalation.combine_causes
    load_plan(engine, plan, source=str(path), now=at("2023-03-15"))
    return plan.campaign.code


def test_combined_causes_give_a_unit_one_notice_a_night_citing_every_cause(engine, combined, calendar):
    add_clues(engine, combined, [NewClue(channel="12345", aspect="profit", summary=f"国道示例线乱罚款{i}",
                                         unit="county-b") for i in range(2)],
              actor="sup.city", now=at("2023-03-20"), calendar=calendar)
    daily(engine, combined, calendar, "2023-04-08 00:05")
    cases_b = esc.list_cases(engine, combined, unit="county-b")
    assert sorted(c.cause for c in cases_b) == ["stage_deadline", "verify_overdue"]  # two cases, as before
    assert all(c.state == "issued" for c in cases_b)
    found = notices(engine)
    # county-a and town-c1 have one cause each: their own notice; county-b: one for both causes
    assert len(found) == 3 and [k for _, k, _ in found] == ["criticism"] * 3
    N = Notice.__table__
    with engine.connect() as conn:
        b = conn.execute(select(N).where(N.c.title == "关于对乙县交通运输局的通报批评")).one()
    assert b.key.startswith("unit:") and b.case_id == min(c.id for c in cases_b)
    assert "未按期完成“动员部署”阶段任务" in b.text and "问题线索“国道示例线乱罚款0”" in b.text
    assert "问题线索“国道示例线乱罚款1”" in b.text and "deploy" not in b.text
    for c in cases_b:  # each case shows the notice it shares
        assert [n.doc_number for n in esc.get_case(engine, combined, c.id).notices] == [b.doc_number]
    # unanswered: one 催办 for county-b, citing the 文号 it chases
    daily(engine, combined, calendar, "2023-04-22 00:05")
    chases = [n for n in notices(engine) if n[1] == "chase"]
    assert len(chases) == 3
    with engine.connect() as conn:
        chase_b = conn.execute(select(N.c.text).where(N.c.kind == "chase", N.c.case_id == b.case_id)).scalar_one()
    assert f"《关于对乙县交通运输局的通报批评》（{b.doc_number}）" in chase_b
    assert chase_b.count("国道示例线乱罚款") == 2
    so_far = notices(engine)
    assert daily(engine, combined, calendar, "2023-04-23 00:05") == []  # once
    assert notices(engine) == so_far and verify(engine, campaign_id(engine, combined)).ok


def test_without_combine_causes_each_cause_has_its_notice(engine, campaign, calendar):
    add_clues(engine, campaign, [NewClue(channel="12345", aspect="profit", summary="国道示例线乱罚款",
                                         unit="county-b")], actor="sup.city", now=at("2023-03-20"), calendar=calendar)
    daily(engine, campaign, calendar, "2023-04-08 00:05")
    titles = [t for _, _, t in notices(engine)]
    assert titles.count("关于对乙县交通运输局的通报批评") == 2 and len(titles) == 4
