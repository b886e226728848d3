"""A supervisor's session with the real `rectify` console script, end to end.

Each command is a subprocess on the test's database (SQLite and PostgreSQL);
expected failures must be ONE line `rectify: error: …`, a non-zero exit, no
traceback, and must change nothing.
"""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from models.db import make_engine

from ..conftest import at

from .conftest import SMALL_PLAN, Cli, assert_one_line_error, clean_env

CAMPAIGN = "smoke-2023"


# -- helpers --------------------------------------------------------------------
def write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


def clue_count(cli: Cli) -> int:
    return len(cli.json("clue", "list"))


def clue(cli: Cli, number: str) -> dict:
    return cli.json("clue", "show", number)


def tamper_audit_row(url: str, campaign: str, seq: int) -> None:
    """What an attacker with DDL rights does: get the append-only trigger out of
    the way (as created by migration 0001) and rewrite one audit record."""
    engine = make_engine(url)
    pg = engine.dialect.name == "postgresql"
    update = text("UPDATE audit_log SET reason = 'nothing to see here' WHERE seq = :seq AND "
                  "campaign_id = (SELECT id FROM campaigns WHERE code = :code)")
    try:
        # first: the database itself refuses the UPDATE while the trigger is there
        with pytest.raises(Exception, match="append-only"):
            with engine.begin() as conn:
                conn.execute(update, {"seq": seq, "code": campaign})
        with engine.begin() as conn:
            if pg:
                conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
            else:
                conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
            assert conn.execute(update, {"seq": seq, "code": campaign}).rowcount == 1
    finally:
        engine.dispose()


# the causes by their Chinese names (issue 15: no English keys in what people read)
SWEEP_LINE = re.compile(r"sweep (?P<code>\S+) as of (?P<as_of>[\d-]+ [\d:]+): (?P<total>\d+) new lapses "
                        r"\(阶段逾期 (?P<stage>\d+), 核查超时 (?P<verify>\d+), "
                        r"整改逾期 (?P<rectify>\d+), 销号屡被退回 (?P<rejects>\d+), "
                        r"长期无进展\(躺平\) (?P<idle>\d+), 督察核查逾期 (?P<checks>\d+), "
                        r"报送逾期 (?P<reports>\d+), 超时签收 (?P<signs>\d+), 回访逾期 (?P<callbacks>\d+)\)")


