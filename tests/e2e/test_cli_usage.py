"""Mistyped command lines, run through the real `rectify` console script.

A mistake on the command line is ONE line `rectify: error: …` on stderr that
says what was wrong, exit 2, nothing on stdout (bare `rectify` and a bare
group print their help there, as --help does), no traceback, and nothing
written. Global options, --as included, work anywhere on the line.
"""
from __future__ import annotations

from importlib.metadata import version

import pytest
from sqlalchemy import MetaData, select

from models.db import make_engine

from .conftest import SMALL_PLAN, Cli, Result

ADD = ("clue", "add", "--unit", "county-a", "--channel", "12345", "--aspect", "profit")


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, so 'nothing written' means nothing at all."""
    engine = make_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            return {name: sorted(map(tuple, conn.execute(select(t)).all()), key=repr)
                    for name, t in meta.tables.items()}
    finally:
        engine.dispose()


@pytest.fixture
def loaded(sqlite_cli: Cli) -> Cli:
    sqlite_cli.ok("load", SMALL_PLAN, "--now", "2023-03-15")
    sqlite_cli.ok(*ADD, "--summary", "设卡乱罚款", "--as", "sup.city", "--now", "2023-04-03")
    return sqlite_cli


def assert_usage_error(r: Result, *, code: int, says: tuple[str, ...], stdout: tuple[str, ...] = ()):
    assert r.returncode == code, str(r)
    assert "Traceback" not in r.stderr + r.stdout, str(r)
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("rectify: error: "), f"expected ONE error line\n{r}"
    for needle in says:
        assert needle in lines[0], f"{needle!r} not in the error line\n{r}"
    if stdout:
        for needle in stdout:
            assert needle in r.stdout, str(r)
    else:
        assert r.stdout == "", str(r)


# (argv, exit code, what the one line must say, what stdout must hold: nothing if empty)
MISTYPED = [
    ((), 2, ("rectify: error: missing command",), ("Usage: rectify [OPTIONS] COMMAND", "status")),
    (("clue",), 2, ("clue: missing command",), ("Usage: rectify clue [OPTIONS] COMMAND", "transition")),
    (("--frob",), 2, ("no such option: --frob", "'rectify --help'"), ()),
    (("status", "--frob"), 2, ("status: no such option: --frob", "'rectify status --help'"), ()),
    (("stauts",), 2, ("no such command 'stauts' (did you mean 'status'?)",), ()),
    (("clue", "shwo", "XS-2023-00001"), 2, ("clue: no such command 'shwo' (did you mean 'show'?)",), ()),
    (("clue", "show"), 2, ("clue show: missing argument", "'rectify clue show --help'"), ()),
    (("clue", "list", "--stat", "rectifying"), 2, ("no such option: --stat (did you mean --state?)",), ()),
    (("clue", "list", "--limit", "many"), 2, ("clue list: invalid value for '--limit'",), ()),
    (("clue", "show", "XS-2023-00001", "extra"), 2, ("clue show: got unexpected extra argument", "(extra)"), ()),
    (("--now", "garbage", "status"), 2, ("'--now'", "'garbage' is not a date"), ()),
    (("status", "--now", "2023-02-30"), 2, ("'--now'", "'2023-02-30'"), ()),
    (("--db", "mysql://u@h/db", "status"), 2, ("RECTIFY_DB", "is not sqlite"), ()),
    (("--now", "2023-04-10"), 2, ("rectify: error: missing command",), ()),
    (("status", "--as"), 2, ("option '--as' requires an argument",), ()),
    (("clue", "show", "XS-2023-00001", "-c"), 2, ("option '-c' requires an argument",), ()),
    (("clue", "transition", "XS-2023-00001", "verify", "--version", "x"), 2,
     ("clue transition: invalid value for '--version'",), ()),
    # refused by the domain, not the parser: one line too, with the domain's exit code
    (("clue", "list", "--state", "foo"), 1, ("unknown state 'foo'", "rectifying"), ()),
    (("--as", "off.b", "clue", "transition", "XS-2023-00001", "verify", "--now", "2023-04-04"), 1, ("off.b",), ()),
    (("clue", "transition", "XS-2023-00001", "verify", "--as", "nobody", "--now", "2023-04-04"), 1, ("nobody",), ()),
    # a change on the real clock, years after the 2023 campaign (issue 15)
    (("clue", "transition", "XS-2023-00001", "verify", "--as", "off.a"), 1,
     ("the campaign smoke-2023 ran from 2023-03-15 to 2023-10-31", "give --now"), ()),
]


def test_mistyped_commands_are_one_line_and_change_nothing(loaded: Cli, sqlite_url: str):
    before = snapshot(sqlite_url)
    results = loaded.parallel(*[argv for argv, *_ in MISTYPED])
    for (argv, code, says, stdout), r in zip(MISTYPED, results):
        assert_usage_error(r, code=code, says=says, stdout=stdout)
    assert snapshot(sqlite_url) == before


def test_help_and_version_exit_0(loaded: Cli):
    r = loaded.ok("--version")
    assert r.stdout == f"rectify {version('rectify')}\n" and r.stderr == "", str(r)
    assert version("rectify") == "0.1.0"
    r = loaded.ok("--help")
    for needle in ("Usage: rectify [OPTIONS] COMMAND", "--version", "--as", "--now", "clue"):
        assert needle in r.stdout, str(r)
    assert r.stderr == ""
    r = loaded.ok("clue", "transition", "--help")
    assert "Usage: rectify clue transition" in r.stdout and r.stderr == "", str(r)


@pytest.mark.parametrize("where", ["front", "after the command", "at the end", "as --as="])
def test_as_works_anywhere_on_the_line(loaded: Cli, where: str):
    # RECTIFY_USER names someone else: the flag must win wherever it stands.
    cli = loaded
    argv = {
        "front": ("--as", "off.a", "clue", "transition", "XS-2023-00001", "verify"),
        "after the command": ("clue", "transition", "--as", "off.a", "XS-2023-00001", "verify"),
        "at the end": ("clue", "transition", "XS-2023-00001", "verify", "--as", "off.a"),
        "as --as=": ("clue", "--as=off.a", "transition", "XS-2023-00001", "verify"),
    }[where]
    r = cli.ok(*argv, "--now", "2023-04-04", env={"RECTIFY_USER": "off.b"})
    assert "→ 核查中" in r.stdout, str(r)
    last = cli.json("clue", "show", "XS-2023-00001")["history"][-1]
    assert (last["trigger"], last["actor"]) == ("verify", "off.a")


def test_rectify_user_still_names_the_actor_without_as(loaded: Cli):
    loaded.ok("clue", "transition", "XS-2023-00001", "verify", "--now", "2023-04-04",
              env={"RECTIFY_USER": "off.a"})
    last = loaded.json("clue", "show", "XS-2023-00001")["history"][-1]
    assert (last["trigger"], last["actor"]) == ("verify", "off.a")
