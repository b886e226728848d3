"""My work (我的工作): what waits for the signed-in person, and the steps taken from it:
confirming or withdrawing many proposed cases in one form, sending a report owed."""
from __future__ import annotations

from typing import List, Optional
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse

from services.accounts.accounts import Identity
from services.ladder.cases import CaseInput
from services.reports.duties import submit
from services.work.batch import Picked, fire_cases
from services.work.mywork import my_work
from statemachine.errors import InvalidInput

from ..auth import signed_in
from ..deps import domain_now, engine, runtime
from ..templating import render
from .forms import TEXT_MAX, number, text

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
STEPS = {"issue": "已确认下发", "withdraw": "已撤回"}


def back_to_work(message: str) -> RedirectResponse:
    return RedirectResponse(f"/work?done={quote(message)}", status_code=303)


@router.get("/work")
def work_page(request: Request, who: Identity = Depends(signed_in), done: str = ""):
    now = domain_now(request)
    work = my_work(engine(request), who.campaign, who.actor, now=now)
    return render(request, "work.html", work=work, now=now, done=done[:200])


def _picked(values: list[str]) -> list[Picked]:
    """'id:version' as the list showed it (the version refuses a stale confirmation)."""
    out = []
    for v in values:
        case_id, _, version = v.partition(":")
        out.append(Picked(number(case_id, "case"), number(version, "version")))
    return out


@router.post("/work/cases")
def work_cases(request: Request, who: Identity = Depends(signed_in),
               case: Optional[List[str]] = Form(None), step: str = Form("", max_length=20),
               reason: Optional[str] = Form(None, max_length=TEXT_MAX)):
    if step not in STEPS:
        raise InvalidInput(f"unknown step '{step[:20]}' (one of {', '.join(STEPS)})")
    rt = runtime(request)
    done = fire_cases(engine(request), who.campaign, _picked(case or []), step, actor=who.actor.username,
                      now=domain_now(request), calendar=rt.calendar, channels=rt.channel_names,
                      data=CaseInput(reason=text(reason)))
    return back_to_work(f"{len(done)} 项督办措施{STEPS[step]}：" + "、".join(f"#{i}" for i in done))


@router.post("/duties/submit")
def duty_submit(request: Request, who: Identity = Depends(signed_in), duty: str = Form(..., max_length=64),
                period: str = Form(..., max_length=32), attachment: str = Form("", max_length=400),
                note: Optional[str] = Form(None, max_length=TEXT_MAX)):
    line = submit(engine(request), who.campaign, unit=who.actor.unit.code, duty=duty, period=period,
                  attachment=attachment, note=text(note), actor=who.actor.username, now=domain_now(request))
    return back_to_work(f"{line.name}（{line.period}）{line.status_label}")
