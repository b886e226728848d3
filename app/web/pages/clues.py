"""A clue's page: its facts, sources, history, and the steps the signed-in person may
take on it in its state (services/core/actions.py), each a form posting to the same
use case as `rectify clue transition`."""
from __future__ import annotations

from typing import Optional
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse

from services.accounts.accounts import Identity
from services.campaigns.load import plan_of
from services.clues.lifecycle import ClueInput, transition
from services.core.actions import clue_actions
from services.core.directory import campaign_row
from services.core.input_files import size_text
from services.evidence.files import attach, list_evidence
from services.evidence.store import EvidenceStore
from services.work.mywork import deadline_colours
from services.work.reading import readable_clue
from statemachine.charts.clue import OPEN_STATES
from statemachine.errors import InvalidInput, TooLarge

from ..auth import signed_in
from ..api.evidence import FILE_FIELD
from ..deps import domain_now, engine, runtime
from ..templating import render
from .forms import TEXT_MAX, day, fields_for, number as whole_number, text

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/clues/{number}")
def clue_page(request: Request, number: str, who: Identity = Depends(signed_in), done: str = ""):
    eng, now = engine(request), domain_now(request)
    view, unit = readable_clue(eng, who.campaign, number, who.actor)
    with eng.connect() as conn:
        plan = plan_of(conn, campaign_row(conn, who.campaign).id)
    actions = [(a, fields_for("clue", a)) for a in clue_actions(who.actor, state=view.state, unit=unit,
                                                                  owner=view.owner, deadline_at=view.deadline_at,
                                                                  now=now)]
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
             version: Optional[str] = Form(None, max_length=12)):
    data = ClueInput(reason=text(reason), measures=text(measures), deadline=day(deadline, "完成时限"),
                     owner=text(owner), evidence=text(evidence), stage_result=text(stage_result),
                     long_term_measure=text(long_term_measure), result_form=text(result_form))
    transition(engine(request), who.campaign, number, trigger, actor=who.actor.username, now=domain_now(request),
               data=data, expected_version=whole_number(version, "version"))
    return RedirectResponse(f"/clues/{quote(number)}?done={quote(trigger)}", status_code=303)
