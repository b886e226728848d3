"""The domain's Chinese names, one table per vocabulary, and the way back from a name.

The states' and the lapse causes' tables stand beside their charts (clue.py
LABELS, ladder.py CASE_LABELS and LEVEL_LABELS, lookback.py ROUND_LABELS and
CHECK_LABELS, statemachine/lapses.py CAUSES); the triggers' tables are here
(the clue chart's own stands beside it and is taken whole).
Aspects and stages are the plan's (`Aspect.name`, `StageSpec.name`). Every
entry point shows these names (the CLI, the pages, the reports) and takes a key
or, where it names one thing only, a name.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from statemachine.errors import InvalidInput
from statemachine.lapses import CAUSES, Cause
from statemachine.limits import shown

from .callback import LABELS as CALLBACK_LABELS, TRIGGER_LABELS as CALLBACK_TRIGGER_LABELS
from .clock import LABELS as CLOCK_LABELS, TRIGGER_LABELS as CLOCK_TRIGGER_LABELS
from .clue import LABELS as CLUE_LABELS, TRIGGER_LABELS as CLUE_TRIGGER_LABELS
from .extension import LABELS as EXTENSION_LABELS, TRIGGER_LABELS as EXTENSION_TRIGGER_LABELS
from .ladder import CASE_LABELS
from .lookback import CHECK_LABELS, ROUND_LABELS
from .returns import LABELS as RETURN_LABELS, TRIGGER_LABELS as RETURN_TRIGGER_LABELS
from .signing import LABELS as SIGNING_LABELS, TRIGGER_LABELS as SIGNING_TRIGGER_LABELS

__all__ = ["TRIGGER_LABELS", "STATE_LABELS", "state_label", "trigger_label", "cause_label", "key_of"]

# each chart's triggers by name, and the audit's own steps (a clue's receipt, a case's proposal)
TRIGGER_LABELS: dict[str, dict[str, str]] = {
    # a clue's own audit records of 改派 and a refused 退单 (services/clues/returns.py) too
    "clue": {"receive": "受理", "merged_in": "并入重复件", **CLUE_TRIGGER_LABELS, "sign": "签收", "return": "退单",
             "reassign": "改派", "refuse_return": "退单驳回"},
    "clue_callback": dict(CALLBACK_TRIGGER_LABELS),
    "case": {"propose": "拟督办", "issue": "确认下发", "withdraw": "撤回", "acknowledge": "签收",
             "record_interview": "记录约谈", "respond": "报送整改报告", "return_response": "退回重报",
             "resolve": "核实办结", "delist": "摘牌", "decide": "作出处理决定", "conclude": "办结移交事项",
             "escalate": "升级督办", "chase": "催办"},
    "stage": {"advance": "进入下一阶段", "enroll": "纳入整治"},
    "round": {"open": "启动", "begin_close": "结束核查", "close": "结束", "cancel": "取消"},
    "check": {"confirm": "整改到位", "find_relapse": "问题反弹", "find_faked": "弄虚作假", "revise": "更正",
              "miss": "未核查", "cancel": "取消"},
    "duty": {"submit": "报送"},
    "clock": CLOCK_TRIGGER_LABELS,
    "extension": {"request_extension": "申请延期", **EXTENSION_TRIGGER_LABELS},
    "signing": SIGNING_TRIGGER_LABELS,
    "return": RETURN_TRIGGER_LABELS,
}
# the audit names the clock's records by their entity (clue_clock); the charts' kind is `clock`
TRIGGER_LABELS["clue_clock"] = TRIGGER_LABELS["clock"]

STATE_LABELS: dict[str, Mapping[str, str]] = {
    "clue": {s.value: v for s, v in CLUE_LABELS.items()},
    "clue_callback": {s.value: v for s, v in CALLBACK_LABELS.items()},
    "case": {s.value: v for s, v in CASE_LABELS.items()},
    "round": {s.value: v for s, v in ROUND_LABELS.items()},
    "check": {s.value: v for s, v in CHECK_LABELS.items()},
    "clock": {s.value: v for s, v in CLOCK_LABELS.items()},
    "extension": {s.value: v for s, v in EXTENSION_LABELS.items()},
    "signing": {s.value: v for s, v in SIGNING_LABELS.items()},
    "return": {s.value: v for s, v in RETURN_LABELS.items()},
}
STATE_LABELS["clue_clock"] = STATE_LABELS["clock"]


def state_label(entity: str, state: str | None) -> str:
    """A state's Chinese name; an unknown one (an older database) as given."""
    if not state:
        return "—"
    return STATE_LABELS.get(entity, {}).get(state, state)


def trigger_label(entity: str, trigger: str | None) -> str:
    if not trigger:
        return "—"
    return TRIGGER_LABELS.get(entity, {}).get(trigger, trigger)


def cause_label(cause: str | None) -> str:
    """A lapse cause's short name (a table's column), e.g. 整改逾期."""
    if not cause:
        return "—"
    try:
        return CAUSES[Cause(cause)].short
    except ValueError:
        return cause


def key_of(value: str, names: Mapping[str, str] | Iterable[tuple[str, str]], *, what: str,
           option: str) -> str:
    """The key `value` stands for: a key of `names` (key → Chinese name) or a name only one key
    has; InvalidInput naming the option and the choices otherwise."""
    pairs = list(names.items() if isinstance(names, Mapping) else names)
    keys = {k for k, _ in pairs}
    if value in keys:
        return value
    by_name = [k for k, n in pairs if n == value]
    if len(by_name) == 1:
        return by_name[0]
    choices = ", ".join(f"{k} {n}" for k, n in pairs)
    if by_name:
        raise InvalidInput(f"{option}: {shown(value)} names several {what}s ({', '.join(by_name)}): give the key")
    raise InvalidInput(f"{option}: unknown {what} {shown(value)} (one of {choices})")
