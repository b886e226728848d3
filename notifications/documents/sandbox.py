"""The one Jinja2 environment documents are rendered in: a sandbox.

Notice templates can come from a campaign (its overrides, stored at load),
so a template is data, never code: `ImmutableSandboxedEnvironment` refuses
attributes that lead out of the data (`__globals__`, `__class__`, a
function's closure) and calls that change it, and this environment has no
globals at all (Jinja's `lipsum`, `cycler`, `joiner`, `namespace`, `range`
and `dict` are gone), so a template sees the fields it is given and the
filters named here, nothing else. Arithmetic that could build a huge value
(`'x' * 10**9`, `2 ** 10**9`) is refused, and kept out of Jinja's
compile-time constant folding by being intercepted.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import builtins

from jinja2 import BaseLoader, StrictUndefined
from jinja2.exceptions import SecurityError
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = ["sandboxed_environment", "SecurityError", "MAX_PRODUCT"]

MAX_PRODUCT = 10_000  # the longest string or list `*` may build, the largest number
# a loop's own counters: plain values, read straight (the sandbox's check of each
# `loop.index` was a tenth of rendering the escalation pass's notices)
_LOOP_FIELDS = frozenset({"index", "index0", "revindex", "revindex0", "first", "last", "length",
                          "depth", "depth0", "previtem", "nextitem"})


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%", "//", "/"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is LoopContext and attribute in _LOOP_FIELDS:
            return builtins.getattr(obj, attribute)
        return super().getattr(obj, attribute)

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("templates may not raise to a power")
        if operator == "%" and isinstance(left, str):
            raise SecurityError("templates may not format with %")
        if operator == "*":
            sizes = [len(v) for v in (left, right) if isinstance(v, (str, list, tuple))]
            numbers = [abs(v) for v in (left, right) if isinstance(v, (int, float))]
            if sizes and max(numbers or [0]) * max(sizes) > MAX_PRODUCT:
                raise SecurityError(f"templates may not build values over {MAX_PRODUCT} items")
        return super().call_binop(context, operator, left, right)


def sandboxed_environment(loader: BaseLoader, *, autoescape: Any = False,
                          finalize: Callable[[Any], Any] | None = None,
                          filters: Mapping[str, Callable] = {}, only_filters: bool = False,
                          **options: Any) -> ImmutableSandboxedEnvironment:
    """A strict (undefined names are errors), sandboxed environment without globals.

    `only_filters`: the filters given are the only ones (campaign templates);
    otherwise they are added to Jinja's builtin filters (shipped templates)."""
    env = _Sandbox(loader=loader, undefined=StrictUndefined, autoescape=autoescape, finalize=finalize,
                   auto_reload=False,  # templates do not change under a running process
                   **options)
    env.globals.clear()
    if only_filters:
        env.filters.clear()
    env.filters.update(filters)
    return env
