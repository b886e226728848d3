"""`/api/v1/tokens`: the caller's personal access tokens. Listing and revoking work with
a token too (a client can revoke its own); making one needs a signed-in browser."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from services.accounts.accounts import Identity
from services.accounts.tokens import NAME_MAX, TokenView, create_token, list_tokens, revoke_token

from ..auth import auth_of, by_session, signed_in
from ..deps import engine
from .common import text

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


class TokenOut(BaseModel):
    id: int
    name: str
    hint: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    live: bool

    @classmethod
    def of(cls, t: TokenView, now: datetime) -> "TokenOut":
        return cls(id=t.id, name=t.name, hint=t.hint, created_at=t.created_at, expires_at=t.expires_at,
                   last_used_at=t.last_used_at, revoked_at=t.revoked_at, live=t.live(now))


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: text(NAME_MAX, min_length=1)  # no NUL: PostgreSQL refuses it in text
    days: int = Field(90, ge=1)


class CreatedOut(TokenOut):
    token: str = Field(description="shown this once: store it now")


@router.get("", response_model=list[TokenOut], summary="My personal access tokens")
def tokens(request: Request, who: Identity = Depends(signed_in)) -> list[TokenOut]:
    now = auth_of(request).now()
    return [TokenOut.of(t, now) for t in list_tokens(engine(request), who.user_id)]


@router.post("", response_model=CreatedOut, status_code=201,
             summary="Make a personal access token (signed in by session; shown once)")
def make(request: Request, body: NewToken, who: Identity = Depends(by_session)) -> CreatedOut:
    auth = auth_of(request)
    c = create_token(engine(request), who.user_id, name=body.name, days=body.days, now=auth.now(),
                     limits=auth.limits)
    return CreatedOut(**TokenOut.of(c.view, auth.now()).model_dump(), token=c.token)


@router.delete("/{token_id}", response_model=TokenOut, summary="Revoke one of my tokens")
def revoke(request: Request, token_id: int, who: Identity = Depends(signed_in)) -> TokenOut:
    now = auth_of(request).now()
    return TokenOut.of(revoke_token(engine(request), who.user_id, token_id, now=now), now)
