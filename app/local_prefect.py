"""The local Prefect server of the embedded default (issue 15).

`rectify serve` without PREFECT_API_URL starts `prefect server start` on
127.0.0.1 (port PREFECT_SERVER_API_PORT, default 4200), with its UI, on the
SQLite database in PREFECT_HOME, and records where it listens in
PREFECT_HOME/rectify-server.json (its URL, UI and pid). Every flow command of
this home (`rectify sweep`, `enforce`, …) then uses that server instead of
starting Prefect's ephemeral one (10-20 s each time, no UI): `discover` reads
the file and asks the server's /health (a dead pid or a server that does not
answer is ignored, and the command falls back to the ephemeral API as before).

Only 127.0.0.1: the API has no authentication. The UI's browser code asks the
API at PREFECT_UI_API_URL, which Prefect derives from the port *setting*, not
the --port flag; it is set here to the address the server really listens on.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from statemachine.errors import Misconfigured

__all__ = ["LocalServer", "start", "discover", "server_file", "DEFAULT_PORT"]

DEFAULT_PORT = 4200  # Prefect's own default
HOST = "127.0.0.1"
_FILE = "rectify-server.json"


def server_file() -> Path:
    """Where serve records its server: beside the server's own database (PREFECT_HOME)."""
    return Path(os.environ["PREFECT_HOME"]).expanduser() / _FILE


def _healthy(api_url: str, timeout: float = 1.0) -> bool:
    import httpx

    try:
        return httpx.get(f"{api_url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: not ours
        return False
    return True


def discover() -> str | None:
    """The API URL of a running local server of this home, or None."""
    try:
        recorded = json.loads(server_file().read_text(encoding="utf-8"))
        url, pid = str(recorded["api_url"]), int(recorded["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if _alive(pid) and _healthy(url) else None


@dataclass
class LocalServer:
    api_url: str
    ui_url: str
    process: subprocess.Popen

    def stop(self) -> None:
        """Stop the server and forget it; a flow command started after this falls back."""
        try:
            recorded = json.loads(server_file().read_text(encoding="utf-8"))
            if recorded.get("pid") == self.process.pid:
                server_file().unlink()
        except (OSError, ValueError):
            pass
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _port() -> int:
    raw = os.environ.get("PREFECT_SERVER_API_PORT", "") or str(DEFAULT_PORT)
    try:
        port = int(raw)
    except ValueError:
        raise Misconfigured(f"PREFECT_SERVER_API_PORT: '{raw}' is not a port number") from None
    if not 0 < port < 65536:
        raise Misconfigured(f"PREFECT_SERVER_API_PORT: {port} is not a port number")
    return port


def start(*, timeout: float | None = None) -> LocalServer:
    """Start the local server and wait until it answers; the caller stops it."""
    if (running := discover()) is not None:
        raise Misconfigured(f"a Prefect server of this home already runs at {running} (another "
                            f"'rectify serve'?): stop it, or give this one its own RECTIFY_HOME")
    port = _port()
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError:
            raise Misconfigured(f"cannot start the local Prefect server: {HOST}:{port} is in use "
                                f"(set PREFECT_SERVER_API_PORT to a free port)") from None
    api_url, ui_url = f"http://{HOST}:{port}/api", f"http://{HOST}:{port}"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_SERVER_API_HOST=HOST, PREFECT_SERVER_API_PORT=str(port))
    env.setdefault("PREFECT_UI_API_URL", api_url)  # behind a proxy, the operator's own value
    log = server_file().with_name("rectify-server.log")
    with open(log, "ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", HOST,
                                    "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    server = LocalServer(api_url, ui_url, process)
    limit = timeout or float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90"))
    deadline = time.monotonic() + limit
    try:
        while not _healthy(api_url, timeout=2):
            if process.poll() is not None:
                raise Misconfigured(f"the local Prefect server exited with code {process.returncode}: see {log}")
            if time.monotonic() > deadline:
                raise Misconfigured(f"the local Prefect server did not start on {HOST}:{port} within "
                                    f"{limit:.0f} s: see {log}")
            time.sleep(0.3)
    except BaseException:  # SIGTERM or Ctrl-C while it starts: never leave it orphaned
        server.stop()
        raise
    tmp = server_file().with_suffix(".tmp")
    tmp.write_text(json.dumps({"api_url": api_url, "ui_url": ui_url, "pid": process.pid}), encoding="utf-8")
    tmp.replace(server_file())
    return server
