"""`rectify demo`, the main job, as a user runs it (shortened with --until)."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from .conftest import Cli, clean_env

pytestmark = pytest.mark.slow

FIGURES = re.compile(r"共受理问题线索 (\d+) 件，已办结 (\d+) 件，持续推进中 (\d+) 件，正在办理 (\d+) 件；"
                     r"自查自纠问题 (\d+) 件，已整改 (\d+) 件；整改率 [\d.]+%")


def test_the_demo_replays_the_campaign_reproducibly_through_the_sweep_flow(tmp_path, prefect_api):
    env = clean_env("", tmp_path, PREFECT_API_URL=prefect_api)
    del env["RECTIFY_DB"]  # the demo makes its own database in --out
    cli = Cli(env, tmp_path)
    runs = [cli.ok("demo", "--clues", "60", "--until", "2023-05-20", "--out", tmp_path / f"d{i}",
                   timeout=300) for i in (1, 2)]
    first = runs[0].stdout
    assert "忻交发〔2023〕56号" in first and "2023-03-15 → 2023-05-20" in first
    assert "67 nightly enforcement flow runs through Prefect" in first  # one per campaign day
    assert "通报批评" in first and "notices (" in first  # the ladder ran too
    assert runs[0].stderr == ""  # no Prefect noise, no warnings
    # it ends by naming the final summary report, written in every format
    final = re.search(r"final summary report \(总结报告\): (\S+\.html)\n  also as Word (\S+), Markdown (\S+), "
                      r"and the tables with the whole ledger \(台账\) (\S+)\n", first)
    assert final, first
    html = final.group(1)
    assert "一、工作情况" in open(html, encoding="utf-8").read()
    folder = html.rsplit("/", 1)[0]
    for name in final.groups()[1:]:
        assert (tmp_path / folder / name).stat().st_size > 0
    # and how to open it in the browser: one-time links for a supervisor and a county liaison
    links = re.findall(r"^  (supervisor|county liaison) .+: (http://127\.0\.0\.1:8000/\S+token=\S+)$", first, re.M)
    assert [role for role, _ in links] == ["supervisor", "county liaison"], first
    assert "RECTIFY_WEB_DEV=1 rectify web" in first
    from services.accounts.links import link_holder
    from models.db import make_engine

    demo_db = make_engine(f"sqlite:///{tmp_path / 'd1' / 'demo.db'}")
    holders = [link_holder(demo_db, url.rsplit("token=", 1)[1], now=datetime.now(timezone.utc)).username
               for _, url in links]
    demo_db.dispose()
    assert holders == ["sup.xinzhou", "off.ningwu"]
    m = FIGURES.search(first)
    assert m, first
    received, concluded, ongoing, in_progress, self_items, self_done = map(int, m.groups())
    # clues arriving after --until are never registered
    assert 10 <= received + self_items <= 60 and concluded + ongoing + in_progress == received
    assert self_done <= self_items
    # the same seed replays the same campaign
    assert FIGURES.search(runs[1].stdout).group(0) == m.group(0)
    # what it printed is what the database holds
    status = Cli(clean_env(f"sqlite:///{tmp_path / 'd1' / 'demo.db'}", tmp_path), tmp_path) \
        .json("status", "--now", "2023-05-20 23:00")
    f = status["figures"]
    assert (f["clues"], f["concluded"], f["ongoing"], f["in_progress"]) == \
        (received, concluded, ongoing, in_progress)
    assert sum(u["lapses"] for u in status["units"]) > 0  # someone missed a deadline by May
    _work_orders_and_ranking(runs[0].stdout, runs[1].stdout, tmp_path / "d1" / "demo.db", tmp_path)


WORK = re.compile(r"^work orders \(工单\): 退单 1, 改派 1, 合并 1, 延期 asked 1 granted 1, 回访 (\d+) \((.+)\), 重办 1$"
                  r"(?:\n  .+$)+", re.M)
RANKING = re.compile(r"^考核排名 (2023|2023-05) \((?:the campaign's whole period|its last month), 14 units\): "
                     r"红榜 (.+); 黑榜 (.+)$", re.M)


def _work_orders_and_ranking(first: str, second: str, db, tmp_path) -> None:
    """Issue 16 in the demo: a 退单 reassigned and worked by the new unit, a 12328 duplicate merged,
    a 延期 granted shorter than asked, a 不满意 callback followed by 重办 — each as the database
    holds it — and the ranking lines as `rectify ranking` reads them."""
    work = WORK.search(first)
    assert work, first
    assert work.group(0) == WORK.search(second).group(0)  # the same seed, the same work orders
    block = work.group(0)
    cli = Cli(clean_env(f"sqlite:///{db}", tmp_path), tmp_path)
    # 退单 / 改派: the item is at its new unit, whose officer verified it after the reassignment
    number, old, new = re.search(r"退单/改派 (\S+): returned by (\S+), reassigned to (\S+)$", block, re.M).groups()
    assert old != new
    item = cli.json("clue", "show", number)
    assert item["unit"] == new
    steps = [(h["trigger"], h["actor"]) for h in item["history"]]
    moved = steps.index(("reassign", "sup.xinzhou"))
    assert steps[moved - 1][0] == "return" and steps[moved - 1][1].startswith("off.")
    worked = [actor for trigger, actor in steps[moved + 1:] if trigger == "verify"]
    assert worked and worked[0] != steps[moved - 1][1]  # another unit's officer works it now
    # 合并: the duplicate ends merged; the kept item holds both work orders and both reporters
    dup, ref, kept = re.search(r"合并 (\S+) \(12328, 工单号 (\S+)\) into (\S+):", block, re.M).groups()
    assert cli.json("clue", "show", dup)["state"] == "merged"
    from models.db import make_engine
    from services.clues.record import item_record

    engine = make_engine(f"sqlite:///{db}")
    try:
        sources = item_record(engine, "xinzhou-2023", kept).sources
        assert [(s.channel, s.merged_from) for s in sources] == [("12345", None), ("12328", dup)]
        assert sources[1].source_ref == ref and sources[0].source_ref.startswith("12345-")
        assert sources[0].reporter_name != sources[1].reporter_name
        # 重办: 不满意 with the unit at fault sends it back; struck off again, called back again
        redone = re.search(r"重办 (\S+): 不满意 \(unit at fault\), sent back", block, re.M).group(1)
        assert f"重办 {redone}: struck off (销号) again" in block
        calls = item_record(engine, "xinzhou-2023", redone).callbacks
    finally:
        engine.dispose()
    assert [(c.result, c.unit_at_fault, c.redo) for c in calls] == \
        [("dissatisfied", True, True), ("satisfied", False, False)]
    history = cli.json("clue", "show", redone)
    assert history["state"] == "closed"
    assert [h["trigger"] for h in history["history"] if h["entity"] == "clue"] == \
        ["receive", "verify", "substantiate", "submit_evidence", "approve", "redo", "submit_evidence", "approve"]
    # 延期: granted shorter than asked, and the item's deadline is the date granted
    ext, was, asked, granted = re.search(r"延期 (\S+): deadline (\S+), asked (\S+), granted (\S+)$",
                                         block, re.M).groups()
    assert was < granted < asked
    assert cli.json("clue", "show", ext)["deadline_at"].startswith(granted)
    # 考核排名: the whole period and the last month, 红榜 and 黑榜 with the scores the CLI reads
    lines = RANKING.findall(first)
    assert [period for period, _, _ in lines] == ["2023", "2023-05"], first
    assert RANKING.findall(second) == lines
    for period, red, black in lines:
        t = cli.json("ranking", "--period", period)
        named = {r["unit"]: f"{r['name']} {r['score']}" for r in t["rows"]}
        assert red == "、".join(named[u] for u in t["red"]) and black == "、".join(named[u] for u in t["black"])
        assert len(t["red"]) == len(t["black"]) == 3 and not set(t["red"]) & set(t["black"])


def test_a_bad_until_is_a_one_line_error(tmp_path):
    env = clean_env("", tmp_path)
    del env["RECTIFY_DB"]
    msg = Cli(env, tmp_path).fail("demo", "--until", "2024-01-01", "--out", tmp_path / "d")
    assert msg == "--until: 2024-01-01 is outside the campaign period 2023-03-15 – 2023-10-31"
