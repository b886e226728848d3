"""How long a text may be and which characters it may hold: declared once, checked at the door.

Every text that comes in (a plan file, a command-line option, a CSV or ledger
cell, a look-back round file) is checked by `clean_text` against its field's
`Limit` before anything is written, so that what SQLite would take is never
refused later by PostgreSQL ("value too long", "cannot contain NUL") and what
is stored can always be written out again (an .xlsx cell refuses most control
characters, an XML document refuses lone surrogates).

`COLUMNS` says which limit each text column of models/tables.py takes; the
column lengths there are tested equal to these (tests/unit/test_limits.py).
Refused: control characters (C0, DEL, C1), NUL among them, except a tab and a
line break in a field of several lines; lone surrogates; the two
non-characters U+FFFE and U+FFFF; the bidirectional embeddings, overrides and
isolates (U+202A–U+202E, U+2066–U+2069); and anything longer than its field.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import TextRefused

__all__ = ["Limit", "KEY", "NAME", "UNIT_NAME", "TITLE", "DOC_NUMBER", "PHONE", "EMAIL", "REFERENCE",
           "LABEL", "SHORT_TEXT", "SOURCE_REF", "PERIOD", "HOLDER", "CRON", "ISSUER_CODE", "TEXT", "MAX_UNIT_DEPTH", "COLUMNS",
           "text_problem", "clean_text", "clean_fields", "shown", "document_text", "TextRefused"]


@dataclass(frozen=True)
class Limit:
    chars: int               # at most this many characters (PostgreSQL's varchar(n) counts characters)
    multiline: bool = False  # line breaks and tabs allowed

    def __str__(self) -> str:
        return f"at most {self.chars:,} characters" + (", several lines" if self.multiline else ", one line")


KEY = Limit(64)            # a code, key or username: `xz-2023`, `county-a`, `sup.city`
NAME = Limit(100)          # a person's, a stage's or a team's name
UNIT_NAME = Limit(200)     # a unit's or an organ's name (忻州市交通运输局综合行政执法队)
TITLE = Limit(300)         # a campaign's or a notice's title
DOC_NUMBER = Limit(100)    # 文号, e.g. 忻交发〔2023〕56号
PHONE = Limit(50)
EMAIL = Limit(200)
REFERENCE = Limit(500)     # a document referred to: an attachment's name or path
LABEL = Limit(200)         # a short phrase: an aspect's or a round's title
SHORT_TEXT = Limit(200, multiline=True)  # a short list: the forms of result (成果形式)
PERIOD = Limit(32)         # a reporting period, e.g. 2023-W19
HOLDER = Limit(100)        # a scheduler's name in the logs
CRON = Limit(64)           # a cron expression
ISSUER_CODE = Limit(20)    # 发文机关代字, e.g. 忻交督
SOURCE_REF = Limit(100)    # a work order's number in the system it came from (工单号)
# Free text of several lines. Far below what PostgreSQL's text takes, and below the
# 32,767 characters an Excel cell holds, so a ledger row always exports whole.
TEXT = Limit(10_000, multiline=True)

# A unit's materialised path ("/1/4/9/", units.path, 500 characters) must fit however
# large the ids grow; no seed's tree is deeper than 6 levels.
MAX_UNIT_DEPTH = 30

# table.column → its limit: every column that stores text someone typed or a file brought
COLUMNS: Mapping[str, Limit] = {
    "campaigns.code": KEY, "campaigns.title": TITLE, "campaigns.doc_number": DOC_NUMBER,
    "campaigns.issuing_unit": UNIT_NAME, "campaigns.plan_file": REFERENCE,
    "campaigns.sweep_cron": CRON,
    "stages.key": KEY, "stages.name": NAME,
    "units.code": KEY, "units.name": UNIT_NAME,
    "users.username": KEY, "users.name": NAME, "users.email": EMAIL, "users.phone": PHONE,
    "access_tokens.name": NAME,
    "deliverables.key": KEY, "deliverables.attachment": REFERENCE,
    "clues.summary": TEXT, "clues.root_cause": TEXT, "clues.reporter_name": NAME,
    "clues.reporter_phone": PHONE, "clues.owner": NAME, "clues.measures": TEXT,
    "clues.result_form": SHORT_TEXT, "clues.evidence": TEXT, "clues.stage_result": TEXT,
    "clues.long_term_measure": TEXT, "clues.progress": TEXT, "clues.remark": TEXT,
    "clues.typical_note": TEXT, "clues.reason": TEXT, "clues.source_ref": SOURCE_REF,
    "extension_requests.reason": TEXT, "extension_requests.decision": TEXT, "clue_suspensions.reason": TEXT,
    "clue_returns.reason": TEXT, "clue_returns.decision": TEXT,
    "clue_sources.source_ref": SOURCE_REF, "clue_sources.reporter_name": NAME,
    "clue_sources.reporter_phone": PHONE, "clue_callbacks.note": TEXT,
    "plan_versions.doc_number": DOC_NUMBER, "plan_versions.plan_file": REFERENCE,
    "escalation_cases.reason": TEXT, "escalation_cases.required_action": TEXT,
    "escalation_cases.response": TEXT, "escalation_cases.response_attachment": REFERENCE,
    "escalation_cases.interview_minutes": TEXT,
    "escalation_cases.interview_place": LABEL, "escalation_cases.interview_attendees": LABEL,
    "escalation_cases.decision_text": TEXT,
    "escalation_cases.exemption_grounds": TEXT, "escalation_cases.receiving_organ": UNIT_NAME,
    "escalation_cases.follow_up": TEXT, "escalation_cases.resolution_note": TEXT,
    "inspection_rounds.code": KEY, "inspection_rounds.title": LABEL, "inspection_rounds.reason": TEXT,
    "inspection_teams.code": KEY, "inspection_teams.name": NAME, "inspection_teams.leader": KEY,
    "inspection_checks.inspector": NAME, "inspection_checks.findings": TEXT,
    "inspection_checks.attachment": REFERENCE,
    "report_submissions.period": PERIOD, "report_submissions.attachment": REFERENCE,
    "report_submissions.note": TEXT,
    "job_firings.holder": HOLDER,
    "audit_log.reason": TEXT,
}

_ALLOWED_IN_LINES = frozenset("\n\t")
_NONCHARACTERS = frozenset("\ufffe\uffff")
# The bidirectional embeddings, overrides and isolates ("Trojan Source"): they make a
# summary or a name read differently on screen from what is stored and compared. A
# document in Chinese never needs them; the marks U+200E/U+200F stay allowed.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_BREAKS_A_LINE = frozenset({"Cc", "Cs", "Zl", "Zp"})  # what `shown` escapes


def _refused(ch: str, multiline: bool) -> str | None:
    """Why this one character may not be stored, or None."""
    if ch in _ALLOWED_IN_LINES and multiline:
        return None
    cat = unicodedata.category(ch)
    if cat == "Cc":
        what = "NUL" if ch == "\0" else "a line break" if ch in "\n\r" else "a tab" if ch == "\t" \
            else "a control character"
        return f"{what} (U+{ord(ch):04X})"
    if cat == "Cs":
        return f"a lone surrogate (U+{ord(ch):04X}), not text"
    if ch in _NONCHARACTERS:
        return f"a non-character (U+{ord(ch):04X})"
    if ch in _BIDI_CONTROLS:
        return f"a bidirectional control (U+{ord(ch):04X}) that makes text read otherwise than it is"
    return None


def text_problem(value: str, limit: Limit) -> str | None:
    """Why `value` does not fit `limit` (one sentence naming the first bad character), or None."""
    if len(value) > limit.chars:
        return f"{len(value):,} characters, at most {limit.chars:,}"
    for i, ch in enumerate(value, start=1):
        if ch.isprintable() or ch == " ":
            continue
        why = _refused(ch, limit.multiline)
        if why:
            hint = "only line breaks and tabs may be used" if limit.multiline else "one line of text"
            return f"{why} at character {i}: {hint}"
    return None


def clean_text(value: str | None, limit: Limit, *, what: str) -> str | None:
    """`value` as it is to be stored (a field of several lines has its CR LF and lone CR
    made LF), or TextRefused naming `what`: the field, or the row and column."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TextRefused(f"{what}: expected text, got {type(value).__name__}")
    if limit.multiline and "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    why = text_problem(value, limit)
    if why:
        raise TextRefused(f"{what}: {why}")
    return value


