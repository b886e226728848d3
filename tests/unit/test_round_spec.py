"""A look-back round as a supervisor writes it (statemachine.lookback.spec.RoundSpec),
and how a bad round file is reported (services.campaigns.plans.parse_yaml_model)."""
from __future__ import annotations

import re
from datetime import date

import pytest
from pydantic import ValidationError

from services.campaigns.plans import PlanError, parse_yaml_model
from statemachine.lookback.spec import RoundSpec, Selection, TeamSpec

MINIMAL = {"code": "lb-2023-08", "title": "专项整治问题整改“回头看”", "scope": "xinzhou",
           "deadline": "2023-09-15"}
SHAPE = "a round must be a YAML mapping with code, title, scope, deadline …"


def spec(**changes) -> RoundSpec:
    return RoundSpec.model_validate({**MINIMAL, **changes})


def refused(match: str, **changes) -> ValidationError:
    with pytest.raises(ValidationError, match=match) as e:
        spec(**changes)
    return e.value


def team(code: str, members: list[str], leader: str | None = None, name: str | None = None) -> dict:
    out = {"code": code, "name": name or f"督察组 {code}", "members": members}
    if leader:
        out["leader"] = leader
    return out


# -- a valid round ---------------------------------------------------------------------------
def test_a_minimal_round_is_valid_with_documented_defaults():
    r = spec()
    assert r.code == "lb-2023-08" and r.scope == "xinzhou" and r.deadline == date(2023, 9, 15)
    assert r.kind == "look_back"
    assert r.items == ["clue", "self_inspection", "carried_over"]
    assert r.selection.mode == "all" and r.selection.count is None and r.selection.share is None
    assert r.selection.seed is None and not r.selection.risk_weighted
    assert r.methods == [] and r.teams == [] and r.visits is None and r.closed is None
    assert r.announce_items is True and r.reopen_working_days == 20


def test_a_full_round_with_sample_methods_and_teams_is_valid():
    r = spec(kind="field_inspection", items=["clue", "self_inspection", "carried_over"],
             closed={"start": "2023-04-01", "end": "2023-08-20"},
             selection={"mode": "sample", "share": 0.2, "min_per_unit": 1, "risk_weighted": True,
                        "seed": 20230824},
             visits={"start": "2023-09-08", "end": "2023-09-14"},
             methods=["随机抽查", "案卷审查"],
             teams=[team("team-1", ["insp.a", "insp.b"], leader="insp.a", name="第一督察组")])
    assert r.selection.share == 0.2 and r.selection.seed == 20230824
    assert r.teams[0].leader == "insp.a" and r.kind == "field_inspection"
    assert r.methods == ["random", "file_review"] and r.visits.start == date(2023, 9, 8)


@pytest.mark.parametrize("missing", ["code", "title", "scope", "deadline"])
def test_code_title_scope_and_deadline_are_required(missing):
    data = {k: v for k, v in MINIMAL.items() if k != missing}
    with pytest.raises(ValidationError, match=missing):
        RoundSpec.model_validate(data)


@pytest.mark.parametrize("code", ["LB-1", "-lb", "lb 1", "回头看"])
def test_a_round_code_must_be_a_lowercase_key(code):
    refused("code", code=code)


# -- selection -----------------------------------------------------------------------------
@pytest.mark.parametrize("selection", [{"mode": "sample", "count": 3}, {"mode": "sample", "share": 0.25}])
def test_a_sample_with_exactly_one_of_count_or_share_is_valid(selection):
    r = spec(selection=selection)
    assert r.selection.mode == "sample"


@pytest.mark.parametrize("selection", [{"mode": "sample"},
                                       {"mode": "sample", "count": 3, "share": 0.25}],
                         ids=["neither", "both"])
def test_a_sample_needs_exactly_one_of_count_or_share(selection):
    refused("exactly one of 'count'.*or 'share'", selection=selection)


@pytest.mark.parametrize("extra", [{"count": 3}, {"share": 0.5}, {"risk_weighted": True}])
def test_mode_all_refuses_count_share_and_risk_weighting(extra):
    refused("mode 'all' takes every closed item", selection={"mode": "all", **extra})


def test_mode_all_is_the_default_and_refuses_a_share_too():
    refused("mode 'all'", selection={"share": 0.5})


