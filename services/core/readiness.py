"""What a flow run checks when it starts, before its first query (issue 17).

A worker is configured by its own RECTIFY_* environment (services/core/runtime.py).
One that lacks RECTIFY_DB, or names a database nobody migrated, must say so in
one line naming the setting, not create an empty SQLite file and fail later with
"no such table". Checked once per runtime: a worker's run is a process of its own,
the CLI's and the tests' runtimes are checked at their first flow.
"""
from __future__ import annotations

from sqlalchemy.exc import DatabaseError

from models.db import MIGRATIONS, current_revision, head_revision, sqlite_file
from statemachine.errors import Misconfigured, NotInitialised
from statemachine.masking import masked_url

from .runtime import Runtime

__all__ = ["check_ready"]


def check_ready(runtime: Runtime, *, from_environment: bool) -> None:
    """Refuse, in one line naming the setting, a runtime whose database cannot serve a run.

    `from_environment`: the runtime was built from this process's environment (a
    worker's run), not installed by a command that chose its database."""
    s = runtime.settings
    url = s.db_url
    shown = masked_url(url)
    path = sqlite_file(url)
    if from_environment and not s.db and (path is None or not path.is_file()):
        raise Misconfigured(f"RECTIFY_DB is not set on this worker: set it in the worker's environment to "
                            f"the database 'rectify deploy' was run on (the default {path} does not exist)")
    if path is not None and not path.is_file():  # SQLite would create an empty file to find no tables in
        raise NotInitialised(f"database {shown} (RECTIFY_DB) does not exist: check RECTIFY_DB on this "
                             f"host, or run 'rectify init'")
    try:
        rev = current_revision(runtime.engine)
    except DatabaseError as e:
        first = str(getattr(e, "orig", e) or e).strip().splitlines()
        raise NotInitialised(f"cannot open database {shown} (RECTIFY_DB): "
                             f"{first[0] if first else type(e).__name__}") from None
    if rev is None:
        raise NotInitialised(f"database {shown} (RECTIFY_DB) has no Rectify tables: run 'rectify init' "
                             f"on it, or point RECTIFY_DB at the database the campaigns were loaded into")
    head = head_revision()
    if rev != head and _known(rev):
        raise NotInitialised(f"database {shown} is at schema {rev}, this version needs {head}: "
                             f"run 'rectify migrate'")
    if rev != head:  # migrated by a newer Rectify than the one installed here
        raise NotInitialised(f"database {shown} is at schema {rev}, newer than this installation of "
                             f"Rectify knows ({head}): install the version that migrated it on this host")


def _known(rev: str) -> bool:
    """An older schema of this code's migrations (else the database is ahead of the code)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory(str(MIGRATIONS)).get_revision(rev) is not None
    except CommandError:
        return False
