"""`rectify ranking`: 考核排名 of the units for a period, with the 红榜 and 黑榜."""
from __future__ import annotations

import typer

from . import output as out
from .context import AppContext
from .root import app


@app.command("ranking")
def ranking(ctx: typer.Context,
            period: str = typer.Option(..., "--period", help="A month 2023-05, a quarter 2023-Q2 or a year 2023."),
            as_json: bool = typer.Option(False, "--json", help="JSON for programs (scores as exact strings).")):
    """考核排名: each participating unit's score for a period (weights and deductions from the
    plan's `ranking:`), best first, with the 红榜 (best N) and 黑榜 (worst N)."""
    from services.ranking.table import as_dict, ranking as read

    c: AppContext = ctx.obj
    t = read(c.db(), c.campaign(None), period)
    if as_json:
        return out.emit_json(as_dict(t))
    out.table(["名次", "单位", "得分", "按时签收", "按时办结", "延期", "退单驳回", "满意/回访", "重办", "逾期", "督办", "说明"],
              [(r.rank, r.name, str(r.score), f"{r.counts.signed_on_time}/{r.counts.assigned}",
                f"{r.counts.closed_on_time}/{r.counts.closed}", r.counts.extended, r.counts.returns_refused,
                f"{r.counts.satisfied}/{r.counts.callbacks}", r.counts.redone,
                r.counts.lapses, r.counts.escalations, "" if r.assessed else "无可考核事项")
               for r in t.rows], title=f"考核排名 {t.period.label}")
    out.say("红榜: " + ("、".join(f"{r.name}({r.score})" for r in t.red) or "—"))
    out.say("黑榜: " + ("、".join(f"{r.name}({r.score})" for r in t.black) or "—"))
