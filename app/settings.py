"""One typed settings object (fail fast), read from flags and RECTIFY_* variables."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.db import default_home, normalize_url
from statemachine.clock import TZ, parse_instant  # parse_instant: re-exported, it lives with the clock

__all__ = ["Settings", "parse_instant"]


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
