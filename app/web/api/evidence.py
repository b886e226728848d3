"""`/api/v1/…/evidence`: evidence files (可验证成果) of clues, cases and report submissions.

    POST /api/v1/clues/{number}/evidence            multipart/form-data, field `file`
    POST /api/v1/cases/{case_id}/evidence           201 with the file's record (200: the same
    POST /api/v1/submissions/{submission_id}/evidence   bytes were attached before)
    GET  the same paths                             the item's files
    GET  /api/v1/evidence/{id}                      the file itself, as an attachment

Who may attach and who may see is the service's (services/evidence/files.py,
statemachine/authority.py): a refusal is a 403 saying why. A body over the
bound is refused before it is read (app/web/uploads.py); the file is measured
again here (413), and its content decides its type (415). A download is the
stored file checked against its SHA-256, sent with a safe Content-Disposition,
nosniff and a sandboxing CSP, whatever its name says.
"""
from __future__ import annotations

import base64
from datetime import datetime

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, Response

from services.accounts.accounts import Identity
from services.core.input_files import size_text
from services.core.refs import MAX_INT
from services.evidence.files import EvidenceView, attach, list_evidence, open_evidence
from services.evidence.kinds import KINDS
from services.evidence.names import content_disposition
from services.evidence.store import EvidenceStore
from statemachine.errors import InvalidInput, TooLarge, UnsupportedType

from ..auth import signed_in
from ..errors import PROBLEM
from ..deps import domain_now, engine, runtime

__all__ = ["router", "EvidenceOut", "FILE_FIELD"]

router = APIRouter(prefix="/api/v1", tags=["evidence"])
FILE_FIELD = "file"


def _number():  # a parameter's FieldInfo is its own: FastAPI writes the parameter's name into it
    return Path(min_length=1, max_length=40, description="the clue's number")


def _id():
    return Path(ge=1, le=MAX_INT)


_UPLOAD = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": [FILE_FIELD],
    "properties": {FILE_FIELD: {"type": "string", "format": "binary",
                                "description": "PDF, PNG/JPEG, .docx/.xlsx or zip; judged by its content"}}}}}}}
_PROBLEM = {"content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
_ERRORS = {status: {"description": why, **_PROBLEM} for status, why in (
    (403, "not the item's unit nor a supervisor above it"), (404, "no such item"),
    (409, "the item is closed"), (411, "no Content-Length"), (413, "larger than allowed"),
    (415, "not an accepted type (judged by its content)"))}


class EvidenceOut(BaseModel):
    id: int
    owner_kind: str
    owner_id: int
    owner: str
    unit: str
    name: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    href: str

    @classmethod
    def of(cls, v: EvidenceView) -> "EvidenceOut":
        return cls(id=v.id, owner_kind=v.owner_kind, owner_id=v.owner_id, owner=v.owner, unit=v.unit, name=v.name,
                   media_type=v.media_type, size=v.size, sha256=v.sha256, uploaded_by=v.uploaded_by,
                   uploaded_at=v.uploaded_at, href=f"/api/v1/evidence/{v.id}")


# an upload answers 200 instead of 201 when these bytes were attached to the item before
_UPLOAD_ANSWERS = {200: {"model": EvidenceOut, "description": "attached before: the same file"}, **_ERRORS}
_DOWNLOAD_TYPES = {k.media_type: {"schema": {"type": "string", "format": "binary"}} for k in KINDS.values()}


def _store(request: Request) -> EvidenceStore:
    return EvidenceStore(runtime(request).settings.evidence_folder)


async def _upload(request: Request, who: Identity, kind: str, ref: str) -> Response:
    limit = runtime(request).settings.evidence_max_bytes
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "multipart/form-data":
        raise UnsupportedType(f"send the file as multipart/form-data in the field '{FILE_FIELD}' "
                              f"(not {ctype or 'a body without a type'})")
    try:
        form = await request.form(max_files=1, max_fields=8)
    except Exception:  # noqa: BLE001 - any parser failure is the client's malformed body
        raise InvalidInput("malformed multipart body") from None
    upload = form.get(FILE_FIELD)
    if not isinstance(upload, UploadFile):
        raise InvalidInput(f"{FILE_FIELD}: a file is required (multipart/form-data field '{FILE_FIELD}')")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"the file is larger than the {size_text(limit)} an evidence file may be")
    a = await run_in_threadpool(
        attach, engine(request), who.campaign, owner_kind=kind, ref=ref, data=data, name=upload.filename,
        actor=who.actor.username, now=domain_now(request), store=_store(request), max_bytes=limit)
    body = EvidenceOut.of(a.evidence)
    return JSONResponse(body.model_dump(mode="json"), status_code=201 if a.created else 200,
                        headers={"Location": body.href})


