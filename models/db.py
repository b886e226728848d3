"""Engine and transaction scope; migrations through Alembic.

SQLite is the embedded default: WAL so readers never block the writer, and
every transaction starts with BEGIN IMMEDIATE so that two writers (two
`serve` processes, a CLI next to a scheduler) queue on the lock instead of
failing half-way with "database is locked" on the read→write upgrade.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url

__all__ = ["make_engine", "transaction", "upgrade", "current_revision", "head_revision", "normalize_url",
           "sqlite_file"]

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        # no folder made here: opening a database only reads; `upgrade` creates it
        engine = create_engine(u, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # a host that drops packets would otherwise hold a command for the OS's TCP timeout
    connect = {} if "connect_timeout" in u.query else {"connect_timeout": 15}
    return create_engine(u, echo=echo, pool_pre_ping=True, connect_args=connect)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL, or SQLite with no file)."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database).expanduser()


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One unit of work: commits on success, rolls back on any exception."""
    with engine.begin() as conn:
        yield conn


def _alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create (SQLite: with its folder) or migrate the database to `revision`."""
    from alembic import command

    path = sqlite_file(engine.url.render_as_string(hide_password=False))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(_alembic_config(engine), revision)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current_revision(db: Engine | Connection) -> str | None:
    """The schema's Alembic revision (None: never migrated), on an engine or inside
    the caller's transaction."""
    if isinstance(db, Engine):
        with db.connect() as conn:
            return current_revision(conn)
    if not inspect(db).has_table("alembic_version"):
        return None
    return db.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def normalize_url(url: str) -> str:
    """Force psycopg 3 for PostgreSQL URLs given as postgres:// or postgresql://."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
