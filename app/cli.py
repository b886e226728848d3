"""`rectify`: the command line of supervisors, units and operators.

Global options (--db, --now, --campaign) may be given anywhere on the line;
expected failures print one line `rectify: error: …` and exit non-zero.
"""
from __future__ import annotations

import sys
import click

from statemachine.calendar import CalendarFileError, CalendarNotCovered
from statemachine.errors import RectifyError


__all__ = ["app", "main"]

from . import cli_calendar, cli_campaigns, cli_clues, cli_duties, cli_escalations, cli_ledger, cli_reports, cli_ops, cli_outbox, cli_rounds  # noqa: E402,F401  (commands register on `app`)
from .cli_root import app  # noqa: E402

_GLOBAL_WITH_VALUE = ("--db", "--now", "--campaign", "-c")


def _hoist_globals(argv: list[str]) -> list[str]:
    """Move global options to the front so `rectify clue add … --now X` works too."""
    front, rest, i = [], [], 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            rest += argv[i:]
            break
        if a in _GLOBAL_WITH_VALUE and i + 1 < len(argv):
            front += [a, argv[i + 1]]
            i += 2
            continue
        if any(a.startswith(o + "=") for o in _GLOBAL_WITH_VALUE if o.startswith("--")):
            front.append(a)
        else:
            rest.append(a)
        i += 1
    return front + rest


def main(argv: list[str] | None = None) -> int:
    args = _hoist_globals(list(sys.argv[1:] if argv is None else argv))
    try:
        result = app(args=args, prog_name="rectify", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.exceptions.Abort:
        print("rectify: aborted", file=sys.stderr)
        return 130
    except (RectifyError, CalendarNotCovered, CalendarFileError) as e:
        print(f"rectify: error: {e}", file=sys.stderr)
        return getattr(e, "exit_code", 1)
    except KeyboardInterrupt:
        print("rectify: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout.flush()


def _entry() -> None:  # pragma: no cover
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    _entry()
