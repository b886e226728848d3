"""The clues one sees, filtered and a page at a time (the same query as
`GET /api/v1/clues`: services/clues/lifecycle.py `list_clues`), and a clue's page: its
facts, sources, history, and the steps the signed-in person may take on it in its state
(services/core/actions.py), each a form posting to the same use case as
`rectify clue transition`."""
from __future__ import annotations

from typing import Optional
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse

from services.accounts.accounts import Identity
from services.campaigns.load import plan_of
from services.clues.callbacks import redo
from services.clues.lifecycle import ClueInput, list_clues, transition
from services.clues.merging import merge
from services.clues.returns import STEPS as ASSIGNMENT_STEPS, step as assignment_step
from services.core.actions import APPROVE_EXTENSION, REFUSE_EXTENSION, REQUEST_EXTENSION, TIME_TRIGGERS, \
    ClueItem, allowed_actions
from services.core.directory import campaign_row
from services.core.input_files import size_text
from services.core.refs import MAX_INT
from services.evidence.files import attach, list_evidence
from services.evidence.store import EvidenceStore
from services.work.mywork import deadline_colours
from services.work.reading import readable_clue, units_within
from statemachine.charts.clue import ITEM_KINDS, LABELS, OPEN_STATES
from statemachine.errors import InvalidInput, TooLarge

from ..api.common import Paging, page_of
from ..api.evidence import FILE_FIELD
from ..auth import signed_in
from ..deps import domain_now, engine, runtime
from ..templating import render
from .forms import TEXT_MAX, day, fields_for, number as whole_number, text

__all__ = ["CLUE_PAGE", "router"]

router = APIRouter(include_in_schema=False)
CLUE_PAGE = 50


@router.get("/clues")
def clue_list(request: Request, who: Identity = Depends(signed_in),
              state: str = Query("", max_length=40), unit: str = Query("", max_length=100),
              aspect: str = Query("", max_length=100), kind: str = Query("", max_length=40),
              overdue: bool = False, offset: int = Query(0, ge=0, le=MAX_INT)):
    """A filter left empty is no filter (what a GET form sends); a value the campaign does
    not know is the service's one line (422, or 404 for a unit)."""
    eng, now = engine(request), domain_now(request)
    p = Paging(CLUE_PAGE, offset)
    rows = list_clues(eng, who.campaign, unit=unit or None, state=state or None, kind=kind or None,
                      aspect=aspect or None, overdue_as_of=now if overdue else None, limit=p.fetch,
                      offset=p.offset, seen_by=who.actor)
    page = page_of(rows, p, lambda v: v)
    with eng.connect() as conn:
        plan = plan_of(conn, campaign_row(conn, who.campaign).id)
    filters = {k: v for k, v in (("state", state), ("unit", unit), ("aspect", aspect), ("kind", kind),
                                 ("overdue", "1" if overdue else "")) if v}

    def at(start: int) -> str:
        return "/clues?" + urlencode({**filters, "offset": start}) if start else "/clues?" + urlencode(filters)

    chosen = {"state": state, "unit": unit, "aspect": aspect, "kind": kind, "overdue": overdue}
    return render(request, "clues.html", page=page, filters=filters, chosen=chosen, now=now,
                  prev=at(max(offset - CLUE_PAGE, 0)) if offset else None,
                  next=at(page["next_offset"]) if page["next_offset"] is not None else None,
                  states=[(s.value, label) for s, label in LABELS.items()], kinds=list(ITEM_KINDS.items()),
                  aspects=[(a.key, a.name) for a in plan.aspects], aspect_names={a.key: a.name for a in plan.aspects},
                  units=units_within(eng, who.campaign, who.actor),
                  warning_of=deadline_colours(eng, who.campaign, now))


@router.get("/clues/{number}")
def clue_page(request: Request, number: str, who: Identity = Depends(signed_in), done: str = ""):
    eng, now = engine(request), domain_now(request)
    view, unit = readable_clue(eng, who.campaign, number, who.actor)
    with eng.connect() as conn:
        plan = plan_of(conn, campaign_row(conn, who.campaign).id)
    with eng.connect() as conn:  # the chart's steps, 签收, 退单, 延期 and the clock (services/core/actions.py)
        actions = [(a, fields_for("clue", a))
                   for a in allowed_actions(conn, who.campaign, who.actor, ClueItem(number), now=now,
                                            max_extensions=plan.clues.max_extensions)]
    aspects = {a.key: a.name for a in plan.aspects}
    files = list_evidence(eng, who.campaign, owner_kind="clue", ref=number, actor=who.actor.username)
    # whoever sees a clue may attach to it while it is open (services/evidence/files.py)
    takes_files = view.state in {s.value for s in OPEN_STATES}
    return render(request, "clue.html", clue=view, unit=unit, actions=actions, files=files,
                  takes_files=takes_files, max_mb=runtime(request).settings.evidence_max_bytes // 2**20, aspect=aspects.get(view.aspect, view.aspect),
                  now=now, warning_of=deadline_colours(eng, who.campaign, now, plan=plan), done=done[:40])


