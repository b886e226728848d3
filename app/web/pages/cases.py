"""A case's page (督办): the measure, its notices, the unit's response, its history, and
the steps the signed-in person may take (services/core/actions.py), each a form posting
to the same use case as `rectify case …`. Its notices: app/web/pages/notices.py."""
from __future__ import annotations

from typing import Optional
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse

from services.accounts.accounts import Identity
from services.core.actions import case_actions
from services.ladder.cases import CaseInput, fire
from statemachine.time.clock import parse_instant
from services.work.mywork import deadline_colours
from services.work.reading import readable_case

from ..auth import signed_in
from ..deps import domain_now, engine, runtime
from ..templating import render
from .forms import TEXT_MAX, day, fields_for, number as whole_number, text

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: int, who: Identity = Depends(signed_in), done: str = ""):
    eng, now = engine(request), domain_now(request)
    view, unit, texts = readable_case(eng, who.campaign, case_id, who.actor)
    actions = [(a, fields_for("case", a, level=view.level))
               for a in case_actions(who.actor, state=view.state, unit=unit, level=view.level,
                                     chased=view.chased_at is not None)]
    return render(request, "case.html", case=view, unit=unit, texts=texts, actions=actions, now=now,
                  warning_of=deadline_colours(eng, who.campaign, now), done=done[:40])


@router.post("/cases/{case_id}/actions/{trigger}")
def case_act(request: Request, case_id: int, trigger: str, who: Identity = Depends(signed_in),
             reason: Optional[str] = Form(None, max_length=TEXT_MAX),
             required_action: Optional[str] = Form(None, max_length=TEXT_MAX),
             minutes: Optional[str] = Form(None, max_length=TEXT_MAX),
             report_due: Optional[str] = Form(None, max_length=40),
             response: Optional[str] = Form(None, max_length=TEXT_MAX),
             attachment: Optional[str] = Form(None, max_length=400),
             note: Optional[str] = Form(None, max_length=TEXT_MAX),
             decision: Optional[str] = Form(None, max_length=20),
             decision_text: Optional[str] = Form(None, max_length=TEXT_MAX),
             grounds: Optional[str] = Form(None, max_length=TEXT_MAX),
             receiving_organ: Optional[str] = Form(None, max_length=200),
             follow_up: Optional[str] = Form(None, max_length=TEXT_MAX),
             interview_at: Optional[str] = Form(None, max_length=40),
             interview_place: Optional[str] = Form(None, max_length=200),
             attendees: Optional[str] = Form(None, max_length=200),
             version: Optional[str] = Form(None, max_length=12)):
    data = CaseInput(reason=text(reason), required_action=text(required_action), minutes=text(minutes),
                     report_due=day(report_due, "报送期限"), response=text(response), attachment=text(attachment),
                     note=text(note), decision=text(decision), decision_text=text(decision_text),
                     grounds=text(grounds), receiving_organ=text(receiving_organ), follow_up=text(follow_up),
                     interview_at=parse_instant(text(interview_at), name="约谈时间") if text(interview_at) else None,
                     interview_place=text(interview_place), attendees=text(attendees))
    rt = runtime(request)
    fire(engine(request), who.campaign, case_id, trigger, actor=who.actor.username, now=domain_now(request),
         calendar=rt.calendar, channels=rt.channel_names, data=data,
         expected_version=whole_number(version, "version"))
    return RedirectResponse(f"/cases/{case_id}?done={quote(trigger)}", status_code=303)
