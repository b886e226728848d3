"""The one settings object: every RECTIFY_* variable, typed and checked at start.

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
    RECTIFY_SCHEDULER           embedded (APScheduler here) | prefect (deployments)
    RECTIFY_SMTP_HOST           e-mail channel: on when set
    RECTIFY_SMTP_PORT, _FROM, _USER, _PASSWORD, _STARTTLS
    RECTIFY_WEBHOOK_URL         webhook channel: on when set (http or https)
    RECTIFY_WEBHOOK_STYLE       generic | dingtalk | wecom
    RECTIFY_FILE_DROP           file-drop channel: on when set, a folder
    RECTIFY_REPORTS_DIR         where generated reports go (<home>/reports)
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, Mapping, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from models.db import normalize_url, sqlite_file
from notifications.delivery.channels import WEBHOOK_STYLES
from statemachine.errors import InvalidInput

__all__ = ["Settings", "ENV_PREFIX", "env_name"]

ENV_PREFIX = "RECTIFY_"
Scheduler = Literal["embedded", "prefect"]
SCHEDULERS = get_args(Scheduler)
# shown as given in messages, unless secret
_SECRET = {"smtp_password"}


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def _default_home() -> Path:
    return Path.home() / ".rectify"


def _shown_url(url: str) -> str:
    """A database or webhook URL without its secrets (password, query token)."""
    u = urlsplit(url)
    host = u.hostname or ""
    if u.port:
        host += f":{u.port}"
    user = f"{u.username}@" if u.username else ""
    return f"{u.scheme}://{user}{host}{u.path}" if u.scheme else url



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
    webhook_url: str = Field("", repr=False)  # robot URLs carry their token in the query
    webhook_style: str = "generic"  # one of notifications.delivery.channels.WEBHOOK_STYLES
    file_drop: Path | None = None
    reports_dir: Path | None = None

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

    @field_validator("calendar_overrides", "file_drop", "reports_dir", mode="before")
    @classmethod
    def _path(cls, v: Any) -> Any:
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        return Path(v).expanduser() if isinstance(v, (str, Path)) else v

    @field_validator("calendar_overrides")
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
            raise ValueError(f"'{_shown_url(v)}' is not sqlite:///PATH or postgresql://USER@HOST/DB")
        if v.startswith("sqlite") and sqlite_file(v) is None:  # a database gone when the command ends
            raise ValueError(f"'{_shown_url(v)}' names no database file: sqlite:///PATH")
        return v

    @field_validator("scheduler", mode="before")
    @classmethod
    def _scheduler(cls, v: Any) -> str:
        return _one_of(v, SCHEDULERS)

    @field_validator("smtp_port", mode="before")
    @classmethod
    def _port(cls, v: Any) -> int:
        s = str(v).strip()
        if not s.isdigit() or not 0 < int(s) < 65536:
            raise ValueError(f"'{v}' is not a port number")
        return int(s)

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, v: str) -> str:
        v = v.strip()
        if v and urlsplit(v).scheme not in ("http", "https"):
            raise ValueError(f"'{_shown_url(v)}' is not an http(s) URL")
        return v

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


def _problem(err: dict) -> str:
    field = str(err["loc"][0]) if err.get("loc") else ""
    name = env_name(field) if field else "settings"
    if err.get("type") == "value_error":
        return f"{name}: {err['ctx']['error']}"
    if err.get("type") == "extra_forbidden":
        return f"{field}: not a setting"
    shown = "" if field in _SECRET else f"'{err.get('input')}': "
    msg = err.get("msg", "invalid")
    return f"{name}: {shown}{msg[:1].lower()}{msg[1:]}"
