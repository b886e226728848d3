"""The layers' import rules (docs/architecture.md), checked on the source.

Imports point one way: app → flows → services → {notifications, models} →
statemachine (FORBIDDEN below). And nothing of ours imports in a loop: no
module reaches itself through the modules it imports, and within a layer the
folders (its contexts: services/clues/, statemachine/charts/ …) depend on each
other one way, so that each can be read knowing only those below it.

Every import counts wherever it stands, inside a function or under
TYPE_CHECKING too: a lazy import that closes a loop still makes the modules
one thing to understand, it only hides the loop from the interpreter. None is
needed today.
"""
from __future__ import annotations

import ast
from collections import defaultdict
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
# The layers whose folders are contexts, held to importing each other one way. app's
# folders are entry points, not contexts: `rectify demo` is a command of the CLI and the
# demo drives the CLI's own context, so cli/ and demo/ use each other; its modules are
# still held to no loop.
CONTEXT_LAYERS = ("services", "notifications", "statemachine")
# the folder of a layer that every context builds on, and that imports none of them
KERNELS = {"services": "services/core/", "statemachine": "statemachine/"}


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


# -- no loops ----------------------------------------------------------------------------------


def _modules() -> dict[str, Path]:
    """Every module of ours by dotted name; a package by its own name."""
    found = {}
    for layer in OURS:
        for p in (ROOT / layer).rglob("*.py"):
            parts = list(p.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = p
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, dict[str, str]]:
    """module -> {module of ours it imports: 'file:line' of the first such import}.

    `from pkg import mod` is an import of pkg.mod; `from mod import name` of mod."""
    graph: dict[str, dict[str, str]] = {m: {} for m in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - node.level + 1]
                    base = ".".join(base + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for t in targets:
                if t in modules and t != name:
                    graph[name].setdefault(t, f"{path.relative_to(ROOT)}:{node.lineno}")
    return graph


def loops(graph: dict[str, dict[str, str]] | dict[str, set[str]]) -> list[list[str]]:
    """Each set of nodes that reach each other (a strongly connected component of more than
    one node), as one loop through it: [a, b, c, a]."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]  # Tarjan's, iterative
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(_loop_through(graph, set(component)))
    return found


def _loop_through(graph, component: set[str]) -> list[str]:
    """A shortest way from the component's first node back to itself, inside it."""
    start = min(component)
    came_from = {start: None}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in sorted(graph[node]):
                if child == start:
                    path = [node]
                    while came_from[path[-1]] is not None:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start] if len(path) > 1 else [start, node, start]
                if child in component and child not in came_from:
                    came_from[child] = node
                    nxt.append(child)
        frontier = nxt
    raise AssertionError(f"no loop through {sorted(component)}")  # a component always has one


def _say(graph, loop: list[str]) -> str:
    return " → ".join(loop) + "  (" + ", ".join(graph[a][b] for a, b in zip(loop, loop[1:])) + ")"


def test_no_module_imports_itself_through_others():
    graph = import_graph(_modules())
    assert sum(map(len, graph.values())) > 150, "the imports were not found: is the graph still right?"
    found = loops(graph)
    assert not found, "modules that import each other in a loop:\n" + "\n".join(_say(graph, lp) for lp in found)


def _folder(module: str, modules: dict[str, Path]) -> str:
    path = modules[module]
    return str(path.parent.relative_to(ROOT)) + "/"


@pytest.mark.parametrize("layer", CONTEXT_LAYERS)
def test_the_contexts_of_a_layer_depend_on_each_other_one_way(layer):
    modules = _modules()
    graph = import_graph(modules)
    folders: dict[str, dict[str, str]] = defaultdict(dict)
    for a, targets in graph.items():
        if a.split(".")[0] != layer:
            continue
        folders[_folder(a, modules)]
        for b, where in targets.items():
            if b.split(".")[0] == layer and _folder(a, modules) != _folder(b, modules):
                folders[_folder(a, modules)].setdefault(_folder(b, modules), f"{where} imports {b}")
    found = loops(folders)
    assert not found, f"folders of {layer}/ that import each other:\n" + "\n".join(
        _say(folders, lp) for lp in found)


@pytest.mark.parametrize("layer", sorted(KERNELS))
def test_the_kernel_of_a_layer_imports_none_of_its_contexts(layer):
    modules = _modules()
    graph = import_graph(modules)
    kernel = KERNELS[layer]
    bad = [f"{where} imports {b}" for a, targets in graph.items() if _folder(a, modules) == kernel
           for b, where in targets.items()
           if b.split(".")[0] == layer and _folder(b, modules) != kernel]
    assert not bad, f"{kernel} is the kernel of {layer}/ and imports a context of it: " + ", ".join(bad)


def test_the_loop_finder_finds_loops_and_only_loops():
    # Without this the two checks above could pass by finding nothing at all.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e", "a"}, "f": {"g"}, "g": {"f"}}
    assert loops(graph) == [["a", "b", "c", "a"], ["f", "g", "f"]]
    assert loops({"a": {"b"}, "b": {"c"}, "c": set()}) == []
