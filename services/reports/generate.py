"""Generate a report (周报 / 月报 / 阶段总结 / 总结报告) of a unit for a period,
write it as files and record it once per (unit, kind, period).

A second request for the same report returns the recorded one unchanged
(scheduled runs repeat; two schedulers may fire); `force` regenerates it
with the figures as they are now. Two exceptions make it anew by themselves:
a report read before its period ended (临时) once the period is over, and one
that lacks a format asked for (or whose files, recorded before the store, are
gone). The files are kept in the database (services/reports/store.py), written
with the record: every host and the web app read them there. A folder asked for
(`out_dir`: the command line's --out or reports folder) gets copies as well.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path

from sqlalchemy import Engine, insert, select, update

from models.tables import GeneratedReport
from statemachine.reports.duties import report_kind_of
from statemachine.errors import InvalidInput, Misconfigured, NotFound
from statemachine.reports.duties import all_occurrences
from statemachine.time.calendar import TZ, end_of_day

from services.core.persisted import audit_record
from services.core.uow import unit_of_work
from services.campaigns.load import plan_of
from services.core.directory import SYSTEM, actor as lookup_actor, campaign_row, require_acts_for, \
    unit_by_code
from . import store
from .contents import KINDS, gather, resolve_period

__all__ = ["FORMATS", "DEFAULT_FORMATS", "Generated", "generate", "preflight", "list_generated", "due_reports",
           "kind_of_duty", "is_provisional"]

G = GeneratedReport.__table__
FORMATS = ("md", "html", "xlsx", "docx", "pdf")
# the PDF (fpdf2 and the CJK fonts) when asked for: the nightly job makes the others
DEFAULT_FORMATS = ("md", "html", "xlsx", "docx")
LEDGER_TEMPLATE = "004"  # 整改工作台账: the one template that lists every kind of item


@dataclass(frozen=True)
class Generated:
    unit: str
    unit_name: str
    kind: str
    period: str
    files: dict[str, str]
    digest: str
    created: bool
    markdown: str
    as_of: datetime
    provisional: bool = False  # read before its period ended (临时)
    stored: dict[str, str] = field(default_factory=dict)  # format → its reference in the store


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "x"


def _resolve(conn, campaign: str, *, kind: str, unit: str | None, period: str | None,
             formats: tuple[str, ...], actor: str | None, now: datetime):
    """Kind, period, unit, formats and permission checked: (campaign row, unit, span).
    `actor` None is the nightly job (flows/reports.py); any name is a person's, looked
    up and checked, so no name given on a command line skips the check."""
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise InvalidInput(f"unknown format '{bad[0] if bad else ''}' (one or more of {', '.join(FORMATS)})")
    if "pdf" in formats:  # no CJK fonts: refused in one line before anything is made
        from notifications.documents.fonts import cjk_fonts

        cjk_fonts()
    camp = campaign_row(conn, campaign)
    plan = plan_of(conn, camp.id)
    u = unit_by_code(conn, camp.id, unit or plan.root.code)
    if actor is not None:
        require_acts_for(lookup_actor(conn, camp.id, actor), u, "generate reports")
    return camp, u, resolve_period(plan, kind, period, now=now)


def is_provisional(kind: str, span, as_of: datetime) -> bool:
    """Read before its period ended: its figures are 截至 as_of, not the period's."""
    return kind != "final" and as_of < end_of_day(span.end)


def preflight(engine: Engine, campaign: str, **request) -> None:
    """Refuse a bad request before any flow runs."""
    with engine.connect() as conn:
        _resolve(conn, campaign, **request)


