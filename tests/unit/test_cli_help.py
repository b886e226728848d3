"""Every option and argument of `rectify` says what it is for (issue 15: "many options
have no help"): the test walks the whole command tree typer builds."""
from __future__ import annotations

import typer

from app.cli import app


def _walk(command, path):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, f"{path} {name}")


# Options still without help when this test came (issue 15); a ratchet: an entry whose
# option gets its help must go (the test says so), and no new one may join.
STILL_WITHOUT_HELP = {
    "rectify calendar --json",
    "rectify campaigns --json",
    "rectify show campaign",
    "rectify show --json",
    "rectify units --json",
    "rectify escalate unit",
    "rectify status --json",
    "rectify unit deliver unit",
    "rectify unit advance unit",
    "rectify unit show unit",
    "rectify deliverable record unit",
    "rectify clue attach number",
    "rectify duty owed --json",
    "rectify duty submit --note",
    "rectify case confirm case_id",
    "rectify case confirm --organ",
    "rectify case confirm --action",
    "rectify case withdraw case_id",
    "rectify case withdraw --reason",
    "rectify case acknowledge case_id",
    "rectify case interview case_id",
    "rectify case interview --minutes",
    "rectify case respond case_id",
    "rectify case respond --text",
    "rectify case respond --attachment",
    "rectify case return case_id",
    "rectify case return --reason",
    "rectify case resolve case_id",
    "rectify case resolve --note",
    "rectify case delist case_id",
    "rectify case decide case_id",
    "rectify case conclude case_id",
    "rectify case conclude --text",
    "rectify case escalate case_id",
    "rectify case escalate --reason",
    "rectify case list --unit",
    "rectify case list --state",
    "rectify case list --open",
    "rectify case list --level",
    "rectify case list --json",
    "rectify case show case_id",
    "rectify case show --json",
    "rectify case attach case_id",
    "rectify notice list --kind",
    "rectify notice list --json",
    "rectify notice show ref",
    "rectify notice show --html",
    "rectify ledger import file",
    "rectify report list --unit",
    "rectify report list --json",
    "rectify audit log --limit",
    "rectify outbox list --limit",
    "rectify outbox list --json",
    "rectify outbox show ref",
    "rectify outbox retry ref",
    "rectify round plan file",
    "rectify round list --json",
    "rectify round show code",
    "rectify round show --json",
    "rectify round checks code",
    "rectify round checks --unit",
    "rectify round checks --team",
    "rectify round checks --state",
    "rectify round checks --limit",
    "rectify round checks --json",
    "rectify round assign code",
    "rectify round assign unit",
    "rectify round assign team",
    "rectify round record code",
    "rectify round revise code",
    "rectify round revise item",
    "rectify round revise --reason",
    "rectify round close code",
    "rectify round cancel code",
    "rectify round cancel --reason",
    "rectify round report code",
    "rectify round report --json",
    "rectify round verify code",
    "rectify user invite username",
    "rectify user reset username",
    "rectify user disable username",
    "rectify user enable username",
    "rectify evidence list --json",
    "rectify evidence get evidence_id",
}


def test_every_option_and_argument_has_help():
    root = typer.main.get_command(app)
    missing = []
    for path, command in _walk(root, "rectify"):
        for p in command.params:
            if getattr(p, "hidden", False):
                continue
            if not (getattr(p, "help", None) or "").strip():
                missing.append(f"{path} {p.opts[0] if p.opts else p.name}")
    new = sorted(set(missing) - STILL_WITHOUT_HELP)
    assert new == [], "no help text:\n" + "\n".join(new)
    fixed = sorted(STILL_WITHOUT_HELP - set(missing))
    assert fixed == [], "these have help now: take them off STILL_WITHOUT_HELP:\n" + "\n".join(fixed)
