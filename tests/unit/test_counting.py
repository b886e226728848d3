"""The campaign figures are counted exactly as the seeds count them (docs/domain.md §6)."""
from __future__ import annotations

from services.status import Figures


def test_seed_000_reports_a_rectification_rate_of_98_2_percent():
    # 共受理问题线索 614 件，已办结 590 件，持续推进中 2 件，正在办理 22 件；自查自纠问题 604 件，已整改 604 件
    f = Figures(clues=614, concluded=590, ongoing=2, in_progress=22, self_inspection=604,
                self_rectified=604)
    assert round(f.rate * 100, 1) == 98.2
    assert f.sentence() == ("共受理问题线索 614 件，已办结 590 件，持续推进中 2 件，正在办理 22 件；"
                            "自查自纠问题 604 件，已整改 604 件；整改率 98.2%")


def test_long_term_items_count_as_rectified_and_in_progress_ones_do_not():
    assert Figures(clues=4, concluded=1, ongoing=1, in_progress=2).rate == 0.5


def test_an_empty_campaign_has_no_rate_rather_than_a_division_by_zero():
    assert Figures().rate is None
    assert Figures().sentence().endswith("整改率 —")
