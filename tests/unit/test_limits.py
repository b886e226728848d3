"""Text limits (statemachine/limits.py): one declaration, and the schema agrees with it.

Every text column either takes a limit of `COLUMNS` (and is exactly that long,
so what passes validation always fits PostgreSQL), or is written by Rectify
itself from values whose own limit fits it (listed below with that limit).
"""
from __future__ import annotations

import pytest

from services.evidence.names import MAX_NAME_CHARS
from hypothesis import given, strategies as st
from sqlalchemy import String, Text

from models.tables import Base
from statemachine import limits as L
from statemachine.errors import InvalidInput, TextRefused

# columns Rectify writes itself: what they are made of, and the longest that can be
MADE = {
    "campaign_schedulers.method": 16, "campaign_schedulers.detail": 200,  # ours: a method name, host:pid and pool
    "campaigns.timezone": 64, "campaigns.plan_json": None,
    "stages.deliverables_json": None, "units.level": 20, "units.stage_key": L.KEY.chars,
    "units.liaison_json": None, "units.leader_json": None,
    # "/1/4/9/": a path of at most MAX_UNIT_DEPTH ids of up to 15 digits
    "units.path": L.MAX_UNIT_DEPTH * 16 + 1,
    "users.role": 20, "deliverables.stage_key": L.KEY.chars, "deliverables.recorded_by": L.KEY.chars,
    "clues.number": 8 + 1 + 4 + 1 + 20, "clues.kind": 20, "clues.channel": 40, "clues.aspect_key": L.KEY.chars,
    "clues.state": 20, "clues.resolution": 20, "clues.updated_by": L.KEY.chars, "clues.clock": 12,
    "extension_requests.state": 12, "extension_requests.requested_by": L.KEY.chars,
    "extension_requests.updated_by": L.KEY.chars, "clue_suspensions.started_by": L.KEY.chars,
    "clue_suspensions.ended_by": L.KEY.chars, "clues.signing": 12, "clues.signed_by": L.KEY.chars,
    "clue_returns.state": 12, "clue_returns.requested_by": L.KEY.chars, "clue_returns.updated_by": L.KEY.chars,
    "clues.callback": 12, "clue_callbacks.result": 20, "clue_callbacks.by": L.KEY.chars, "clue_sources.channel": 40,
    "plan_versions.sha256": 64, "plan_versions.plan_json": None,
    "plan_versions.loaded_by": L.KEY.chars,
    "lapses.kind": 30, "lapses.key": 120, "lapses.subject": 120, "lapses.run_key": 64,
    "audit_log.actor": L.KEY.chars, "audit_log.entity": 20, "audit_log.from_state": 64,
    "audit_log.to_state": 64, "audit_log.trigger": 40, "audit_log.detail": None,
    "audit_log.prev_hash": 64, "audit_log.hash": 64, "audit_heads.hash": 64,
    "job_firings.job": 100, "job_firings.fire_key": 64,
    "sweep_runs.run_key": 64, "sweep_runs.flow_run_id": 64,
    "escalation_cases.state": 30, "escalation_cases.cause": 30, "escalation_cases.key": 160,
    "escalation_cases.open_key": 160, "escalation_cases.stage_key": L.KEY.chars,
    "escalation_cases.proposed_by": L.KEY.chars, "escalation_cases.issued_by": L.KEY.chars,
    "escalation_cases.decision": 20, "escalation_cases.resolved_by": L.KEY.chars,
    "escalation_cases.updated_by": L.KEY.chars,
    # the plan's 发文机关代字 and a document number made of it: 忻交督〔2023〕3号
    "doc_counters.issuer": L.ISSUER_CODE.chars, "notices.issuer": L.ISSUER_CODE.chars,
    "notices.doc_number": L.ISSUER_CODE.chars + 20,
    # a notice's title names the addressee: 关于对<unit>有关问题予以容错免责的决定
    "notices.kind": 30, "notices.key": 160, "notices.title": L.UNIT_NAME.chars + 30,
    "notices.html": None, "notices.text": None,
    # an e-mail address of the plan; the subject is the title and its document number
    "outbox.key": 200, "outbox.channel": 20, "outbox.recipient": L.EMAIL.chars,
    "outbox.subject": L.UNIT_NAME.chars + 30 + 2 + L.ISSUER_CODE.chars + 20,
    "outbox.body_text": None, "outbox.body_html": None, "outbox.state": 20, "outbox.last_error": None,
    "outbox.claimed_by": L.HOLDER.chars,
    "inspection_rounds.kind": 20, "inspection_rounds.state": 20, "inspection_rounds.spec_json": None,
    "inspection_rounds.seed": 20, "inspection_rounds.digest": 64, "inspection_rounds.tally_json": None,
    "inspection_rounds.created_by": L.KEY.chars, "inspection_rounds.updated_by": L.KEY.chars,
    "inspection_teams.members_json": None,
    "round_units.candidates_json": None,
    "inspection_checks.state": 20, "inspection_checks.method": 20, "inspection_checks.applied_note": 200,
    "inspection_checks.recorded_by": L.KEY.chars,
    "report_submissions.duty_key": L.KEY.chars, "report_submissions.submitted_by": L.KEY.chars,
    "generated_reports.kind": 20, "generated_reports.period": L.PERIOD.chars,
    "generated_reports.generated_by": L.KEY.chars, "generated_reports.files_json": None,
    "generated_reports.digest": 64, "generated_reports.flow_run_id": 64,
    # the output store: reports/<campaign>/<unit>/<kind>-<period>.<format>, a media type, a digest
    "documents.name": 300, "documents.media_type": 100, "documents.sha256": 64,
    # a campaign's notice overrides, checked at load (notifications/documents/overrides.py)
    "campaigns.notice_templates_json": None,
    # sign-in: digests of keys handed out once, an Argon2 hash, the token's first characters
    "access_tokens.token_hash": 64, "access_tokens.hint": 16, "signin_links.token_hash": 64,
    "web_sessions.token_hash": 64, "credentials.password_hash": 200,
    "signin_links.purpose": 10, "signin_links.created_by": L.KEY.chars,
    "web_sessions.address": 64,  # an IPv6 address with its zone fits
    # an upload's name is cleaned and cut by services/evidence/names.py; the rest is ours
    "evidence_files.name": MAX_NAME_CHARS, "evidence_files.media_type": 100,
    "evidence_files.owner_kind": 20, "evidence_files.sha256": 64, "evidence_files.uploaded_by": L.KEY.chars,
}


