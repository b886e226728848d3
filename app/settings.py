"""The CLI's view of the settings: the one Settings object (services/settings.py)
and the parsing of --now (statemachine/clock.py, re-exported)."""
from __future__ import annotations

from services.settings import Settings
from statemachine.clock import parse_instant

__all__ = ["Settings", "parse_instant"]
