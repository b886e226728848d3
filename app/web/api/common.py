"""What every router of the JSON API shares.

    Ctx            who asks (the signed-in Identity and its Actor), the engine, the
                   domain's now, the campaign: what a route hands to a use case
    Paging / Page  lists: `limit` (1..MAX_LIMIT) and `offset`; a page says where the
                   next one starts (`next_offset`, null at the end)
    Text           a string from a client: no NUL or other control characters (the
                   databases refuse NUL in text), bounded in length
    expected()     the version a write expects: the body's `version`, or `If-Match`
                   (an ETag of a detail answer); a stale If-Match is a 412, a stale
                   body version the service's 409, both naming what changed
    ActionOut      an action the person may take (services/core/actions.py)

The routers under /api/v1 take `API_DEPENDENCIES`: a path or query parameter with a
control character is refused (422) before any route runs.
"""
from __future__ import annotations

import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Generic, Iterator, TypeVar
from urllib.parse import quote

from fastapi import Depends, HTTPException, Path as PathParam, Query, Request, UploadFile
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from starlette.responses import Response

from services.accounts.accounts import Identity
from services.core.actions import Action
from services.core.directory import Actor
from services.core.refs import MAX_INT
from services.core.runtime import Runtime
from statemachine.errors import ConflictError, InvalidInput, RectifyError

from ..auth import signed_in
from ..deps import domain_now

__all__ = ["Ctx", "ctx", "Paging", "paging", "Page", "page_of", "Text", "LongText", "text", "expected", "precondition",
           "ActionOut", "actions_out", "etag", "attachment", "upload", "API_DEPENDENCIES", "MAX_LIMIT",
           "Version", "Id", "IdPath", "StrictIn", "no_control", "HistoryOut", "history_out", "day"]

MAX_LIMIT = 200
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _plain(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("control characters (such as NUL) are not allowed")
    return value


def no_control(value, where: str = "") -> None:
    """Refuse a control character anywhere in a nested body (a model of another layer's)."""
    if isinstance(value, str):
        if _CONTROL.search(value):
            raise ValueError(f"{where or 'value'}: control characters (such as NUL) are not allowed")
    elif isinstance(value, dict):
        for k, v in value.items():
            no_control(v, f"{where}.{k}" if where else str(k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            no_control(v, f"{where}[{i}]")


def text(max_length: int, *, min_length: int = 0):
    """A client's string of at most `max_length` characters (a column's length)."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_plain)]


Text = text(200)
LongText = text(20_000)  # what a person writes in a form: measures, minutes, a response
Version = Annotated[int, Field(ge=1, le=MAX_INT, description="the version read (refused if it changed)")]
Id = Annotated[int, Field(ge=1, le=MAX_INT)]
IdPath = Annotated[int, PathParam(ge=1, le=MAX_INT)]


class StrictIn(BaseModel):
    """A request body: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


async def _plain_request(request: Request) -> None:
    for name, value in (*request.path_params.items(), *request.query_params.multi_items()):
        if isinstance(value, str) and _CONTROL.search(value):
            raise InvalidInput(f"{name}: control characters (such as NUL) are not allowed")


API_DEPENDENCIES = [Depends(_plain_request)]


@dataclass(frozen=True)
class Ctx:
    who: Identity
    runtime: Runtime
    now: datetime

    @property
    def actor(self) -> Actor:
        return self.who.actor

    @property
    def username(self) -> str:
        return self.who.actor.username

    @property
    def campaign(self) -> str:
        return self.who.campaign

    @property
    def engine(self) -> Engine:
        return self.runtime.engine


def ctx(request: Request, who: Identity = Depends(signed_in)) -> Ctx:
    return Ctx(who, request.app.state.runtime, domain_now(request))


# -- lists ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int

    @property
    def fetch(self) -> int:
        """Rows to ask for: one more than a page, to know whether another follows."""
        return self.limit + 1


def paging(limit: int = Query(50, ge=1, le=MAX_LIMIT, description=f"at most {MAX_LIMIT}"),
           offset: int = Query(0, ge=0, le=MAX_INT)) -> Paging:
    return Paging(limit, offset)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    limit: int
    offset: int
    next_offset: int | None = Field(description="where the next page starts; null on the last page")


def page_of(rows: list, p: Paging, shape) -> dict:
    """A Page's fields from rows fetched with `p.fetch`."""
    more = len(rows) > p.limit
    return dict(items=[shape(r) for r in rows[:p.limit]], limit=p.limit, offset=p.offset,
                next_offset=p.offset + p.limit if more else None)


# -- versions --------------------------------------------------------------------------------
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')


def etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


def expected(request: Request, body_version: int | None) -> tuple[int | None, bool]:
    """(the version the write expects, whether it came from If-Match)."""
    raw = request.headers.get("if-match")
    if raw is None or raw.strip() == "*":
        return body_version, False
    m = _ETAG.match(raw)
    if not m or not 1 <= int(m.group(1)) <= MAX_INT:
        raise InvalidInput(f"If-Match: '{raw[:40]}' is not a version this API gave (an ETag such as \"3\")")
    version = int(m.group(1))
    if body_version is not None and body_version != version:
        raise InvalidInput(f"version {body_version} in the body and If-Match {version} disagree")
    return version, True


@contextmanager
def precondition(from_header: bool) -> Iterator[None]:
    """A stale write whose version came from If-Match is 412 Precondition Failed."""
    try:
        yield
    except ConflictError as e:
        if not from_header:
            raise
        raise HTTPException(412, detail=str(e)) from None


# -- actions and history -------------------------------------------------------------------
class ActionOut(BaseModel):
    trigger: str
    label: str = Field(description="its Chinese name")
    who: str = Field(description="whose step it is: unit, supervisor, organiser, inspector")
    needs: list[str] = Field(description="guards on what must be supplied with it (has_reason, …)")


def actions_out(actions: list[Action]) -> list[ActionOut]:
    return [ActionOut(trigger=a.trigger, label=a.label, who=a.who, needs=list(a.needs)) for a in actions]


class HistoryOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    trigger: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    detail: dict | list | str | None


def history_out(records: list[dict]) -> list[HistoryOut]:
    import json

    out = []
    for h in records:
        detail = h.get("detail")
        if isinstance(detail, str):
            try:
                detail = json.loads(detail)
            except ValueError:
                pass
        out.append(HistoryOut(seq=h["seq"], at=h["at"], actor=h["actor"], trigger=h["trigger"],
                              from_state=h["from_state"], to_state=h["to_state"], reason=h["reason"],
                              detail=detail))
    return out


# -- files ---------------------------------------------------------------------------------------
def attachment(content: bytes | str, *, filename: str, media_type: str) -> Response:
    """A download named `filename` (made by the server, never from an upload)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("_") or "download"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


@contextmanager
def upload(file: UploadFile, *, name: str, max_bytes: int, what: str) -> Iterator[Path]:
    """The uploaded file as `name` in a private folder of its own, for a service that reads a
    path; its message names `name`, never the folder, and the file's own name is never used."""
    from services.core.input_files import size_text

    with tempfile.TemporaryDirectory(prefix="rectify-upload-") as folder:
        path = Path(folder) / name
        size = 0
        with open(path, "wb") as out:
            while chunk := file.file.read(1 << 20):
                size += len(chunk)
                if size > max_bytes:
                    raise InvalidInput(f"{name}: larger than any {what} (at most {size_text(max_bytes)})")
                out.write(chunk)
        try:
            yield path
        except RectifyError as e:
            e.args = tuple(a.replace(str(path), name) if isinstance(a, str) else a for a in e.args)
            raise


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None
