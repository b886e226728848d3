"""The deploy/ folder: what `rectify deploy` registers names flows that exist as
module paths (workers import them from the installed package), and the example
round file is valid."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_on_demand_entrypoint_is_a_module_path_to_a_prefect_flow():
    from prefect.utilities.importtools import import_object

    from app.deploying import ON_DEMAND

    assert set(ON_DEMAND) == {"open-round", "close-round", "generate-report"}
    for name, (entrypoint, _) in ON_DEMAND.items():
        assert ":" not in entrypoint and not entrypoint.endswith(".py")
        flow = import_object(entrypoint)
        assert hasattr(flow, "fn") and flow.name == name, f"{entrypoint} is not the flow {name}"


def test_no_hand_kept_list_of_deployments_is_shipped():
    # the campaigns' deployments come from the database (rectify deploy), never a file naming them
    assert not (ROOT / "deploy" / "prefect.yaml").exists()


def test_the_example_round_file_is_a_valid_round():
    from services.campaigns.plans import parse_yaml_model
    from statemachine.lookback.spec import RoundSpec

    f = ROOT / "deploy" / "rounds" / "xinzhou-lookback.example.yaml"
    spec = parse_yaml_model(f.read_text(encoding="utf-8"), RoundSpec, source=str(f), shape="a round")
    assert spec.selection.mode == "sample" and spec.selection.seed == 20230824
    assert [t.code for t in spec.teams] == ["team-1", "team-2"]
