"""The embedded default has the UI and is fast (issue 15): `rectify serve` runs a local
Prefect server on 127.0.0.1 with its UI, a CLI `rectify sweep` of the same home uses it
(its run is in that server's API, tagged with the campaign), and once serve stops the
record is gone and the server with it. One such test: CI has two cores."""
from __future__ import annotations

import json
import signal
import subprocess
import time

import httpx
import pytest

from .conftest import RECTIFY, SMALL_PLAN, Cli, clean_env
from ..conftest import _free_port

pytestmark = pytest.mark.slow


def test_serve_runs_a_local_server_with_its_ui_and_the_cli_uses_it(sqlite_url, tmp_path):
    port = _free_port()
    env = clean_env(sqlite_url, tmp_path, PREFECT_SERVER_API_PORT=str(port),
                    RECTIFY_FILE_DROP=str(tmp_path / "drop"))
    cli = Cli(env, tmp_path)
    cli.ok("load", SMALL_PLAN, "--now", "2023-03-15")
    record = tmp_path / "prefect" / "rectify-server.json"
    serve = subprocess.Popen([RECTIFY, "serve", "--cron", "0 0 1 1 *"], env=env, cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not record.exists():
            assert serve.poll() is None, serve.communicate()
            assert time.monotonic() < deadline, "serve did not start its Prefect server"
            time.sleep(0.3)
        api = f"http://127.0.0.1:{port}/api"
        assert json.loads(record.read_text(encoding="utf-8"))["api_url"] == api
        # the UI is served, and its browser code is told the API's real port
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/ui-settings", timeout=10).json()["api_url"] == api

        r = cli.ok("sweep", "--now", "2023-04-08 00:05", timeout=120)
        assert "sweep smoke-2023 as of 2023-04-08 00:05: 3 new lapses" in r.stdout, str(r)
        runs = httpx.post(f"{api}/flow_runs/filter", json={}, timeout=10).json()
        [run] = [x for x in runs if x["name"] == "sweep-smoke-2023-20230408-0005"]
        assert run["state_type"] == "COMPLETED"
        assert {"rectify", "campaign:smoke-2023"} <= set(run["tags"])
    finally:
        serve.send_signal(signal.SIGTERM)
        out, err = serve.communicate(timeout=60)
    assert serve.returncode == 0, (out, err)
    assert "Traceback" not in out + err, (out, err)
    assert f"Prefect UI at http://127.0.0.1:{port} (API http://127.0.0.1:{port}/api, 127.0.0.1 only)" in out
    assert not record.exists()  # stopped with serve: the next flow command falls back to the ephemeral API
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5)
