"""Hostile templates and hostile markup (issue 13, items 1 and 4).

Templates: a notice template is data, never code. Overrides are read from
the plan's `notices/` folder when the plan is loaded, checked and stored
with the campaign; a template in the folder a later command runs from (or
one changed beside the plan afterwards) is never read. Whatever reaches the
renderer runs in the sandbox without globals. "No code ran" is a marker file
the hostile templates try to create.

Markup: a clue's text lands in a report's Markdown, HTML, Word and Excel
files as text: it never becomes a link, an image, a heading, a table or a
formula, and it still reads as typed.
"""
from __future__ import annotations

import json
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import docx
import markdown
import openpyxl
import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import func, select, update

from models.db import make_engine
from models.tables import AuditRecord, Campaign, Clue, GeneratedReport
from notifications.documents.escaping import markdown_inline, visible_controls, xlsx_text
from notifications.documents.notices import KINDS, NoticeTemplateError, render_notice
from notifications.documents.overrides import check_overrides
from notifications.documents.reports import markdown_html
from services.campaigns.load import load_plan
from services.campaigns.notice_templates import read_notice_folder
from services.campaigns.plans import read_plan
from services.clues.lifecycle import ClueInput, NewClue, add_clues, bulk_transition
from services.clues.typical import mark_typical
from services.reports import generate as reports

from ..conftest import SMALL_PLAN, at
from ..e2e.conftest import Cli, assert_one_line_error, clean_env

SUP = dict(actor="sup.city")
TITLE = "{% set title %}通报{% endset %}"


def hostile(marker: Path) -> list[str]:
    """Templates that would create `marker` (or reach Python's internals) if they ran as code."""
    touch = f"touch {marker}"
    return [
        f"{{{{ lipsum.__globals__['os'].popen('{touch}').read() }}}}",
        f"{{{{ lipsum.__globals__.os.system('{touch}') }}}}",
        f"{{{{ cycler.__init__.__globals__.os.popen('{touch}').read() }}}}",
        f"{{{{ joiner.__init__.__globals__['os'].system('{touch}') }}}}",
        f"{{{{ namespace.__init__.__globals__['os'].system('{touch}') }}}}",
        f"{{{{ self.__init__.__globals__.__builtins__.__import__('os').system('{touch}') }}}}",
        f"{{{{ self._TemplateReference__context.cycler.__init__.__globals__.os.system('{touch}') }}}}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{% if c.__name__ == 'catch_warnings' %}"
        f"{{{{ c()._module.__builtins__['__import__']('os').system('{touch}') }}}}{{% endif %}}{{% endfor %}}",
        "{{ facts.__class__.__mro__[1].__subclasses__() }}",
        "{{ grounds.__class__.__init__.__globals__ }}",
        "{{ grounds['__class__'] }}",
        "{{ grounds|attr('__class__') }}",
        "{{ facts.pop() }}",
        "{{ config.items() }}",
        "{{ request.application }}",
        "{{ range(10**9)|list }}",
        "{{ 'x' * 10**9 }}",
        "{{ 9 ** 9 ** 9 }}",
        "{{ '%999999999d' % 1 }}",
        "{{ grounds|center(999999999) }}",
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
        "{% for f in facts recursive %}{{ loop(facts) }}{% endfor %}",
        "{% include grounds %}",
        "{% import '_base.txt.j2' as b %}",
    ]


def _no_code_ran(marker: Path) -> None:
    assert not marker.exists(), "a template ran code"


# -- load time: every hostile template is refused with one line naming it ------------
def test_every_hostile_override_is_refused_at_load_naming_the_file(tmp_path):
    marker = tmp_path / "pwned"
    for body in hostile(marker):
        for name in ("criticism.txt.j2", "inspection.html.j2", "_facts.txt.j2"):
            with pytest.raises(NoticeTemplateError) as e:
                check_overrides({name: TITLE + body}, where="plans/notices/")
            line = str(e.value)
            assert len(line.splitlines()) == 1 and line.startswith(f"plans/notices/{name}: "), (body, line)
    _no_code_ran(marker)


