"""A campaign's notice template overrides: read from the plan's `notices/`
folder when the plan is loaded, checked (notifications/documents/overrides.py)
and stored with the campaign; read back from the database, never from a
folder, whenever a notice is issued.

Only `*.j2` files directly in the folder count; a link, a folder or an
unreadable file among them is refused, as is a file too large to be a
template (checked before it is read).
"""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Connection, select

from models.tables import Campaign
from statemachine.errors import NoticeTemplateError

__all__ = ["read_notice_folder", "notice_templates_of", "FOLDER"]

C = Campaign.__table__
FOLDER = "notices"


def read_notice_folder(plan_file: Path) -> dict[str, str]:
    """{file name: text} of the `notices/` folder beside `plan_file`, checked;
    {} when there is none."""
    from notifications.documents.overrides import MAX_TEMPLATE_CHARS, MAX_TEMPLATES, check_overrides

    folder = Path(plan_file).absolute().parent / FOLDER
    if not folder.is_dir():
        return {}
    files = sorted(p for p in folder.iterdir() if p.name.endswith(".j2"))
    if len(files) > MAX_TEMPLATES:
        raise NoticeTemplateError(f"{folder}: {len(files)} templates; at most {MAX_TEMPLATES}")
    texts: dict[str, str] = {}
    for p in files:
        if p.is_symlink() or not p.is_file():
            raise NoticeTemplateError(f"{p}: not a regular file")
        if p.stat().st_size > 4 * MAX_TEMPLATE_CHARS:  # UTF-8: at most 4 bytes a character
            raise NoticeTemplateError(f"{p}: {p.stat().st_size} bytes; a template has at most "
                                      f"{MAX_TEMPLATE_CHARS} characters")
        try:
            texts[p.name] = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise NoticeTemplateError(f"{p}: not UTF-8 text") from None
        except OSError as e:
            raise NoticeTemplateError(f"{p}: cannot read: {e.strerror or e}") from None
    check_overrides(texts, where=f"{folder}/")
    return texts


def notice_templates_of(conn: Connection, campaign_id: int) -> dict[str, str]:
    """The overrides stored with the campaign at load ({} for none)."""
    raw = conn.execute(select(C.c.notice_templates_json).where(C.c.id == campaign_id)).scalar_one()
    return json.loads(raw or "{}")
