"""The one settings object: every RECTIFY_* variable, typed and checked at start.

A Prefect worker's runs read theirs from the worker's environment, checked when a
run starts (flows/deps.py `ready`; docs/deploy.md lists what a worker needs).

A process reads its environment once, at start (`Settings.from_env`); the
CLI lays its flags over it (--db, --now, --campaign). `Settings(...)` takes
exactly the values given and never looks at the environment, so a test or
an embedding program (the web app) configures Rectify without `os.environ`.

A bad value is refused before anything runs, as one `InvalidInput` line
naming the variable: `RECTIFY_SMTP_PORT: 'smtp' is not a port number`.

    variable                    meaning (default)
    RECTIFY_HOME                where the embedded default keeps its files (~/.rectify)
    RECTIFY_DB                  sqlite:///PATH or postgresql://USER@HOST/DB
                                (SQLite in the home); PostgreSQL always through psycopg 3
    RECTIFY_NOW                 pretend it is this instant (--now); parsed by the clock
    RECTIFY_CAMPAIGN            the campaign commands act on (the only one loaded)
    RECTIFY_USER                who is acting (--as)
    RECTIFY_CALENDAR_OVERRIDES  a working-day override file; it must exist
    RECTIFY_SCHEDULER           embedded (APScheduler here) | prefect (deployments `serve` serves);
                                workers of `rectify deploy` need neither (docs/deploy.md)
    RECTIFY_SMTP_HOST           e-mail channel: on when set
    RECTIFY_SMTP_PORT, _FROM, _USER, _PASSWORD, _STARTTLS
    RECTIFY_SMTP_ALLOW_PLAIN_AUTH  AUTH without STARTTLS (a relay on a trusted network): false
    RECTIFY_WEBHOOK_URL         webhook channel: on when set (http or https)
    RECTIFY_WEBHOOK_STYLE       generic | dingtalk | wecom
    RECTIFY_FILE_DROP           file-drop channel: on when set, a folder
    RECTIFY_REPORTS_DIR         where generated reports go (<home>/reports)
    RECTIFY_WEB_HOST, _WEB_PORT the web app's address (127.0.0.1, 8000)
    RECTIFY_PUBLIC_URL          how people reach it, for one-time links and cookies
                                (http://WEB_HOST:WEB_PORT); https makes cookies Secure
    RECTIFY_SECRET_KEY          signs the web's CSRF tokens: 32 characters or more;
                                `rectify web` refuses to start without it unless ...
    RECTIFY_WEB_DEV             ... a development server on this machine only (no)
    RECTIFY_SERVE_WEB           `rectify serve` runs the web app beside the scheduler (no)
    RECTIFY_LINK_HOURS          a one-time sign-in link (invite, reset) is valid (72 h)
    RECTIFY_SESSION_IDLE_MINUTES  a web session ends unused after (30 min)
    RECTIFY_SESSION_HOURS       and in any case after (12 h)
    RECTIFY_LOCK_AFTER          failed sign-ins in a row that lock an account (5)
    RECTIFY_LOCK_MINUTES        for how long; also the window of the per-address count (15 min)
    RECTIFY_ADDRESS_FAILURES    failed sign-ins from one address within that window
                                before it is refused altogether (20)
    RECTIFY_TOKEN_DAYS          the longest a personal access token may live (365 days)
    RECTIFY_EVIDENCE_DIR        where uploaded evidence files are kept, by their SHA-256
                                (<home>/evidence)
    RECTIFY_EVIDENCE_MAX_MB     the largest evidence file accepted (20 MiB)
    RECTIFY_WITNESS_CHANNEL     the nightly job sends the audit head to a witness outside the
                                database through this channel: file | webhook | email (none);
                                the channel must be configured
    RECTIFY_WITNESS_TO          the witness's recipient: an e-mail address for email, a label
                                otherwise (witness)
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, Mapping, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from models.db import normalize_url, sqlite_file
from notifications.delivery.channels import WEBHOOK_STYLES
from statemachine.authority import reserved_identity
from statemachine.errors import InvalidInput
from statemachine.masking import masked_url

__all__ = ["Settings", "ENV_PREFIX", "env_name"]

ENV_PREFIX = "RECTIFY_"
Scheduler = Literal["embedded", "prefect"]
SCHEDULERS = get_args(Scheduler)
WITNESS_CHANNELS = ("file", "webhook", "email")  # the channel names of services/core/runtime.py
# shown as given in messages, unless secret; URLs shown masked (statemachine/masking.py)
_SECRET = {"smtp_password", "secret_key"}
_URLS = {"db", "webhook_url", "public_url"}
# the shortest secret key accepted: 32 characters of token_urlsafe carry 192 bits
SECRET_KEY_MIN = 32


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def _default_home() -> Path:
    return Path.home() / ".rectify"


def _one_of(value: Any, choices: tuple[str, ...]) -> str:
    s = str(value).strip().lower()
    if s not in choices:
        raise ValueError(f"'{value}' is not one of {', '.join(choices)}")
    return s

class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    home: Path = Field(default_factory=_default_home)
    db: str = ""
    now: str = ""
    campaign: str = ""
    user: str = ""
    calendar_overrides: Path | None = None
    # who fires the cron: the in-process APScheduler (one machine) or Prefect
    # deployments with schedules (scale-out). Never both (STACK-NOTES).
    scheduler: Scheduler = "embedded"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "rectify@localhost"
    smtp_user: str = ""
    smtp_password: str = Field("", repr=False)
    smtp_starttls: bool = False
    smtp_ca_file: Path | None = None  # the CA that signed the relay's certificate, if not a public one
    # the password in clear over TCP: never unless an operator says so (validate_default:
    # the refusal below is of the other SMTP settings, given while this one is not)
    smtp_allow_plain_auth: bool = Field(False, validate_default=True)
    webhook_url: str = Field("", repr=False)  # robot URLs carry their token in the query
    webhook_style: str = "generic"  # one of notifications.delivery.channels.WEBHOOK_STYLES
    file_drop: Path | None = None
    # copies of the reports' files (a run on a worker writes none unless this is set): the
    # reports themselves are in the database, which every host and the web app read
    reports_dir: Path | None = None
    # the web app (app/web/); the sign-in layer's limits (services/accounts/)
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    public_url: str = ""
    secret_key: str = Field("", repr=False)
    web_dev: bool = False
    serve_web: bool = False
    link_hours: int = Field(72, gt=0, le=24 * 30)
    session_idle_minutes: int = Field(30, gt=0, le=24 * 60)
    session_hours: int = Field(12, gt=0, le=24 * 30)
    lock_after: int = Field(5, gt=0, le=100)
    lock_minutes: int = Field(15, gt=0, le=24 * 60)
    address_failures: int = Field(20, gt=0, le=10_000)
    token_days: int = Field(365, gt=0, le=3 * 365)
    # evidence files (services/evidence/): stored by content, never under a name from an upload
    evidence_dir: Path | None = None
    evidence_max_mb: int = Field(20, gt=0, le=1024)
    # the audit head's witness outside the database (services/notices/witness.py); after the
    # channels' settings, which its check reads
    witness_channel: str = Field("", validate_default=True)
    witness_to: str = Field("", validate_default=True)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **flags: Any) -> Settings:
        """RECTIFY_* of `env` (this process's environment by default), with the
        flags given (None: not given) laid over them. An empty variable is unset."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(env_name(name), "")
            if raw.strip():
                values[name] = raw
        values.update({k: v for k, v in flags.items() if v is not None and v != ""})
        return cls(**values)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as e:  # one line naming each bad variable, never pydantic's report
            raise InvalidInput("; ".join(_problem(err) for err in e.errors())) from None

    # -- checks ---------------------------------------------------------------
    @field_validator("home", mode="before")
    @classmethod
    def _home(cls, v: Any) -> Any:
        if v is None or (isinstance(v, str) and not v.strip()):
            return _default_home()
        return Path(v).expanduser() if isinstance(v, (str, Path)) else v

    @field_validator("calendar_overrides", "file_drop", "reports_dir", "smtp_ca_file", "evidence_dir",
                     mode="before")
    @classmethod
    def _path(cls, v: Any) -> Any:
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        return Path(v).expanduser() if isinstance(v, (str, Path)) else v

    @field_validator("calendar_overrides", "smtp_ca_file")
    @classmethod
    def _overrides_exist(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_file():
            raise ValueError(f"'{v}': no such file")
        return v

    @field_validator("db")
    @classmethod
    def _db(cls, v: str) -> str:
        v = normalize_url(v.strip())
        try:
            if v:
                make_url(v)  # as the engine will; the URL is not echoed, it may hold a password
        except (ArgumentError, ValueError):
            raise ValueError("not a database URL: sqlite:///PATH or postgresql://USER@HOST/DB") from None
        if v and not (v.startswith("sqlite:") or v.startswith("sqlite+")
                      or v.startswith("postgresql+psycopg://")):
            raise ValueError(f"'{masked_url(v)}' is not sqlite:///PATH or postgresql://USER@HOST/DB")
        if v.startswith("sqlite") and sqlite_file(v) is None:  # a database gone when the command ends
            raise ValueError(f"'{masked_url(v)}' names no database file: sqlite:///PATH")
        return v

    @field_validator("scheduler", mode="before")
    @classmethod
    def _scheduler(cls, v: Any) -> str:
        return _one_of(v, SCHEDULERS)

    @field_validator("smtp_port", "web_port", mode="before")
    @classmethod
    def _port(cls, v: Any) -> int:
        s = str(v).strip()
        if not s.isdigit() or not 0 < int(s) < 65536:
            raise ValueError(f"'{v}' is not a port number")
        return int(s)

    @field_validator("smtp_allow_plain_auth")
    @classmethod
    def _plain_auth(cls, v: bool, info: ValidationInfo) -> bool:
        d = info.data
        if d.get("smtp_host") and d.get("smtp_user") and d.get("smtp_starttls") is False and not v:
            raise ValueError("RECTIFY_SMTP_USER without RECTIFY_SMTP_STARTTLS=true would send the "
                             "password in clear text: turn STARTTLS on, or set this to true for a "
                             "relay on a trusted network")
        return v

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, v: str) -> str:
        v = v.strip()
        if not v:
            return v
        try:
            u = urlsplit(v)
            ok = u.scheme in ("http", "https") and bool(u.hostname) and (u.port is None or u.port > 0)
        except ValueError:  # its message quotes the URL ("Port could not be cast … 'pass'")
            ok = False
        if not ok:
            raise ValueError(f"'{masked_url(v)}' is not an http(s) URL")
        return v

    @field_validator("user")
    @classmethod
    def _user(cls, v: str) -> str:
        why = reserved_identity(v)  # --as system would act as the nightly job
        if why:
            raise ValueError(why)
        return v

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        u = urlsplit(v)
        if v and (u.scheme not in ("http", "https") or not u.hostname or u.query or u.fragment):
            raise ValueError(f"'{v}' is not an http(s) URL without query or fragment")
        return v

    @field_validator("secret_key")
    @classmethod
    def _secret_key(cls, v: str) -> str:
        v = v.strip()
        if v and len(v) < SECRET_KEY_MIN:
            raise ValueError(f"too short: at least {SECRET_KEY_MIN} characters "
                             f"(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
        return v

    @field_validator("witness_channel", mode="before")
    @classmethod
    def _witness_channel(cls, v: Any) -> str:
        return "" if v is None or not str(v).strip() else _one_of(v, WITNESS_CHANNELS)

    @field_validator("witness_to")
    @classmethod
    def _witness_to(cls, v: str, info: ValidationInfo) -> str:
        v = v.strip()
        channel, d = info.data.get("witness_channel"), info.data
        needs = {"file": ("file_drop", "RECTIFY_FILE_DROP"), "webhook": ("webhook_url", "RECTIFY_WEBHOOK_URL"),
                 "email": ("smtp_host", "RECTIFY_SMTP_HOST")}.get(channel or "")
        if needs and not d.get(needs[0]):
            raise ValueError(f"RECTIFY_WITNESS_CHANNEL={channel} needs that channel: set {needs[1]}")
        if channel == "email" and "@" not in v:
            raise ValueError("RECTIFY_WITNESS_CHANNEL=email needs the witness's address here")
        if len(v) > 200 or any(not c.isprintable() for c in v):
            raise ValueError("at most 200 printable characters")
        return v or "witness"

    @field_validator("webhook_style", mode="before")
    @classmethod
    def _webhook_style(cls, v: Any) -> str:
        return _one_of(v, WEBHOOK_STYLES)

    # -- derived --------------------------------------------------------------
    @property
    def db_url(self) -> str:
        return self.db or f"sqlite:///{self.home / 'rectify.db'}"

    @property
    def reports_folder(self) -> Path:
        return self.reports_dir or self.home / "reports"

    @property
    def evidence_folder(self) -> Path:
        return self.evidence_dir or self.home / "evidence"

    @property
    def evidence_max_bytes(self) -> int:
        return self.evidence_max_mb * 1024 * 1024

    @property
    def web_url(self) -> str:
        """How people reach the web app: the public URL, else its own address."""
        host = f"[{self.web_host}]" if ":" in self.web_host else self.web_host
        return self.public_url or f"http://{host}:{self.web_port}"


def _problem(err: dict) -> str:
    field = str(err["loc"][0]) if err.get("loc") else ""
    name = env_name(field) if field else "settings"
    if err.get("type") == "value_error":
        return f"{name}: {err['ctx']['error']}"
    if err.get("type") == "extra_forbidden":
        return f"{field}: not a setting"
    given = str(err.get("input"))
    shown = "" if field in _SECRET else f"'{masked_url(given) if field in _URLS else given}': "
    msg = err.get("msg", "invalid")
    return f"{name}: {shown}{msg[:1].lower()}{msg[1:]}"
