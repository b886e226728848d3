"""The command line's arguments that need bounds, checked in one place.

Integers: ids and versions are 1..MAX_INT, limits and batches 1..MAX_INT,
counts 0..MAX_INT (services/core/refs.py: what the databases hold). Out of
range is a usage error naming the option, before any command runs: a 70-bit
case id was an OverflowError in the SQLite driver, `--limit -1` an error of
PostgreSQL's.

Output folders (`--out` of the commands that write several files): made if
missing, refused in one line when the path is a file or cannot be written,
before anything is written.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from services.core.refs import MAX_INT
from statemachine.errors import InvalidInput

__all__ = ["MAX_INT", "id_argument", "version_option", "limit_option", "count_option", "out_folder"]


def id_argument(*, metavar: str = "ID", help: str | None = None) -> Any:
    return typer.Argument(..., min=1, max=MAX_INT, metavar=metavar, help=help)


def version_option(help: str = "Refuse if it changed since this version.") -> Any:
    return typer.Option(None, "--version", min=1, max=MAX_INT, help=help)


def limit_option(default: int, name: str = "--limit", help: str | None = None) -> Any:
    return typer.Option(default, name, min=1, max=MAX_INT, help=help)


def count_option(default: int, name: str, help: str | None = None) -> Any:
    return typer.Option(default, name, min=0, max=MAX_INT, help=help)


def out_folder(path: str | Path, *, option: str = "--out") -> Path:
    """The folder at `path`, made if missing; InvalidInput when it is a file or not writable."""
    folder = Path(path)
    try:
        if folder.exists() and not folder.is_dir():
            raise InvalidInput(f"{option} {folder}: not a folder (a file is there)")
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            raise PermissionError(13, "permission denied")
    except OSError as e:
        raise InvalidInput(f"{option} {folder}: cannot write: {e.strerror or e}") from None
    return folder
