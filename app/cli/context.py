"""The CLI's context: the process's Runtime (services/core/runtime.py, the one
composition root) plus what only a command line has: the default campaign,
the acting user (--as), the deadline colours it prints.

Everything is built on first use, never at import time, so `rectify --help`
and single-clue commands stay fast (no Prefect import, no engine).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Iterator

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DatabaseError, OperationalError

from models.db import current_revision, head_revision, sqlite_file, upgrade
from services.core.runtime import Runtime
from services.core.uow import UnitOfWork, unit_of_work
from statemachine.errors import InvalidInput, NotInitialised
from statemachine.time.calendar import WorkingCalendar

from .settings import Settings, parse_instant

__all__ = ["AppContext", "NotInitialised"]


@dataclass
class AppContext:
    runtime: Runtime = field(default_factory=lambda: AppContext.runtime_of(Settings.from_env()))
    _conn: Connection | None = field(default=None, repr=False)  # the command's, inside work()

    @staticmethod
    def runtime_of(settings: Settings) -> Runtime:
        """The runtime of these settings, its clock at --now if given (checked here, at start)."""
        return Runtime(settings, now=parse_instant(settings.now) if settings.now else None)

    @classmethod
    def start(cls, **flags: Any) -> AppContext:
        """The environment's settings with the command line's flags over them,
        refused at start, in one line, when any is bad."""
        return cls(cls.runtime_of(Settings.from_env(**flags)))

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    @property
    def calendar(self) -> WorkingCalendar:
        return self.runtime.calendar

    @cached_property
    def now(self) -> datetime:
        return self.runtime.clock()

    def acting_now(self, campaign: str | None = None) -> datetime:
        """`now` for a command that changes the campaign: refused in one line when it is the
        real clock's and outside the campaign's period (statemachine/time/period.py)."""
        from services.campaigns.period import require_in_period

        if self.runtime.now is not None:  # an explicit --now: whoever typed it chose the day,
            return self.now               # and period_refusal never refuses a chosen one
        code = self.campaign(campaign)
        if self._conn is not None:  # inside the command's unit of work
            require_in_period(self._conn, code, now=self.now, chosen=self.runtime.now is not None)
        else:
            with self.db().connect() as conn:
                require_in_period(conn, code, now=self.now, chosen=self.runtime.now is not None)
        return self.now

    def db(self) -> Engine:
        """The engine of a database migrated to the current schema."""
        self._check_exists()
        try:
            self._check_schema(current_revision(self.engine))
        except DatabaseError as e:  # also "file is not a database", a DatabaseError only
            raise self._cannot_open(e) from None
        return self.engine

    @contextmanager
    def work(self) -> Iterator[UnitOfWork]:
        """One command, one transaction: the schema check, the default campaign and the
        use case (which joins this unit of work) on one connection, committed when the
        command's use case has returned."""
        self._check_exists()
        opened = False
        try:
            with unit_of_work(self.engine) as uow:
                self._check_schema(current_revision(uow.conn))
                opened = True
                self._conn = uow.conn
                try:
                    yield uow
                finally:
                    self._conn = None
                uow.commit()
        except OperationalError as e:
            raise self._cannot_open(e) from None
        except DatabaseError as e:
            if opened:  # the command's own: not a database that cannot be opened
                raise
            raise self._cannot_open(e) from None

    def _cannot_open(self, e: DatabaseError) -> NotInitialised:
        return NotInitialised(f"cannot open database {self._shown_url()}: {str(e.orig).splitlines()[0]}")

    def _exists(self) -> bool:
        path = sqlite_file(self.settings.db_url)
        return path is None or path.exists()

    def _check_exists(self) -> None:
        # SQLite would create an empty file just to find no schema in it
        path = sqlite_file(self.settings.db_url)
        if path is not None and not path.is_file():
            raise NotInitialised(f"database {self._shown_url()} "
                                 + ("is not a file" if path.exists() else "does not exist: run 'rectify init'"))

    def _check_schema(self, rev: str | None) -> None:
        if rev is None:
            raise NotInitialised(f"database {self._shown_url()} is not initialised: run 'rectify init'")
        if rev != head_revision():
            raise NotInitialised(f"database {self._shown_url()} is at schema {rev}, this version "
                                 f"needs {head_revision()}: run 'rectify migrate'")

    def migrate(self) -> tuple[str | None, str]:
        try:
            before = current_revision(self.engine) if self._exists() else None
            upgrade(self.engine)
        except DatabaseError as e:
            raise self._cannot_open(e) from None
        except OSError as e:  # the SQLite file's folder
            raise NotInitialised(f"cannot create database {self._shown_url()}: {e.strerror}"
                                 + (f": {e.filename}" if e.filename else "")) from None
        return before, head_revision()

    def campaign(self, given: str | None) -> str:
        """--campaign, else RECTIFY_CAMPAIGN, else the only campaign loaded."""
        code = given or self.settings.campaign
        if code:
            return code
        from services.campaigns.load import campaign_codes

        if self._conn is not None:  # inside the command's unit of work
            loaded = campaign_codes(self._conn)
        else:
            with self.db().connect() as conn:
                loaded = campaign_codes(conn)
        if len(loaded) == 1:
            return loaded[0]
        if not loaded:
            raise InvalidInput("no campaign loaded: run 'rectify load PLAN' first")
        raise InvalidInput(f"several campaigns loaded: say which with --campaign ({', '.join(loaded)})")

    def channels(self) -> tuple[str, ...]:
        """The delivery channels configured here; notices are queued for those only."""
        return self.runtime.channel_names

    def warning(self, due_at: datetime | None, *, open_: bool = True) -> str:
        """The early-warning colour of a deadline now, per the campaign's policy."""
        from statemachine.warning import WARNING_LABELS, warning_colour

        if not open_:
            return ""
        w = self._warning_policy
        return WARNING_LABELS[warning_colour(due_at, self.now, blue_within_days=w.blue_within_days,
                                             yellow_within_days=w.yellow_within_days)]

    def aspect_name(self, key: str) -> str:
        """An aspect's name in the campaign's plan (问题方面); an unknown key as given."""
        return self._aspects.get(key, key)

    @cached_property
    def _aspects(self) -> dict[str, str]:
        return {a.key: a.name for a in self._plan.aspects}

    def stage_name(self, key: str | None) -> str:
        """A stage's name in the campaign's plan (自查自纠); an unknown key as given."""
        from statemachine.charts.unit_stage import COMPLETED

        if not key:
            return "—"
        return ({s.key: s.name for s in self._plan.stages} | {COMPLETED: "已完成"}).get(key, key)

    @cached_property
    def _plan(self):
        from services.campaigns.load import plan_of
        from services.core.directory import campaign_row

        with self.db().connect() as conn:
            return plan_of(conn, campaign_row(conn, self.campaign(None)).id)

    @cached_property
    def _warning_policy(self):
        from services.campaigns.load import plan_of
        from services.core.directory import campaign_row

        with self.db().connect() as conn:
            return plan_of(conn, campaign_row(conn, self.campaign(None)).id).escalation.warning

    def user(self, given: str | None) -> str:
        return given or self.settings.user

    def prefect(self, *, discover: bool = True) -> None:
        """Configure Prefect before it is imported. Flows run here find this
        context's runtime installed (cli_root.py), not an environment. `discover`:
        use the local server a `rectify serve` of this home runs (app/local_prefect.py)."""
        from app.prefect_env import configure_prefect

        configure_prefect(self.settings.home, discover=discover)

    def _shown_url(self) -> str:
        from statemachine.masking import masked_url

        return masked_url(self.settings.db_url)