def _listed(request: Request, who: Identity, kind: str, ref: str) -> list[EvidenceOut]:
    return [EvidenceOut.of(v) for v in list_evidence(engine(request), who.campaign, owner_kind=kind, ref=ref,
                                                     actor=who.actor.username)]


@router.post("/clues/{number}/evidence", status_code=201, response_model=EvidenceOut,
             responses=_UPLOAD_ANSWERS, openapi_extra=_UPLOAD, summary="Attach an evidence file to a clue")
async def clue_upload(request: Request, number: str = _number(), who: Identity = Depends(signed_in)):
    return await _upload(request, who, "clue", number)


@router.get("/clues/{number}/evidence", response_model=list[EvidenceOut], summary="A clue's evidence files")
def clue_files(request: Request, number: str = _number(), who: Identity = Depends(signed_in)):
    return _listed(request, who, "clue", number)


@router.post("/cases/{case_id}/evidence", status_code=201, response_model=EvidenceOut,
             responses=_UPLOAD_ANSWERS, openapi_extra=_UPLOAD,
             summary="Attach a file to a 督办 case (the unit's report, minutes …)")
async def case_upload(request: Request, case_id: int = _id(), who: Identity = Depends(signed_in)):
    return await _upload(request, who, "case", str(case_id))


@router.get("/cases/{case_id}/evidence", response_model=list[EvidenceOut], summary="A case's files")
def case_files(request: Request, case_id: int = _id(), who: Identity = Depends(signed_in)):
    return _listed(request, who, "case", str(case_id))


@router.post("/submissions/{submission_id}/evidence", status_code=201, response_model=EvidenceOut,
             responses=_UPLOAD_ANSWERS, openapi_extra=_UPLOAD,
             summary="Attach the file of a submitted report (报送)")
async def submission_upload(request: Request, submission_id: int = _id(), who: Identity = Depends(signed_in)):
    return await _upload(request, who, "submission", str(submission_id))


@router.get("/submissions/{submission_id}/evidence", response_model=list[EvidenceOut],
            summary="A report submission's files")
def submission_files(request: Request, submission_id: int = _id(), who: Identity = Depends(signed_in)):
    return _listed(request, who, "submission", str(submission_id))


@router.get("/evidence/{evidence_id}", response_class=Response, summary="Download an evidence file",
            responses={200: {"content": _DOWNLOAD_TYPES,
                             "description": "the file, checked against its SHA-256, as an attachment"},
                       403: {"description": "may not see the item it belongs to", **_PROBLEM}})
def download(request: Request, evidence_id: int = _id(), who: Identity = Depends(signed_in)) -> Response:
    view, data = open_evidence(engine(request), who.campaign, evidence_id, actor=who.actor.username,
                               store=_store(request))
    digest = base64.b64encode(bytes.fromhex(view.sha256)).decode()
    return Response(data, media_type=view.media_type, headers={
        "Content-Disposition": content_disposition(view.name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "ETag": f'"{view.sha256}"',
        "Repr-Digest": f"sha-256=:{digest}:",
        "Cache-Control": "private, no-store"})
