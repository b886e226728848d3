"""The one error tree: drawn in statemachine/errors.py's docstring, defined there only.

The drawing is the reference a reader (and the coming web app) trusts, so it
is checked against the classes: same names, same parents, same exit codes and
HTTP statuses. And no module of ours defines an exception of its own outside
the tree, except private control-flow ones (`_RollBack`), found on the source
as tests/unit/test_layers.py finds imports.
"""
from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import re
from http import HTTPStatus
from pathlib import Path

import pytest

from statemachine import errors
from statemachine.errors import RectifyError

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("app", "flows", "services", "notifications", "models", "statemachine")
ERRORS_PY = ROOT / "statemachine" / "errors.py"

# "    │   ├── PlanError               1   422  a plan or round file ..."
ROW = re.compile(r"^    (?P<indent>(?:[│ ]   )*)(?:[├└]── )?(?P<name>[A-Z]\w+)\s+(?P<exit>\d+)\s+(?P<http>\d{3})\s+\S")


def _drawn() -> dict[str, tuple[str | None, int, int]]:
    """name -> (drawn parent, exit code, HTTP status), read off the docstring's tree."""
    rows, stack = {}, []
    for line in errors.__doc__.splitlines():
        m = ROW.match(line)
        if not m:
            continue
        depth = len(m["indent"]) // 4 + (1 if "──" in line else 0)
        del stack[depth:]
        assert len(stack) == depth, f"the drawing skips a level at {m['name']}"
        assert m["name"] not in rows, f"{m['name']} is drawn twice"
        rows[m["name"]] = (stack[-1] if stack else None, int(m["exit"]), int(m["http"]))
        stack.append(m["name"])
    return rows


TREE = [getattr(errors, name) for name in errors.__all__]


def _tree_parent(cls: type) -> str | None:
    # Mixins such as ValueError are not part of the drawing; the tree parent is
    # the one base that is itself a RectifyError.
    parents = [b for b in cls.__bases__ if issubclass(b, RectifyError)]
    assert len(parents) <= 1, f"{cls.__name__} has two parents in the tree"
    return parents[0].__name__ if parents else None


def test_the_drawing_names_every_class_and_nothing_else():
    drawn = _drawn()
    assert len(drawn) > 10  # the pattern reads the drawing at all
    assert sorted(drawn) == sorted(errors.__all__)


@pytest.mark.parametrize("cls", TREE, ids=lambda c: c.__name__)
def test_the_drawing_shows_the_class_as_it_is(cls):
    parent, exit_code, http = _drawn()[cls.__name__]
    assert _tree_parent(cls) == parent
    assert cls.exit_code == exit_code, f"{cls.__name__}: drawn exit {exit_code}, class says {cls.exit_code}"
    assert cls.http_status == http, f"{cls.__name__}: drawn HTTP {http}, class says {cls.http_status}"


@pytest.mark.parametrize("cls", TREE, ids=lambda c: c.__name__)
def test_every_class_has_an_exit_code_and_an_http_error_status(cls):
    assert issubclass(cls, RectifyError)
    assert isinstance(cls.exit_code, int) and cls.exit_code > 0
    assert isinstance(cls.http_status, int) and 400 <= cls.http_status < 600
    HTTPStatus(cls.http_status)  # a status the web framework knows


def test_usage_errors_exit_2_and_nothing_else_does():
    # 2 is the command line's "you typed it wrong" (click, argparse); a domain
    # refusal must not be mistaken for one by a script.
    assert [c.__name__ for c in TREE if c.exit_code == 2] == ["UsageError"]


def test_errors_py_defines_no_exception_outside_all():
    defined = {name for name, obj in vars(errors).items()
               if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == errors.__name__}
    assert defined == set(errors.__all__)


@pytest.mark.parametrize("cls", [errors.CalendarNotCovered, errors.CalendarFileError,
                                 errors.PlanReferenceError, errors.UnknownState], ids=lambda c: c.__name__)
def test_errors_raised_where_value_errors_are_expected_stay_value_errors(cls):
    # pydantic turns only ValueError (and AssertionError) raised in a validator
    # into a field error; callers parsing input catch ValueError around these.
    assert issubclass(cls, ValueError)


@pytest.mark.parametrize("module,name", [
    ("statemachine.time.calendar", "CalendarNotCovered"),
    ("statemachine.time.calendar", "CalendarFileError"),
    ("statemachine.plan", "PlanReferenceError"),
    ("services.campaigns.plans", "PlanError"),
    ("notifications.documents.notices", "NoticeTemplateError"),
    ("notifications.delivery.channels", "DeliveryError"),
    ("app.cli.context", "NotInitialised"),
    ("app.flow_runner", "PrefectUnavailable"),
])
def test_old_homes_still_export_the_same_class(module, name):
    mod = importlib.import_module(module)
    assert name in mod.__all__
    assert getattr(mod, name) is getattr(errors, name)