def _text_columns():
    for table in Base.metadata.sorted_tables:
        for col in table.columns:
            if isinstance(col.type, (String, Text)):
                yield f"{table.name}.{col.name}", col


TEXT_COLUMNS = dict(_text_columns())


def test_every_text_column_has_a_limit_or_is_made_by_rectify():
    unaccounted = sorted(set(TEXT_COLUMNS) - set(L.COLUMNS) - set(MADE))
    assert not unaccounted, f"text columns with no limit in statemachine/limits.py: {unaccounted}"
    assert not set(L.COLUMNS) & set(MADE)
    assert not set(L.COLUMNS) - set(TEXT_COLUMNS), "a limit for a column that does not exist"


@pytest.mark.parametrize("name", sorted(L.COLUMNS))
def test_a_column_is_exactly_as_long_as_its_limit(name):
    col, limit = TEXT_COLUMNS[name], L.COLUMNS[name]
    if limit.multiline and limit.chars == L.TEXT.chars:
        assert type(col.type) is Text, f"{name}: free text is a text column"
    else:
        assert isinstance(col.type, String) and col.type.length == limit.chars, \
            f"{name}: the column holds {col.type.length}, the limit says {limit.chars}"


@pytest.mark.parametrize("name", sorted(n for n, chars in MADE.items() if chars is not None))
def test_a_column_rectify_fills_holds_the_longest_value_it_is_made_of(name):
    col = TEXT_COLUMNS[name]
    assert isinstance(col.type, String) and col.type.length >= MADE[name], name


# -- the check itself ------------------------------------------------------------------------
@pytest.mark.parametrize("ch", ["\x00", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\ud800", "\ufffe", "\uffff",
                                "\u202e", "\u2066", "\u2069"])
def test_control_characters_and_what_no_document_can_hold_are_refused_everywhere(ch):
    for limit in (L.KEY, L.TEXT):
        with pytest.raises(TextRefused) as e:
            L.clean_text(f"罚款{ch}不开票", limit, what="summary")
        assert str(e.value).startswith("summary: ") and "at character 3" in str(e.value)
        assert f"U+{ord(ch):04X}" in str(e.value) and "\n" not in str(e.value)


def test_line_breaks_and_tabs_only_where_a_field_has_several_lines():
    assert L.clean_text("1. 退还罚款\n2.\t培训", L.TEXT, what="measures") == "1. 退还罚款\n2.\t培训"
    assert L.clean_text("a\r\nb\rc", L.TEXT, what="measures") == "a\nb\nc"
    for text in ("赵书涵\n13800000000", "赵\t书涵", "赵书涵\r"):
        with pytest.raises(TextRefused, match="^owner: a (line break|tab) .*one line of text$"):
            L.clean_text(text, L.NAME, what="owner")


def test_length_counts_characters_as_postgresql_does():
    assert L.clean_text("甲" * 200, L.UNIT_NAME, what="name") == "甲" * 200
    with pytest.raises(TextRefused, match=r"^name: 201 characters, at most 200$"):
        L.clean_text("甲" * 201, L.UNIT_NAME, what="name")
    with pytest.raises(TextRefused, match=r"^title: 1,048,576 characters, at most 300$"):
        L.clean_text("x" * 2 ** 20, L.TITLE, what="title")


def test_a_refusal_is_an_expected_error_and_a_value_error():
    # a ValueError, so that pydantic turns it into a field error naming the plan's line
    assert issubclass(TextRefused, InvalidInput) and issubclass(TextRefused, ValueError)


@given(st.text())
def test_whatever_passes_can_be_stored_and_written_out(text):
    try:
        cleaned = L.clean_text(text, L.TEXT, what="t")
    except TextRefused:
        return
    cleaned.encode("utf-8")  # PostgreSQL and every document need valid UTF-8
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    assert "\0" not in cleaned and not ILLEGAL_CHARACTERS_RE.search(cleaned)
    assert len(cleaned) <= L.TEXT.chars


def test_a_value_in_a_message_stays_on_one_line_and_short():
    assert L.shown("甲县") == "'甲县'"
    assert L.shown("a\nb\x0bc\x00") == r"'a\nb\x0bc\x00'"
    assert L.shown("x" * 500) == "'" + "x" * 60 + "…'"
