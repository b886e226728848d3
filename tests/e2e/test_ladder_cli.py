"""The escalation ladder as supervisors and units drive it from the command
line: a missed deadline gives exactly one notice, e-mailed exactly once to a
real SMTP server; cases are confirmed, answered, resolved; refusals are one line."""
from __future__ import annotations

import pytest

from .conftest import SMALL_PLAN, Cli, clean_env

pytestmark = pytest.mark.slow


@pytest.fixture
def ladder_cli(db_url, tmp_path, prefect_api, smtp_server) -> tuple[Cli, list]:
    port, received = smtp_server
    plan = tmp_path / "plan.yaml"
    plan.write_text(SMALL_PLAN.read_text(encoding="utf-8").replace(
        "{code: county-b, name: 乙县, level: county, parent: city}",
        "{code: county-b, name: 乙县, level: county, parent: city,\n"
        "     liaison: {name: 钱文博, email: liaison.b@example.org},\n"
        "     leader: {name: 吴晓东, email: leader.b@example.org}}"), encoding="utf-8")
    cli = Cli(clean_env(db_url, tmp_path, PREFECT_API_URL=prefect_api, RECTIFY_SMTP_HOST="127.0.0.1",
                        RECTIFY_SMTP_PORT=str(port), RECTIFY_SMTP_FROM="督办@example.org",
                        RECTIFY_FILE_DROP=str(tmp_path / "drop")), tmp_path)
    cli.ok("load", plan, "--now", "2023-03-15")
    # county-a delivers its plan and moves on; county-b and town-c1 miss 动员部署 (due 04-07)
    cli.ok("unit", "deliver", "county-a", "impl_plan", "--attachment", "甲县/实施方案.pdf", "--as", "off.a",
           "--now", "2023-04-01")
    cli.ok("unit", "advance", "county-a", "--as", "off.a", "--now", "2023-04-01")
    return cli, received


def test_a_missed_deadline_gives_one_notice_mailed_once(ladder_cli, tmp_path):
    cli, received = ladder_cli
    r = cli.ok("enforce", "--now", "2023-04-08 00:05", timeout=180)
    assert "2 new lapses" in r.stdout and "已下发通知 2" in r.stdout and "messages sent 4" in r.stdout, str(r)
    # county-b's liaison and leader by e-mail; both units by the file drop
    assert sorted(m["To"] for m in received) == ["leader.b@example.org", "liaison.b@example.org"]
    assert all(m["Subject"].startswith("关于对乙县交通运输局的通报批评") for m in received)
    r = cli.ok("enforce", "--now", "2023-04-08 00:05", timeout=180)
    assert "0 new lapses" in r.stdout and "nothing to do" in r.stdout and "messages sent 0" in r.stdout
    r = cli.ok("enforce", "--now", "2023-04-09 00:05", timeout=180)
    assert len(received) == 2 and len(list((tmp_path / "drop").iterdir())) == 2

    notices = cli.json("notice", "list")
    assert [(n["doc_number"], n["kind"], n["addressee"]) for n in notices] == [
        ("整治督〔2023〕1号", "criticism", "乙县"), ("整治督〔2023〕2号", "criticism", "甲县交通运输执法大队")]
    # 主送 as each notice prints it: the county's organ, the team's own name
    assert [n["organ"] for n in notices] == ["乙县交通运输局", "甲县交通运输执法大队"]
    listed = cli.ok("notice", "list").stdout
    assert "乙县交通运输局" in listed and "主送" in listed, listed
    text = cli.ok("notice", "show", "整治督〔2023〕1号").stdout
    assert "乙县交通运输局：" in text and "决定对你单位予以通报批评" in text and "2023年4月21日前" in text
    assert "<h1>关于对乙县交通运输局的通报批评</h1>" in cli.ok("notice", "show", "1", "--html").stdout
    cli.ok("notice", "export", "--all", "--out", tmp_path / "exported")
    assert sorted(p.name for p in (tmp_path / "exported").iterdir()) == [
        "整治督〔2023〕1号.html", "整治督〔2023〕1号.txt", "整治督〔2023〕2号.html", "整治督〔2023〕2号.txt"]
    r = cli.ok("notice", "export", "整治督〔2023〕1号", "--format", "pdf", "--format", "docx",
               "--out", tmp_path / "print")
    assert "wrote 1 notices (2 files)" in r.stdout
    assert sorted(p.name for p in (tmp_path / "print").iterdir()) == ["整治督〔2023〕1号.docx", "整治督〔2023〕1号.pdf"]
    assert (tmp_path / "print" / "整治督〔2023〕1号.pdf").read_bytes().startswith(b"%PDF")
    assert "unknown notice format 'odt'" in cli.fail("notice", "export", "1", "--format", "odt",
                                                      "--out", tmp_path / "odt")
    sent = cli.json("outbox", "list", "--state", "sent")
    assert len(sent) == 4
    assert "message" in cli.ok("outbox", "show", str(sent[0]["id"])).stdout
    assert "not sent twice" in cli.fail("outbox", "retry", str(sent[0]["id"]))


