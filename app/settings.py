"""One typed settings object (fail fast), read from flags and RECTIFY_* variables."""
from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.db import default_home, normalize_url
from statemachine.calendar import TZ
from statemachine.errors import InvalidInput

__all__ = ["Settings", "parse_instant"]


def parse_instant(text: str) -> datetime:
    """'2023-04-08', '2023-04-08 09:30', ISO with offset; naive means Asia/Shanghai."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(9, 0), TZ)
        dt = datetime.fromisoformat(raw.replace(" ", "T", 1))
    except ValueError:
        raise InvalidInput(f"--now: '{text}' is not a date or time (use 2023-04-08 or "
                           f"2023-04-08T09:30, Asia/Shanghai)") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=TZ)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECTIFY_", extra="ignore")

    home: Path = Field(default_factory=default_home)
    db: str = ""
    now: str = ""
    campaign: str = ""
    user: str = ""
    calendar_overrides: str = ""
    # who fires the cron: the in-process APScheduler (one machine) or Prefect
    # deployments with schedules (scale-out). Never both (STACK-NOTES).
    scheduler: Literal["embedded", "prefect"] = "embedded"

    @field_validator("db")
    @classmethod
    def _db(cls, v: str) -> str:
        v = normalize_url(v.strip())
        if v and not (v.startswith("sqlite") or v.startswith("postgresql+psycopg://")):
            raise ValueError("RECTIFY_DB must be sqlite:///PATH or postgresql://USER@HOST/DB")
        return v

    @property
    def db_url(self) -> str:
        return self.db or f"sqlite:///{self.home / 'rectify.db'}"

    def clock(self) -> datetime:
        return parse_instant(self.now) if self.now else datetime.now(TZ)
