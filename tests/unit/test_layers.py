"""The layers' import rules of ARCHITECTURE.md, checked on the source."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"app", "flows", "services", "notifications", "models", "statemachine"}
# layer -> packages (ours or third-party roots) it must never import
FORBIDDEN = {
    "statemachine": {"app", "flows", "services", "notifications", "models",
                     "sqlalchemy", "prefect", "jinja2", "alembic"},
    "models": {"app", "flows", "services", "notifications", "prefect"},
    "notifications": {"app", "flows", "services", "prefect"},
    "services": {"app", "flows", "prefect"},
    "flows": {"app"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


CASES = [(layer, p) for layer in FORBIDDEN for p in sorted((ROOT / layer).rglob("*.py"))]


@pytest.mark.parametrize("layer,path", CASES, ids=[str(p.relative_to(ROOT)) for _, p in CASES])
def test_module_respects_its_layer(layer, path):
    bad = _imports(path) & FORBIDDEN[layer]
    assert not bad, f"{path.relative_to(ROOT)} ({layer}) imports {sorted(bad)}"


def test_every_layer_has_modules():
    assert len(CASES) > 20
