"""Rendering notices (公文) from Jinja2 templates, to HTML and plain text.

Each kind has `<kind>.txt.j2` and `<kind>.html.j2` in templates/, both
extending a common layout in the order GB/T 9704-2012 (党政机关公文格式) gives
an official document: 版头 (发文机关标志 in red, 发文字号 with 〔〕, the red
separator), 主体 (title, 主送机关, body with facts, 依据, 整改要求 and deadline,
附件说明, 发文机关署名, 成文日期 and the seal's place, 附注 联系人) and 版记
(抄送, 印发机关 and 印发日期). The HTML carries the standard's A4 page (天头
37 mm, 订口 28 mm, 版心 156 × 225 mm) and page numbers "— 1 —" as print CSS;
notifications/documents/official.py reads it back into the parts the PDF and
Word renderings lay out. The text template sets the title
(`{% set title %}…{% endset %}`) and the HTML one receives it, so an override
of the text alone retitles both.

A campaign's `overrides` (file name → template text, read from the plan's
`notices/` folder when the plan was loaded and stored with the campaign;
checked then by notifications/documents/overrides.py) win over the shipped
templates file by file: a campaign can restyle one notice and keep the rest.
Templates are rendered in the sandbox (notifications/documents/sandbox.py)
and see only the documented fields below (`FIELDS`) and the filters of
`FILTERS`. Strict: a required field that is absent, None, blank or an empty
list, or any other name a template uses but the context lacks, is a
`NoticeTemplateError` naming the kind and the field. HTML is autoescaped;
plain text is not.

Context fields
--------------
Every kind (``COMMON``):

    issuer_name     发文机关 (署名), e.g. 忻州市交通运输局
    doc_number      发文字号, allocated by the caller: 忻交督〔2023〕3号
    addressee       主送机关: the receiving organ's full name (宁武县交通运输局)
    date            成文日期: a date, an aware datetime (taken in Asia/Shanghai)
                    or a string already written 2023年4月8日
    campaign_title  the campaign's name as a body names it ("你单位在…工作中"):
                    全市交通运输执法领域突出问题专项整治, never the plan's title
    grounds         依据, one sentence naming the plan's title and 文号:
                    根据《…实施方案》（忻交发〔2023〕1号）有关要求
    facts           事实: a list of lines, one per problem, each a whole statement in
                    Chinese (the clue by its summary and number, the stage by its name)

Per kind, in addition (``REQUIRED_FIELDS``):

    criticism       通报批评      required_action, deadline
    interview       约谈通知书    required_action, deadline, interview_at (an instant),
                                  interview_place, attendees (who is to attend)
    listed          挂牌督办通知书 required_action, deadline (整改时限); `facts` name
                                  the listed problems
    chase           催办通知书    chased_doc_number (the 文号 being chased),
                                  original_deadline (the one missed), deadline;
                                  `chased_title` optional
    delisting       摘牌通知      listed_doc_number (the listing being ended),
                                  verification (what the check found); `listed_title`
                                  optional
    accountability  追责问责      required_action, deadline; and `decision`:
                    absent/None   the notice that accountability proceedings start
                    "accountable" 追责问责决定, needs decision_text (what was decided)
                    "exempt"      容错免责决定, needs exemption_grounds (三个区分开来)
    transfer        移交纪检监察函 receiving_organ (主送: 纪委监委); the unit concerned
                    is `addressee`
    inspection      回头看 / 实地督察通知 round_title, kind_label (整改“回头看” or 实地督察),
                    deadline; `facts` are the arrangements (scope, items, sampling,
                    schedule, methods, teams); 主送 各有关单位

`required_action`, `verification`, `decision_text`, `exemption_grounds`,
`attendees` and `interview_place` are clauses a sentence goes on from: the
templates drop their closing punctuation (`cn_clause`), so a person's
"已整改到位。" never prints "。。".

The check code (校验码) of the audit chain is not a template field: the caller
passes it (`check_code=`) and it is printed after the whole document, in the
text and in the HTML, so no campaign's override can leave it out
(services/notices/issue.py says which head it is).

Dates (date, deadline, original_deadline, print_date) may be dates or strings.
Optional everywhere (``OPTIONAL``): `issuer_mark` (发文机关标志; default the
issuer's name), `cc` (抄送, a string or a list), `contact` (联系人), `phone`,
`attachments` (附件说明, a list of names), `printer` (印发机关; default the
issuer) and `print_date` (印发日期; default the date). The HTML template also
gets `title`, which the text template sets. Extra keys are not passed to the
templates.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from jinja2 import ChoiceLoader, DictLoader, FileSystemLoader, TemplateNotFound, TemplateSyntaxError, \
    UndefinedError, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

from statemachine.errors import NoticeTemplateError
from statemachine.time.calendar import TZ, local_date

from .sandbox import SecurityError, sandboxed_environment

__all__ = ["RenderedNotice", "NoticeTemplateError", "render_notice", "KINDS", "REQUIRED_FIELDS",
           "DECISION_FIELDS", "COMMON", "OPTIONAL", "FIELDS", "FILTERS", "chinese_date", "environment",
           "CHECK_CODE_LABEL"]

TEMPLATES = Path(__file__).with_name("templates")
COMMON = ("issuer_name", "doc_number", "addressee", "date", "campaign_title", "grounds", "facts")
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "criticism": COMMON + ("required_action", "deadline"),
    "interview": COMMON + ("required_action", "deadline", "interview_at", "interview_place", "attendees"),
    "listed": COMMON + ("required_action", "deadline"),
    "chase": COMMON + ("chased_doc_number", "original_deadline", "deadline"),
    "delisting": COMMON + ("listed_doc_number", "verification"),
    "accountability": COMMON + ("required_action", "deadline"),
    "transfer": COMMON + ("receiving_organ",),
    "inspection": COMMON + ("round_title", "kind_label", "deadline"),
}
# accountability: what each `decision` needs besides REQUIRED_FIELDS
DECISION_FIELDS: dict[str | None, tuple[str, ...]] = {
    None: (), "accountable": ("decision_text",), "exempt": ("exemption_grounds",)}
KINDS = tuple(REQUIRED_FIELDS)
OPTIONAL = ("issuer_mark", "cc", "contact", "phone", "attachments", "printer", "print_date")
# every field a template of each kind is given (documented above), and nothing else
FIELDS: dict[str, frozenset[str]] = {
    kind: frozenset(needed + OPTIONAL + ("title",) + {
        "chase": ("chased_title",), "delisting": ("listed_title",),
        "accountability": ("decision",) + sum(DECISION_FIELDS.values(), ())}.get(kind, ()))
    for kind, needed in REQUIRED_FIELDS.items()}


@dataclass(frozen=True)
class RenderedNotice:
    title: str
    html: str
    text: str


def chinese_date(value):
    """2023年4月8日 from a date or an instant (Beijing date); strings pass unchanged."""
    if isinstance(value, datetime):
        value = local_date(value)
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    return value


def _cn_datetime(value):
    """2023年4月20日9时30分 from an instant (Beijing time); strings pass unchanged."""
    if isinstance(value, datetime):
        t = value.astimezone(TZ) if value.tzinfo else value
        return f"{chinese_date(t.date())}{t.hour}时{t.minute:02d}分"
    return chinese_date(value)


def _cn_list(value) -> str:
    return value if isinstance(value, str) else "，".join(str(v) for v in value)


def _cn_clause(value) -> str:
    """A clause a sentence goes on from: without its closing punctuation or spaces."""
    return str(value).strip().rstrip("。；;，,、．.！!　 ")


# the filters a notice template may use: the date and list writers, and builtins
# that cannot build a value much larger than their input (not `join`: its separator
# multiplies, and joins nest)
_BUILTIN_FILTERS = ("default", "d", "escape", "e", "first", "last", "length", "count", "lower", "upper",
                    "trim", "string")


def _filters() -> dict:
    from jinja2.filters import FILTERS as builtin

    return {"cn_date": chinese_date, "cn_datetime": _cn_datetime, "cn_list": _cn_list, "cn_clause": _cn_clause,
            **{name: builtin[name] for name in _BUILTIN_FILTERS}}


FILTERS = frozenset(_filters())


@lru_cache(maxsize=32)
def environment(overrides: tuple[tuple[str, str], ...] = ()) -> ImmutableSandboxedEnvironment:
    """The sandbox with a campaign's overrides (sorted (name, text) pairs) over the shipped templates."""
    return sandboxed_environment(
        ChoiceLoader([DictLoader(dict(overrides)), FileSystemLoader(str(TEMPLATES))]),
        autoescape=select_autoescape(["html.j2"]), filters=_filters(), only_filters=True,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def _blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple)):
        return not value
    return False


