"""Notices rendered from their templates: every kind, strictly, escaped, overridable."""
from __future__ import annotations

import pytest

from notifications.render import KINDS, REQUIRED_FIELDS, NoticeTemplateError, render_notice

FULL = {
    "issuer_name": "示例市交通运输局", "doc_number": "示交督〔2023〕7号", "addressee": "甲县交通运输局",
    "date": "2023年4月8日", "grounds": "根据《示例专项整治实施方案》（示交发〔2023〕1号）有关要求",
    "facts": ["问题整改逾期：XS-2023-00001（期限 2023年3月31日）", "问题线索未按期核查：XS-2023-00002"],
    "campaign_title": "示例专项整治", "required_action": "立即整改", "deadline": "2023年4月21日",
    "original_deadline": "2023年4月7日", "verification": "经实地核查已整改到位",
    "receiving_organ": "示例市纪委监委",
}
TITLES = {"criticism": "关于对甲县交通运输局的通报批评", "interview": "函询约谈通知书",
          "listed": "挂牌督办通知书", "chase": "催办通知书",
          "delisting": "关于同意甲县交通运输局挂牌督办事项摘牌的通知",
          "accountability": "关于对甲县交通运输局启动追责问责的通知",
          "transfer": "关于移送甲县交通运输局有关问题线索的函"}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_as_an_official_document(kind):
    n = render_notice(kind, FULL)
    assert n.title == TITLES[kind]
    for part in (n.text, n.html):
        assert "示交督〔2023〕7号" in part and "甲县交通运输局" in part and "2023年4月8日" in part
        assert "示例市交通运输局" in part and "XS-2023-00001" in part
    lines = n.text.splitlines()
    assert lines[0] == "示例市交通运输局" and "甲县交通运输局：" in lines  # 发文机关 first, 主送 line
    if "deadline" in REQUIRED_FIELDS[kind]:
        assert "2023年4月21日" in n.text and "2023年4月21日" in n.html
    if kind == "transfer":
        assert "示例市纪委监委：" in n.text


@pytest.mark.parametrize("kind", KINDS)
def test_a_missing_field_is_refused_naming_it(kind):
    field = REQUIRED_FIELDS[kind][-1]
    with pytest.raises(NoticeTemplateError) as e:
        render_notice(kind, {k: v for k, v in FULL.items() if k != field})
    assert str(e.value) == f"notice '{kind}': missing field '{field}'"


def test_html_is_escaped_and_text_is_not():
    n = render_notice("criticism", FULL | {"addressee": "甲县<script>alert(1)</script>"})
    assert "<script>" not in n.html and "&lt;script&gt;" in n.html
    assert "甲县<script>alert(1)</script>：" in n.text


def test_an_unknown_kind_is_refused():
    with pytest.raises(NoticeTemplateError, match="unknown notice kind 'praise'"):
        render_notice("praise", FULL)


def test_a_campaign_folder_overrides_one_template_and_keeps_the_rest(tmp_path):
    (tmp_path / "criticism.txt.j2").write_text(
        '{% set title %}通报（{{ addressee }}）{% endset %}{{ title }}：{{ required_action }}\n', encoding="utf-8")
    n = render_notice("criticism", FULL, override_dir=tmp_path)
    assert n.title == "通报（甲县交通运输局）" and n.text == "通报（甲县交通运输局）：立即整改\n"
    assert "通报（甲县交通运输局）" in n.html  # the shipped HTML, with the overriding title
    assert render_notice("chase", FULL, override_dir=tmp_path).title == "催办通知书"
