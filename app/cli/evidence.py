"""Evidence files (可验证成果) from the command line: attach to a clue, a case or a report
submission; list an item's files; write one out (services/evidence/)."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Optional

import typer

from . import output as out
from .clues import clue_app
from .context import AppContext
from .duties import duty_app
from .ladder import case_app
from .params import id_argument
from .root import AS_USER, app

evidence_app = typer.Typer(no_args_is_help=True, help="Evidence files (可验证成果) of clues, cases and reports.")
app.add_typer(evidence_app, name="evidence")

FILE = typer.Argument(..., metavar="FILE", help="A PDF, PNG/JPEG image, .docx/.xlsx or zip.")


def _store(c: AppContext):
    from services.evidence.store import EvidenceStore

    return EvidenceStore(c.settings.evidence_folder)


def _attach(ctx: typer.Context, kind: str, ref: str, file: Path, actor: Optional[str]) -> None:
    from services.core.input_files import read_input
    from services.evidence.files import attach

    c: AppContext = ctx.obj
    limit = c.settings.evidence_max_bytes
    data = read_input(file, max_bytes=limit, what="evidence file (RECTIFY_EVIDENCE_MAX_MB)")
    with c.work() as uow:
        a = attach(uow, c.campaign(None), owner_kind=kind, ref=ref, data=data, name=Path(file).name,
                   actor=c.user(actor), now=c.acting_now(), store=_store(c), max_bytes=limit)
    v = a.evidence
    out.say(f"{v.owner}: evidence {v.id} '{v.name}' ({v.media_type}, {v.size} bytes, sha256 {v.sha256})"
            + ("" if a.created else " — attached before, unchanged"))


@clue_app.command("attach")
def clue_attach(ctx: typer.Context,
                number: str = typer.Argument(..., help="The clue's number, e.g. XZ-2023-00001."), file: Path = FILE, actor: Optional[str] = AS_USER):
    """Attach an evidence file (可验证成果) to a clue; its SHA-256 goes into the audit chain."""
    _attach(ctx, "clue", number, file, actor)


@case_app.command("attach")
def case_attach(ctx: typer.Context, case_id: int = id_argument(metavar="CASE", help="The case's number (see 'rectify case list')."), file: Path = FILE,
                actor: Optional[str] = AS_USER):
    """Attach a file to a 督办 case (the unit's rectification report, interview minutes …)."""
    _attach(ctx, "case", str(case_id), file, actor)


@duty_app.command("attach")
def duty_attach(ctx: typer.Context, file: Path = FILE,
                unit: str = typer.Option(..., "--unit", help="The reporting unit (code or name)."),
                duty: str = typer.Option(..., "--duty", help="The duty's key in the plan."),
                period: str = typer.Option(..., "--period", help="The period of the submitted report."),
                actor: Optional[str] = AS_USER):
    """Attach the report's file to a unit's submission (after 'rectify duty submit')."""
    from services.evidence.files import submission_id

    c: AppContext = ctx.obj
    sid = submission_id(c.db(), c.campaign(None), unit=unit, duty=duty, period=period)
    _attach(ctx, "submission", str(sid), file, actor)


@evidence_app.command("list")
def list_(ctx: typer.Context,
          kind: str = typer.Argument(..., metavar="KIND", help="clue | case | submission"),
          ref: str = typer.Argument(..., metavar="REF", help="The clue's number, the case's or submission's id."),
          actor: Optional[str] = AS_USER, as_json: bool = typer.Option(False, "--json", help="JSON for programs (keys, times in Asia/Shanghai).")):
    """An item's evidence files (for its unit and the supervisors above it)."""
    from services.evidence.files import list_evidence

    c: AppContext = ctx.obj
    rows = list_evidence(c.db(), c.campaign(None), owner_kind=kind, ref=ref, actor=c.user(actor))
    if as_json:
        return out.emit_json([asdict(v) for v in rows])
    out.table(["id", "name", "type", "bytes", "sha256", "by", "at"],
              [(v.id, v.name, v.media_type, v.size, v.sha256[:16] + "…", v.uploaded_by, out.local(v.uploaded_at))
               for v in rows], title=f"evidence of {rows[0].owner}" if rows else None)
    if not rows:
        out.say("no evidence files")


@evidence_app.command("get")
def get(ctx: typer.Context, evidence_id: int = id_argument(metavar="ID", help="The file's id (see 'rectify evidence list')."),
        to: Path = typer.Option(..., "--out", help="Write the file here (a new file)."),
        actor: Optional[str] = AS_USER):
    """Write one evidence file out, after checking it against its SHA-256."""
    from services.evidence.files import open_evidence
    from statemachine.errors import InvalidInput

    c: AppContext = ctx.obj
    view, data = open_evidence(c.db(), c.campaign(None), evidence_id, actor=c.user(actor), store=_store(c))
    try:
        with open(to, "xb") as f:  # never over an existing file
            f.write(data)
    except FileExistsError:
        raise InvalidInput(f"--out {to}: a file is already there") from None
    except OSError as e:
        raise InvalidInput(f"--out {to}: cannot write: {e.strerror or e}") from None
    out.say(f"evidence {view.id} '{view.name}' of {view.owner} → {to} ({view.size} bytes, sha256 verified)")