def _check(kind: str, ctx: Mapping) -> None:
    needed = REQUIRED_FIELDS[kind]
    if kind == "accountability":
        decision = ctx.get("decision")
        if decision not in DECISION_FIELDS:
            raise NoticeTemplateError(f"notice '{kind}': decision '{decision}' is not one of "
                                      f"accountable, exempt (or none)")
        needed += DECISION_FIELDS[decision]
    for name in needed:
        if _blank(ctx.get(name)):
            raise NoticeTemplateError(f"notice '{kind}': missing field '{name}'")
    if isinstance(ctx["facts"], str):  # a string would render one fact per character
        raise NoticeTemplateError(f"notice '{kind}': field 'facts' must be a list of lines")


def _undefined_name(e: UndefinedError) -> str:
    m = re.search(r"'([^']+)' is undefined|has no attribute '([^']+)'", str(e))
    return (m.group(1) or m.group(2)) if m else str(e).splitlines()[0]


CHECK_CODE_LABEL = "校验码"


def _with_check_code(rendered: RenderedNotice, code: str | None) -> RenderedNotice:
    if not code:
        return rendered
    line = f"{CHECK_CODE_LABEL}：{code}"
    text = rendered.text.rstrip("\n") + f"\n\n{line}\n"
    mark = f'<p class="check-code" style="font-size:10.5pt;text-align:right">{escape(line)}</p>\n'
    end = rendered.html.rfind("</body>")
    html = rendered.html[:end] + mark + rendered.html[end:] if end >= 0 else rendered.html + mark
    return RenderedNotice(rendered.title, html, text)