@pytest.mark.both_backends
def test_supervisors_and_units_work_a_case_to_its_end(ladder_cli):
    cli, _ = ladder_cli
    cli.ok("enforce", "--now", "2023-04-08 00:05", "--no-delivery", timeout=180)
    [case] = [c for c in cli.json("case", "list") if c["unit"] == "county-b"]
    assert (case["measure"], case["state"], case["cause"]) == ("通报批评", "issued", "stage_deadline")
    cid = str(case["id"])
    # people read Chinese names; the keys above are for programs (--json), and --state takes either
    for state in ("issued", "已下发"):
        shown = cli.ok("case", "list", "--state", state).stdout
        assert "通报批评" in shown and "已下发" in shown and "阶段逾期" in shown, shown
        assert not {"issued", "stage_deadline", "criticism"} & set(shown.split()), shown
    shown = cli.ok("case", "show", cid).stdout
    assert "→ 已下发" in shown and "督办事由 阶段逾期" in shown and "拟督办" in shown and "确认下发" in shown, shown
    assert not {"issued", "propose", "issue", "stage_deadline"} & set(shown.replace("；", " ").split()), shown
    assert "unknown state '办结'" in cli.fail("case", "list", "--state", "办结")
    # refusals: one line, nothing changed
    assert "their own unit" in cli.fail("case", "escalate", cid, "--reason", "r", "--as", "off.b",
                                        "--now", "2023-04-10")
    assert "cannot 'resolve' in state 'issued'" in cli.fail("case", "resolve", cid, "--as", "sup.city",
                                                            "--now", "2023-04-10")
    assert "unknown case 999" in cli.fail("case", "show", "999")
    assert "--level: 'nine'" in cli.fail("escalate", "county-b", "--level", "nine", "--reason", "r",
                                         "--as", "sup.city")
    assert cli.json("case", "show", cid)["version"] == case["version"]
    # the unit signs and answers; the city verifies
    cli.ok("case", "acknowledge", cid, "--as", "off.b", "--now", "2023-04-10")
    cli.ok("case", "respond", cid, "--text", "已补报实施方案", "--attachment", "乙县/实施方案.pdf",
           "--as", "off.b", "--now", "2023-04-12")
    out = cli.ok("case", "resolve", cid, "--note", "经审核属实", "--as", "sup.city", "--now", "2023-04-13").stdout
    assert "→ 已办结" in out
    shown = cli.json("case", "show", cid)
    assert [h["trigger"] for h in shown["history"]] == ["propose", "issue", "acknowledge", "respond", "resolve"]
    # a listed supervision by hand, later de-listed, with its 摘牌通知
    out = cli.ok("escalate", "town-c1", "--level", "挂牌督办", "--reason", "执法记录仪使用不规范问题久拖未改",
                 "--as", "sup.a", "--now", "2023-05-05").stdout
    listed = out.split()[1]
    assert "挂牌督办" in out and "整治督〔2023〕3号" in out
    cli.ok("case", "respond", listed, "--text", "已整改", "--as", "off.c1", "--now", "2023-05-20")
    assert "has_note" in cli.fail("case", "delist", listed, "--note", "", "--as", "sup.a", "--now", "2023-05-21")
    cli.ok("case", "delist", listed, "--note", "实地核查到位", "--as", "sup.a", "--now", "2023-05-22")
    assert [n["kind"] for n in cli.json("notice", "list")][-1] == "delisting"
    assert "intact" in cli.ok("audit", "verify").stdout


def test_the_escalation_pass_alone_and_its_old_name(ladder_cli):
    cli, _ = ladder_cli
    cli.ok("sweep", "--now", "2023-04-08 00:05", timeout=180)
    r = cli.ok("escalation-pass", "--now", "2023-04-08 00:05", timeout=180)
    assert r.stdout.startswith("escalation pass ") and "已下发通知 2" in r.stdout and r.stderr == "", str(r)
    # the old name still works for the crontabs that use it, says so once, acts once
    r = cli.ok("escalation-round", "--now", "2023-04-08 00:05", timeout=180)
    assert "nothing to do" in r.stdout, str(r)
    assert r.stderr.strip() == ("rectify: warning: 'rectify escalation-round' is now "
                                "'rectify escalation-pass'; the old name will go"), str(r)
    assert "escalation-round" not in cli.ok("--help").stdout  # hidden: not taught to new users
