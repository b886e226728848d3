"""Every option and argument of `rectify` says what it is for (issue 15: "many options
have no help"): the test walks the whole command tree typer builds. It held a ratchet of
~85 options without help; all have it now, and none may come without."""
from __future__ import annotations

import typer

from app.cli import app


def _walk(command, path):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, f"{path} {name}")


def test_every_option_and_argument_has_help():
    root = typer.main.get_command(app)
    missing = []
    for path, command in _walk(root, "rectify"):
        for p in command.params:
            if getattr(p, "hidden", False):
                continue
            if not (getattr(p, "help", None) or "").strip():
                missing.append(f"{path} {p.opts[0] if p.opts else p.name}")
    assert missing == [], "no help text:\n" + "\n".join(missing)
