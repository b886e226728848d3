"""Rendering notices (公文) from Jinja2 templates, to HTML and plain text.

Each kind has `<kind>.html.j2` and `<kind>.txt.j2` in templates/ (the text one sets
the title, which the HTML one receives), extending
the common layout (issuing unit, document number, title, addressee, body,
signature, date). A folder given as `override_dir` wins over the shipped
templates file by file, so a campaign can restyle one notice and keep the rest.

Strict: a field a template uses but the context lacks is an error naming it
(StrictUndefined); HTML is autoescaped, plain text is not.

Fields every kind uses: issuer_name, doc_number, addressee, date (成文日期,
2023年4月8日), grounds (依据), facts (list of lines), campaign_title.
Per kind, see REQUIRED_FIELDS.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, \
    UndefinedError, select_autoescape

from statemachine.errors import InvalidInput

__all__ = ["RenderedNotice", "NoticeTemplateError", "render_notice", "KINDS", "REQUIRED_FIELDS"]

TEMPLATES = Path(__file__).with_name("templates")
COMMON = ("issuer_name", "doc_number", "addressee", "date", "grounds", "facts", "campaign_title")
REQUIRED_FIELDS = {
    "criticism": COMMON + ("required_action", "deadline"),
    "interview": COMMON + ("required_action", "deadline"),
    "listed": COMMON + ("required_action", "deadline"),
    "chase": COMMON + ("original_deadline", "deadline"),
    "delisting": COMMON + ("verification",),
    "accountability": COMMON + ("required_action", "deadline"),
    "transfer": COMMON + ("receiving_organ",),
}
KINDS = tuple(REQUIRED_FIELDS)


class NoticeTemplateError(InvalidInput):
    pass


@dataclass(frozen=True)
class RenderedNotice:
    title: str
    html: str
    text: str


@lru_cache(maxsize=16)
def _env(override_dir: str | None) -> Environment:
    loaders = [FileSystemLoader(override_dir)] if override_dir else []
    return Environment(loader=ChoiceLoader([*loaders, FileSystemLoader(str(TEMPLATES))]),
                       undefined=StrictUndefined, autoescape=select_autoescape(["html.j2"]),
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def _missing(e: UndefinedError) -> str:
    m = re.search(r"'([^']+)' is undefined", str(e))
    return m.group(1) if m else str(e)


def render_notice(kind: str, context: Mapping, *, override_dir: Path | None = None) -> RenderedNotice:
    if kind not in REQUIRED_FIELDS:
        raise NoticeTemplateError(f"unknown notice kind '{kind}' (one of {', '.join(KINDS)})")
    env = _env(str(override_dir) if override_dir else None)
    ctx = dict(context)
    try:
        text_t = env.get_template(f"{kind}.txt.j2")
        html_t = env.get_template(f"{kind}.html.j2")
        title = str(text_t.make_module(ctx).title).strip()
        ctx["title"] = title
        return RenderedNotice(title=title, text=text_t.render(ctx), html=html_t.render(ctx))
    except UndefinedError as e:
        raise NoticeTemplateError(f"notice '{kind}': missing field '{_missing(e)}'") from None
    except TemplateNotFound as e:
        raise NoticeTemplateError(f"notice '{kind}': template {e.name} not found") from None