@router.post("/clues/{number}/evidence")
async def clue_attach(request: Request, number: str, who: Identity = Depends(signed_in)):
    """A file of 可验证成果 from the page's form (services/evidence/files.py `attach`): the
    upload's declared size was bounded before it was read (app/web/uploads.py)."""
    rt = runtime(request)
    limit = rt.settings.evidence_max_bytes
    try:
        form = await request.form(max_files=1, max_fields=8)
    except Exception:  # noqa: BLE001 - any parser failure is the client's malformed body
        raise InvalidInput("malformed multipart body") from None
    upload = form.get(FILE_FIELD)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("请选择要上传的文件")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"the file is larger than the {size_text(limit)} an evidence file may be")
    await run_in_threadpool(attach, engine(request), who.campaign, owner_kind="clue", ref=number, data=data,
                            name=upload.filename, actor=who.actor.username, now=domain_now(request),
                            store=EvidenceStore(rt.settings.evidence_folder), max_bytes=limit)
    return RedirectResponse(f"/clues/{quote(number)}?done=attach_evidence", status_code=303)


@router.post("/clues/{number}/actions/{trigger}")
def clue_act(request: Request, number: str, trigger: str, who: Identity = Depends(signed_in),
             reason: Optional[str] = Form(None, max_length=TEXT_MAX),
             measures: Optional[str] = Form(None, max_length=TEXT_MAX),
             deadline: Optional[str] = Form(None, max_length=40), owner: Optional[str] = Form(None, max_length=100),
             evidence: Optional[str] = Form(None, max_length=TEXT_MAX),
             stage_result: Optional[str] = Form(None, max_length=TEXT_MAX),
             long_term_measure: Optional[str] = Form(None, max_length=TEXT_MAX),
             result_form: Optional[str] = Form(None, max_length=200),
             until: Optional[str] = Form(None, max_length=40),
             into: Optional[str] = Form(None, max_length=40),
             version: Optional[str] = Form(None, max_length=12),
             to: Optional[str] = Form(None, max_length=100)):
    expected = whole_number(version, "version")  # the version the page showed: a stale form is refused
    if trigger in ASSIGNMENT_STEPS:  # 签收, 退单, 改派 (services/clues/returns.py)
        assignment_step(engine(request), who.campaign, number, trigger, actor=who.actor.username,
                        now=domain_now(request), reason=text(reason), to=text(to), expected_version=expected)
        return RedirectResponse(f"/clues/{quote(number)}?done={quote(trigger)}", status_code=303)
    if trigger in TIME_TRIGGERS:
        _time_step(request, who, number, trigger, reason=text(reason), until=day(until, "延期至"),
                   expected=expected)
        return RedirectResponse(f"/clues/{quote(number)}?done={quote(trigger)}", status_code=303)
    # 合并 and 重办 have use cases of their own: they move the sources, mark the callback
    if trigger == "merge":
        merge(engine(request), who.campaign, number, into=text(into) or "", reason=text(reason),
              actor=who.actor.username, now=domain_now(request), expected_version=expected)
        return RedirectResponse(f"/clues/{quote(number)}?done=merge", status_code=303)
    if trigger == "redo":
        redo(engine(request), who.campaign, number, reason=text(reason), deadline=day(deadline, "完成时限"),
             actor=who.actor.username, now=domain_now(request), expected_version=expected)
        return RedirectResponse(f"/clues/{quote(number)}?done=redo", status_code=303)
    data = ClueInput(reason=text(reason), measures=text(measures), deadline=day(deadline, "完成时限"),
                     owner=text(owner), evidence=text(evidence), stage_result=text(stage_result),
                     long_term_measure=text(long_term_measure), result_form=text(result_form))
    transition(engine(request), who.campaign, number, trigger, actor=who.actor.username, now=domain_now(request),
               data=data, expected_version=expected)
    return RedirectResponse(f"/clues/{quote(number)}?done={quote(trigger)}", status_code=303)


def _time_step(request: Request, who: Identity, number: str, trigger: str, *, reason: str | None,
               until, expected: int | None) -> None:
    """延期 asked for or decided, the clock stopped or started: the CLI's use cases."""
    from services.clues import extensions, suspension

    eng, now, cal = engine(request), domain_now(request), runtime(request).calendar
    me = who.actor.username
    if trigger == REQUEST_EXTENSION:
        if until is None:
            raise InvalidInput("申请延期至 (until) is required")
        extensions.request_extension(eng, who.campaign, number, until=until, reason=reason, actor=me, now=now,
                                     calendar=cal, expected_version=expected)
    elif trigger == APPROVE_EXTENSION:
        extensions.approve_extension(eng, who.campaign, number, actor=me, now=now, until=until, note=reason,
                                     calendar=cal, expected_version=expected)
    elif trigger == REFUSE_EXTENSION:
        extensions.refuse_extension(eng, who.campaign, number, actor=me, now=now, reason=reason,
                                    expected_version=expected)
    elif trigger == "suspend":
        suspension.suspend(eng, who.campaign, number, reason=reason, actor=me, now=now, expected_version=expected)
    else:
        suspension.resume(eng, who.campaign, number, actor=me, now=now, reason=reason, calendar=cal,
                          expected_version=expected)
