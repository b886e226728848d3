"""A clue's page: its facts, sources, history, and the steps the signed-in person may
take on it in its state (services/core/actions.py), each a form posting to the same
use case as `rectify clue transition`."""
from __future__ import annotations

from typing import Optional
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse

from services.accounts.accounts import Identity
from services.campaigns.load import plan_of
from services.clues.lifecycle import ClueInput, transition
from services.core.actions import clue_actions
from services.core.directory import campaign_row
from services.work.mywork import deadline_colours
from services.work.reading import readable_clue

from ..auth import signed_in
from ..deps import domain_now, engine
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
                                                                  owner=view.owner)]
    aspects = {a.key: a.name for a in plan.aspects}
    return render(request, "clue.html", clue=view, unit=unit, actions=actions, aspect=aspects.get(view.aspect, view.aspect),
                  now=now, warning_of=deadline_colours(eng, who.campaign, now), done=done[:40])


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
