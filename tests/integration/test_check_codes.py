"""Every notice and every generated report prints the audit chain's check code (校验码):
the head as it stood before the document's own records (SQLite and PostgreSQL)."""
from __future__ import annotations

from sqlalchemy import select

from models.tables import AuditRecord
from notifications.documents.notices import render_notice
from services.campaigns.load import campaign_id
from services.core.audit import audit_head
from services.ladder.cases import CaseInput, escalate_unit
from services.notices.issue import notices_of_case
from services.reports.generate import generate

from ..conftest import at

A = AuditRecord.__table__


def test_a_notice_prints_the_head_before_its_own_records(engine, campaign, calendar):
    cid = campaign_id(engine, campaign)
    before = audit_head(engine, cid)
    case = escalate_unit(engine, campaign, "county-b", 1, actor="sup.city", now=at("2023-04-10"),
                         calendar=calendar, data=CaseInput(reason="整改工作不力"))
    with engine.connect() as conn:
        [notice] = notices_of_case(conn, case.id)
        own = conn.execute(select(A.c.seq).where(A.c.campaign_id == cid, A.c.entity == "case",
                                                 A.c.entity_id == case.id)).scalars().all()
    line = f"校验码：{before.check_code}"
    assert notice.text.rstrip().endswith(line)
    assert f'<p class="check-code" style="font-size:10.5pt;text-align:right">{line}</p>\n</body>' in notice.html
    assert own and min(own) == before.seq + 1  # the code names the record just before the notice's own
    assert audit_head(engine, cid).seq > before.seq

    between = audit_head(engine, cid)
    later = escalate_unit(engine, campaign, "county-a", 1, actor="sup.city", now=at("2023-04-11"),
                          calendar=calendar, data=CaseInput(reason="整改工作不力"))
    with engine.connect() as conn:
        [second] = notices_of_case(conn, later.id)
    after = audit_head(engine, cid)
    assert after.seq > between.seq > before.seq
    assert second.text.rstrip().endswith(f"校验码：{between.check_code}")  # the head it was issued after


def test_no_campaign_template_can_leave_the_check_code_out():
    ctx = dict(issuer_name="示例市交通运输局", doc_number="示督〔2023〕1号", addressee="乙县",
               date="2023年4月10日", campaign_title="示例专项整治", grounds="根据有关要求", facts=["逾期未整改"],
               required_action="立即整改", deadline="2023年4月20日")
    overrides = {"criticism.txt.j2": "{% set title %}通报{% endset %}只有一句话。",
                 "criticism.html.j2": "<p>只有一句话。</p>"}
    n = render_notice("criticism", ctx, overrides=overrides, check_code="41-9C0E11AB")
    assert n.text == "只有一句话。\n\n校验码：41-9C0E11AB\n"
    assert n.html.endswith('<p class="check-code" style="font-size:10.5pt;text-align:right">'
                           '校验码：41-9C0E11AB</p>\n')
    assert "校验码" not in render_notice("criticism", ctx, overrides=overrides).text  # only when given


def test_a_generated_report_prints_the_head_in_every_format(engine, campaign, tmp_path):
    from docx import Document
    from openpyxl import load_workbook

    cid = campaign_id(engine, campaign)
    before = audit_head(engine, cid)
    g = generate(engine, campaign, kind="monthly", period="2023-04", out_dir=tmp_path, actor="sup.city",
                 now=at("2023-04-26"))
    code = f"校验码：{before.check_code}"
    assert g.markdown.splitlines()[4] == code  # under the title and its period line
    assert code in (tmp_path / g.files["html"]).read_text(encoding="utf-8")
    assert any(code in p.text for p in Document(g.files["docx"]).paragraphs)
    wb = load_workbook(g.files["xlsx"])
    assert all(code in ws["A2"].value for ws in wb.worksheets)
    assert audit_head(engine, cid).seq == before.seq + 1  # the report's own record came after