def test_pydantic_still_reports_a_plan_reference_error_as_a_field_error():
    from services.campaigns.plans import PlanError, parse_plan

    text = (ROOT / "tests" / "fixtures" / "small-plan.yaml").read_text(encoding="utf-8")
    assert "unit: county-a}" in text
    bad = text.replace("unit: county-a}", "unit: county-zz}", 1)
    with pytest.raises(PlanError, match=r"small-plan.yaml:\d+: people\[\d+\]\.unit: ") as exc:
        parse_plan(bad, source="small-plan.yaml")
    assert "county-zz" in str(exc.value)


# -- no exception classes outside the tree ------------------------------------------------
def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _path_of(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.exists():
            return p
    return None


class _Module:
    """What a module's source says about its names: its classes and its imports."""

    def __init__(self, name: str, tree: ast.Module, package: str):
        self.name, self.classes, self.imported, self.aliases = name, {}, {}, {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                self.classes.setdefault(node.name, node)
            elif isinstance(node, ast.ImportFrom):
                src = node.module or ""
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    src = ".".join([*base, src] if src else base)
                for a in node.names:
                    self.imported[a.asname or a.name] = (src, a.name)
            elif isinstance(node, ast.Import):
                for a in node.names:
                    self.aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]


class ExceptionFinder:
    """Whether a class statement defines an exception, following our imports on
    the source and importing third-party modules only to look a base up."""

    def __init__(self):
        self._modules: dict[str, _Module] = {}

    def module(self, name: str, source: str | None = None) -> _Module:
        if name not in self._modules:
            path = _path_of(name)
            text = source if source is not None else path.read_text(encoding="utf-8")
            package = name if path is not None and path.name == "__init__.py" else name.rpartition(".")[0]
            self._modules[name] = _Module(name, ast.parse(text), package)
        return self._modules[name]

    def is_exception_class(self, mod: _Module, node: ast.ClassDef) -> bool:
        return any(self._is_exception(mod, b) for b in node.bases)

    def _is_exception(self, mod: _Module, expr: ast.expr) -> bool:
        if isinstance(expr, ast.Subscript):  # Generic[S]
            return self._is_exception(mod, expr.value)
        if isinstance(expr, ast.Attribute):  # yaml.YAMLError
            dotted = []
            while isinstance(expr, ast.Attribute):
                dotted.insert(0, expr.attr)
                expr = expr.value
            if not isinstance(expr, ast.Name) or expr.id not in mod.aliases:
                return False
            return self._foreign(mod.aliases[expr.id], ".".join(dotted))
        if not isinstance(expr, ast.Name):
            return False
        return self._name(mod, expr.id)

    def _name(self, mod: _Module, name: str) -> bool:
        if name in mod.classes:
            return self.is_exception_class(mod, mod.classes[name])
        if name in mod.imported:
            src, attr = mod.imported[name]
            if src.split(".")[0] in LAYERS and _path_of(src) is not None:
                return self._name(self.module(src), attr)
            return self._foreign(src, attr)
        obj = getattr(builtins, name, None)
        return inspect.isclass(obj) and issubclass(obj, BaseException)

    @staticmethod
    def _foreign(module: str, dotted: str) -> bool:
        obj = importlib.import_module(module)
        for part in dotted.split("."):
            obj = getattr(obj, part)
        return inspect.isclass(obj) and issubclass(obj, BaseException)


SOURCES = sorted(p for layer in LAYERS for p in (ROOT / layer).rglob("*.py") if p != ERRORS_PY)


def _exception_classes(finder: ExceptionFinder, path: Path) -> list[str]:
    mod = finder.module(_module_name(path))
    return [name for name, node in mod.classes.items() if finder.is_exception_class(mod, node)]


@pytest.fixture(scope="module")
def finder() -> ExceptionFinder:
    return ExceptionFinder()


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_no_module_defines_a_public_exception_outside_the_tree(finder, path):
    outside = [n for n in _exception_classes(finder, path) if not n.startswith("_")]
    assert not outside, (f"{path.relative_to(ROOT)} defines {outside}: define expected errors in "
                         "statemachine/errors.py (drawn in its docstring), or name a control-flow one _Private")


def test_the_finder_sees_exceptions_however_they_are_based(finder):
    # Without this the check above could pass by finding nothing at all.
    assert "_GuardFailed" in _exception_classes(finder, ROOT / "statemachine" / "charts" / "table.py")
    mod = finder.module("services.example_for_the_test", source=(
        "import yaml\n"
        "from statemachine.errors import InvalidInput\n"
        "from services.campaigns.plans import PlanError\n"
        "from dataclasses import dataclass\n"
        "class A(ValueError): pass\n"
        "class B(InvalidInput): pass\n"
        "class C(PlanError): pass\n"
        "class D(yaml.YAMLError): pass\n"
        "class E(D): pass\n"
        "def f():\n"
        "    class F(KeyError): pass\n"
        "class G: pass\n"
        "class H(dict): pass\n"))
    found = [n for n, node in mod.classes.items() if finder.is_exception_class(mod, node)]
    assert found == ["A", "B", "C", "D", "E", "F"]