def clean_fields(obj: Any, limits: Mapping[str, Limit]) -> None:
    """Check (and normalise) the named text fields of a frozen input dataclass in
    its __post_init__: what a person supplies with a step is checked where it is made."""
    for name, limit in limits.items():
        value = getattr(obj, name)
        if isinstance(value, str):
            object.__setattr__(obj, name, clean_text(value, limit, what=name))


def shown(value: object, *, chars: int = 60) -> str:
    """A value someone gave, quoted for a one-line message: control characters
    escaped (a line break in a unit's name must not break the message in two)
    and a long value cut."""
    text = str(value)
    cut = len(text) > chars
    text = "".join(ch.encode("unicode_escape").decode("ascii")
                   if unicodedata.category(ch) in _BREAKS_A_LINE or ch in _NONCHARACTERS else ch
                   for ch in text[:chars])
    return f"'{text}{'…' if cut else ''}'"


# what no XML 1.0 document (.xlsx, .docx) can hold: C0 controls but tab, LF and CR;
# lone surrogates; U+FFFE and U+FFFF
_NOT_IN_DOCUMENTS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def document_text(value: str) -> str:
    """`value` with what a document cannot hold replaced by U+FFFD. The door refuses
    those characters (`clean_text`); this keeps a document from failing on text stored
    before it did, so that one old row never stops a report or a ledger export."""
    return _NOT_IN_DOCUMENTS.sub("\ufffd", value)