@pytest.mark.parametrize("body, field", [
    ("{{ lipsum }}", "lipsum"), ("{{ cycler }}", "cycler"), ("{{ range }}", "range"),
    ("{{ namespace }}", "namespace"), ("{{ supervisor_phone }}", "supervisor_phone"),
    ("{{ verification }}", "verification"),  # a delisting's field, not a criticism's
])
def test_an_unknown_field_is_one_line_naming_the_template_and_the_field(body, field):
    with pytest.raises(NoticeTemplateError, match=rf"^notices/criticism\.txt\.j2: unknown field '{field}' "
                                                  r"\(a criticism notice has: addressee, "):
        check_overrides({"criticism.txt.j2": TITLE + body}, where="notices/")


@pytest.mark.parametrize("overrides, message", [
    ({"critcism.txt.j2": TITLE}, r"critcism\.txt\.j2: not a notice template"),
    ({"criticism.txt.j2": TITLE + "\n{% if %}"}, r"criticism\.txt\.j2: line 2: "),
    ({"criticism.txt.j2": "{{ addressee }}"}, r"criticism\.txt\.j2 sets no title"),
    ({"criticism.txt.j2": TITLE + "{{ contact }}"}, r"missing field 'contact' \(rendered with only the required"),
    ({"_facts.txt.j2": "{% include 'criticism.txt.j2' %}"}, r"includes itself: _facts\.txt\.j2 → criticism"),
    ({"criticism.txt.j2": TITLE + "{% include 'nope.txt.j2' %}"}, r"'nope\.txt\.j2', which is neither shipped"),
    ({"criticism.txt.j2": TITLE + "x" * 40_000}, r"40\d\d\d characters; at most 32000"),
    ({"criticism.txt.j2": TITLE + "{% for a in facts %}{% for b in facts %}{% for c in facts %}"
                                  "{% endfor %}{% endfor %}{% endfor %}"}, r"loops nest at most 2 deep"),
    ({"criticism.txt.j2": TITLE + "{% for c in grounds ~ grounds %}{% endfor %}"}, r"a loop goes over a field"),
    ({"criticism.txt.j2": TITLE + "{% set a = grounds %}" * 9}, r"more than 8 'set's"),
    ({"criticism.txt.j2": TITLE + "{{ facts|cn_list|default(grounds ~ grounds) }}"}, r"constants only"),
    ({"criticism.txt.j2": TITLE + "{{ facts|join(grounds) }}"}, r"No filter named 'join'"),
    ({"criticism.txt.j2": TITLE + "{% for f in facts %}{% set t = f ~ f %}{% endfor %}"}, r"inside a loop"),
    ({"criticism.txt.j2": TITLE + "{% for f in facts %}{% include '_facts.txt.j2' %}{% endfor %}"},
     r"inside a loop"),
])
def test_a_template_that_is_not_plain_is_refused(overrides, message):
    with pytest.raises(NoticeTemplateError, match=message):
        check_overrides(overrides, where="notices/")


def test_plain_overrides_pass_and_restyle_their_notice():
    overrides = {
        "criticism.txt.j2": '{% extends "_base.txt.j2" %}{% set title %}关于对{{ addressee }}的通报批评（样式甲）'
                            '{% endset %}{% block body %}{{ super() }}    {{ grounds }}。\n{% include "_facts.txt.j2" %}'
                            '{% if contact is defined and contact %}{{ contact }}{% endif %}{% endblock %}',
        "_letterhead.html.j2": "<p>{{ issuer_name }}</p>",
        "criticism.html.j2": '{% extends "_base.html.j2" %}{% block body %}{% include "_letterhead.html.j2" %}'
                             "<p>{{ grounds }}</p>{% endblock %}",
    }
    check_overrides(overrides)
    n = render_notice("criticism", {
        "issuer_name": "示例市交通运输局", "doc_number": "示交督〔2023〕1号", "addressee": "乙县", "date": date(2023, 4, 8),
        "campaign_title": "示例专项整治", "grounds": "根据《方案》有关要求", "facts": ["问题一 <b>"],
        "required_action": "整改", "deadline": date(2023, 4, 20)}, overrides=overrides)
    assert n.title == "关于对乙县的通报批评（样式甲）" and "问题一 <b>" in n.text
    assert "<p>示例市交通运输局</p>" in n.html and "<h1>关于对乙县的通报批评（样式甲）</h1>" in n.html