def generate(engine: Engine, campaign: str, *, kind: str, unit: str | None = None, period: str | None = None,
             formats: tuple[str, ...] = DEFAULT_FORMATS, out_dir: Path | None = None, actor: str | None,
             now: datetime, force: bool = False, flow_run_id: str | None = None) -> Generated:
    """`actor`: the person asking, or None for the nightly job (recorded as SYSTEM).
    `out_dir`: a folder that gets copies, whose paths `files` then gives; None (a
    worker's run): `files` gives the store's references only."""
    with engine.connect() as conn:
        camp, u, span = _resolve(conn, campaign, kind=kind, unit=unit, period=period, formats=formats,
                                 actor=actor, now=now)
        done = conn.execute(select(G).where(G.c.campaign_id == camp.id, G.c.unit_id == u.id,
                                            G.c.kind == kind, G.c.period == span.period)).first()
        stale = done is not None and (force or _stale(conn, camp.id, done, kind, span, formats, now))
    stem = f"{kind}-{_slug(span.period)}"
    where = f"reports/{_slug(campaign)}/{_slug(u.code)}/{stem}"
    folder = Path(out_dir) / _slug(campaign) / _slug(u.code) if out_dir is not None else None
    if done is not None and not stale:
        refs = json.loads(done.files_json)
        contents = {f: store.read(engine, camp.id, refs[f]) for f in formats}
        files = _copies(contents, folder, stem) if folder is not None else {f: refs[f] for f in formats}
        text = contents["md"].decode("utf-8") if "md" in contents else \
            _text_or_empty(engine, camp.id, refs.get("md"))
        return Generated(u.code, u.name, kind, span.period, files, done.digest, False, text, done.as_of,
                         is_provisional(kind, span, done.as_of), {f: refs[f] for f in formats})
    data = gather(engine, campaign, u.code, kind, span.period, now=now)
    from notifications.documents.reports import render_html, render_markdown

    md = render_markdown(data)
    contents: dict[str, bytes] = {}
    if "md" in formats:
        contents["md"] = md.encode("utf-8")
    if "html" in formats:
        contents["html"] = render_html(data).encode("utf-8")
    if "xlsx" in formats:
        contents["xlsx"] = _workbook(data, engine, campaign, u.code)
    if "docx" in formats:
        from notifications.documents.word import report_docx

        contents["docx"] = report_docx(data)
    if "pdf" in formats:
        from notifications.documents.report_pdf import report_pdf

        contents["pdf"] = report_pdf(data)
    digest = hashlib.sha256(md.encode()).hexdigest()
    if folder is not None:  # a folder that cannot be made refuses before anything is recorded
        _mkdir(folder)
    with unit_of_work(engine) as uow:
        conn = uow.conn
        by = SYSTEM if actor is None else actor
        refs = {f: store.put(conn, campaign_id=camp.id, name=f"{where}.{f}", content=c, fmt=f, now=now)
                for f, c in contents.items()}
        values = dict(as_of=data.as_of, generated_at=now, generated_by=by, files_json=json.dumps(refs),
                      digest=digest, flow_run_id=flow_run_id)
        if done is None:
            rid = conn.execute(insert(G).values(campaign_id=camp.id, unit_id=u.id, kind=kind,
                                                period=span.period, **values).returning(G.c.id)).scalar_one()
        else:
            rid = done.id
            conn.execute(update(G).where(G.c.id == rid).values(**values))
        uow.audit(camp.id, [audit_record(
            at=now, actor=by, unit_id=u.id, entity="report", entity_id=rid, from_state=None,
            to_state="generated", trigger="generate_report",
            detail={"kind": kind, "period": span.period, "digest": digest, "files": sorted(refs)})])
        uow.commit()
    # copies after the commit: one that cannot be written never loses the stored report
    files = _copies(contents, folder, stem) if folder is not None else refs
    return Generated(u.code, u.name, kind, span.period, files, digest, True, md, data.as_of, data.provisional,
                     refs)


def _text_or_empty(engine: Engine, campaign_id: int, ref: str | None) -> str:
    try:
        return store.read(engine, campaign_id, ref).decode("utf-8") if ref else ""
    except NotFound:
        return ""


