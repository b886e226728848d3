"""The look-back round and check charts as stored (services/core/persisted.py).

A round's authority is judged against its organising unit, which its audit
records name; a check's against the round's organiser too (or the item's
team, for recording), while its audit records name the inspected unit.
"""
from __future__ import annotations

from models.tables import InspectionCheck, InspectionRound
from statemachine.charts.lookback import CHECK_CHART, ROUND_CHART

from services.core.persisted import PersistedChart

__all__ = ["ROUNDS", "CHECKS"]

ROUNDS = PersistedChart(chart=ROUND_CHART, table=InspectionRound.__table__, entity="round",
                        unit_column="organiser_unit_id", plural="rounds")
CHECKS = PersistedChart(chart=CHECK_CHART, table=InspectionCheck.__table__, entity="check",
                        stamped=False, plural="checks")
