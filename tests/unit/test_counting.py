"""The campaign figures are counted exactly as the seeds count them (docs/domain.md §6)."""
from __future__ import annotations

from statemachine.reports.counting import Figures, bucket


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


def test_carried_over_items_are_counted_apart_and_stay_out_of_the_rate():
    f = Figures.of({"concluded": 3, "in_progress": 1, "carried_done": 2, "carried_open": 5})
    assert (f.clues, f.carried_over, f.carried_done, f.rate) == (4, 7, 2, 0.75)
    assert f.sentence().endswith("整改率 75.0%；上年度遗留问题 7 件，已完成 2 件")
    assert f.items == 11


def test_every_item_falls_in_exactly_one_bucket():
    assert bucket("clue", "transferred") == "concluded" and bucket("clue", "rectified") == "in_progress"
    assert bucket("self_inspection", "long_term") == "self_rectified"
    assert bucket("carried_over", "closed") == "carried_done" and bucket("carried_over", "received") == "carried_open"
