"""The README's examples run (issue 15: "README examples all run (a test extracts and runs
them)"): every `rectify …` line of its ```bash blocks, in the README's order, through the
real console script on a fresh SQLite database (the embedded default), each one exit 0
and no traceback.

A line's leading `NAME=value` assignments are its environment, as in a shell; `a && b`
runs both; `export` lines are not applied (they name the reader's own database, secret
key or Prefect server: the commands run on the test's). The files a reader brings along (a CSV of clues, a scanned PDF, a Word report)
are made before the run, in the folder the commands run in, next to a link to the
repository's deploy/ folder. The flow commands use the session's Prefect API (as the other
e2e tests do), not an ephemeral one each. The lines that start a server and run until
stopped are not run: UNTIL_STOPPED names them, and the test fails when the README has
one more or one fewer, so a new example is never skipped unseen.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from .conftest import ROOT, Cli, clean_env

pytestmark = pytest.mark.slow

README = ROOT / "README.md"

UNTIL_STOPPED = {
    "rectify serve",
    "rectify web",
    "RECTIFY_SERVE_WEB=1 rectify serve",
}

_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.DOTALL | re.MULTILINE)
_ASSIGN = re.compile(r"^[A-Z_][A-Z0-9_]*=")


def readme_commands(text: str) -> list[tuple[str, dict[str, str], list[str]]]:
    """(the line as written, its environment, its arguments after `rectify`) for every
    `rectify` command of the ```bash blocks, in order."""
    found = []
    for block in _BLOCK.findall(text):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if not words:
                continue
            shown = " ".join(words)
            pieces: list[list[str]] = [[]]
            for w in words:
                if w == "&&":
                    pieces.append([])
                else:
                    pieces[-1].append(w)
            for piece in pieces:
                env = {}
                while piece and _ASSIGN.match(piece[0]):
                    name, _, value = piece.pop(0).partition("=")
                    env[name] = value
                if piece and piece[0] == "rectify":
                    found.append((shown, env, piece[1:]))
    return found


def test_the_parser_reads_lines_as_a_shell_would():
    text = ("```bash\nrectify a \"b c\"   # a comment\nX=1 rectify d && rectify e\nexport Y=2\n```\n"
            "```yaml\nrectify not-this\n```\n")
    assert readme_commands(text) == [
        ("rectify a b c", {}, ["a", "b c"]),
        ("X=1 rectify d && rectify e", {"X": "1"}, ["d"]),
        ("X=1 rectify d && rectify e", {}, ["e"]),
    ]


def _reader_files(folder: Path) -> None:
    """What a reader of the README has at hand: the clues to import, a scanned PDF, Word files."""
    from docx import Document
    from fpdf import FPDF

    (folder / "deploy").symlink_to(ROOT / "deploy")
    (folder / "clues.csv").write_text(
        "工单号,来源,问题方面,问题表现,责任单位,受理时间\n"
        "GD-2023-0401,12345,profit,货车司机反映某站点罚款不开票,ningwu,2023-04-11\n"
        "GD-2023-0402,12328,rigid,执法人员对首次轻微违法一律顶格处罚,yuanping,2023-04-11\n",
        encoding="utf-8")
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="rectification evidence")
    pdf.output(str(folder / "整改凭证.pdf"))
    for name in ("约谈整改报告.docx", "月报.docx"):
        doc = Document()
        doc.add_paragraph("整改情况报告")
        doc.save(str(folder / name))


@pytest.fixture
def reader(tmp_path, prefect_api) -> Cli:
    work = tmp_path / "reader"
    work.mkdir()
    _reader_files(work)
    return Cli(clean_env(f"sqlite:///{tmp_path / 'readme.db'}", tmp_path, PREFECT_API_URL=prefect_api), work)


def test_every_readme_example_runs_in_order_on_a_fresh_database(reader):
    commands = readme_commands(README.read_text(encoding="utf-8"))
    servers = {shown for shown, _, _ in commands if shown in UNTIL_STOPPED}
    assert servers == UNTIL_STOPPED, "UNTIL_STOPPED no longer matches the README's server lines"
    ran = 0
    for shown, env, args in commands:
        if shown in UNTIL_STOPPED:
            continue
        r = reader.run(*args, env=env, timeout=180)
        assert r.returncode == 0 and "Traceback" not in r.stderr + r.stdout, f"README: {shown}\n{r}"
        ran += 1
    assert ran >= 60, ran  # the README teaches by these: losing most of them is a change to notice
