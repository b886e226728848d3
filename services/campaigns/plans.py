"""Reading a campaign plan file: YAML in, a validated Plan or one clear error out.

Errors name the file, the line and the field (docs/architecture.md
decision 10), so the YAML is composed into nodes first to keep each value's
line number.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from statemachine.errors import InvalidInput, PlanError
from statemachine.plan import Plan

from services.core.input_files import MAX_PLAN_BYTES, MAX_YAML_DEPTH, read_input, size_text

__all__ = ["PlanError", "read_plan", "locate_plan", "read_yaml_file", "parse_plan", "parse_yaml_model",
           "shipped_plans", "PLANS_DIR"]

M = TypeVar("M", bound=BaseModel)

PLANS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "plans"


def _lines(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    out = {} if out is None else out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            _lines(v, path + (k.value,), out)
            out[path + (k.value,)] = k.start_mark.line + 1  # the key's line, not its block's first
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _lines(v, path + (i,), out)
    return out


def _line_of(lines: dict[tuple, int], loc: tuple) -> int | None:
    loc = tuple(str(x) if not isinstance(x, int) else x for x in loc)
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc)


def _field(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _bad_scalar(source: str, node: yaml.Node | None, error: ValueError) -> PlanError:
    """Name the first timestamp-looking scalar PyYAML cannot turn into a date."""
    from datetime import date

    resolver = yaml.resolver.Resolver()
    for loc, scalar in _scalars(node, ()):
        tag = resolver.resolve(yaml.ScalarNode, scalar.value, (True, False))
        if tag != "tag:yaml.org,2002:timestamp":
            continue
        try:
            date.fromisoformat(scalar.value[:10])
        except ValueError:
            return PlanError(f"{source}:{scalar.start_mark.line + 1}: {_field(loc)}: "
                             f"'{scalar.value}' is not a valid date")
    return PlanError(f"{source}: a value could not be read: {error}")


def _scalars(node: yaml.Node | None, path: tuple):
    if isinstance(node, yaml.ScalarNode):
        yield path, node
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            yield from _scalars(v, path + (k.value,))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            yield from _scalars(v, path + (i,))


class _Refused(yaml.MarkedYAMLError):
    """Valid YAML that a plan never needs and a hostile file uses (a billion laughs, a
    self-referencing alias, a list 10,000 deep); its problem is shown as it is."""


class _InputLoader(yaml.SafeLoader):
    """The YAML of people's files, bounded while it is composed: no anchors or aliases
    (the shipped plans use none; an alias is how a small file expands without bound),
    at most MAX_YAML_DEPTH levels of nesting (composing is recursive), and no key twice
    in one mapping (PyYAML would silently keep the last)."""

    def __init__(self, text: str):
        super().__init__(text)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or event.anchor is not None:
            raise _Refused(None, None, f"anchors and aliases are not accepted "
                           f"('{'*' if isinstance(event, yaml.AliasEvent) else '&'}{event.anchor}'): "
                           f"write the value out", event.start_mark)
        if self._depth >= MAX_YAML_DEPTH:
            raise _Refused(None, None, f"nested more than {MAX_YAML_DEPTH} levels deep", event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor):
        node = super().compose_mapping_node(anchor)
        first: dict[str, int] = {}
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in first:
                    raise _Refused(None, None, f"duplicate key '{key.value}' "
                                   f"(first on line {first[key.value]})", key.start_mark)
                first[key.value] = key.start_mark.line + 1
        return node


def parse_plan(text: str, *, source: str = "<plan>") -> Plan:
    return parse_yaml_model(text, Plan, source=source,
                            shape="a plan must be a YAML mapping with campaign, units, stages …")


def parse_yaml_model(text: str, model: type[M], *, source: str, shape: str) -> M:
    """YAML text validated as `model`; any error is one PlanError naming file:line: field."""
    if len(text) > MAX_PLAN_BYTES:
        raise PlanError(f"{source}: more than {size_text(MAX_PLAN_BYTES)}, larger than any plan or round file")
    node, loader = None, None
    try:
        loader = _InputLoader(text)
        node = loader.get_single_node()
        data: Any = loader.construct_document(node) if node is not None else None
    except _Refused as e:
        raise PlanError(f"{source}:{e.problem_mark.line + 1}: {e.problem}") from None
    except yaml.reader.ReaderError as e:  # its str() is two lines and counts characters, not lines
        line = text.count("\n", 0, e.position) + 1 if isinstance(e.character, int) else None
        what = f"character U+{e.character:04X} is not allowed" if isinstance(e.character, int) else e.reason
        raise PlanError(f"{source}{f':{line}' if line else ''}: not valid YAML: {what}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise PlanError(f"{source}{where}: not valid YAML: {getattr(e, 'problem', e)}") from None
    except ValueError as e:
        # PyYAML builds dates itself and lets ValueError out for 2023-02-30
        raise _bad_scalar(source, node, e) from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        raise PlanError(f"{source}: {shape}")
    lines = _lines(node) if node is not None else {}
    try:
        return model.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        # model-level validators report at the enclosing object; keep their loc
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        # ... and a cross-reference check knows the exact field it refuses
        loc += getattr((err.get("ctx") or {}).get("error"), "loc", ())
        line = _line_of(lines, loc)
        where = f":{line}" if line else ""
        msg = err["msg"].removeprefix("Value error, ")
        more = f" (and {len(e.errors()) - 1} more)" if len(e.errors()) > 1 else ""
        raise PlanError(f"{source}{where}: {_field(loc)}: {msg}{more}") from None


def read_yaml_file(path: str | Path, *, what: str = "plan or round file") -> str:
    """A plan's or a round's text: bounded in size before it is read, UTF-8."""
    try:
        raw = read_input(path, max_bytes=MAX_PLAN_BYTES, what=what)
    except InvalidInput as e:
        raise PlanError(str(e)) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PlanError(f"{path}: not UTF-8 text") from None


def locate_plan(path: str | Path) -> Path:
    """The plan file `path` names: a file, else a shipped plan by file name or name."""
    p = Path(path)
    if not p.exists() and (PLANS_DIR / p).exists():
        p = PLANS_DIR / p
    if not p.exists() and (PLANS_DIR / f"{p}.yaml").exists():
        p = PLANS_DIR / f"{p}.yaml"
    return p


def read_plan(path: str | Path) -> Plan:
    p = locate_plan(path)
    if not p.exists():
        raise PlanError(f"{path}: no such plan file (shipped plans: "
                        f"{', '.join(sorted(x.stem for x in PLANS_DIR.glob('*.yaml')))})")
    return parse_plan(read_yaml_file(p, what="plan"), source=str(path))


def shipped_plans() -> dict[str, Path]:
    return {p.stem: p for p in sorted(PLANS_DIR.glob("*.yaml"))}
