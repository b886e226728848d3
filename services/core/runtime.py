"""The composition root: what a process builds from its Settings, and which one
the flows of this process use.

    Runtime     engine, working-day calendar, clock, delivery channels, reports
                folder; each built on first use, never at import
    use(rt)     install `rt` as this process's runtime for a block (the CLI, the
                web app, a test): flows run in-process then use it
    current()   the runtime installed, else the one built from this process's
                environment (a Prefect worker: its RECTIFY_* variables are its
                configuration), built once

Flows never take the database or a channel as a parameter: credentials would
show up in the Prefect UI, and a run would not be replayable elsewhere.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator, Mapping

from sqlalchemy import Engine

from models.db import make_engine
from notifications.delivery.channels import Channel, FileDropChannel, SmtpChannel, WebhookChannel
from statemachine.time.calendar import TZ, WorkingCalendar

from .settings import Settings

__all__ = ["Runtime", "Settings", "current", "use", "from_environment"]


@dataclass(eq=False)
class Runtime:
    settings: Settings = field(default_factory=Settings.from_env)
    # where a pretend clock stands (--now, already parsed); None: the real clock
    now: datetime | None = None

    def clock(self) -> datetime:
        return self.now if self.now is not None else datetime.now(TZ)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.db_url)

    @cached_property
    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar.from_file(self.settings.calendar_overrides)

    @cached_property
    def channels(self) -> Mapping[str, Channel]:
        """The delivery channels configured, by name (email, webhook, file);
        a channel without its settings is absent."""
        s = self.settings
        out: dict[str, Channel] = {}
        if s.smtp_host:
            out["email"] = SmtpChannel(host=s.smtp_host, port=s.smtp_port, sender=s.smtp_from,
                                       username=s.smtp_user or None, password=s.smtp_password or None,
                                       starttls=s.smtp_starttls, allow_plain_auth=s.smtp_allow_plain_auth,
                                       ca_file=str(s.smtp_ca_file) if s.smtp_ca_file else None)
        if s.webhook_url:
            out["webhook"] = WebhookChannel(s.webhook_url, style=s.webhook_style)
        if s.file_drop is not None:
            out["file"] = FileDropChannel(s.file_drop)
        return out

    @property
    def channel_names(self) -> tuple[str, ...]:
        """The channels notices are queued for: those this deployment can send on."""
        return tuple(self.channels)

    @property
    def reports_dir(self) -> Path:
        return self.settings.reports_folder

    def but(self, **changes: Any) -> Runtime:
        """A runtime like this one with some settings changed (a command's own
        option, e.g. `report generate --out`), checked like any; built afresh."""
        return Runtime(Settings(**{**self.settings.model_dump(), **changes}), now=self.now)

    def close(self) -> None:
        """Release the engine's connections, if it was ever built."""
        engine = self.__dict__.pop("engine", None)
        if engine is not None:
            engine.dispose()


_lock = threading.Lock()
_installed: Runtime | None = None
_from_environment: Runtime | None = None


def current() -> Runtime:
    """The runtime the flows of this process use (see the module's docstring)."""
    global _from_environment
    installed = _installed
    if installed is not None:
        return installed
    with _lock:
        if _from_environment is None:
            _from_environment = Runtime(Settings.from_env())
        return _from_environment


def from_environment() -> bool:
    """Whether the flows of this process use the runtime of its environment (a worker's run)."""
    return _installed is None


@contextmanager
def use(runtime: Runtime) -> Iterator[Runtime]:
    """Make `runtime` this process's runtime for the block, then restore the one
    before. Process-wide, not per thread: the embedded scheduler's threads and
    Prefect's task threads must see the runtime the command installed."""
    global _installed
    with _lock:
        before, _installed = _installed, runtime
    try:
        yield runtime
    finally:
        with _lock:
            _installed = before