# -- the session ------------------------------------------------------------------
@pytest.mark.both_backends
@pytest.mark.prefect
def test_supervisor_session_end_to_end(blank_db_url, tmp_path, prefect_api):
    cli = Cli(clean_env(blank_db_url, tmp_path), tmp_path)

    # a database nobody initialised: every command says what to do, in one line
    for r in cli.parallel(("campaigns",), ("clue", "list")):
        assert_one_line_error(r)
        assert "rectify init" in r.stderr, str(r)

    assert "database ready at schema" in cli.ok("init").stdout
    assert "database ready" in cli.ok("migrate").stdout  # idempotent
    assert cli.json("campaigns") == []

    # load the small fixture plan and a shipped plan by name
    r = cli.ok("load", SMALL_PLAN, "--now", "2023-03-15")
    assert f"loaded campaign '{CAMPAIGN}'" in r.stdout
    assert "4 units, 3 participating, 3 stages" in r.stdout
    r = cli.ok("load", "003-xinzhou-2023", "--now", "2023-03-15")
    assert "loaded campaign 'xinzhou-2023'" in r.stdout and "忻交发〔2023〕56号" in r.stdout
    msg = cli.fail("load", SMALL_PLAN)
    assert "already loaded" in msg
    loaded = {c["code"]: c for c in cli.json("campaigns")}
    assert set(loaded) == {CAMPAIGN, "xinzhou-2023"}
    assert loaded[CAMPAIGN]["units"] == 4 and loaded[CAMPAIGN]["participants"] == 3
    # two campaigns: a command without --campaign says so and lists them
    msg = cli.fail("users")
    assert "several campaigns" in msg and CAMPAIGN in msg and "xinzhou-2023" in msg
    r = cli.ok("units", "-c", "xinzhou-2023")  # a table for people
    assert "原平市" in r.stdout and "安排部署" in r.stdout and "(supervising)" in r.stdout
    cli.env["RECTIFY_CAMPAIGN"] = CAMPAIGN

    show = cli.ok("show").stdout
    for needle in ("示例专项整治", "示交发〔2023〕1号", "动员部署", "2023-04-07", "实施方案", "长期推进"):
        assert needle in show, show
    units = {u["code"]: u for u in cli.json("units")}
    assert units["county-a"]["stage_key"] == "deploy" and units["county-a"]["lapses"] == 0
    assert units["city"]["stage_key"] is None  # the root supervises
    users = cli.ok("users").stdout
    assert "sup.city" in users and "李明远" in users and "supervisor" in users

    # -- clues: --now as a trailing flag, as a leading --now=, and via RECTIFY_NOW
    add = ("clue", "add", "--unit", "county-a", "--channel", "12345", "--aspect", "profit",
           "--as", "sup.city")
    n1 = cli.ok(*add, "--summary", "设卡乱罚款", "--now", "2023-04-03").stdout.strip()
    assert n1 == "XS-2023-00001"
    n2 = cli.ok("--now=2023-04-04T10:30", *add, "--summary", "罚款指标").stdout.strip()
    assert n2 == "XS-2023-00002"
    n3 = cli.ok(*add[:-2], "--summary", "违规设置电子眼",
                env={"RECTIFY_NOW": "2023-04-06", "RECTIFY_USER": "off.a"}).stdout.strip()
    assert n3 == "XS-2023-00003"

    # -- CSV import: a good file, all rows
    good = write(tmp_path / "good.csv",
                 "channel,aspect,summary,unit,received_at\n"
                 "12328,profit,货车超限处罚畸重,county-b,2023-04-01\n"
                 "信访投诉,“逐利执法”问题,辅警违规查车,甲县交通运输执法大队,2023-04-02 14:00\n"
                 "自查自纠,profit,罚没收入挂钩考核,county-a,\n")
    r = cli.ok("clue", "import", good, "--as", "sup.city", "--now", "2023-04-06")
    assert "imported 3 clues" in r.stdout and "XS-2023-00004" in r.stdout and "XS-2023-00006" in r.stdout
    clues = {c["number"]: c for c in cli.json("clue", "list")}
    assert {n: clues[n]["received_at"] for n in (n1, n2, n3)} == {
        n1: "2023-04-03T09:00:00+08:00", n2: "2023-04-04T10:30:00+08:00", n3: "2023-04-06T09:00:00+08:00"}
    assert len(clues) == 6 and clues["XS-2023-00004"]["unit"] == "乙县"
    assert clues["XS-2023-00006"]["kind"] == "self_inspection"
    assert clues["XS-2023-00005"]["received_at"] == "2023-04-02T14:00:00+08:00"

    # broken files: refused in one line naming row/column, and nothing imported
    header = "channel,aspect,summary,unit,received_at\n"
    ok_row = "12345,profit,好的一行,county-a,2023-04-01\n"
    broken = {
        "missing-column.csv": ("channel,aspect,unit\n12345,profit,county-a\n", ["summary", "column"]),
        "bad-date.csv": (header + ok_row + "12345,profit,日期错,county-a,2023-13-45\n",
                         ["row 3", "received_at", "2023-13-45"]),
        "unknown-unit.csv": (header + ok_row + ok_row + "12345,profit,单位错,county-x,\n",
                             ["row 4", "unit", "county-x", "nothing imported"]),
        "unknown-aspect.csv": (header + ok_row + "12345,no-such-aspect,方面错,county-a,\n",
                               ["row 3", "aspect", "no-such-aspect", "nothing imported"]),
    }
    paths = {name: write(tmp_path / name, body) for name, (body, _) in broken.items()}
    results = cli.parallel(*[("clue", "import", p, "--as", "sup.city", "--now", "2023-04-06")
                             for p in paths.values()])
    for (name, (_, needles)), r in zip(broken.items(), results):
        if name == "missing-column.csv":  # the file as a whole: one line
            assert_one_line_error(r)
        else:  # a bad cell: one line saying how many, then one line per cell (issue 15)
            assert r.returncode == 1 and "Traceback" not in r.stderr, str(r)
            lines = r.stderr.strip().splitlines()
            assert lines[0] == f"rectify: error: {paths[name]}: 1 error, nothing imported", str(r)
            assert len(lines) == 2, str(r)
        assert name in r.stderr, str(r)
        for needle in needles:
            assert needle in r.stderr, str(r)
    assert clue_count(cli) == 6

    # -- the lifecycle of n1 with --as, and every kind of refusal
    cli.env["RECTIFY_NOW"] = "2023-04-10"
    msg = cli.fail("clue", "transition", n1, "approve", "--as", "sup.city")
    assert "'approve'" in msg and "state 'received'" in msg and "allowed: merge, transfer, verify" in msg
    assert "→ 核查中 (version 2)" in cli.ok("clue", "transition", n1, "verify", "--as", "off.a").stdout
    sub = ("clue", "transition", n1, "substantiate", "--deadline", "2023-04-30", "--owner", "张科长")
    refusals = cli.parallel(
        (*sub, "--as", "off.a"),                                         # no --measures
        (*sub, "--measures", "清理罚款指标", "--as", "nobody"),           # unknown user
        (*sub, "--measures", "清理罚款指标", "--as", "off.a", "--version", "1"),  # stale
        ("clue", "transition", n1, "fly", "--as", "off.a"),             # no such trigger
    )
    for r in refusals:
        assert_one_line_error(r)
    assert "measures" in refusals[0].stderr and "--measures" in refusals[0].stderr
    assert "unknown user 'nobody'" in refusals[1].stderr
    assert "changed since version 1" in refusals[2].stderr and "version 2" in refusals[2].stderr
    assert "unknown trigger 'fly'" in refusals[3].stderr

    r = cli.ok(*sub, "--measures", "清理罚款指标", "--as", "off.a", "--version", "2",
               "--reason", "经核查属实")
    assert "→ 整改中" in r.stdout and "version 3" in r.stdout
    cli.ok("clue", "transition", n1, "submit_evidence", "--as", "off.a", "--evidence", "整改报告.pdf")
    own = cli.parallel(("clue", "transition", n1, "approve", "--as", "off.a"),
                       ("clue", "transition", n1, "approve", "--as", "sup.a"))
    for r in own:  # the owning unit, even its supervisor, never strikes off its own item
        assert_one_line_error(r)
        assert "may not 'approve'" in r.stderr and "own unit" in r.stderr, str(r)
    r = cli.ok("clue", "transition", n1, "approve", "--as", "sup.city", "--reason", "材料齐全，同意销号")
    assert "→ 办结/销号" in r.stdout
    v = clue(cli, n1)
    assert v["state"] == "closed" and v["resolution"] == "approved" and v["version"] == 5
    # refusals left no trace: exactly five audited steps, versions 1..5
    assert [(h["trigger"], h["actor"]) for h in v["history"]] == [
        ("receive", "sup.city"), ("verify", "off.a"), ("substantiate", "off.a"),
        ("submit_evidence", "off.a"), ("approve", "sup.city")]
    assert v["history"][-1]["reason"] == "材料齐全，同意销号"
    shown = cli.ok("clue", "show", n1).stdout
    assert "办结/销号" in shown and "清理罚款指标" in shown and "sup.city" in shown

    # n2 gets a rectification deadline that will be missed
    cli.ok("clue", "transition", n2, "verify", "--as", "off.a")
    cli.ok("clue", "transition", n2, "substantiate", "--as", "off.a", "--measures", "取消指标",
           "--deadline", "2023-04-20", "--owner", "王股长")

    # -- stages: refused while a deliverable is missing, then advanced
    msg = cli.fail("unit", "advance", "county-a", "--as", "off.a")
    assert "impl_plan" in msg and "missing" in msg
    msg = cli.fail("unit", "advance", "county-b", "--as", "off.a")
    assert "may not advance the stage" in msg
    assert "recorded impl_plan" in cli.ok("unit", "deliver", "county-a", "impl_plan",
                                          "--attachment", "甲县实施方案.pdf", "--as", "off.a").stdout
    assert "county-a → 自查自纠" in cli.ok("unit", "advance", "county-a", "--as", "off.a").stdout

    # -- status, before any sweep
    cli.env["RECTIFY_NOW"] = "2023-04-25"
    s = cli.json("status")
    assert s["campaign"] == CAMPAIGN and s["last_sweep"] is None
    assert s["as_of"] == "2023-04-25T09:00:00+08:00"
    f = s["figures"]
    assert (f["clues"], f["concluded"], f["ongoing"], f["in_progress"]) == (5, 1, 0, 4)
    assert (f["self_inspection"], f["self_rectified"]) == (1, 0)
    assert f["rate"] == pytest.approx(1 / 6)
    su = {u["code"]: u for u in s["units"]}
    assert set(su) == {"county-a", "county-b", "town-c1"}
    assert su["county-a"]["stage"] == "自查自纠" and su["county-b"]["stage"] == "动员部署"
    assert su["county-a"]["closed"] == 1
    assert su["county-a"]["open"] == 3  # n2, n3, the self-inspection item
    assert sum(u["lapses"] for u in s["units"]) == 0
    overdue = {c["number"] for c in cli.json("clue", "list", "--overdue")}
    assert su["county-a"]["overdue"] + su["county-b"]["overdue"] + su["town-c1"]["overdue"] \
        == len(overdue) and n2 in overdue and n1 not in overdue
    table = cli.ok("status").stdout
    assert "甲县" in table and "自查自纠" in table and "16.7%" in table
    assert "共受理问题线索 5 件，已办结 1 件" in table

    # -- the sweep through the real flow, twice at the same instant
    prefect = {"PREFECT_API_URL": prefect_api}
    r = cli.ok("sweep", "--now", "2023-04-25 00:05", env=prefect, timeout=120)
    m = SWEEP_LINE.search(r.stdout)
    assert m, str(r)
    assert m["code"] == CAMPAIGN and m["as_of"] == "2023-04-25 00:05"
    # town-c1 and county-b are still in 动员部署 (due 04-07); county-a moved on
    assert int(m["stage"]) == 2 and int(m["rectify"]) == 1
    assert int(m["verify"]) + int(m["rectify"]) == len(overdue)
    first_total = int(m["total"])
    r = cli.ok("sweep", "--now", "2023-04-25 00:05", env=prefect, timeout=120)
    assert SWEEP_LINE.search(r.stdout)["total"] == "0", str(r)
    s = cli.json("status")
    assert datetime.fromisoformat(s["last_sweep"]) == at("2023-04-25 00:05")
    assert sum(u["lapses"] for u in s["units"]) == first_total
    su = {u["code"]: u for u in s["units"]}
    assert su["county-b"]["lapses"] >= 1 and su["town-c1"]["lapses"] >= 1

    # -- the audit chain: intact, then tampered with behind the application's back
    r = cli.ok("audit", "verify")
    m = re.search(r"intact: (\d+) records", r.stdout)
    assert m and int(m[1]) >= 15, str(r)
    approve_seq = v["history"][-1]["seq"]
    tamper_audit_row(blank_db_url, CAMPAIGN, approve_seq)
    r = cli.run("audit", "verify")
    assert_one_line_error(r, code=3)
    assert f"BROKEN at record {approve_seq}" in r.stderr, str(r)