@pytest.mark.parametrize("field,value", [("share", 0), ("share", 1.5), ("count", 0),
                                         ("min_per_unit", 0), ("seed", -1), ("seed", 2 ** 53)])
def test_selection_numbers_out_of_range_are_refused(field, value):
    # a valid sample, with the field under test replacing its count where it competes
    base = {"mode": "sample"} if field in ("count", "share") else {"mode": "sample", "count": 2}
    refused(field, selection={**base, field: value})


def test_a_share_of_one_draws_everything_and_is_allowed():
    assert Selection(mode="sample", share=1).share == 1


# -- methods -----------------------------------------------------------------------------------
def test_methods_are_normalised_to_their_keys():
    r = spec(methods=["随机抽查", "file_review", "四不两直", "突击检查", "undercover"])
    assert r.methods == ["random", "file_review", "four_nos", "surprise", "undercover"]


def test_an_unknown_method_is_refused_naming_it_and_the_known_ones():
    e = refused("unknown method '瞎看'", methods=["随机抽查", "瞎看"])
    assert "随机抽查" in str(e) and "四不两直" in str(e)


# -- dates ---------------------------------------------------------------------------------------
def test_visits_ending_after_the_deadline_are_refused_naming_both_dates():
    refused("visit window ends 2023-09-16, after the deadline 2023-09-15",
            visits={"start": "2023-09-10", "end": "2023-09-16"})


def test_visits_may_end_on_the_deadline():
    r = spec(visits={"start": "2023-09-10", "end": "2023-09-15"})
    assert r.visits.end == r.deadline


def test_a_visit_window_that_ends_before_it_starts_is_refused():
    refused("before start", visits={"start": "2023-09-12", "end": "2023-09-10"})


# -- teams ----------------------------------------------------------------------------------------
def test_duplicate_team_codes_are_refused():
    refused("team codes must be unique",
            teams=[team("team-1", ["insp.a"]), team("team-1", ["insp.b"])])


def test_a_person_in_two_teams_is_refused_naming_the_person_and_both_teams():
    refused(re.escape("'insp.b' is in two teams (team-1, team-2)"),
            teams=[team("team-1", ["insp.a", "insp.b"]), team("team-2", ["insp.b", "insp.c"])])


def test_a_leader_who_is_not_a_member_is_refused():
    refused("leader 'insp.z' is not one of the members", teams=[team("team-1", ["insp.a"], "insp.z")])


def test_a_member_listed_twice_in_one_team_is_refused():
    with pytest.raises(ValidationError, match="listed twice"):
        TeamSpec(code="team-1", name="第一组", members=["insp.a", "insp.a"])


def test_a_team_needs_at_least_one_member():
    refused("members", teams=[team("team-1", [])])


def test_distinct_teams_with_distinct_people_are_valid():
    r = spec(teams=[team("team-1", ["insp.a", "insp.b"], "insp.b"), team("team-2", ["insp.c"])])
    assert [t.code for t in r.teams] == ["team-1", "team-2"]


# -- unknown fields ---------------------------------------------------------------------------------
@pytest.mark.parametrize("changes", [
    {"deadlines": "2023-09-15"},
    {"selection": {"mode": "sample", "count": 2, "sead": 7}},
    {"selection": {"mode": "sample", "count": 2, "risk_weighted": True, "risk": {"fast": 2, "slow": 1}}},
    {"teams": [{**team("team-1", ["insp.a"]), "boss": "insp.a"}]},
    {"visits": {"start": "2023-09-10", "end": "2023-09-12", "days": 3}},
], ids=["top", "selection", "risk", "team", "visits"])
def test_unknown_fields_are_refused_at_every_level(changes):
    refused("Extra inputs are not permitted", **changes)


@pytest.mark.parametrize("changes", [{"kind": "audit"}, {"items": ["clue", "rumour"]}, {"items": []}],
                         ids=["kind", "item-kind", "no-items"])
def test_unknown_kinds_and_empty_item_lists_are_refused(changes):
    refused(next(iter(changes)), **changes)


# -- a round file: one error naming file, line and field ------------------------------------------
ROUND_YAML = """\
code: lb-2023-08
title: 专项整治问题整改“回头看”
scope: xinzhou
deadline: 2023-09-15
selection:
  mode: sample
  share: 0.2
  seed: 20230824
methods:
  - 随机抽查
  - 案卷审查
teams:
  - code: team-1
    name: 第一督察组
    leader: insp.a
    members: [insp.a, insp.b]
"""