def render_notice(kind: str, context: Mapping, *, overrides: Mapping[str, str] | None = None,
                  check_code: str | None = None) -> RenderedNotice:
    """The notice of `kind` as (title, html, text); see the module docstring for the fields.
    `check_code`: the audit chain's check code to print after the document."""
    return _with_check_code(_render(kind, context, overrides), check_code)


def _render(kind: str, context: Mapping, overrides: Mapping[str, str] | None) -> RenderedNotice:
    if kind not in REQUIRED_FIELDS:
        raise NoticeTemplateError(f"unknown notice kind '{kind}' (one of {', '.join(KINDS)})")
    _check(kind, context)
    env = environment(tuple(sorted(overrides.items())) if overrides else ())
    ctx = {name: context[name] for name in FIELDS[kind] if name in context}
    try:
        text_module = env.get_template(f"{kind}.txt.j2").make_module(ctx)
        title = str(getattr(text_module, "title", "")).strip()
        if not title:
            raise NoticeTemplateError(f"notice '{kind}': {kind}.txt.j2 sets no title")
        ctx["title"] = title
        html = env.get_template(f"{kind}.html.j2").render(ctx)
        return RenderedNotice(title=title, html=html, text=str(text_module))
    except SecurityError as e:
        raise NoticeTemplateError(f"notice '{kind}': refused by the sandbox: {e}") from None
    except RecursionError:  # a template that includes or calls itself (refused at load)
        raise NoticeTemplateError(f"notice '{kind}': the templates recurse without end") from None
    except UndefinedError as e:
        raise NoticeTemplateError(f"notice '{kind}': missing field '{_undefined_name(e)}'") from None
    except TemplateNotFound as e:
        raise NoticeTemplateError(f"notice '{kind}': template {e.name} not found") from None
    except TemplateSyntaxError as e:
        raise NoticeTemplateError(f"notice '{kind}': {e.filename or e.name}, line {e.lineno}: "
                                  f"{e.message}") from None
