"""PostgreSQL for benchmarks: a given URL, or a throwaway cluster.

    from bench.pg import database_url      # or `from pg import database_url` inside bench/

    with database_url(args.db_url) as url:  # None -> private cluster, destroyed on exit
        engine = sqlalchemy.create_engine(url)

The cluster code lives in tests/pg_cluster.py (one implementation for tests
and benchmarks); the repository root is put on sys.path to import it.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Iterator

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.pg_cluster import PostgresUnavailable, throwaway_postgres  # noqa: E402

__all__ = ["database_url", "PostgresUnavailable"]


@contextlib.contextmanager
def database_url(arg: str | None) -> Iterator[str]:
    """Yield ``arg`` when given, else the URL of a fresh throwaway PostgreSQL cluster."""
    if arg:
        yield arg
        return
    with throwaway_postgres() as url:
        yield url
