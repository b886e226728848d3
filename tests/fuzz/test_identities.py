"""Reserved identities (issue 13, item 3): the nightly job's name is nobody's.

`--as system` used to skip the permission check of `report generate`. No
reserved identity is reachable from input: not through --as or
RECTIFY_USER, not as a plan's username, not through a service's `actor`,
not even when a user row of that name got into the database; the nightly
job is `actor=None` inside the code. One function decides
(statemachine/authority.py `reserved_identity`).
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import func, insert, select

from models.db import make_engine
from models.tables import AuditRecord, Campaign, Clue, GeneratedReport, Unit, User
from services.campaigns.plans import parse_plan
from services.core.directory import actor as lookup_actor, campaign_row
from services.core.settings import Settings
from services.reports import generate as reports
from statemachine.authority import SYSTEM_ACTOR, reserved_identity
from statemachine.errors import InvalidInput, PermissionDenied, PlanError

from ..conftest import SMALL_PLAN, at
from ..e2e.conftest import Cli, assert_one_line_error, clean_env

DISGUISES = ["system", "System", "SYSTEM", " system ", "ｓｙｓｔｅｍ", "ＳＹＳＴＥＭ", "sYsTeM"]


# each letter in lower or upper case, ASCII or full width
@settings(deadline=None)  # a loaded machine is no failure of the rule
@given(st.tuples(*[st.sampled_from([c, c.upper(), chr(ord(c) + 0xFEE0), chr(ord(c.upper()) + 0xFEE0)])
                   for c in "system"]).map("".join))
def test_every_spelling_of_system_is_reserved(name):
    assert reserved_identity(name) and reserved_identity(f"  {name}\t")


@settings(deadline=None)
@given(st.from_regex(r"\A[a-z0-9][a-z0-9._-]{0,20}\Z"))
def test_any_other_username_is_not(name):
    assert (reserved_identity(name) is None) == (name != SYSTEM_ACTOR)


@pytest.mark.parametrize("name", DISGUISES)
def test_the_settings_refuse_a_reserved_user(name):
    with pytest.raises(InvalidInput, match=r"^RECTIFY_USER: '.*' is reserved for Rectify's own jobs"):
        Settings(user=name)


def test_a_plan_may_not_name_a_person_system():
    text = SMALL_PLAN.read_text(encoding="utf-8").replace("username: sup.city", "username: system")
    with pytest.raises(PlanError, match=r"people\[0\]\.username: 'system' is reserved"):
        parse_plan(text, source="plan.yaml")


def _counts(engine) -> tuple[int, ...]:
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (GeneratedReport, AuditRecord, Clue))


@pytest.mark.parametrize("name", DISGUISES)
def test_a_service_never_acts_as_a_reserved_identity_even_if_the_database_has_it(engine, campaign, tmp_path,
                                                                                 name):
    # a user row of that name (a plan loaded before usernames were checked) grants nothing
    with engine.begin() as conn:
        cid = campaign_row(conn, campaign).id
        root = conn.execute(select(Unit.__table__.c.id).where(Unit.__table__.c.code == "city")).scalar_one()
        conn.execute(insert(User.__table__).values(campaign_id=cid, username=name.strip(), name="假冒",
                                                   unit_id=root, role="supervisor"))
    before = _counts(engine)
    with pytest.raises(PermissionDenied, match="is reserved for Rectify's own jobs"):
        reports.generate(engine, campaign, kind="final", unit="county-b", out_dir=tmp_path / "out",
                         actor=name, now=at("2023-06-01"))
    with engine.connect() as conn, pytest.raises(PermissionDenied, match="is reserved"):
        lookup_actor(conn, cid, name)
    assert _counts(engine) == before and not (tmp_path / "out").exists()


def test_the_nightly_job_is_none_and_is_recorded_as_system(engine, campaign, tmp_path):
    g = reports.generate(engine, campaign, kind="monthly", period="2023-05", out_dir=tmp_path, actor=None,
                         now=at("2023-06-01"))
    with engine.connect() as conn:
        assert conn.execute(select(GeneratedReport.__table__.c.generated_by)).scalar_one() == SYSTEM_ACTOR
        assert conn.execute(select(AuditRecord.__table__.c.actor)
                            .where(AuditRecord.__table__.c.entity == "report")).scalar_one() == SYSTEM_ACTOR
    assert g.created


# -- the command line ------------------------------------------------------------
COMMANDS = [
    ("report", "generate", "final", "--unit", "county-b", "--format", "md"),
    ("clue", "add", "--unit", "county-b", "--channel", "12345", "--aspect", "profit", "--summary", "问题"),
    ("escalate", "county-b", "--level", "1", "--reason", "r"),
    ("unit", "advance", "county-b"),
]


@pytest.mark.slow
def test_no_command_accepts_a_reserved_identity(db_url, campaign, tmp_path):
    cli = Cli(clean_env(db_url, tmp_path), tmp_path)
    engine = make_engine(db_url)
    before = _counts(engine)
    for args in COMMANDS:
        for how in (("--as", "system"), ("--as", "ＳＹＳＴＥＭ")):
            r = cli.run(*args, *how, "--now", "2023-06-01")
            assert_one_line_error(r, code=2)
            assert "is reserved for Rectify's own jobs" in r.stderr
        r = cli.run(*args, "--now", "2023-06-01", env={"RECTIFY_USER": "System"})
        assert_one_line_error(r, code=2)
    assert _counts(engine) == before
    assert not (tmp_path / "home" / "reports").exists()
    engine.dispose()


@pytest.mark.slow
def test_load_refuses_a_plan_with_a_reserved_username_and_writes_nothing(db_url, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(SMALL_PLAN.read_text(encoding="utf-8").replace("username: off.b", "username: SYSTEM"),
                    encoding="utf-8")
    cli = Cli(clean_env(db_url, tmp_path), tmp_path)
    cli.ok("init")
    for args in (("load", plan, "--check"), ("load", plan)):
        line = cli.fail(*args)
        # the pattern refuses upper case already; a plan in lower case meets the reserved check
        assert "people" in line and "username" in line, line
    plan.write_text(SMALL_PLAN.read_text(encoding="utf-8").replace("username: off.b", "username: system"),
                    encoding="utf-8")
    line = cli.fail("load", plan)
    assert line.startswith(f"{plan}:") and "username: 'system' is reserved" in line, line
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Campaign)).scalar_one() == 0
    engine.dispose()
