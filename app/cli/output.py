"""Terminal output: readable tables for people, JSON for machines."""
from __future__ import annotations

import json
import sys
from datetime import date, datetime
from typing import Any, Iterable, Sequence

from statemachine.time.calendar import TZ

__all__ = ["table", "emit_json", "local", "say", "warn"]


def local(dt: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "—" if dt is None else dt.astimezone(TZ).strftime(fmt)


def _default(o: Any):
    if isinstance(o, datetime):
        return o.astimezone(TZ).isoformat()
    if isinstance(o, date):
        return o.isoformat()
    return str(o)


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=_default)
    sys.stdout.write("\n")


def say(text: str) -> None:
    print(text, flush=True)


def warn(text: str) -> None:
    """A line on stderr that does not stop the command (an error is app/cli/__init__.py's)."""
    print(f"rectify: warning: {text}", file=sys.stderr, flush=True)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title, show_lines=False, header_style="bold", title_justify="left")
    for h in headers:
        t.add_column(h, overflow="fold")
    for r in rows:
        t.add_row(*["—" if v is None else str(v) for v in r])
    # width: a pipe or a CI log should not wrap the table at 80 columns
    Console(width=None if sys.stdout.isatty() else 200, soft_wrap=False).print(t)
