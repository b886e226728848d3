"""The rounds one sees (回头看, 实地督察: services/lookback/rounds.py `list_rounds`, as
`GET /api/v1/rounds`), and a round's page: its rule, its teams, and a team's checklist
with the checks the signed-in person sees and may record (services/core/actions.py),
each a form posting to the same use case as `rectify round record` / `rectify round revise`."""
from __future__ import annotations

from typing import Optional
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse

from services.accounts.accounts import Identity
from services.core.actions import check_actions
from services.lookback.checks import CheckInput, list_checks, record_check, revise_check
from services.lookback.rounds import list_rounds
from services.work.reading import readable_round
from statemachine.charts.lookback import OUTCOMES
from statemachine.errors import InvalidInput

from ..auth import signed_in
from ..deps import domain_now, engine, runtime
from ..templating import render
from .forms import TEXT_MAX, day, fields_for, number as whole_number, text

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
CHECKLIST = 500  # a team's checklist is a visit's worth
OUTCOME_OF = {trigger: outcome for outcome, trigger in OUTCOMES.items()}


@router.get("/rounds")
def round_list(request: Request, who: Identity = Depends(signed_in)):
    rounds = list_rounds(engine(request), who.campaign, seen_by=who.actor)
    return render(request, "rounds.html", rounds=list(reversed(rounds)))  # the newest first


@router.get("/rounds/{code}")
def round_page(request: Request, code: str, who: Identity = Depends(signed_in), team: str = "", done: str = ""):
    eng = engine(request)
    view, mine, organiser = readable_round(eng, who.campaign, code, who.actor)
    chosen = team or (mine[0] if mine else "")
    checks = list_checks(eng, who.campaign, code, team=chosen or None, limit=CHECKLIST, seen_by=who.actor)
    rows = [(c, [(a, fields_for("check", a)) for a in check_actions(
        who.actor, state=c.state, round_state=view.state, organiser=organiser, team_member=c.team in mine)])
        for c in checks]
    return render(request, "round.html", round=view, team=chosen, mine=mine, rows=rows, limit=CHECKLIST,
                  now=domain_now(request), done=done[:40])


@router.post("/rounds/{code}/checks/{check_id}/{trigger}")
def check_act(request: Request, code: str, check_id: int, trigger: str, who: Identity = Depends(signed_in),
              method: Optional[str] = Form(None, max_length=40),
              findings: Optional[str] = Form(None, max_length=TEXT_MAX),
              checked_on: Optional[str] = Form(None, max_length=40),
              deadline: Optional[str] = Form(None, max_length=40),
              reason: Optional[str] = Form(None, max_length=TEXT_MAX),
              team: str = Form("", max_length=64), version: Optional[str] = Form(None, max_length=12)):
    eng, now = engine(request), domain_now(request)
    if trigger == "revise":
        revise_check(eng, who.campaign, code, str(check_id), actor=who.actor.username, now=now, reason=text(reason))
    elif trigger in OUTCOME_OF:
        record_check(eng, who.campaign, code, str(check_id), OUTCOME_OF[trigger], actor=who.actor.username,
                     now=now, calendar=runtime(request).calendar, expected_version=whole_number(version, "version"),
                     data=CheckInput(method=text(method), findings=text(findings),
                                     checked_on=day(checked_on, "核查日期"), deadline=day(deadline, "完成时限")))
    else:
        raise InvalidInput(f"unknown step '{trigger[:30]}' on a check (one of {', '.join([*OUTCOME_OF, 'revise'])})")
    back = f"/rounds/{quote(code)}?done={quote(trigger)}" + (f"&team={quote(team)}" if team else "")
    return RedirectResponse(back, status_code=303)
