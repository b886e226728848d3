"""Reporting duties and generated reports from the command line: what is owed,
a submission, a missing report; a report generated once per period; bad input
is one line and changes nothing."""
from __future__ import annotations

import pytest
import yaml

from .conftest import SMALL_PLAN, Cli, clean_env

pytestmark = pytest.mark.slow


@pytest.fixture
def cli(sqlite_url, tmp_path, prefect_api) -> Cli:
    data = yaml.safe_load(SMALL_PLAN.read_text(encoding="utf-8"))
    data["reporting"] = [{"key": "monthly", "name": "工作简报", "start": "2023-04-01", "until": "2023-10-31",
                          "schedule": {"kind": "monthly", "day": 25}}]
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    c = Cli(clean_env(sqlite_url, tmp_path, PREFECT_API_URL=prefect_api), tmp_path)
    c.ok("load", plan, "--now", "2023-03-15")
    return c


def test_duties_and_reports(cli, tmp_path):
    r = cli.ok("duty", "submit", "--unit", "county-a", "--duty", "monthly", "--attachment", "甲县/4月简报.docx",
               "--as", "off.a", "--now", "2023-04-24 10:00")
    assert "甲县 · 工作简报 · 2023-04 (due 2023-04-25 23:59) → submitted 已报送" in r.stdout
    owed = cli.ok("duty", "owed", "--late", "--json", "--now", "2023-04-26 09:00").json()
    assert {(o["unit"], o["status"]) for o in owed} == {("county-b", "missing"), ("town-c1", "missing")}
    bad = cli.fail("duty", "submit", "--unit", "county-a", "--duty", "monthly", "--attachment", "x",
                   "--period", "2023-04", "--as", "off.a", "--now", "2023-04-26")
    assert "already submitted by off.a" in bad  # one line, checked by cli.fail

    out = tmp_path / "out"
    r = cli.ok("report", "generate", "monthly", "--period", "2023-04", "--out", out, "--as", "sup.city",
               "--now", "2023-04-26 09:00")
    assert "示例市交通运输局 月报 2023-04: generated" in r.stdout
    md = (out / "smoke-2023" / "city" / "monthly-2023-04.md").read_text(encoding="utf-8")
    assert "## 五、报送情况" in md and "未报送 2 份" in md
    again = cli.ok("report", "generate", "monthly", "--period", "2023-04", "--out", out, "--as", "sup.city",
                   "--now", "2023-04-27 09:00")
    assert "already generated" in again.stdout
    files = {p.name for p in (out / "smoke-2023" / "city").iterdir()}
    assert files == {f"monthly-2023-04.{x}" for x in ("md", "html", "xlsx", "docx")}
    # --out always gets the files: the recorded report is written to another folder too
    other = tmp_path / "other"
    moved = cli.ok("report", "generate", "monthly", "--period", "2023-04", "--out", other, "--format", "md,docx",
                   "--as", "sup.city", "--now", "2023-04-27 10:00")
    assert "already generated" in moved.stdout and str(other / "smoke-2023" / "city" / "monthly-2023-04.md") in moved.stdout
    assert (other / "smoke-2023" / "city" / "monthly-2023-04.md").read_text(encoding="utf-8") == md
    assert {p.name for p in (other / "smoke-2023" / "city").iterdir()} == {"monthly-2023-04.md", "monthly-2023-04.docx"}
    assert "provisional (临时)" in moved.stdout  # read on 04-26: April had not ended
    (out / "blocked").write_text("a file where a folder should be", encoding="utf-8")
    assert "cannot write" in cli.fail("report", "generate", "weekly", "--out", out / "blocked" / "x",
                                      "--as", "sup.city", "--now", "2023-04-27 09:00")
    listed = cli.ok("report", "list", "--json").json()
    assert [(x["kind"], x["period"]) for x in listed] == [("monthly", "2023-04")]
    for args, message in [(("report", "generate", "yearly"), "unknown report kind 'yearly'"),
                          (("report", "generate", "monthly", "--period", "2023-4x"), "is not a monthly period"),
                          (("report", "generate", "final", "--unit", "county-b", "--as", "off.a"),
                           "may not generate reports for 乙县")]:
        res = cli.fail(*args, "--as", "sup.city") if "--as" not in args else cli.fail(*args)
        assert message in res
    assert len(cli.ok("report", "list", "--json").json()) == 1
    # as PDF (A4, fonts embedded): a format the recorded report lacks is made now
    pdf = cli.ok("report", "generate", "monthly", "--period", "2023-04", "--out", tmp_path / "pdf", "--format", "pdf",
                 "--as", "sup.city", "--now", "2023-04-27 11:00")
    made = tmp_path / "pdf" / "smoke-2023" / "city" / "monthly-2023-04.pdf"
    assert f"pdf: {made}" in pdf.stdout and made.read_bytes().startswith(b"%PDF")
