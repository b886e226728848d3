"""The SQL form of statemachine/reports/counting.py: the figures of a set of items as
labelled sums, one per bucket, to select beside any GROUP BY.
tests/integration/test_rule_sql_agrees.py proves it counts as `bucket` does."""
from __future__ import annotations

from sqlalchemy import ColumnElement, and_, case, func, not_

from models.tables import Clue
from statemachine.charts.clue import ItemKind
from statemachine.reports.counting import BUCKETS, CONCLUDED, DONE, MERGED, ONGOING, Figures

__all__ = ["bucket_sums", "figures_of", "Figures"]

T = Clue.__table__


def _in(states) -> ColumnElement[bool]:
    return T.c.state.in_([s.value for s in states])


def _buckets() -> dict[str, ColumnElement[bool]]:
    is_self, is_carried = T.c.kind == ItemKind.self_inspection.value, T.c.kind == ItemKind.carried_over.value
    is_clue = not_(T.c.kind.in_((ItemKind.self_inspection.value, ItemKind.carried_over.value)))
    return {
        "concluded": and_(is_clue, _in(CONCLUDED)),
        "ongoing": and_(is_clue, _in(ONGOING)),
        "in_progress": and_(is_clue, not_(_in(DONE + MERGED))),
        "self_rectified": and_(is_self, _in(DONE)),
        "self_open": and_(is_self, not_(_in(DONE + MERGED))),
        "carried_done": and_(is_carried, _in(DONE)),
        "carried_open": and_(is_carried, not_(_in(DONE + MERGED))),
    }


def bucket_sums() -> list:
    """`sum(case(bucket))` per bucket, labelled with the bucket's name."""
    return [func.sum(case((cond, 1), else_=0)).label(name) for name, cond in _buckets().items()
            if name in BUCKETS]


def figures_of(row) -> Figures:
    """The Figures of a row selected with `bucket_sums()` (None: no items)."""
    if row is None:
        return Figures()
    return Figures.of({b: getattr(row, b) for b in BUCKETS})
