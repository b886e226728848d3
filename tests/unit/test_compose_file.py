"""deploy/compose.yaml and docs/deploy.md describe the same setup: the guide's last
table names each service of the compose file and the environment it sets, no more,
no less; every RECTIFY_* setting either names is a real one."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from services.core.settings import Settings, env_name

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
GUIDE = ROOT / "docs" / "deploy.md"
SETTINGS = {env_name(f) for f in Settings.model_fields}


def _compose() -> dict[str, set[str]]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return {name: set((svc.get("environment") or {}).keys()) for name, svc in data["services"].items()}


def _guide_table() -> dict[str, set[str]]:
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("deploy/compose.yaml\n"):]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    out = {}
    for line in rows:
        service, _, env = [c.strip() for c in line.strip("|").split("|")]
        out[service.strip("`")] = set(re.findall(r"`([A-Z_]+)`", env))
    return out


def test_the_guide_names_every_service_of_the_compose_file_and_no_other():
    assert set(_guide_table()) == set(_compose())
    assert {"prefect-db", "rectify-db", "prefect-server", "worker", "web"} <= set(_compose())


def test_each_services_environment_is_the_guides_in_both_directions():
    compose, guide = _compose(), _guide_table()
    for service in compose:
        assert compose[service] == guide[service], (
            f"{service}: only in compose.yaml {sorted(compose[service] - guide[service])}, "
            f"only in docs/deploy.md {sorted(guide[service] - compose[service])}")


def test_every_rectify_setting_the_guide_or_the_compose_file_names_exists():
    named = set(re.findall(r"\bRECTIFY_[A-Z_]+[A-Z]\b", GUIDE.read_text(encoding="utf-8")))
    named |= {k for env in _compose().values() for k in env if k.startswith("RECTIFY_")}
    # the .env file's passwords are the compose file's own, not settings
    named -= {"RECTIFY_DB_PASSWORD"}
    assert named and not named - SETTINGS, sorted(named - SETTINGS)


def test_the_workers_reach_the_same_database_and_api_as_the_setup_and_poll_with_a_limit():
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    worker, setup, web = data["worker"], data["setup"], data["web"]
    assert worker["environment"]["RECTIFY_DB"] == setup["environment"]["RECTIFY_DB"] == web["environment"]["RECTIFY_DB"]
    assert worker["environment"]["PREFECT_API_URL"] == setup["environment"]["PREFECT_API_URL"]
    cmd = worker["command"]
    assert cmd[:3] == ["prefect", "worker", "start"] and "--limit" in cmd
    assert cmd[cmd.index("--pool") + 1] == "rectify"
    assert worker["deploy"]["replicas"] >= 2
