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


def test_a_bad_until_is_a_one_line_error(tmp_path):
    env = clean_env("", tmp_path)
    del env["RECTIFY_DB"]
    msg = Cli(env, tmp_path).fail("demo", "--until", "2024-01-01", "--out", tmp_path / "d")
    assert msg == "--until: 2024-01-01 is outside the campaign period 2023-03-15 – 2023-10-31"
