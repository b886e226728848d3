"""合并 on SQLite and PostgreSQL (services/clues/merging.py): the duplicate's sources move to the
item kept, it ends merged and owes nothing more, every reporter hears the outcome once."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from models.tables import AuditRecord, Clue, ClueSource, ExtensionRequest, Lapse, OutboxMessage
from services.campaigns.load import campaign_id
from services.clues import extensions as ext, lifecycle as clues
from services.clues.importing import import_clue_csv
from services.clues.merging import merge
from services.clues.record import item_record
from services.core.audit import verify
from services.ladder import sweep
from statemachine.errors import GuardRefused, InvalidTransition, NotFound, PermissionDenied

from ..conftest import at

T, CS, L, O, ER, A = (Clue.__table__, ClueSource.__table__, Lapse.__table__, OutboxMessage.__table__,
                      ExtensionRequest.__table__, AuditRecord.__table__)


def _item(engine, calendar, unit="county-a", *, channel="12345", ref=None, name=None, phone=None):
    return clues.add_clues(engine, "smoke-2023", [clues.NewClue(
        channel=channel, aspect="profit", summary="超限站违规罚款", unit=unit, source_ref=ref,
        reporter_name=name, reporter_phone=phone, received_at=at("2023-03-20"))],
        actor="sup.city", now=at("2023-03-20"), calendar=calendar)[0]


def _to(engine, calendar, n, state):
    """Walk item `n` to `state` by the chart's own steps."""
    steps = {"received": [], "verifying": ["verify"], "rectifying": ["verify", "substantiate"],
             "rectified": ["verify", "substantiate", "submit_evidence"],
             "closed": ["verify", "substantiate", "submit_evidence", "approve"], "transferred": ["transfer"]}[state]
    data = clues.ClueInput(reason="核实", measures="退还罚款", deadline=date(2023, 4, 30), owner="赵书涵",
                           evidence="整改报告.pdf")
    officer = {"甲县": "off.a", "乙县": "off.b"}[clues.get_clue(engine, "smoke-2023", n).unit]
    for i, step in enumerate(steps):
        who = "sup.city" if step in ("approve", "transfer") else officer
        clues.transition(engine, "smoke-2023", n, step, actor=who, now=at(f"2023-03-2{1 + i}"), data=data,
                         calendar=calendar)
    return n


# (the duplicate's state, the kept item's state, who merges) → None when merged, else the refusal
MERGES = [
    ("received", "received", "sup.city", None),
    ("verifying", "rectifying", "sup.city", None),
    ("rectifying", "closed", "sup.city", None),
    ("rectified", "verifying", "sup.city", None),
    ("received", "received", "sup.a", PermissionDenied),      # county-a is sup.a's own unit
    ("received", "received", "off.a", PermissionDenied),      # the unit itself
    ("closed", "received", "sup.city", InvalidTransition),    # a closed item stays closed
    ("transferred", "received", "sup.city", InvalidTransition),
    ("received", "transferred", "sup.city", GuardRefused),    # the matter left the campaign
]


@pytest.mark.parametrize("dup_state,keep_state,actor,refused", MERGES)
def test_a_duplicate_is_merged_into_the_item_kept(engine, campaign, calendar, dup_state, keep_state, actor,
                                                   refused):
    dup = _to(engine, calendar, _item(engine, calendar, ref="GD-002", name="杜若溪", phone="13800000102"),
              dup_state)
    keep = _to(engine, calendar, _item(engine, calendar, "county-b", ref="GD-001", name="韩雪松",
                                       phone="13800000101"), keep_state)
    with engine.connect() as conn:
        before = conn.execute(select(T.c.state, T.c.version).where(T.c.number == dup)).one()
    if refused is not None:
        with pytest.raises(refused):
            merge(engine, campaign, dup, into=keep, reason="同一事项", actor=actor, now=at("2023-03-28"),
                  calendar=calendar)
        with engine.connect() as conn:  # nothing changed
            assert conn.execute(select(T.c.state, T.c.version).where(T.c.number == dup)).one() == before
            assert conn.execute(select(CS.c.clue_id).where(CS.c.source_ref == "GD-002")).scalar_one() == \
                conn.execute(select(T.c.id).where(T.c.number == dup)).scalar_one()
        return
    v = merge(engine, campaign, dup, into=keep, reason="同一事项", actor=actor, now=at("2023-03-28"),
              calendar=calendar)
    assert (v.state, v.into, v.sources_moved) == ("merged", keep, 1)
    kept = item_record(engine, campaign, keep)
    assert [(s.source_ref, s.reporter_name, s.reporter_phone, s.merged_from) for s in kept.sources] == [
        ("GD-001", "韩雪松", "138****0101", None), ("GD-002", "杜若溪", "138****0102", dup)]
    assert item_record(engine, campaign, dup).merged_into == keep
    assert item_record(engine, campaign, dup).sources == []
    dup_history = clues.get_clue(engine, campaign, dup).history
    assert (dup_history[-1]["trigger"], dup_history[-1]["to_state"], json.loads(dup_history[-1]["detail"])) == \
        ("merge", "merged", {"into": keep})
    keep_history = clues.get_clue(engine, campaign, keep).history
    keep_detail = json.loads(keep_history[-1]["detail"])
    assert keep_history[-1]["trigger"] == "merged_in" and keep_detail["from"] == dup
    assert verify(engine, campaign_id(engine, campaign)).ok
    # a closed item kept: the duplicate's reporter hears the outcome now, the number masked in the audit
    with engine.connect() as conn:
        told = conn.execute(select(O.c.body_text, O.c.subject).where(O.c.key.like("feedback:%"))).all()
    if keep_state == "closed":
        assert v.told == ["138****0102"] and keep_detail["told"] == ["138****0102"]
        assert any("13800000102" in t.body_text and "138****0102" in t.subject for t in told)
        assert all("13800000102" not in t.subject for t in told)
    else:
        assert v.told == [] and told == []


