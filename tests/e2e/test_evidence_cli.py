"""Evidence files from the command line (`rectify clue attach`, `case attach`, `duty attach`,
`evidence list / get`): the files the domain has units send
(可验证成果 of a clue, the answer to a 督办 case, a report under a duty), checked by
content, refused in one line, and held by `rectify audit verify`."""
from __future__ import annotations

import hashlib
import re

import pytest
import yaml

from ..evidence_samples import docx, pdf, xlsx
from .conftest import SMALL_PLAN, Cli, clean_env


@pytest.fixture
def cli(db_url, tmp_path) -> Cli:
    data = yaml.safe_load(SMALL_PLAN.read_text(encoding="utf-8"))
    data["reporting"] = [{"key": "monthly", "name": "工作简报", "start": "2023-04-01", "until": "2023-10-31",
                          "schedule": {"kind": "monthly", "day": 25}}]
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    c = Cli(clean_env(db_url, tmp_path, RECTIFY_EVIDENCE_MAX_MB="1"), tmp_path)
    c.ok("load", plan, "--now", "2023-03-15")
    return c


def test_units_attach_evidence_to_clues_cases_and_reports(cli, tmp_path):
    number = cli.ok("clue", "add", "--unit", "county-a", "--channel", "12345", "--aspect", "profit",
                    "--summary", "设卡乱罚款", "--as", "sup.city", "--now", "2023-03-20").stdout.strip()
    (tmp_path / "退款凭证.pdf").write_bytes(pdf("退款凭证"))
    r = cli.ok("clue", "attach", number, tmp_path / "退款凭证.pdf", "--as", "off.a", "--now", "2023-03-21")
    sha = hashlib.sha256(pdf("退款凭证")).hexdigest()
    assert f"clue {number}: evidence 1 '退款凭证.pdf' (application/pdf" in r.stdout and sha in r.stdout
    again = cli.ok("clue", "attach", number, tmp_path / "退款凭证.pdf", "--as", "off.a", "--now", "2023-03-22")
    assert "attached before, unchanged" in again.stdout

    cli.ok("escalate", "county-b", "--level", "1", "--reason", "整改工作不力", "--as", "sup.city",
           "--now", "2023-04-10")
    (tmp_path / "整改报告.docx").write_bytes(docx())
    r = cli.ok("case", "attach", "1", tmp_path / "整改报告.docx", "--as", "off.b", "--now", "2023-04-11")
    assert re.match(r"case 1: evidence \d+ '整改报告.docx' \(application/vnd\.openxml", r.stdout), r

    cli.ok("duty", "submit", "--unit", "county-a", "--duty", "monthly", "--attachment", "4月简报",
           "--as", "off.a", "--now", "2023-04-24 10:00")
    (tmp_path / "简报.xlsx").write_bytes(xlsx())
    r = cli.ok("duty", "attach", tmp_path / "简报.xlsx", "--unit", "county-a", "--duty", "monthly",
               "--period", "2023-04", "--as", "off.a", "--now", "2023-04-24 11:00")
    assert re.match(r"report submission 1: evidence \d+ '简报.xlsx'", r.stdout), r

    listed = cli.json("evidence", "list", "clue", number, "--as", "sup.city")
    assert [(f["id"], f["name"], f["sha256"]) for f in listed] == [(1, "退款凭证.pdf", sha)]
    cli.ok("evidence", "get", "1", "--out", tmp_path / "copy.pdf", "--as", "sup.city")
    assert (tmp_path / "copy.pdf").read_bytes() == pdf("退款凭证")
    assert "3 evidence files intact" in cli.ok("audit", "verify").stdout


def test_refusals_are_one_line_and_attach_nothing(cli, tmp_path):
    number = cli.ok("clue", "add", "--unit", "county-a", "--channel", "12345", "--aspect", "profit",
                    "--summary", "设卡乱罚款", "--as", "sup.city", "--now", "2023-03-20").stdout.strip()
    cli.env["RECTIFY_NOW"] = "2023-03-21"  # changes to the 2023 campaign say their day (issue 15)
    (tmp_path / "fake.pdf").write_text("not a pdf at all", encoding="utf-8")
    (tmp_path / "big.pdf").write_bytes(b"%PDF-1.7\n" + b"0" * (2 * 2**20))
    (tmp_path / "ok.pdf").write_bytes(pdf())
    cases = [
        (("clue", "attach", number, tmp_path / "fake.pdf", "--as", "off.a"), "not a file type accepted"),
        (("clue", "attach", number, tmp_path / "big.pdf", "--as", "off.a"), "larger than any evidence file"),
        (("clue", "attach", number, tmp_path / "missing.pdf", "--as", "off.a"), "no such file"),
        (("clue", "attach", number, tmp_path / "ok.pdf", "--as", "off.b"), "off.b (乙县) may not attach evidence"),
        (("clue", "attach", "XS-2023-99999", tmp_path / "ok.pdf", "--as", "off.a"), "unknown clue"),
        (("case", "attach", "7", tmp_path / "ok.pdf", "--as", "off.a"), "unknown case '7'"),
        (("evidence", "list", "memo", "1", "--as", "off.a"), "not a 'memo'"),
        (("evidence", "get", "1", "--out", tmp_path / "x", "--as", "off.a"), "unknown evidence file '1'"),
        (("duty", "attach", tmp_path / "ok.pdf", "--unit", "county-a", "--duty", "monthly", "--period", "2023-04",
          "--as", "off.a"), "has submitted no 'monthly' for 2023-04"),
    ]
    for args, message in cases:
        assert message in cli.fail(*args), args
    assert cli.json("evidence", "list", "clue", number, "--as", "off.a") == []
    cli.ok("clue", "transition", number, "verify", "--as", "off.a")
    cli.ok("clue", "transition", number, "dismiss", "--reason", "查无实据", "--as", "off.a")
    assert "takes no more evidence: it is closed" in cli.fail("clue", "attach", number, tmp_path / "ok.pdf",
                                                             "--as", "off.a")
    assert "0 evidence files intact" in cli.ok("audit", "verify").stdout
