"""Notices rendered from their templates: every kind, strictly, escaped, overridable."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from notifications.documents.notices import DECISION_FIELDS, KINDS, REQUIRED_FIELDS, NoticeTemplateError, \
    render_notice
from statemachine.errors import InvalidInput
from statemachine.time.calendar import TZ

FULL = {
    "issuer_name": "示例市交通运输局", "doc_number": "示交督〔2023〕7号", "addressee": "甲县交通运输局",
    "date": date(2023, 4, 8), "grounds": "根据《示例专项整治实施方案》（示交发〔2023〕1号）有关要求",
    "facts": ["问题整改逾期：XS-2023-00001（期限 2023年3月31日）", "问题线索未按期核查：XS-2023-00002"],
    "campaign_title": "示例专项整治", "required_action": "立即整改",
    "deadline": datetime(2023, 4, 20, 23, 59, 59, tzinfo=TZ),
    "original_deadline": "2023年4月7日", "verification": "经实地核查已整改到位",
    "receiving_organ": "示例市纪委监委",
    "round_title": "专项整治问题整改“回头看”", "kind_label": "整改“回头看”",
    "chased_doc_number": "示交督〔2023〕5号", "listed_doc_number": "示交督〔2023〕4号",
    "interview_at": datetime(2023, 4, 12, 9, 30, tzinfo=TZ), "interview_place": "示例市交通运输局三楼会议室",
    "attendees": "你单位主要负责同志、分管负责同志",
}
TITLES = {"criticism": "关于对甲县交通运输局的通报批评", "interview": "约谈通知书",
          "listed": "挂牌督办通知书", "chase": "催办通知书",
          "delisting": "关于同意甲县交通运输局挂牌督办事项摘牌的通知",
          "accountability": "关于对甲县交通运输局启动追责问责的通知",
          "transfer": "关于移送甲县交通运输局有关问题线索的函",
          "inspection": "关于开展专项整治问题整改“回头看”的通知"}
CLOSINGS = {"criticism": "特此通报。", "chase": "特此催办。", "transfer": "此函。"}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_as_an_official_document(kind):
    n = render_notice(kind, FULL)
    assert n.title == TITLES[kind]
    for part in (n.text, n.html):
        assert "示交督〔2023〕7号" in part and "甲县交通运输局" in part
        assert "2023年4月8日" in part  # 成文日期 from a date
        assert "示例市交通运输局" in part and "XS-2023-00001" in part and "XS-2023-00002" in part
        assert "《示例专项整治实施方案》（示交发〔2023〕1号）" in part  # 依据
        assert CLOSINGS.get(kind, "特此通知。") in part
        if "deadline" in REQUIRED_FIELDS[kind]:
            assert "于2023年4月20日前" in part  # an instant, written as its Beijing date
    lines = n.text.splitlines()
    # 版头: 发文机关标志, two lines down 发文字号, the separator; then the title and 主送
    assert lines[:7] == ["示例市交通运输局", "", "", "示交督〔2023〕7号", "━" * 28, "", n.title]
    addressee = "示例市纪委监委：" if kind == "transfer" else "甲县交通运输局："  # 主送
    assert lines[8] == addressee and f">{addressee}</p>" in n.html
    # 署名 and 成文日期 under the seal's place, then the 版记: 印发机关 and 印发日期
    sign = lines.index(" " * 16 + "（印章）")
    assert [x.strip() for x in lines[sign + 1:sign + 3]] == ["示例市交通运输局", "2023年4月8日"]
    assert lines[-2:] == ["　示例市交通运输局　　2023年4月8日印发", "━" * 28]
    assert f"<h1>{n.title}</h1>" in n.html and "<title>" in n.html
    assert '<hr class="rule">' in n.html and '<span class="seal">' in n.html and "size: A4" in n.html
    assert '<span class="printed-on">2023年4月8日印发</span>' in n.html


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("blank", [None, "  ", "absent"])
def test_a_missing_field_is_refused_naming_it(kind, blank):
    field = REQUIRED_FIELDS[kind][-1]
    ctx = {k: v for k, v in FULL.items() if k != field} if blank == "absent" else FULL | {field: blank}
    with pytest.raises(NoticeTemplateError) as e:
        render_notice(kind, ctx)
    assert str(e.value) == f"notice '{kind}': missing field '{field}'"
    assert isinstance(e.value, InvalidInput)


def test_no_facts_is_a_missing_field_and_a_string_is_not_a_list():
    with pytest.raises(NoticeTemplateError, match="missing field 'facts'"):
        render_notice("criticism", FULL | {"facts": []})
    with pytest.raises(NoticeTemplateError, match="'facts' must be a list"):
        render_notice("criticism", FULL | {"facts": "一条"})


def test_html_is_escaped_and_text_is_not():
    n = render_notice("criticism", FULL | {"addressee": "甲县<script>alert(1)</script>",
                                           "facts": ["A & B <b>"]})
    assert "<script>" not in n.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in n.html
    assert "<li>A &amp; B &lt;b&gt;</li>" in n.html
    assert "甲县<script>alert(1)</script>：" in n.text and "1. A & B <b>" in n.text
    assert n.title == "关于对甲县<script>alert(1)</script>的通报批评"  # the title is text


def test_an_unknown_kind_is_refused():
    with pytest.raises(NoticeTemplateError, match="^unknown notice kind 'praise' \\(one of criticism, "):
        render_notice("praise", FULL)


def test_cc_and_contact_close_the_document():
    n = render_notice("listed", FULL | {"cc": ["市纪委监委", "市司法局"], "contact": "张三",
                                        "phone": "0350-1234567", "printer": "示例市交通运输局办公室"})
    lines = n.text.splitlines()
    assert "    （联系人：张三，联系电话：0350-1234567）" in lines
    assert lines[-4:] == ["　抄送：市纪委监委，市司法局。", "─" * 28, "　示例市交通运输局办公室　　2023年4月8日印发",
                          "━" * 28]
    assert "抄送：市纪委监委，市司法局。" in n.html and "联系电话：0350-1234567" in n.html
    assert "抄送" not in render_notice("listed", FULL).text


def test_an_interview_names_its_time_place_and_who_attends():
    n = render_notice("interview", FULL | {"interview_at": datetime(2023, 4, 12, 1, 30, tzinfo=TZ),
                                           "interview_place": "市局三楼会议室。"})
    assert n.title == "约谈通知书"
    assert ("请你单位主要负责同志、分管负责同志于2023年4月12日1时30分到市局三楼会议室接受约谈"
            in n.text)  # the place's own full stop is dropped: the sentence goes on


@pytest.mark.parametrize("field", ["interview_at", "interview_place", "attendees"])
def test_an_interview_without_its_time_place_or_attendees_is_refused(field):
    with pytest.raises(NoticeTemplateError, match=f"missing field '{field}'"):
        render_notice("interview", {k: v for k, v in FULL.items() if k != field})


def test_a_chase_cites_the_number_it_chases_and_a_delisting_the_listing_it_ends():
    chase = render_notice("chase", FULL | {"chased_title": "挂牌督办通知书"})
    assert "已向你单位印发《挂牌督办通知书》（示交督〔2023〕5号）" in chase.text
    delist = render_notice("delisting", FULL)
    assert "以挂牌督办通知书（示交督〔2023〕4号）对你单位下列问题予以挂牌督办" in delist.text


def test_free_text_clauses_never_double_their_punctuation():
    n = render_notice("delisting", FULL | {"verification": "经实地核查，已整改到位。"})
    assert "核查情况：经实地核查，已整改到位。经研究" in n.text and "。。" not in n.text


def test_accountability_decisions_accountable_and_exempt():
    decided = render_notice("accountability", FULL | {"decision": "accountable",
                                                      "decision_text": "对相关责任人进行诫勉谈话"})
    assert decided.title == "关于对甲县交通运输局有关问题追责问责的决定"
    assert "作出如下决定：对相关责任人进行诫勉谈话。" in decided.text and "特此决定。" in decided.html

    exempt = render_notice("accountability", FULL | {"decision": "exempt",
                                                     "exemption_grounds": "系为推动发展的无意过失，未谋取私利"})
    assert exempt.title == "关于对甲县交通运输局有关问题予以容错免责的决定"
    for part in (exempt.text, exempt.html):
        assert "三个区分开来" in part and "系为推动发展的无意过失，未谋取私利" in part
        assert "予以容错免责" in part and "容错免责不免除整改责任" in part


@pytest.mark.parametrize("decision", ["accountable", "exempt"])
def test_a_decision_without_its_grounds_is_refused(decision):
    [field] = DECISION_FIELDS[decision]
    with pytest.raises(NoticeTemplateError, match=f"^notice 'accountability': missing field '{field}'$"):
        render_notice("accountability", FULL | {"decision": decision})
    with pytest.raises(NoticeTemplateError, match="decision 'pardon' is not one of"):
        render_notice("accountability", FULL | {"decision": "pardon"})


def test_a_campaign_override_replaces_one_template_and_keeps_the_rest():
    overrides = {"criticism.txt.j2":
                 '{% set title %}通报（{{ addressee }}）{% endset %}{{ title }}：{{ required_action }}\n'}
    n = render_notice("criticism", FULL, overrides=overrides)
    assert n.title == "通报（甲县交通运输局）" and n.text == "通报（甲县交通运输局）：立即整改\n"
    assert "<h1>通报（甲县交通运输局）</h1>" in n.html  # the shipped HTML, with the overriding title
    assert render_notice("chase", FULL, overrides=overrides).title == "催办通知书"
    assert render_notice("criticism", FULL).title == "关于对甲县交通运输局的通报批评"  # others unaffected


def test_an_override_using_an_unknown_field_names_it():
    overrides = {"chase.html.j2": "<p>{{ supervisor_phone }}</p>"}
    with pytest.raises(NoticeTemplateError, match="^notice 'chase': missing field 'supervisor_phone'$"):
        render_notice("chase", FULL, overrides=overrides)


def test_a_broken_override_is_one_line():
    overrides = {"listed.txt.j2": "{% set title %}x{% endset %}\n{% if %}\n"}
    with pytest.raises(NoticeTemplateError, match="^notice 'listed': .*listed.txt.j2, line 2: "):
        render_notice("listed", FULL, overrides=overrides)


def test_a_template_sees_only_the_documented_fields_of_its_kind():
    # `verification` is a delisting's; a criticism never gets it, even when the caller has it
    overrides = {"criticism.txt.j2": "{% set title %}x{% endset %}{{ verification }}"}
    with pytest.raises(NoticeTemplateError, match="^notice 'criticism': missing field 'verification'$"):
        render_notice("criticism", FULL, overrides=overrides)


def test_a_loops_counters_are_read_directly_and_the_rest_of_it_stays_sandboxed():
    from jinja2 import DictLoader

    from notifications.documents.sandbox import SecurityError, sandboxed_environment

    env = sandboxed_environment(DictLoader({
        "counters": "{% for f in facts %}{{ loop.index }}/{{ loop.length }}{{ '!' if loop.last }} {% endfor %}",
        "escape": "{% for f in facts %}{{ loop.__class__.__init__.__globals__ }}{% endfor %}",
        "call": "{% for f in facts %}{{ loop.cycle('a', 'b') }}{% endfor %}"}))
    assert env.get_template("counters").render(facts=["甲", "乙"]) == "1/2 2/2! "
    with pytest.raises(SecurityError):  # dunders are not counters: the sandbox still decides
        env.get_template("escape").render(facts=["甲"])
    assert env.get_template("call").render(facts=["甲", "乙"]) == "ab"  # methods go the sandbox's way
