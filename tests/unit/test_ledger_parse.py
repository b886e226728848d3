"""What a ledger cell means: numbered items, dates, aspect names (no database)."""
from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

import pytest

from services.ledgers.cells import match_aspect, numbered, parse_date


@pytest.mark.parametrize("cell, expected", [
    ("1. 2. 3. 4.", ""),                                  # the template's blank placeholder
    ("1.\n2.\n3.\n4.", ""),
    (None, ""),
    ("1. 罚款不开票 2. 乱收费", "1. 罚款不开票\n2. 乱收费"),
    ("1.罚款不开票2.乱收费", "1. 罚款不开票\n2. 乱收费"),
    ("1. 罚款不开票\n\n2. 乱收费  ", "1. 罚款不开票\n2. 乱收费"),
    ("1、甲；2、乙", "1. 甲\n2. 乙"),
    ("（1）甲（2）乙", "1. 甲\n2. 乙"),
    ("1. 超限 2. 3. 4.", "1. 超限"),                        # a half-filled placeholder
    ("对超载1.5吨的车辆一律顶格处罚", "对超载1.5吨的车辆一律顶格处罚"),
    ("1. 2023.6.30 前完成", "1. 2023.6.30 前完成"),
    ("整改3.乱收费", "整改3.乱收费"),                       # not a numbering: does not start at 1
    ("1. 甲 3. 乙", "1. 甲 3. 乙"),                        # a '3.' after item 1 is text
    ("制度不健全\n监督缺位", "制度不健全\n监督缺位"),
    (12, "12"),
])
def test_numbered_cells_normalise_to_one_item_a_line(cell, expected):
    assert numbered(cell) == expected


def test_numbering_is_idempotent():
    once = numbered("1. a 2. b 3. c")
    assert numbered(once) == once == "1. a\n2. b\n3. c"


@pytest.mark.parametrize("cell, expected", [
    (datetime(2023, 6, 30), date(2023, 6, 30)),
    (date(2023, 6, 30), date(2023, 6, 30)),
    ("2023-06-30", date(2023, 6, 30)),
    ("2023/6/30", date(2023, 6, 30)),
    ("2023.6.30", date(2023, 6, 30)),
    ("2023年6月30日", date(2023, 6, 30)),
    ("2023年6月30日前", date(2023, 6, 30)),
    (" 2023 年 6 月 30 日 ", date(2023, 6, 30)),
    ("", None),
    (None, None),
])
def test_dates_as_cells_or_text(cell, expected):
    assert parse_date(cell) == expected


@pytest.mark.parametrize("cell, why", [
    ("6月30日前", "has no year"),
    ("长期", "is not a date"),
    ("2023-02-30", "not a calendar date"),
    ("下月底", "is not a date"),
])
def test_bad_dates_say_what_to_write(cell, why):
    with pytest.raises(ValueError, match=why):
        parse_date(cell)


ASPECTS = [SimpleNamespace(key=k, name=n, focus=f, aliases=[]) for k, n, f in [
    ("profit", "“逐利执法”问题", "下达罚没指标，乱罚款、滥收费"),
    ("nonstandard", "执法不规范问题", "滥用自由裁量权，随意设置路障，选择性执法"),
    ("rigid", "执法方式简单僵化问题", "“一刀切”执法、运动式执法"),
    ("rough", "执法粗暴问题", "以罚代管，“冷横硬推”"),
    ("rent_seeking", "执法“寻租”问题", "办人情案关系案金钱案"),
]]


@pytest.mark.parametrize("cell, key", [
    ("“逐利执法”问题", "profit"),
    ("profit", "profit"),
    ("逐利执法问题", "profit"),
    ("逐利执法", "profit"),
    ("\"逐利 执法\"问 题", "profit"),          # the template's wrapped, straight-quoted cell
    ("执法不\n规范问\n题", "nonstandard"),
    ("趋利性执法问题", "profit"),              # 003 附件3's older wording
    ("选择性执法问题", "nonstandard"),          # named in exactly one aspect's focus
    ("寻租", "rent_seeking"),
    ("执法粗暴", "rough"),
])
def test_aspects_by_name_partial_name_or_older_wording(cell, key):
    assert match_aspect(cell, ASPECTS) == key


def test_an_ambiguous_or_unknown_aspect_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="could be any of"):
        match_aspect("执法", ASPECTS)
    with pytest.raises(ValueError, match="unknown aspect '以人民为中心的执法理念树立不牢'.*逐利执法"):
        match_aspect("以人民为中心的执法理念树立不牢", ASPECTS)


def test_a_plans_alias_names_an_aspect_the_sheet_words_differently():
    aspects = ASPECTS + [SimpleNamespace(key="public_concern", name="群众反映强烈的问题", focus="",
                                         aliases=["以人民为中心的执法理念树立不牢"])]
    assert match_aspect("以人民为中心的 执法理念树立不牢", aspects) == "public_concern"
    assert match_aspect("以人民为中心的执法理念树立不牢问题", aspects) == "public_concern"
