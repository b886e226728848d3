"""The shipped deployment file is valid YAML and names flows that exist."""
from __future__ import annotations

import importlib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_prefect_yaml_parses_and_every_entrypoint_is_a_flow():
    data = yaml.safe_load((ROOT / "deploy" / "prefect.yaml").read_text(encoding="utf-8"))
    names = [d["name"] for d in data["deployments"]]
    assert len(names) == len(set(names)) and {"open-round", "close-round"} <= set(names)
    for d in data["deployments"]:
        path, func = d["entrypoint"].split(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        flow = getattr(module, func)
        assert hasattr(flow, "fn") and flow.name, f"{d['entrypoint']} is not a Prefect flow"
        assert d["work_pool"]["name"] == "rectify"


def test_the_example_round_file_is_a_valid_round():
    from services.campaigns.plans import parse_yaml_model
    from statemachine.lookback.spec import RoundSpec

    f = ROOT / "deploy" / "rounds" / "xinzhou-lookback.example.yaml"
    spec = parse_yaml_model(f.read_text(encoding="utf-8"), RoundSpec, source=str(f), shape="a round")
    assert spec.selection.mode == "sample" and spec.selection.seed == 20230824
    assert [t.code for t in spec.teams] == ["team-1", "team-2"]
