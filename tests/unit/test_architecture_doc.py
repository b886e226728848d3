"""docs/architecture.md and the README's layout section name files that exist.

They say where each rule of the domain lives; a path that no longer exists
sends a reader nowhere, so every repository path they cite must be a file or
folder of this checkout, and every module of the layout must be named in
docs/architecture.md.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARCH = ROOT / "docs" / "architecture.md"
README = ROOT / "README.md"
LAYERS = ("app", "flows", "services", "notifications", "models", "statemachine", "deploy", "tests",
          "bench", "docs")
# `services/core/uow.py`, `statemachine/charts/`, `flows/enforce.py:daily_enforcement`
PATH = re.compile(r"(?<![\w./-])((?:" + "|".join(LAYERS) + r")/[\w./-]*[\w/])")


def _cited(text: str) -> set[str]:
    return {m.group(1).rstrip(".") for m in PATH.finditer(text)}


def _readme_layout() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Layout")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def test_every_path_docs_architecture_md_cites_exists():
    cited = _cited(ARCH.read_text(encoding="utf-8"))
    assert len(cited) > 40, "the paths were not found at all: is the pattern still right?"
    missing = sorted(p for p in cited if "*" not in p and not (ROOT / p).exists())
    assert not missing, f"docs/architecture.md cites what does not exist: {missing}"


def test_every_module_of_the_layers_is_named_in_docs_architecture_md():
    text = ARCH.read_text(encoding="utf-8")
    cited = _cited(text)
    # a module is named by its path, or by its name in a folder's row (`core/`: `uow.py`, ...)
    named = {Path(p).name for p in cited} | set(re.findall(r"`([\w]+\.py)`", text))
    modules = [p for layer in ("app", "flows", "services", "notifications", "statemachine")
               for p in sorted((ROOT / layer).rglob("*.py")) if p.name != "__init__.py"]
    unnamed = [str(p.relative_to(ROOT)) for p in modules
               if str(p.relative_to(ROOT)) not in cited and p.name not in named]
    assert not unnamed, f"docs/architecture.md does not say what these hold: {unnamed}"


def test_the_readme_layout_names_folders_that_exist():
    section = _readme_layout()
    folders = re.findall(r"^\s*([a-z_]+/(?:[a-z_]+/)*)\s", section, re.MULTILINE)
    assert len(folders) > 10
    # a nested line names a folder of the layer above it: resolve it against its layer
    layer = ""
    missing = []
    for line in section.splitlines():
        m = re.match(r"^(\s*)([a-z_]+/)(?:\s|$)", line)
        if not m:
            continue
        if not m.group(1):
            layer = m.group(2)
            path = m.group(2)
        else:
            path = layer + m.group(2)
        if not (ROOT / path).is_dir():
            missing.append(path)
    assert not missing, f"README's layout names folders that do not exist: {missing}"