# -- smaller refusals (argument handling only: SQLite) ----------------------------------
def test_bad_settings_and_unknown_names_are_one_line_errors(sqlite_cli: Cli):
    cli = sqlite_cli
    cli.ok("load", SMALL_PLAN, "--now", "2023-03-15")
    results = cli.parallel(
        ("--now", "2023-02-30", "status"),
        ("--db", "mysql://u@h/db", "status"),
        ("-c", "no-such", "status"),
        ("clue", "show", "XS-2023-09999"),
        ("clue", "add", "--unit", "county-a", "--channel", "微博", "--aspect", "profit",
         "--summary", "x", "--as", "sup.city", "--now", "2023-04-06"),
        ("unit", "deliver", "county-a", "no_such_deliverable", "--attachment", "x.pdf", "--as", "off.a",
         "--now", "2023-04-06"),
        ("load", "no-such-plan"),
        ("clue", "add", "--unit", "county-a", "--channel", "12345", "--aspect", "profit",
         "--summary", "没有说是谁", "--now", "2023-04-06"),
    )
    for r in results:
        assert_one_line_error(r)
    e = [r.stderr for r in results]
    assert "--now" in e[0] and "2023-02-30" in e[0]
    assert "RECTIFY_DB" in e[1]
    assert "unknown campaign 'no-such'" in e[2] and CAMPAIGN in e[2]
    assert "unknown clue" in e[3]
    assert "channel" in e[4] and "微博" in e[4]
    assert "no_such_deliverable" in e[5]
    assert "no-such-plan" in e[6] and "003-xinzhou-2023" in e[6]
    assert "--as" in e[7]
    assert cli.json("clue", "list") == []


