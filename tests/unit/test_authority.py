"""Who may fire what, by the actor's relation to the unit (statemachine/authority.py):
the one table, and every chart's triggers naming one of its rules."""
from __future__ import annotations

import pytest

from statemachine.authority import ALL_RELATIONS, Position, Relation, Who, permits, refusal, relation
from statemachine.charts.clue import CLUE_CHART
from statemachine.charts.ladder import CASE_CHART
from statemachine.charts.lookback import CHECK_CHART, ROUND_CHART
from statemachine.charts.returns import RETURN_CHART
from statemachine.charts.signing import SIGNING_CHART
from statemachine.charts.unit_stage import stage_chart

P = Position


def expected(who: Who, rel: Relation) -> bool:
    """docs/architecture.md decision 8 in words, written apart from the implementation."""
    if rel.system:
        return True
    own, above, sup = rel.position is P.own, rel.position is P.above, rel.supervisor
    return {
        Who.unit: own or (above and sup),
        Who.supervisor: above and sup,
        Who.organiser: sup and (own or above),
        Who.inspector: rel.team_member or (sup and (own or above)),
        Who.system: False,
        Who.member: own,
    }[who]


@pytest.mark.parametrize("who", list(Who))
@pytest.mark.parametrize("rel", ALL_RELATIONS, ids=str)
def test_permits_follows_the_tree(who, rel):
    assert permits(who, rel) is expected(who, rel)
    why = refusal(who, rel, actor="u", unit_name="甲县", what="act")
    assert (why is None) is expected(who, rel)
    if why:
        assert why.startswith("u may not act") and "\n" not in why


def test_relation_from_tree_paths():
    def rel(actor_path, actor_id, unit_path, unit_id, role="supervisor"):
        return relation(actor_role=role, actor_unit_path=actor_path, unit_path=unit_path,
                        actor_unit_id=actor_id, unit_id=unit_id)
    assert rel("/1/", 1, "/1/", 1).position is P.own
    assert rel("/1/", 1, "/1/4/9/", 9).position is P.above
    assert rel("/1/4/", 4, "/1/", 1).position is P.outside        # below is not above
    assert rel("/1/4/", 4, "/1/41/", 41).position is P.outside    # paths end with '/': no prefix clash
    assert rel("/1/", 1, "/1/4/", 4, role="liaison").supervisor is False


@pytest.mark.parametrize("chart", [CLUE_CHART, CASE_CHART, ROUND_CHART, CHECK_CHART, SIGNING_CHART, RETURN_CHART,
                                   stage_chart(("a", "b"))], ids=lambda c: c.name)
def test_every_trigger_of_every_chart_names_who_may_fire_it(chart):
    for trigger in chart.triggers:
        assert isinstance(chart.who(trigger), Who)


def test_the_unit_answers_a_case_and_supervisors_do_the_rest():
    assert CASE_CHART.triggers_by(Who.unit) == {"acknowledge", "respond"}
    assert CASE_CHART.triggers_by(Who.system) == {"chase"}
    assert CASE_CHART.triggers_by(Who.supervisor) == set(CASE_CHART.triggers) - {"acknowledge", "respond",
                                                                                   "chase"}
