"""`rectify`: the command line of supervisors, units and operators.

Global options (--db, --now, --campaign, --as) may be given anywhere on the
line. Every expected failure prints one line `rectify: error: …` on stderr:
a mistake on the command line itself exits 2, a refusal of the domain exits
with its error's code (statemachine/errors.py). Anything else is a bug and
keeps its traceback.
"""
from __future__ import annotations

import re
import signal
import sys
import threading

import typer

try:  # typer ≥ 0.26 raises its own copy of click's exceptions, not click's
    from typer._click import exceptions as parser_errors
except ImportError:  # pragma: no cover - older typer, on click itself
    from click import exceptions as parser_errors

from statemachine.errors import RectifyError

__all__ = ["app", "main"]

from . import (calendar, campaigns, clues, deploy, duties, ladder, ledgers, reports, ops, outbox, lookback, web,  # noqa: E402,F401,I001
               evidence, ranking)  # (commands register on `app`)
from .root import GLOBAL_OPTIONS, app  # noqa: E402


def _hoist_globals(argv: list[str]) -> list[str]:
    """Move global options to the front so `rectify clue add … --now X` works too."""
    front, rest, i = [], [], 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            rest += argv[i:]
            break
        if a in GLOBAL_OPTIONS:
            if i + 1 == len(argv):  # moved to the front, it would take the command as its value
                raise parser_errors.UsageError(f"Option '{a}' requires an argument.")
            front += [a, argv[i + 1]]
            i += 2
            continue
        if any(a.startswith(o + "=") for o in GLOBAL_OPTIONS if o.startswith("--")):
            front.append(a)
        else:
            rest.append(a)
        i += 1
    return front + rest


# control characters echoed from input (NUL, ESC sequences that restyle or move the
# terminal's cursor, a carriage return that overwrites the line) are shown escaped
_SHOWN = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7f, 0xa0)] if chr(c) not in "\n\t"}


def _error(message: str) -> None:
    # As given otherwise: a refusal may list its bad rows on the lines below its one line.
    print(f"rectify: error: {message.translate(_SHOWN)}", file=sys.stderr)


def _where(ctx) -> tuple[str, str]:
    """The command path typed ('rectify clue show') and its part after 'rectify '."""
    path = ctx.command_path if ctx is not None else "rectify"
    return path, path.partition(" ")[2]


def _usage_message(e: parser_errors.UsageError) -> str:
    """click's sentence as one line: where, what, and where to read more."""
    msg = " ".join(e.format_message().split()).rstrip(".")
    msg = re.sub(r"\. Did you mean (.+)\?$", r" (did you mean \1?)", msg)
    msg = re.sub(r"\(Possible options: (.+)\)$", r"(did you mean \1?)", msg)
    if msg[:2].istitle():  # "No such option" → "no such option"; "RECTIFY_DB …" stays
        msg = msg[0].lower() + msg[1:]
    path, where = _where(e.ctx)
    return f"{where + ': ' if where else ''}{msg}; see '{path} --help'"


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread as Ctrl-C raises KeyboardInterrupt.

    Left to its default, SIGTERM ends the process at once: no `finally`, no
    atexit, and the local Prefect server a flow command started (a child
    process, stopped by Prefect at exit) lives on, orphaned. Raised instead,
    it unwinds the command (an open transaction rolls back) and the
    interpreter exits normally. A BaseException, so `except Exception` in a
    flow or a use case does not swallow it."""


def _terminate(signum, frame):
    from app.prefect_env import hide_crash_reports

    hide_crash_reports()
    raise _Terminated()


def main(argv: list[str] | None = None) -> int:
    # `serve` installs its own handler (finish the running job, then stop)
    previous = signal.signal(signal.SIGTERM, _terminate) \
        if threading.current_thread() is threading.main_thread() else None
    try:
        args = _hoist_globals(list(sys.argv[1:] if argv is None else argv))
        # Not standalone: typer would print click's multi-line errors itself.
        # It still returns the code of a typer.Exit (--help, --version, exit 3).
        result = app(args=args, prog_name="rectify", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except parser_errors.NoArgsIsHelpError as e:  # `rectify`, `rectify clue`
        # The help on stdout as for --help (rich has printed it already while
        # raising; plain typer leaves it in the message), the one line on stderr.
        if e.format_message().strip():
            print(e.format_message())
        where = _where(e.ctx)[1]
        _error(f"{where + ': ' if where else ''}missing command")
        return 2
    except parser_errors.UsageError as e:
        _error(_usage_message(e))
        return 2
    except parser_errors.ClickException as e:  # e.g. a file argument that cannot be opened
        _error(e.format_message())
        return e.exit_code
    except typer.Abort:
        _error("aborted")
        return 1
    except RectifyError as e:
        _error(str(e) or type(e).__name__)
        return e.exit_code
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except _Terminated:
        _error("terminated (SIGTERM)")
        return 128 + signal.SIGTERM
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        sys.stdout.flush()


def _entry() -> None:  # pragma: no cover
    signal.signal(signal.SIGTERM, _terminate)  # main() gives it back, not SIG_DFL
    try:
        code = main()
    except _Terminated:  # landed after main's own handlers
        _error("terminated (SIGTERM)")
        code = 128 + signal.SIGTERM
    finally:
        # the command is over; a SIGTERM now must not cut short the exit that stops
        # Prefect's local server (atexit; it waits 5 s at most, then kills it)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    _entry()
