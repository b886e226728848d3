"""Throwaway PostgreSQL clusters for tests and benchmarks.

No pytest here, so benchmarks and scripts can use it too::

    from tests.pg_cluster import throwaway_postgres

    with throwaway_postgres() as url:   # postgresql+psycopg://postgres@127.0.0.1:PORT/rectify_test
        engine = sqlalchemy.create_engine(url)

The cluster lives in a temporary directory, listens on a free loopback port
only, trusts every local connection, and runs with durability off (fsync,
synchronous_commit, full_page_writes) because nothing in it needs to survive.

PostgreSQL refuses to run as root. When this process is root the data
directory is handed to the ``postgres`` OS user and initdb, postgres and
pg_ctl run through ``runuser -u postgres --`` (``su`` if runuser is missing);
as any other user they run directly.

The server never outlives the Python process: the context manager stops it
(``pg_ctl stop -m immediate``) and deletes the directory on exit, an atexit
hook does the same on interpreter exit, and a small watchdog shell process
does it if this process dies without running either (SIGKILL, SIGTERM).

Binaries are looked for in ``$RECTIFY_PG_BIN``, /usr/lib/postgresql/15/bin,
``pg_config --bindir``, any other /usr/lib/postgresql/*/bin, then ``$PATH``.
Setting ``RECTIFY_TEST_PG_URL`` tells tests to use that server instead of
starting one; see :func:`external_url` and :func:`postgres_url`.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

__all__ = [
    "PostgresUnavailable",
    "DB_NAME",
    "find_bindir",
    "external_url",
    "throwaway_postgres",
    "postgres_url",
]

DB_NAME = "rectify_test"
DEFAULT_BINDIR = "/usr/lib/postgresql/15/bin"
PG_OS_USER = "postgres"
START_TIMEOUT = 60.0


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries (or no way to run them) on this machine."""


def external_url() -> str | None:
    """The server named by ``RECTIFY_TEST_PG_URL``, as a SQLAlchemy URL, or None.

    ``postgres://`` and ``postgresql://`` are turned into ``postgresql+psycopg://``.
    """
    url = os.environ.get("RECTIFY_TEST_PG_URL", "").strip()
    if not url:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _has_server(bindir: str | os.PathLike[str] | None) -> bool:
    if not bindir:
        return False
    d = Path(bindir)
    return all(os.access(d / exe, os.X_OK) for exe in ("initdb", "pg_ctl", "postgres"))