def _stale(conn, campaign_id: int, done, kind: str, span, formats: tuple[str, ...], now: datetime) -> bool:
    """The recorded report must be made anew: it was provisional and its period has
    ended, or a format asked for is missing (never made, or a pre-store file deleted)."""
    if is_provisional(kind, span, done.as_of) and now >= end_of_day(span.end):
        return True
    files = json.loads(done.files_json)
    return any(f not in files or not store.present(conn, campaign_id, files[f]) for f in formats)


def _copies(contents: dict[str, bytes], folder: Path, stem: str) -> dict[str, str]:
    """The files of the formats asked for written into `folder`: `--out` always gets them."""
    _mkdir(folder)
    return {f: _write(folder / f"{stem}.{f}", c) for f, c in contents.items()}


def _mkdir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _unwritable(folder, e) from None


def _write(path: Path, content: str | bytes) -> str:
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        if isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            tmp.write_text(content, encoding="utf-8")
        tmp.replace(path)  # a reader never sees half a report
    except OSError as e:
        raise _unwritable(path, e) from None
    return str(path)


def _unwritable(path: Path, e: OSError) -> Misconfigured:
    return Misconfigured(f"cannot write the report to {path}: {e.strerror or e} "
                         f"(the reports folder: RECTIFY_REPORTS_DIR, or --out)")


def _workbook(data, engine: Engine, campaign: str, unit: str) -> bytes:
    from notifications.documents.workbook import report_workbook

    from services.ledgers.export import draw_ledger

    wb = report_workbook(data)
    if data.kind == "final":  # 附件1 整改问题清单（台账）, all of it
        draw_ledger(wb.create_sheet(), engine, campaign, unit, LEDGER_TEMPLATE,
                    on=data.as_of.astimezone(TZ).date())
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def list_generated(engine: Engine, campaign: str, *, unit: str | None = None) -> list[dict]:
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        q = select(G).where(G.c.campaign_id == camp.id).order_by(G.c.generated_at, G.c.id)
        if unit:
            q = q.where(G.c.unit_id == unit_by_code(conn, camp.id, unit).id)
        return [dict(kind=r.kind, period=r.period, as_of=r.as_of, generated_at=r.generated_at,
                     files=json.loads(r.files_json), digest=r.digest) for r in conn.execute(q)]


kind_of_duty = report_kind_of  # statemachine/reports/duties.py


def due_reports(engine: Engine, campaign: str, *, now: datetime) -> list[tuple[str, str]]:
    """(kind, period) of the supervisor's roll-ups due by now: for each duty, its
    latest occurrence already due (not a backlog of every past week)."""
    with engine.connect() as conn:
        plan = plan_of(conn, campaign_row(conn, campaign).id)
    latest: dict[str, object] = {}
    for o in all_occurrences(plan):
        if o.due_at <= now:
            latest[o.duty] = o
    out: list[tuple[str, str]] = []
    for duty, o in latest.items():
        kind = kind_of_duty(plan, duty)
        if kind is None:
            continue
        period = {"weekly": o.period, "monthly": o.period, "stage": o.period, "final": "final"}[kind]
        if (kind, period) not in out:
            out.append((kind, period))
    # the lead's provisional reports whose period has ended since: made again with the
    # whole period's figures, even when their duty's next period is already due
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        root = unit_by_code(conn, camp.id, plan.root.code)
        recorded = conn.execute(select(G.c.kind, G.c.period, G.c.as_of).where(
            G.c.campaign_id == camp.id, G.c.unit_id == root.id, G.c.kind != "final")
            .order_by(G.c.id)).all()
    for r in recorded:
        span = resolve_period(plan, r.kind, r.period, now=now)
        if is_provisional(r.kind, span, r.as_of) and now >= end_of_day(span.end) and (r.kind, r.period) not in out:
            out.append((r.kind, r.period))
    return out


__all__ += ["KINDS"]
