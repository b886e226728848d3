"""The account's pages: sign in, set a password from a one-time link, sign out, my tokens."""
from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from services.accounts.accounts import Identity
from services.accounts.links import LINK_PATH, link_holder, set_password
from services.accounts.sessions import sign_in, sign_out
from services.accounts.tokens import NAME_MAX, create_token, list_tokens, revoke_token
from services.campaigns.load import list_campaigns
from statemachine.errors import InvalidInput, NotSignedIn, TooManyAttempts

from ..auth import auth_of, by_session, client_address, form_binding, optional_identity
from ..deps import engine
from ..templating import render

__all__ = ["router", "safe_next"]

log = logging.getLogger("rectify.web.auth")
router = APIRouter(include_in_schema=False)
TOKEN_DAYS = (30, 90, 180, 365)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (never //elsewhere)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _signed_in_now(request: Request) -> Identity | None:
    try:
        return optional_identity(request)
    except NotSignedIn:
        request.state.identity = None
        return None


def _sign_in_page(request: Request, *, status: int = 200, error: str = "", username: str = "",
                  campaign: str = "", next: str = "/", notice: str = "") -> Response:
    campaigns = list_campaigns(engine(request))
    return render(request, "sign_in.html", status=status, error=error, notice=notice, username=username,
                  campaign=campaign, next=safe_next(next),
                  campaigns=campaigns if len(campaigns) > 1 else [])


def _refused(request: Request, e: NotSignedIn | TooManyAttempts, kept: dict) -> Response:
    resp = _sign_in_page(request, status=e.http_status, error=str(e), **kept)
    if isinstance(e, TooManyAttempts):
        resp.headers["Retry-After"] = str(e.retry_after)
    return resp


@router.get("/sign-in")
def sign_in_form(request: Request, next: str = "/", expired: bool = False, done: bool = False,
                 signed_out: bool = False):
    if _signed_in_now(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    notice = ("会话已过期，请重新登录" if expired else "密码已设置，请登录" if done else
              "已退出登录" if signed_out else "")
    return _sign_in_page(request, next=next, notice=notice)


@router.post("/sign-in", dependencies=[Depends(form_binding)])
def sign_in_submit(request: Request, username: str = Form("", max_length=64),
                   password: str = Form("", max_length=1024), campaign: str = Form("", max_length=64),
                   next: str = Form("/", max_length=2000)):
    auth = auth_of(request)
    address = client_address(request)
    kept = dict(username=username, campaign=campaign, next=next)
    try:
        try:
            auth.throttle.check(address, auth.now())  # before any password is checked
        except TooManyAttempts as e:
            log.info("sign-in from %s refused: too many failures from the address", address)
            return _refused(request, e, kept)
        opened = sign_in(engine(request), username, password, campaign=campaign or None, now=auth.now(),
                         limits=auth.limits, address=address)
    except (NotSignedIn, TooManyAttempts) as e:
        auth.throttle.failed(address, auth.now())
        log.info("sign-in refused for %r from %s: %s", username, address, type(e).__name__)
        return _refused(request, e, kept)
    except InvalidInput as e:
        return _sign_in_page(request, status=e.http_status, error=str(e), **kept)
    resp = RedirectResponse(safe_next(next), status_code=303)
    auth.open_session(resp, opened.key)
    return resp


@router.get(LINK_PATH)
def set_password_form(request: Request, token: str = ""):
    acc = link_holder(engine(request), token, now=auth_of(request).now())
    return render(request, "set_password.html", account=acc, token=token, error="")


@router.post(LINK_PATH, dependencies=[Depends(form_binding)])
def set_password_submit(request: Request, token: str = Form("", max_length=200),
                        password: str = Form("", max_length=1024), confirm: str = Form("", max_length=1024)):
    auth = auth_of(request)
    acc = link_holder(engine(request), token, now=auth.now())
    try:
        if password != confirm:
            raise InvalidInput("两次输入的密码不一致")
        set_password(engine(request), token, password, now=auth.now(), address=client_address(request))
    except InvalidInput as e:
        return render(request, "set_password.html", status=e.http_status, account=acc, token=token,
                      error=str(e))
    resp = RedirectResponse("/sign-in?done=1", status_code=303)
    auth.end_session(resp)  # every session of the account ended with the new password
    return resp


@router.post("/sign-out")
def sign_out_submit(request: Request):
    auth = auth_of(request)
    key = request.cookies.get(auth.session_cookie)
    if key:
        sign_out(engine(request), key, now=auth.now(), address=client_address(request))
    resp = RedirectResponse("/sign-in?signed_out=1", status_code=303)
    auth.end_session(resp)
    return resp


def _tokens_page(request: Request, who: Identity, *, status: int = 200, created=None, error: str = "",
                 name: str = "") -> Response:
    now = auth_of(request).now()
    return render(request, "tokens.html", status=status, tokens=list_tokens(engine(request), who.user_id),
                  now=now, created=created, error=error, name=name, days_choices=TOKEN_DAYS,
                  name_max=NAME_MAX, days_max=auth_of(request).limits.token_days)


@router.get("/tokens")
def tokens_page(request: Request, who: Identity = Depends(by_session)):
    return _tokens_page(request, who)


@router.post("/tokens")
def tokens_create(request: Request, who: Identity = Depends(by_session), name: str = Form("", max_length=400),
                  days: int = Form(90)):
    auth = auth_of(request)
    try:
        created = create_token(engine(request), who.user_id, name=name, days=days, now=auth.now(),
                               limits=auth.limits)
    except InvalidInput as e:
        return _tokens_page(request, who, status=e.http_status, error=str(e), name=name)
    return _tokens_page(request, who, status=201, created=created)


@router.post("/tokens/{token_id}/revoke")
def tokens_revoke(request: Request, token_id: int, who: Identity = Depends(by_session)):
    revoke_token(engine(request), who.user_id, token_id, now=auth_of(request).now())
    return RedirectResponse("/tokens", status_code=303)