# -- render time: even unchecked texts run in the sandbox without globals ------------
@pytest.mark.parametrize("kind", ["criticism", "inspection"])
def test_the_renderer_runs_no_code_even_from_an_unchecked_template(kind, tmp_path):
    marker = tmp_path / "pwned"
    context = {"issuer_name": "示例市交通运输局", "doc_number": "示交督〔2023〕1号", "addressee": "乙县",
               "date": date(2023, 4, 8), "campaign_title": "示例专项整治", "grounds": "根据《方案》有关要求",
               "facts": ["问题一"], "required_action": "整改", "deadline": date(2023, 4, 20),
               "round_title": "回头看", "kind_label": "整改“回头看”"}
    for body in hostile(marker):
        try:
            n = render_notice(kind, context, overrides={f"{kind}.txt.j2": TITLE + body})
        except NoticeTemplateError as e:
            assert len(str(e).splitlines()) == 1
        else:  # rendered: then only as text, nothing of Python's inside
            assert "<class" not in n.text and "function" not in n.text and "module" not in n.text, body
    _no_code_ran(marker)


# -- the command line: overrides come from the load, never the working directory -----
ROUND = """\
code: lb-2023
title: 专项整治问题整改“回头看”
kind: look_back
scope: city
selection: {mode: all}
deadline: 2023-09-15
visits: {start: 2023-09-01, end: 2023-09-08}
methods: [随机抽查]
teams:
  - {code: t1, name: 第一督察组, leader: insp.city, members: [insp.city]}
"""
STYLED = ('{% extends "_base.txt.j2" %}\n{% set title %}关于对{{ addressee }}的通报批评（样式甲）{% endset %}\n'
          '{% block body %}\n    {{ grounds }}，你单位存在以下问题：\n{% include "_facts.txt.j2" %}\n'
          '    请你单位{{ required_action }}，并于{{ deadline | cn_date }}前报送{{ issuer_name }}。\n{% endblock %}\n')


