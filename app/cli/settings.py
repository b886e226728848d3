"""The CLI's view of the settings: the one Settings object (services/core/settings.py)
and the parsing of --now (statemachine/time/clock.py, re-exported)."""
from __future__ import annotations

from services.core.settings import Settings
from statemachine.time.clock import parse_instant

__all__ = ["Settings", "parse_instant"]
