"""`rectify load` of a revised plan: --check shows what changes, --doc-no applies it."""
from __future__ import annotations

import yaml

from .conftest import SMALL_PLAN, Cli, assert_one_line_error


def test_load_check_shows_a_revision_and_doc_no_applies_it(sqlite_cli: Cli, tmp_path):
    cli = sqlite_cli
    cli.ok("init")
    cli.ok("load", SMALL_PLAN, "--now", "2023-03-15")
    data = yaml.safe_load(SMALL_PLAN.read_text(encoding="utf-8"))
    next(s for s in data["stages"] if s["key"] == "deploy")["end"] = "2023-04-20"
    revised = tmp_path / "revised.yaml"
    revised.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = cli.ok("campaigns").stdout

    r = cli.ok("load", revised, "--check")
    assert "动员部署 (deploy) 2023-04-07 → 2023-04-20" in r.stdout and "units' stage deadlines moving (3)" in r.stdout, str(r)
    assert cli.ok("campaigns").stdout == before

    r = cli.run("load", revised, "--now", "2023-04-01")  # no 文号: refused, nothing changed
    assert_one_line_error(r)
    assert "--doc-no" in r.stderr, str(r)

    r = cli.ok("load", revised, "--doc-no", "示交发〔2023〕9号", "--now", "2023-04-01")
    assert "plan version 2" in r.stdout, str(r)
    assert "nothing changes" in cli.ok("load", revised, "--check").stdout
    assert "2023-04-20" in cli.ok("show").stdout
