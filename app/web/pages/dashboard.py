"""The campaign dashboard of the signed-in person's unit (their subtree, as a supervisor
sees it): the figures sentence as the seeds count it, the units sorted by rate with
their colours, the charts. It is the data of a report (services/reports/contents.py
`gather`), read live: nothing is counted a second time here."""
from __future__ import annotations

import base64

from fastapi import APIRouter, Depends, Request

from notifications.documents.graphs import svg_for
from services.accounts.accounts import Identity
from services.reports.contents import gather

from ..auth import signed_in
from ..deps import domain_now, engine
from ..templating import render

__all__ = ["router", "CHARTS"]

router = APIRouter(include_in_schema=False)
CHARTS = ("rate", "burn_down", "weekly")


def _image(svg: str) -> str:
    """A chart as a data: URL for an <img> (the page's CSP allows images from data:); as
    an image its own styles apply to it alone, and no script of it ever runs."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


@router.get("/dashboard")
def dashboard(request: Request, who: Identity = Depends(signed_in)):
    now = domain_now(request)
    data = gather(engine(request), who.campaign, who.actor.unit.code, "final", "final", now=now)
    charts = [(data.charts[name].title, _image(svg_for(name, data.charts[name]))) for name in CHARTS
              if data.charts[name].labels]
    return render(request, "dashboard.html", data=data, charts=charts, now=now)
