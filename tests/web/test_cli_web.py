"""`rectify web` and `rectify user …` as the server's operator types them."""
from __future__ import annotations

import re
import signal
import subprocess
import time

import httpx
import pytest

from ..conftest import _free_port
from ..e2e.conftest import RECTIFY, Cli, assert_one_line_error, clean_env
from .conftest import PASSWORD, SECRET, csrf_of

LINK = re.compile(r"^(http\S+/set-password\?token=\S+)$", re.MULTILINE)


@pytest.fixture
def operator(db_url, campaign, tmp_path) -> Cli:
    # campaign: the small plan as `rectify load SMALL_PLAN --now 2023-03-15` loads it, from the
    # session's template (the load command itself is driven in tests/e2e/test_cli.py)
    return Cli(clean_env(db_url, tmp_path, RECTIFY_PUBLIC_URL="https://rectify.example.test/"), tmp_path)


def test_web_refuses_to_start_without_a_secret_key(operator):
    r = operator.run("web")
    assert_one_line_error(r, code=1)
    assert "RECTIFY_SECRET_KEY is not set" in r.stderr and "RECTIFY_WEB_DEV=1" in r.stderr
    r = operator.run("web", env={"RECTIFY_SECRET_KEY": "too-short"})
    assert_one_line_error(r, code=2)
    assert "RECTIFY_SECRET_KEY: too short" in r.stderr and "too-short" not in r.stderr
    r = operator.run("web", "--host", "0.0.0.0", env={"RECTIFY_WEB_DEV": "1"})
    assert_one_line_error(r, code=1)
    assert "this machine only" in r.stderr


def _serve(cli: Cli, *args, env: dict) -> tuple[subprocess.Popen, str]:
    full = {**cli.env, **env}
    p = subprocess.Popen([RECTIFY, *args], env=full, cwd=cli.cwd, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    return p, full.get("RECTIFY_WEB_PORT", "8000")


def _wait_up(url: str, p: subprocess.Popen, within: float = 60) -> httpx.Response:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert p.poll() is None, p.communicate()
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} never answered")


def _stop(p: subprocess.Popen) -> tuple[str, str]:
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, (out, err)
    assert "Traceback" not in out + err, (out, err)
    return out, err


@pytest.mark.slow
def test_web_serves_until_stopped_and_an_invited_person_signs_in(operator):
    port = _free_port()
    link = LINK.search(operator.ok("user", "invite", "off.a").stdout).group(1)
    assert link.startswith("https://rectify.example.test/set-password?token=")
    p, _ = _serve(operator, "web", "--port", str(port),
                  env={"RECTIFY_SECRET_KEY": SECRET, "RECTIFY_PUBLIC_URL": ""})
    base = f"http://127.0.0.1:{port}"
    try:
        assert _wait_up(f"{base}/sign-in", p).status_code == 200
        with httpx.Client(base_url=base) as c:
            path = link.split("rectify.example.test", 1)[1]
            page = c.get(path)
            assert page.status_code == 200 and "赵书涵" in page.text
            r = c.post("/set-password", data={"csrf_token": csrf_of(page), "token": path.split("=", 1)[1],
                                              "password": PASSWORD, "confirm": PASSWORD})
            assert r.status_code == 303
            page = c.get("/sign-in")
            r = c.post("/sign-in", data={"csrf_token": csrf_of(page), "username": "off.a", "password": PASSWORD})
            assert r.status_code == 303
            assert c.get("/api/v1/me").json()["unit"]["name"] == "甲县"
    finally:
        out, _ = _stop(p)
    assert f"web app on http://127.0.0.1:{port}" in out


def test_the_operator_invites_resets_disables_and_enables(operator):
    out = operator.ok("user", "invite", "off.b").stdout
    assert "invitation for off.b (钱文博, 乙县)" in out
    invitation = LINK.search(out).group(1)
    assert invitation.startswith("https://rectify.example.test/set-password?token=")
    assert operator.fail("user", "invite", "nobody") == \
        "unknown user 'nobody' in campaign smoke-2023 (see 'rectify users')"
    out = operator.ok("user", "reset", "off.b").stdout
    assert "password reset for off.b" in out
    assert LINK.search(out).group(1) != invitation
    out = operator.ok("user", "disable", "off.b", "--as", "sup.city").stdout
    assert out.strip() == "disabled off.b (钱文博, 乙县): 0 sessions ended, 0 tokens revoked"
    assert "is disabled already" in operator.fail("user", "disable", "off.b")
    assert "is disabled: 'rectify user enable off.b' first" in operator.fail("user", "reset", "off.b")
    out = operator.ok("user", "enable", "off.b").stdout
    assert "enabled off.b" in out and "no password yet" in out
    assert "is not disabled" in operator.fail("user", "enable", "off.b")
    listing = operator.ok("user", "list").stdout
    states = {line.split("│")[1].strip(): line.split("│")[5].strip() for line in listing.splitlines()
              if line.count("│") >= 6 and "username" not in line}
    assert states["off.b"] == "invited" and states["off.a"] == "none" and len(states) == 7
    operator.ok("user", "disable", "off.a")
    assert "disabled" in [line for line in operator.ok("user", "list").stdout.splitlines() if "off.a" in line][0]
    log = operator.ok("audit", "log").stdout
    for trigger in ("invite", "reset", "disable", "enable"):
        assert trigger in log
    assert "sup.city" in log and "operator" in log
    assert "intact" in operator.ok("audit", "verify").stdout


@pytest.mark.slow
def test_serve_runs_the_web_app_beside_the_scheduler(operator, prefect_api):
    port = _free_port()
    p, _ = _serve(operator, "serve", env={"RECTIFY_SECRET_KEY": SECRET, "RECTIFY_SERVE_WEB": "1",
                                          "RECTIFY_WEB_PORT": str(port), "PREFECT_API_URL": prefect_api})
    seen = []
    try:
        # the scheduler stops on SIGTERM once it runs: wait for it to say so
        while not any("SIGTERM or Ctrl-C stops it" in line for line in seen):
            line = p.stdout.readline()
            assert line, (seen, p.communicate())
            seen.append(line)
        r = _wait_up(f"http://127.0.0.1:{port}/api/v1/me", p)
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    finally:
        out, _ = _stop(p)
    assert f"web app on 127.0.0.1:{port}" in "".join(seen)
    assert "scheduled daily enforcement of smoke-2023" in "".join(seen)
    with pytest.raises(httpx.TransportError):  # stopped with the scheduler
        httpx.get(f"http://127.0.0.1:{port}/api/v1/me", timeout=2)


def test_serve_with_the_web_app_refuses_without_a_secret_key(operator):
    r = operator.run("serve", env={"RECTIFY_SERVE_WEB": "1"})
    assert_one_line_error(r, code=1)
    assert "RECTIFY_SECRET_KEY is not set" in r.stderr


def test_web_on_a_taken_port_is_one_line(operator):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        r = operator.run("web", "--port", str(taken.getsockname()[1]), env={"RECTIFY_SECRET_KEY": SECRET})
    assert_one_line_error(r, code=1)
    assert "cannot listen on 127.0.0.1" in r.stderr