def find_bindir() -> Path:
    """Directory holding initdb, pg_ctl and postgres; PostgresUnavailable if none."""
    env = os.environ.get("RECTIFY_PG_BIN", "").strip()
    if env:
        if _has_server(env):
            return Path(env)
        raise PostgresUnavailable(f"RECTIFY_PG_BIN={env} has no initdb/pg_ctl/postgres")
    candidates: list[str] = [DEFAULT_BINDIR]
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10
            )
            if out.returncode == 0 and out.stdout.strip():
                candidates.append(out.stdout.strip())
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parent.name.split(".")],
        reverse=True,
    )
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).parent))
    for c in candidates:
        if _has_server(c):
            return Path(c)
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found (set RECTIFY_PG_BIN, or apt-get install postgresql-15)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Cluster:
    """One initdb'd, started cluster and everything needed to tear it down."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        self.base: Path | None = None
        self.data: Path | None = None
        self.log: Path | None = None
        self.port = 0
        self.started = False
        self.proc: subprocess.Popen[bytes] | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._closed = False
        if self.as_root:
            try:
                self.pg_user = pwd.getpwnam(PG_OS_USER)
            except KeyError:
                raise PostgresUnavailable(
                    f"running as root but there is no '{PG_OS_USER}' OS user to run PostgreSQL as"
                ) from None
            self.runuser = shutil.which("runuser")
            if self.runuser is None and shutil.which("su") is None:
                raise PostgresUnavailable("running as root but neither runuser nor su is available")

    # -- commands ---------------------------------------------------------
    def _argv(self, argv: list[str]) -> list[str]:
        """argv wrapped to run as the postgres OS user when we are root."""
        if not self.as_root:
            return argv
        if self.runuser:
            return [self.runuser, "-u", PG_OS_USER, "--", *argv]
        return ["su", PG_OS_USER, "-s", "/bin/sh", "-c", shlex.join(argv)]

    def _run(self, argv: list[str], what: str, timeout: float = 120) -> None:
        try:
            res = subprocess.run(
                self._argv(argv),
                cwd=self.base,  # readable by postgres, unlike e.g. /root
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"{what} timed out after {timeout:.0f}s{self._log_tail()}") from e
        if res.returncode != 0:
            out = (res.stdout + res.stderr).strip()
            raise RuntimeError(f"{what} failed (exit {res.returncode}): {out}{self._log_tail()}")

    def _log_tail(self, lines: int = 20) -> str:
        if self.log is None:
            return ""
        try:
            tail = self.log.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return ("\n--- postgres log ---\n" + "\n".join(tail)) if tail else ""

    # -- lifecycle --------------------------------------------------------
    def create(self) -> None:
        # As root the directory must be reachable by the postgres user, so it
        # goes under /tmp rather than a TMPDIR that may sit in /root.
        parent = "/tmp" if self.as_root and os.path.isdir("/tmp") else None
        self.base = Path(tempfile.mkdtemp(prefix="rectify-pg-", dir=parent))
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        if self.as_root:
            os.chown(self.base, self.pg_user.pw_uid, self.pg_user.pw_gid)
        self._start_watchdog()
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D", str(self.data),
                "-U", "postgres",
                "--auth=trust",
                "-E", "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            "initdb",
        )  # fmt: skip

    def start(self) -> None:
        """Start the server as our own (grand)child, so it is reaped when it stops.

        (pg_ctl start would orphan it to PID 1, which in some containers never
        reaps it.)  Stopping still goes through ``pg_ctl stop``.
        """
        assert self.data is not None and self.log is not None and self.base is not None
        last = ""
        for _ in range(5):  # a free port can be taken between probing and binding
            self.port = _free_port()
            opts = [
                "-c", "listen_addresses=127.0.0.1",
                "-c", f"port={self.port}",
                "-c", "fsync=off",
                "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off",
                "-c", f"unix_socket_directories={self.data}",
                "-c", "max_connections=200",
            ]  # fmt: skip
            with open(self.log, "ab") as logf:
                self.proc = subprocess.Popen(
                    self._argv([str(self.bindir / "postgres"), "-D", str(self.data), *opts]),
                    cwd=self.base,
                    stdin=subprocess.DEVNULL,
                    stdout=logf,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # Ctrl-C goes to us, not to the server
                )
            self.started = True
            if self._wait_ready():
                return
            # The server exited before accepting connections.
            self.started = False
            last = self._log_tail()
            if "could not bind" in last or "could not create any TCP/IP sockets" in last:
                continue
            break
        raise RuntimeError(f"PostgreSQL failed to start (exit {self.proc.returncode}){last}")

    def _wait_ready(self) -> bool:
        """True once the server accepts connections; False if it exited first."""
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                return False
            try:
                with psycopg.connect(
                    host="127.0.0.1",
                    port=self.port,
                    user="postgres",
                    dbname="postgres",
                    connect_timeout=5,
                ):
                    return True
            except psycopg.OperationalError as e:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"PostgreSQL did not accept connections on port {self.port} "
                        f"within {START_TIMEOUT:.0f}s: {e}{self._log_tail()}"
                    ) from e
                time.sleep(0.05)

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DB_NAME}"

    def _start_watchdog(self) -> None:
        """A shell that tears the cluster down if this process dies without doing so.

        It blocks reading a pipe whose only writer is this process; "done" means
        we cleaned up ourselves, EOF means we died.
        """
        assert self.base is not None and self.data is not None
        stop = shlex.join(
            self._argv([str(self.bindir / "pg_ctl"), "-D", str(self.data), "stop", "-m", "immediate", "-w"])
        )
        script = (
            'read -r msg; [ "$msg" = done ] && exit 0; '
            f'[ -f "$1/data/postmaster.pid" ] && {stop} >/dev/null 2>&1; '
            'rm -rf "$1"'
        )
        r, w = os.pipe()
        try:
            self._watchdog = subprocess.Popen(
                ["/bin/sh", "-c", script, "rectify-pg-watchdog", str(self.base)],
                stdin=r,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self.base,
                start_new_session=True,  # survive Ctrl-C / signals aimed at our process group
            )
        except OSError:
            os.close(w)
            self._watchdog = None  # no watchdog: atexit still covers normal exits
            return
        finally:
            os.close(r)
        self._watchdog_w = w  # non-inheritable: other children do not keep it open

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self.started and self.data is not None:
                with contextlib.suppress(Exception):
                    self._run(
                        [str(self.bindir / "pg_ctl"), "-D", str(self.data), "stop", "-m", "immediate", "-w"],
                        "pg_ctl stop",
                        timeout=60,
                    )
            if self.proc is not None:
                try:
                    self.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self.proc.wait(timeout=10)
        finally:
            if self.base is not None:
                shutil.rmtree(self.base, ignore_errors=True)
            if self._watchdog is not None:
                with contextlib.suppress(OSError):
                    os.write(self._watchdog_w, b"done\n")
                with contextlib.suppress(OSError):
                    os.close(self._watchdog_w)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._watchdog.wait(timeout=10)


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a private PostgreSQL cluster; yield its SQLAlchemy URL; destroy it on exit.

    The URL is ``postgresql+psycopg://postgres@127.0.0.1:PORT/rectify_test``.
    Raises PostgresUnavailable (one line) when there are no server binaries.
    """
    cluster = _Cluster(find_bindir())
    atexit.register(cluster.close)
    try:
        cluster.create()
        cluster.start()
        cluster.create_database()
        yield cluster.url
    finally:
        cluster.close()
        atexit.unregister(cluster.close)


@contextlib.contextmanager
def postgres_url() -> Iterator[str]:
    """``RECTIFY_TEST_PG_URL`` when set, else a :func:`throwaway_postgres` cluster."""
    url = external_url()
    if url:
        yield url
        return
    with throwaway_postgres() as url:
        yield url