def parse(text: str) -> RoundSpec:
    return parse_yaml_model(text, RoundSpec, source="r.yaml", shape=SHAPE)


def test_a_good_round_file_parses_into_a_round_spec():
    r = parse(ROUND_YAML)
    assert r.selection.share == 0.2 and r.methods == ["random", "file_review"]
    assert r.teams[0].members == ["insp.a", "insp.b"]


def test_a_share_out_of_range_is_reported_at_its_line_naming_the_field():
    with pytest.raises(PlanError) as e:
        parse(ROUND_YAML.replace("  share: 0.2", "  share: 2"))
    msg = str(e.value)
    assert msg.startswith("r.yaml:7: selection.share: ")
    assert "less than or equal to 1" in msg


def test_an_unknown_method_in_a_file_is_reported_at_the_methods_line_naming_it():
    with pytest.raises(PlanError) as e:
        parse(ROUND_YAML.replace("  - 案卷审查", "  - 瞎看"))
    m = re.match(r"r\.yaml:(\d+): methods: unknown method '瞎看'", str(e.value))
    assert m, str(e.value)
    assert 9 <= int(m.group(1)) <= 11, "the line must point into the methods block"


def test_a_sample_without_count_or_share_is_reported_inside_the_selection_block():
    with pytest.raises(PlanError) as e:
        parse(ROUND_YAML.replace("  share: 0.2\n", ""))
    m = re.match(r"r\.yaml:(\d+): selection: a sample needs exactly one of 'count'", str(e.value))
    assert m, str(e.value)
    assert 5 <= int(m.group(1)) <= 7, "the line must point into the selection block"


def test_an_error_on_a_whole_block_is_reported_at_the_line_of_its_key():
    with pytest.raises(PlanError) as e:
        parse(ROUND_YAML.replace("  share: 0.2\n", ""))
    assert str(e.value).startswith("r.yaml:5: selection: ")


def test_a_leader_outside_the_team_is_reported_at_that_teams_line():
    with pytest.raises(PlanError) as e:
        parse(ROUND_YAML.replace("leader: insp.a", "leader: insp.z"))
    assert str(e.value).startswith("r.yaml:13: teams[0]: leader 'insp.z' is not one of the members")


def test_an_unknown_field_in_a_file_is_reported_at_its_own_line():
    with pytest.raises(PlanError) as e:
        parse(ROUND_YAML.replace("  seed: 20230824", "  sead: 20230824"))
    assert str(e.value).startswith("r.yaml:8: selection.sead: Extra inputs are not permitted")


def test_an_impossible_date_is_reported_at_its_line():
    with pytest.raises(PlanError) as e:
        parse(ROUND_YAML.replace("deadline: 2023-09-15", "deadline: 2023-02-30"))
    assert str(e.value).startswith("r.yaml:4: deadline: '2023-02-30' is not a valid date")


def test_broken_yaml_is_reported_with_its_line():
    with pytest.raises(PlanError) as e:
        parse(ROUND_YAML.replace("  mode: sample", "  mode: [sample"))
    assert re.match(r"r\.yaml:\d+: not valid YAML", str(e.value))


@pytest.mark.parametrize("text", ["", "- a list\n", "just text\n"], ids=["empty", "list", "scalar"])
def test_a_file_that_is_not_a_mapping_is_refused_with_the_expected_shape(text):
    with pytest.raises(PlanError) as e:
        parse(text)
    assert str(e.value) == f"r.yaml: {SHAPE}"


def test_visits_after_the_deadline_are_reported_at_the_visits_line():
    text = ROUND_YAML + "visits: {start: 2023-09-18, end: 2023-09-25}\n"
    with pytest.raises(PlanError) as e:
        parse(text)
    assert str(e.value).startswith("r.yaml:17: visits")


def test_a_person_in_two_teams_is_reported_at_the_second_teams_line():
    text = ROUND_YAML + "  - code: team-2\n    name: 第二督察组\n    members: [insp.b]\n"
    with pytest.raises(PlanError) as e:
        parse(text)
    assert re.match(r"r\.yaml:(17|19): teams\[1\]", str(e.value)), str(e.value)