def _campaigns(db_url: str) -> tuple[int, int]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return (conn.execute(select(func.count()).select_from(Campaign)).scalar_one(),
                    conn.execute(select(func.count()).select_from(AuditRecord)).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.slow
def test_escalate_and_round_open_use_the_loaded_templates_never_the_working_directory(db_url, tmp_path,
                                                                                       prefect_api):
    marker = tmp_path / "pwned"
    plans = tmp_path / "plans"
    (plans / "notices").mkdir(parents=True)
    (plans / "plan.yaml").write_text(SMALL_PLAN.read_text(encoding="utf-8"), encoding="utf-8")
    (plans / "notices" / "criticism.txt.j2").write_text(STYLED, encoding="utf-8")
    env = clean_env(db_url, tmp_path, PREFECT_API_URL=prefect_api)
    # loaded by a relative path, as `rectify load 003-xinzhou-2023` is
    r = Cli(env, tmp_path).ok("load", "plans/plan.yaml", "--now", "2023-03-15")
    assert "1 notice template" in r.stdout

    # afterwards: hostile templates beside the plan, in the folder it was loaded from,
    # and in the folder every later command runs from
    attack = TITLE + hostile(marker)[0]
    work = tmp_path / "work"
    for folder in (plans / "notices", tmp_path / "notices", work / "notices"):
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("criticism.txt.j2", "criticism.html.j2", "inspection.txt.j2", "inspection.html.j2"):
            (folder / name).write_text(attack, encoding="utf-8")
    cli = Cli(env, work)

    cli.ok("escalate", "county-b", "--level", "1", "--reason", "未按期报送实施方案", "--as", "sup.city",
           "--now", "2023-04-10")
    text = cli.ok("notice", "show", "整治督〔2023〕1号").stdout
    assert "关于对乙县交通运输局的通报批评（样式甲）" in text and "你单位存在以下问题" in text  # the override as loaded
    assert "<h1>关于对乙县交通运输局的通报批评（样式甲）</h1>" in cli.ok("notice", "show", "1", "--html").stdout  # shipped HTML
    _no_code_ran(marker)

    (work / "clues.csv").write_text("unit,channel,aspect,summary\ncounty-a,12345,profit,甲县 反映问题\n",
                                    encoding="utf-8")
    sup = ("--as", "sup.city", "--state")
    cli.ok("clue", "import", work / "clues.csv", "--as", "sup.city", "--now", "2023-04-10")
    cli.ok("clue", "bulk", "verify", *sup, "received", "--now", "2023-04-11")
    cli.ok("clue", "bulk", "substantiate", *sup, "verifying", "--measures", "整改", "--deadline", "2023-06-30",
           "--owner", "王主任", "--now", "2023-04-12")
    cli.ok("clue", "bulk", "submit_evidence", *sup, "rectifying", "--evidence", "整改报告", "--now", "2023-05-12")
    cli.ok("clue", "bulk", "approve", *sup, "rectified", "--now", "2023-05-20")
    (work / "round.yaml").write_text(ROUND, encoding="utf-8")
    r = cli.ok("round", "open", work / "round.yaml", "--as", "sup.city", "--now", "2023-08-24 10:00", timeout=180)
    assert "notice 整治督〔2023〕2号" in r.stdout, str(r)
    text = cli.ok("notice", "show", "整治督〔2023〕2号").stdout
    assert "关于开展专项整治问题整改“回头看”的通知" in text  # the shipped inspection notice
    _no_code_ran(marker)


@pytest.mark.parametrize("variant", [0, 7])
def test_load_refuses_a_hostile_notices_folder_in_one_line_and_writes_nothing(db_url, tmp_path, variant):
    marker = tmp_path / "pwned"
    plans = tmp_path / "plans"
    (plans / "notices").mkdir(parents=True)
    (plans / "plan.yaml").write_text(SMALL_PLAN.read_text(encoding="utf-8"), encoding="utf-8")
    (plans / "notices" / "criticism.txt.j2").write_text(TITLE + hostile(marker)[variant], encoding="utf-8")
    cli = Cli(clean_env(db_url, tmp_path), tmp_path)
    cli.ok("init")
    before = _campaigns(db_url)
    for args in (("load", plans / "plan.yaml", "--check"), ("load", plans / "plan.yaml")):
        r = cli.run(*args)
        assert_one_line_error(r)
        assert f"{plans / 'notices' / 'criticism.txt.j2'}: " in r.stderr
    assert _campaigns(db_url) == before
    _no_code_ran(marker)


def test_the_folder_is_read_once_and_stored_with_the_campaign(engine, tmp_path):
    plans = tmp_path / "plans"
    (plans / "notices").mkdir(parents=True)
    (plans / "plan.yaml").write_text(SMALL_PLAN.read_text(encoding="utf-8"), encoding="utf-8")
    (plans / "notices" / "criticism.txt.j2").write_text(STYLED, encoding="utf-8")
    (plans / "notices" / "README.md").write_text("not a template: ignored", encoding="utf-8")
    templates = read_notice_folder(plans / "plan.yaml")
    assert templates == {"criticism.txt.j2": STYLED}
    load_plan(engine, read_plan(plans / "plan.yaml"), source=str(plans / "plan.yaml"), now=at("2023-03-15"),
              notice_templates=templates)
    with engine.connect() as conn:
        stored = conn.execute(select(Campaign.__table__.c.notice_templates_json)).scalar_one()
        detail = json.loads(conn.execute(select(AuditRecord.__table__.c.detail)
                                         .where(AuditRecord.__table__.c.trigger == "load")).scalar_one())
    assert json.loads(stored) == templates
    assert set(detail["notice_templates"]) == {"criticism.txt.j2"}  # its digest is on the record
    assert read_notice_folder(tmp_path / "elsewhere" / "plan.yaml") == {}


def test_a_link_or_a_folder_in_the_notices_folder_is_refused(tmp_path):
    (tmp_path / "notices").mkdir()
    (tmp_path / "secret").write_text("{% set title %}x{% endset %}", encoding="utf-8")
    (tmp_path / "notices" / "criticism.txt.j2").symlink_to(tmp_path / "secret")
    with pytest.raises(NoticeTemplateError, match=r"criticism\.txt\.j2: not a regular file"):
        read_notice_folder(tmp_path / "plan.yaml")
    (tmp_path / "notices" / "criticism.txt.j2").unlink()
    (tmp_path / "notices" / "chase.txt.j2").mkdir()
    with pytest.raises(NoticeTemplateError, match=r"chase\.txt\.j2: not a regular file"):
        read_notice_folder(tmp_path / "plan.yaml")


# -- markup: one line of Markdown, whatever the text --------------------------------
class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> _Tags:
    p = _Tags()
    p.feed(html)
    p.close()
    return p


# pieces of Markdown and HTML, joined at random
_PIECES = st.lists(st.sampled_from(list("[]()!<>&#*_`|\\-+=.:/ \n\t\x0b\x00abc1点击")
                                   + ["javascript:", "http://x.example/", "\n\n", "1. ", "- ", "---", "&lt;",
                                      "<img src=x>", "](", "![", "    ", "```", "==="]),
                   max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(_PIECES)
def test_any_text_becomes_one_paragraph_of_exactly_that_text(text):
    html = markdown.markdown(f"前文{markdown_inline(text)}后文", extensions=["tables", "sane_lists"])
    p = _parse(html)
    assert p.tags == ["p"], (text, html)
    assert "".join(p.text) == "前文" + " ".join(visible_controls(text).split()) + "后文"


@settings(max_examples=200, deadline=None)
@given(_PIECES)
def test_any_text_in_a_table_cell_stays_in_its_cell(text):
    html = markdown.markdown(f"| a | b |\n|---|---|\n| {markdown_inline(text)} | z |\n",
                             extensions=["tables", "sane_lists"])
    p = _parse(html)
    assert p.tags.count("td") == 2 and p.tags.count("tr") == 2 and not {"a", "img", "code", "em", "strong"} \
        & set(p.tags), (text, html)
    assert " ".join(visible_controls(text).split()) in "".join(p.text)


def test_a_spreadsheet_cell_of_text_is_never_a_formula(tmp_path):
    wb = openpyxl.Workbook()
    for i, text in enumerate(['=HYPERLINK("http://x.example","点击")', "+1+1", "-1", "@SUM(A1)", "\x0b坏"], 1):
        xlsx_text(wb.active.cell(i, 1), text)
    wb.save(tmp_path / "t.xlsx")
    cells = [r[0] for r in openpyxl.load_workbook(tmp_path / "t.xlsx").active.iter_rows()]
    assert [c.value for c in cells] == ['=HYPERLINK("http://x.example","点击")', "+1+1", "-1", "@SUM(A1)", "␋坏"]
    assert all(c.data_type == "s" for c in cells) and all(c.quotePrefix for c in cells[:4])


# -- markup: a report with hostile summaries, every format -----------------------------
HOSTILE_TEXT = [
    "[点击](javascript:alert(1))",
    "![t](http://x.example/y.png)",
    "正常内容\n\n# 伪造标题\n\n| 伪造 | 表格 |\n|---|---|\n| a | b |",
    "<img src=x onerror=alert(1)>",
    "<http://x.example/autolink>",
    "**粗体** _斜体_ `代码`",
    '=HYPERLINK("http://x.example","点击")',
    "- 列表\n1. 有序\n> 引用\n---",
    "[链接][1]\n\n[1]: http://x.example/ref",
    "&lt;script&gt; &amp; \\*",
]


def _structure(files: dict[str, str]) -> dict:
    html = _parse(open(files["html"], encoding="utf-8").read())
    md = open(files["md"], encoding="utf-8").read()
    word = docx.Document(files["docx"])
    return {"html": html.tags, "md": _parse(markdown_html(md)).tags,
            "md_headings": [ln for ln in md.splitlines() if ln.startswith("#")],
            "docx": (len(word.paragraphs), [(len(t.rows), len(t.columns)) for t in word.tables])}


def test_hostile_summaries_forge_nothing_in_any_report_format(engine, campaign, calendar, tmp_path):
    numbers = add_clues(engine, campaign, [NewClue(channel="12345", aspect="profit", unit="county-a",
                                                   summary=f"普通问题 {i}") for i in range(len(HOSTILE_TEXT))],
                        now=at("2023-04-10"), calendar=calendar, **SUP)
    bulk_transition(engine, campaign, "verify", numbers=numbers, now=at("2023-04-11"), **SUP)
    bulk_transition(engine, campaign, "substantiate", numbers=numbers, now=at("2023-04-12"),
                    data=ClueInput(measures="立行立改", deadline=date(2023, 4, 30), owner="王主任"), **SUP)
    for n in numbers[:3]:
        mark_typical(engine, campaign, n, note="反面典型", now=at("2023-05-01"), **SUP)
    kw = dict(kind="monthly", period="2023-05", out_dir=tmp_path, now=at("2023-05-20"), **SUP)
    plain = _structure(reports.generate(engine, campaign, **kw).files)

    T = Clue.__table__
    for i, (n, text) in enumerate(zip(numbers, HOSTILE_TEXT)):  # the same items, hostile text
        with engine.begin() as conn:
            conn.execute(update(T).where(T.c.number == n).values(summary=text))
    for n, text in zip(numbers[:3], HOSTILE_TEXT[3:6]):
        mark_typical(engine, campaign, n, note=text, now=at("2023-05-02"), **SUP)
    g = reports.generate(engine, campaign, force=True, **kw)
    assert _structure(g.files) == plain  # no link, image, heading, table, list, code, emphasis more

    readable = [" ".join(t.split()) for t in HOSTILE_TEXT]
    html_text = "".join(_parse(open(g.files["html"], encoding="utf-8").read()).text)
    md_text = "".join(_parse(markdown_html(g.markdown)).text)
    word = docx.Document(g.files["docx"])
    word_text = "\n".join([p.text for p in word.paragraphs]
                          + [c.text for t in word.tables for r in t.rows for c in r.cells])
    for text in readable:  # the text as typed, in every format
        assert text in html_text and text in md_text and text in word_text, text
    assert "javascript:" not in re.sub(r">[^<]*<", "><", open(g.files["html"], encoding="utf-8").read())

    wb = openpyxl.load_workbook(g.files["xlsx"])
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells}
    assert HOSTILE_TEXT[6] in texts and HOSTILE_TEXT[0] in texts
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(GeneratedReport)).scalar_one() == 1


@pytest.mark.parametrize("kind", KINDS)
def test_notice_html_shows_hostile_facts_as_text(kind):
    context = {"issuer_name": "示例市交通运输局", "doc_number": "示交督〔2023〕1号", "addressee": "乙县",
               "date": date(2023, 4, 8), "campaign_title": "示例专项整治", "grounds": "根据《方案》有关要求",
               "facts": HOSTILE_TEXT, "required_action": "<b>整改</b>", "deadline": date(2023, 4, 20),
               "original_deadline": date(2023, 4, 7), "verification": "<script>x</script>",
               "receiving_organ": "纪委", "round_title": "回头看", "kind_label": "整改“回头看”",
               "chased_doc_number": "<i>1</i>", "listed_doc_number": "<i>2</i>", "attendees": "<u>负责人</u>",
               "interview_place": "<a href=x>会议室</a>", "interview_at": date(2023, 4, 12),
               "cc": ["<s>抄送</s>"], "attachments": ["<img src=y>"], "printer": "<em>办公室</em>"}
    n = render_notice(kind, context)
    p = _parse(n.html)
    assert not {"img", "a", "script", "b", "i", "u", "s", "em"} & set(p.tags)
    assert "<img src=x onerror=alert(1)>" in "".join(p.text)