# -- bad plan files: file:line: field: reason, nothing written ---------------------------
def _plan_variant(tmp_path: Path, name: str, old: str, new: str) -> Path:
    src = SMALL_PLAN.read_text(encoding="utf-8")
    assert old in src
    return write(tmp_path / name, src.replace(old, new, 1))


def _line_of(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")


BAD_PLANS = {
    # name: (old, new, line needle, field, reason)
    "invalid-yaml": ("aspects:\n", "aspects: [unclosed\n", None, None, "not valid YAML"),
    "stage-without-end": ("    end: 2023-04-07\n", "", "  - key: deploy", "stages[0]",
                          "needs an end date unless it is ongoing"),
    "misspelled-field": ("    end: 2023-05-10\n", "    ende: 2023-05-10\n", "ende:",
                         "stages[1].ende", "Extra inputs are not permitted"),
    "period-reversed": ("end: 2023-10-31}", "end: 2023-03-01}", "period:", "campaign.period",
                        "end 2023-03-01 is before start 2023-03-15"),
    "bad-level": ("level: county, parent: city}", "level: township, parent: city}", "level: township",
                  "units[1].level", "Input should be"),
    "unknown-parent": ("parent: county-a}", "parent: county-z}", "county-z", "units[3].parent",
                       "unit 'town-c1' has unknown parent 'county-z'"),
}


def test_bad_plans_are_refused_with_file_line_field_and_reason(sqlite_cli: Cli, tmp_path):
    plans = {case: _plan_variant(tmp_path, f"{case}.yaml", old, new)
             for case, (old, new, *_) in BAD_PLANS.items()}
    results = sqlite_cli.parallel(*[("load", p) for p in plans.values()])
    for (case, (_, _, needle, field, reason)), r in zip(BAD_PLANS.items(), results):
        plan = plans[case]
        assert_one_line_error(r)
        msg = r.stderr.strip().removeprefix("rectify: error: ")
        m = re.match(r"(?P<file>.+?):(?P<line>\d+): (?P<rest>.*)$", msg)
        assert m, f"{case}: {msg}"
        assert m["file"] == str(plan), f"{case}: {msg}"
        if needle:
            assert int(m["line"]) == _line_of(plan, needle), f"{case}: {msg}"
        if field:
            assert m["rest"].startswith(f"{field}: "), f"{case}: {msg}"
        assert reason in m["rest"], f"{case}: {msg}"
    assert sqlite_cli.json("campaigns") == []
    r = sqlite_cli.ok("load", SMALL_PLAN, "--check")
    assert "valid plan for 'smoke-2023'" in r.stdout
    assert sqlite_cli.json("campaigns") == []  # --check writes nothing either


def test_an_unknown_parent_unit_is_reported_at_its_line_and_field(sqlite_cli: Cli, tmp_path):
    plan = _plan_variant(tmp_path, "unknown-parent.yaml", "parent: county-a}", "parent: county-z}")
    r = sqlite_cli.run("load", plan)
    assert_one_line_error(r)
    msg = r.stderr.strip().removeprefix("rectify: error: ")
    assert "unknown parent 'county-z'" in msg  # the reason is right ...
    assert sqlite_cli.json("campaigns") == []  # ... and nothing was written
    line = _line_of(plan, "county-z")
    assert msg.startswith(f"{plan}:{line}: units[3].parent: "), msg  # ... but not where


def test_an_impossible_date_in_a_plan_is_a_one_line_error(sqlite_cli: Cli, tmp_path):
    plan = _plan_variant(tmp_path, "impossible-date.yaml", "end: 2023-10-31}", "end: 2023-02-30}")
    r = sqlite_cli.run("load", plan)
    assert_one_line_error(r)
    assert r.stderr.startswith(f"rectify: error: {plan}:{_line_of(plan, '2023-02-30')}: "), str(r)
    assert "campaign.period.end" in r.stderr
    assert sqlite_cli.json("campaigns") == []


def test_import_error_names_the_files_row_even_after_a_blank_line(sqlite_cli: Cli, tmp_path):
    sqlite_cli.ok("load", SMALL_PLAN, "--now", "2023-03-15")
    csv = write(tmp_path / "gap.csv", "channel,aspect,summary,unit\n"
                                      "12345,profit,好的一行,county-a\n"
                                      "\n"
                                      "12345,profit,单位错,county-x\n")
    r = sqlite_cli.run("clue", "import", csv, "--as", "sup.city", "--now", "2023-04-06")
    assert sqlite_cli.json("clue", "list") == []
    # the count, then one line per bad cell (issue 15); the bad row is on line/row 4 of the file
    assert r.returncode == 1 and r.stderr.strip().splitlines() == [
        f"rectify: error: {csv}: 1 error, nothing imported", "row 4, unit: unknown unit 'county-x'"], str(r)


def test_sweep_without_a_reachable_prefect_api_is_a_one_line_error(sqlite_cli: Cli):
    sqlite_cli.ok("load", SMALL_PLAN, "--now", "2023-03-15")
    r = sqlite_cli.run("sweep", "--now", "2023-04-25", env={"PREFECT_API_URL": "http://127.0.0.1:9/api"},
                       timeout=120)
    assert_one_line_error(r)
    assert "Prefect API" in r.stderr