@pytest.mark.parametrize("case", ["self", "chain", "unknown"])
def test_self_merges_chains_and_unknown_items_are_refused(engine, campaign, calendar, case):
    a, b, c = (_item(engine, calendar) for _ in range(3))
    if case == "chain":
        merge(engine, campaign, b, into=c, reason="同一事项", actor="sup.city", now=at("2023-03-28"))
    into = {"self": a, "chain": b, "unknown": "XS-2023-09999"}[case]
    with pytest.raises(NotFound if case == "unknown" else GuardRefused) as e:
        merge(engine, campaign, a, into=into, reason="同一事项", actor="sup.city", now=at("2023-03-28"))
    if case == "chain":
        assert f"merged into {c}: merge into the item it was merged into" in str(e.value)
    assert clues.get_clue(engine, campaign, a).state == "received"


def test_a_merged_item_owes_nothing_more(engine, campaign, calendar):
    """Its waiting 延期 is refused, the sweep raises no lapse of it afterwards; the kept item's do."""
    dup = _to(engine, calendar, _item(engine, calendar), "rectifying")
    keep = _item(engine, calendar)
    ext.request_extension(engine, campaign, dup, until=date(2023, 5, 15), reason="汛期", actor="off.a",
                          now=at("2023-04-20"), calendar=calendar)
    merge(engine, campaign, dup, into=keep, reason="同一事项", actor="sup.city", now=at("2023-04-21"))
    with engine.connect() as conn:
        assert conn.execute(select(ER.c.state, ER.c.decision)).one() == ("refused", f"合并至 {keep}")
    cid = campaign_id(engine, campaign)
    as_of = at("2023-06-01")
    params = sweep.parameters(engine, cid, as_of, calendar)
    for step in ("verify_overdue", "rectify_overdue"):
        sweep.run_step(engine, step, campaign_id=cid, as_of=as_of, run_key="r1", params=params)
    with engine.connect() as conn:
        assert set(conn.execute(select(L.c.subject, L.c.kind)).all()) == {(keep, "verify_overdue")}


def test_every_reporter_hears_once_when_the_kept_item_is_closed(engine, campaign, calendar):
    keep = _item(engine, calendar, ref="GD-001", name="韩雪松", phone="13800000101")
    dup = _item(engine, calendar, channel="信访", ref="XF-7", name="杜若溪", phone="13800000102")
    same = _item(engine, calendar, ref="GD-003", name="韩雪松", phone="13800000101")  # the same person again
    anonymous = _item(engine, calendar, ref="GD-004")
    for n in (dup, same, anonymous):
        merge(engine, campaign, n, into=keep, reason="同一事项", actor="sup.city", now=at("2023-03-22"))
    _to(engine, calendar, keep, "closed")
    with engine.connect() as conn:
        bodies = conn.execute(select(O.c.body_text).where(O.c.key.like("feedback:%")).order_by(O.c.id)).scalars().all()
    assert len(bodies) == 2
    assert "13800000101" in bodies[0] and "GD-001" in bodies[0] and "已整改到位并销号" in bodies[0]
    assert "13800000102" in bodies[1] and "XF-7" in bodies[1] and "信访投诉" in bodies[1]


def test_importing_work_orders_again_adds_nothing_even_after_a_merge(engine, campaign, calendar, tmp_path):
    csv = tmp_path / "orders.csv"
    csv.write_text("工单号,来源,问题方面,问题表现,责任单位,反映人,联系电话\n"
                   "GD-001,12345,profit,设卡乱罚款,county-a,韩雪松,13800000101\n"
                   "GD-002,12345,profit,设卡乱罚款(重复),county-a,杜若溪,13800000102\n"
                   "GD-001,信访,profit,另一渠道的同号工单,county-a,,\n", encoding="utf-8")
    first = import_clue_csv(engine, campaign, csv, actor="sup.city", now=at("2023-04-06"), calendar=calendar)
    assert len(first.numbers) == 3 and first.already == []  # one number, two channels: two work orders
    merge(engine, campaign, first.numbers[1], into=first.numbers[0], reason="同一事项", actor="sup.city",
          now=at("2023-04-07"))
    again = import_clue_csv(engine, campaign, csv, actor="sup.city", now=at("2023-04-08"), calendar=calendar)
    assert again.numbers == []
    assert again.already == [(2, first.numbers[0]), (3, first.numbers[0]), (4, first.numbers[2])]
    assert str(again) == "imported 0 clues; 3 rows already imported by 工单号, left out"
