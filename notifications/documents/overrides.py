"""A campaign's notice templates: what an override may contain, checked once, at load.

A plan's `notices/` folder restyles notices file by file
(notifications/documents/notices.py). The files are read when the plan is
loaded and stored with the campaign, so what a notice says never depends on
the folder a later command runs in; they are checked here before anything
is stored, each refusal one line naming the file:

- the name is a shipped template's (`criticism.txt.j2`, `_base.html.j2` …)
  or a new partial (`_letterhead.html.j2`), at most MAX_TEMPLATES files of
  MAX_TEMPLATE_CHARS characters each;
- it parses in the sandbox, with only the notice filters (`FILTERS`);
- it names only the documented fields of its kind (`FIELDS`; a partial, any
  kind's), never an attribute or key starting with `_`;
- no calls but `super()`, no macros or imports, no arithmetic that builds
  values, filters given constants only, at most MAX_ASSIGNMENTS `set`s,
  loops only over a field, at most MAX_LOOP_DEPTH deep, never `recursive`,
  and no `set`, `include` or `block` inside a loop: what a notice costs to
  render stays bounded by the size of its fields and its templates;
- `extends` and `include` name a known template and never come back round;
- every kind it touches renders, with only the required fields and with all.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Iterable, Mapping

from jinja2 import TemplateSyntaxError, meta, nodes

from statemachine.errors import NoticeTemplateError
from statemachine.time.calendar import TZ

from .notices import DECISION_FIELDS, FIELDS, KINDS, REQUIRED_FIELDS, TEMPLATES, environment, render_notice

__all__ = ["check_overrides", "shipped_names", "MAX_TEMPLATES", "MAX_TEMPLATE_CHARS", "MAX_ASSIGNMENTS",
           "MAX_LOOP_DEPTH"]

MAX_TEMPLATES = 40
MAX_TEMPLATE_CHARS = 32_000
MAX_ASSIGNMENTS = 8
MAX_LOOP_DEPTH = 2

_NAME = re.compile(r"^_?[a-z][a-z0-9_]*\.(txt|html)\.j2$")
_ALLOWED_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Const, nodes.Name, nodes.Getattr, nodes.Getitem,
    nodes.Slice, nodes.Filter, nodes.Test, nodes.If, nodes.For, nodes.Assign, nodes.AssignBlock, nodes.Block,
    nodes.Extends, nodes.Include, nodes.Compare, nodes.Operand, nodes.And, nodes.Or, nodes.Not,
    nodes.CondExpr, nodes.Concat, nodes.Add, nodes.Sub, nodes.Neg, nodes.Pos, nodes.List, nodes.Tuple,
    nodes.Keyword, nodes.Call)  # Call: super() only, below
_ALL_FIELDS = frozenset().union(*FIELDS.values())


@lru_cache(maxsize=1)
def shipped_names() -> tuple[str, ...]:
    return tuple(sorted(p.name for p in TEMPLATES.glob("*.j2")))


def _kind_of(name: str) -> str | None:
    """The notice kind a template renders; None for a partial (`_base`, `_facts`, new ones)."""
    return None if name.startswith("_") else name.split(".", 1)[0]


def _refuse(where: str, name: str, why: str) -> NoticeTemplateError:
    return NoticeTemplateError(f"{where}{name}: {why}")


def _walk_rules(where: str, name: str, tree: nodes.Template, fields: frozenset[str]) -> None:
    assignments = 0

    def visit(node: nodes.Node, loops: int) -> None:
        nonlocal assignments
        if not isinstance(node, _ALLOWED_NODES):
            raise _refuse(where, name, f"line {node.lineno}: {_what(node)} is not allowed in a notice template")
        if isinstance(node, nodes.Call) and not (isinstance(node.node, nodes.Name) and node.node.name == "super"
                                                 and not (node.args or node.kwargs or node.dyn_args
                                                          or node.dyn_kwargs)):
            raise _refuse(where, name, f"line {node.lineno}: calls are not allowed in a notice template "
                                       f"(only super())")
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            raise _refuse(where, name, f"line {node.lineno}: attribute '{node.attr}' is not allowed")
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) \
                and isinstance(node.arg.value, str) and node.arg.value.startswith("_"):
            raise _refuse(where, name, f"line {node.lineno}: key '{node.arg.value}' is not allowed")
        if isinstance(node, nodes.Filter) and (node.dyn_args or node.dyn_kwargs or not all(
                isinstance(arg, nodes.Const) for arg in node.args + [kw.value for kw in node.kwargs])):
            raise _refuse(where, name, f"line {node.lineno}: a filter takes constants only")
        if loops and isinstance(node, (nodes.Assign, nodes.AssignBlock, nodes.Include, nodes.Block)):
            raise _refuse(where, name, f"line {node.lineno}: no set, include or block inside a loop")
        if isinstance(node, (nodes.Assign, nodes.AssignBlock)):
            assignments += 1
            if assignments > MAX_ASSIGNMENTS:
                raise _refuse(where, name, f"line {node.lineno}: more than {MAX_ASSIGNMENTS} 'set's")
        if isinstance(node, nodes.For):
            if node.recursive:
                raise _refuse(where, name, f"line {node.lineno}: recursive loops are not allowed")
            if not (isinstance(node.iter, nodes.Name) and node.iter.name in fields):
                raise _refuse(where, name, f"line {node.lineno}: a loop goes over a field (facts, cc)")
            if loops + 1 > MAX_LOOP_DEPTH:
                raise _refuse(where, name, f"line {node.lineno}: loops nest at most {MAX_LOOP_DEPTH} deep")
            for child in (node.target, node.iter, node.test):
                if child is not None:
                    visit(child, loops)
            for child in node.body + node.else_:
                visit(child, loops + 1)
            return
        for child in node.iter_child_nodes():
            visit(child, loops)

    visit(tree, 0)


def _what(node: nodes.Node) -> str:
    return {"Macro": "a macro", "CallBlock": "a call block", "Import": "an import", "FromImport": "an import",
            "Mul": "'*'", "Div": "'/'", "FloorDiv": "'//'", "Mod": "'%'", "Pow": "'**'", "Dict": "a dict",
            "FilterBlock": "a filter block", "With": "a with block", "NSRef": "a namespace"}.get(
        type(node).__name__, f"'{type(node).__name__}'")


def _references(where: str, name: str, tree: nodes.Template, known: Iterable[str]) -> set[str]:
    refs = set()
    for ref in meta.find_referenced_templates(tree):
        if ref is None:
            raise _refuse(where, name, "extends or includes a template named by a variable")
        if ref not in known:
            raise _refuse(where, name, f"extends or includes '{ref}', which is neither shipped nor here")
        refs.add(ref)
    return refs


def _no_cycle(where: str, graph: Mapping[str, set[str]]) -> None:
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = path[path.index(name):] + [name]
            raise _refuse(where, cycle[0], "includes itself: " + " → ".join(cycle))
        if name in done:
            return
        for ref in sorted(graph.get(name, ())):
            visit(ref, path + [name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def _sample(kind: str, *, full: bool, decision: str | None = None) -> dict:
    values = {"issuer_name": "示例市交通运输局", "doc_number": "示例督〔2023〕1号", "addressee": "示例县交通运输局",
              "date": date(2023, 5, 12), "campaign_title": "示例专项整治", "grounds": "根据《示例方案》有关要求",
              "facts": ["示例问题一", "示例问题二"], "required_action": "立即整改", "deadline": date(2023, 5, 26),
              "original_deadline": date(2023, 5, 19), "verification": "经核查已整改到位",
              "receiving_organ": "示例市纪委监委", "round_title": "示例回头看", "kind_label": "整改“回头看”",
              "decision_text": "诫勉谈话", "exemption_grounds": "无意过失", "cc": ["示例局"],
              "contact": "张三", "phone": "0000-0000000",
              "interview_at": datetime(2023, 5, 20, 9, 30, tzinfo=TZ), "interview_place": "示例会议室",
              "attendees": "你单位主要负责同志", "chased_doc_number": "示例督〔2023〕1号", "chased_title": "示例通报",
              "listed_doc_number": "示例督〔2023〕1号", "listed_title": "挂牌督办通知书",
              "issuer_mark": "示例市交通运输局文件", "attachments": ["示例附件"], "printer": "示例市交通运输局办公室",
              "print_date": date(2023, 5, 12)}
    wanted = set(REQUIRED_FIELDS[kind]) | set(DECISION_FIELDS[decision] if kind == "accountability" else ())
    if full:
        wanted |= FIELDS[kind] - {"title", "decision"}
    ctx = {k: v for k, v in values.items() if k in wanted}
    if decision is not None:
        ctx["decision"] = decision
    return ctx


def _renders(where: str, kinds: Iterable[str], overrides: Mapping[str, str]) -> None:
    for kind in kinds:
        decisions = list(DECISION_FIELDS) if kind == "accountability" else [None]
        for decision in decisions:
            for full in (False, True):
                try:
                    render_notice(kind, _sample(kind, full=full, decision=decision), overrides=overrides)
                except NoticeTemplateError as e:
                    given = "every documented field" if full else \
                        "only the required fields; an optional one needs 'is defined'"
                    raise NoticeTemplateError(f"{where}: {e} (rendered with {given})") from None


def check_overrides(overrides: Mapping[str, str], *, where: str = "") -> None:
    """Refuse overrides that are not plain notice templates (see the module
    docstring); `where` prefixes each file name in a refusal (the folder)."""
    if not overrides:
        return
    if len(overrides) > MAX_TEMPLATES:
        raise NoticeTemplateError(f"{where or 'notices'}: {len(overrides)} templates; at most {MAX_TEMPLATES}")
    shipped = shipped_names()
    env = environment(tuple(sorted(overrides.items())))
    known = set(shipped) | set(overrides)
    graph: dict[str, set[str]] = {}
    for name in shipped:  # the shipped templates' includes, for cycles through them
        if name not in overrides:
            graph[name] = set(meta.find_referenced_templates(env.parse(
                env.loader.get_source(env, name)[0], name))) - {None}
    for name, text in sorted(overrides.items()):
        if not _NAME.match(name) or (name not in shipped and not name.startswith("_")):
            raise _refuse(where, name, f"not a notice template (one of {', '.join(shipped)}, "
                                       f"or a new partial _NAME.txt.j2 / _NAME.html.j2)")
        if len(text) > MAX_TEMPLATE_CHARS:
            raise _refuse(where, name, f"{len(text)} characters; at most {MAX_TEMPLATE_CHARS}")
        kind = _kind_of(name)
        fields = FIELDS[kind] if kind in FIELDS else _ALL_FIELDS
        try:
            tree = env.parse(text, name)
            unknown = sorted(meta.find_undeclared_variables(tree) - fields - {"super"})
            if unknown:
                has = f"a {kind} notice has" if kind else "notices have"
                raise _refuse(where, name, f"unknown field '{unknown[0]}' ({has}: {', '.join(sorted(fields))})")
            _walk_rules(where, name, tree, fields)
            env.compile(tree, name)  # an unknown filter is found here (after the rules: no folding)
        except TemplateSyntaxError as e:
            raise _refuse(where, name, f"line {e.lineno}: {e.message}") from None
        graph[name] = _references(where, name, tree, known)
    _no_cycle(where, graph)
    touched = KINDS if any(_kind_of(n) is None for n in overrides) else \
        [k for k in KINDS if any(_kind_of(n) == k for n in overrides)]
    _renders(where.rstrip("/") or "notices", touched, overrides)
