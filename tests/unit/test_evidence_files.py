"""Evidence files judged by their content, and their names made safe to show
(services/evidence/kinds.py, names.py, store.py): pure, no database."""
from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.evidence.kinds import KINDS, sniff
from services.evidence.names import MAX_NAME_CHARS, clean_name, content_disposition
from services.evidence.store import EvidenceStore, digest_of
from statemachine.errors import AuditBroken, InvalidInput, UnsupportedType

from ..evidence_samples import ACCEPTED, chunk, docx, jpeg, pdf, png, xlsx, zip_of

_MACRO_TYPES = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                'content-types"><Override PartName="/word/document.xml" ContentType="application/'
                'vnd.ms-word.document.macroEnabled.main+xml"/></Types>')


@pytest.mark.parametrize("kind", list(ACCEPTED))
def test_each_accepted_kind_is_known_by_its_content(kind):
    data = ACCEPTED[kind]()
    assert sniff(data) is KINDS[kind]


REFUSED = {
    "plain text named .pdf": (b"just some text, not a PDF", "not a file type accepted"),
    "an HTML page": (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "not a file type accepted"),
    "an SVG image (it can carry script)": (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a file type"),
    "a Windows program": (b"MZ\x90\x00" + b"\x00" * 64, "a program"),
    "a shell script": (b"#!/bin/sh\nrm -rf /\n", "a program"),
    "an old Word file (macros)": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "old-format Office"),
    "a PDF with a zip appended": (pdf() + zip_of({"a.txt": b"x"}), "after its end"),
    "a PDF cut off": (pdf()[:-8], "without an end"),
    "a PDF whose end hides a zip": (pdf()[:-7] + zip_of({"a.txt": b"x"}) + b"\n%%EOF\n", "also a zip"),
    "a PNG with data after IEND": (png() + b"<html>", "after its end"),
    "a PNG with a zip after IEND": (png() + zip_of({"a.txt": b"x"}), "after its end"),
    "a PNG with markup a browser would sniff": (png(chunk(b"tEXt", b"c\x00<script>alert(1)</script>")),
                                                "markup"),
    "a PNG with a bad checksum": (png()[:20] + b"\x07" + png()[21:], "checksum"),
    "a JPEG with a zip appended": (jpeg() + zip_of({"a.txt": b"x"}), "after its end"),
    "a zip with data after its directory": (zip_of({"a.txt": b"x"}) + b"trailing", "after its end"),
    "a zip with a member climbing out": (zip_of({"../../etc/cron.d/x": b"x"}), "outside its folder"),
    "a zip with an absolute member": (zip_of({"/etc/passwd": b"x"}), "outside its folder"),
    "a zip with a program inside": (zip_of({"照片.jpg.exe": b"MZ"}), "program or macro"),
    "a zip with a script inside": (zip_of({"run.js": b"x"}), "program or macro"),
    "a zip with an encrypted member": (zip_of({"a.pdf": pdf()}, encrypt_flag="a.pdf"), "encrypted"),
    "a Word file with macros": (zip_of({"[Content_Types].xml": _MACRO_TYPES.encode(),
                                        "word/document.xml": b"<w/>"}), "macros"),
    "an Office file with an XML entity bomb": (zip_of({"[Content_Types].xml": b'<!DOCTYPE x [<!ENTITY a "aa">]><x/>'}),
                                               "malformed"),
    "an Office file neither Word nor Excel": (zip_of({"[Content_Types].xml": b"<Types/>"}), "not a Word"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_what_is_not_evidence_is_refused_with_why(case):
    data, why = REFUSED[case]
    with pytest.raises(UnsupportedType, match=re.escape(why)) as e:
        sniff(data)
    assert e.value.http_status == 415 and "\n" not in str(e.value)


def test_an_empty_file_is_bad_input():
    with pytest.raises(InvalidInput, match="empty"):
        sniff(b"")


def test_a_zip_with_data_before_it_is_a_polyglot():
    z = zip_of({"a.pdf": pdf()})
    with pytest.raises(UnsupportedType, match="before or between"):
        sniff(z[:4] + b"\x00" * 30 + z)  # starts like a zip, but its files lie elsewhere


# -- names ---------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, kind, shown", [
    ("../../etc/passwd", "pdf", "passwd.pdf"),
    ("..\\..\\Windows\\system.ini", "pdf", "system.ini.pdf"),
    ("a\x00b.pdf", "pdf", "ab.pdf"),
    ("invoice\u202efdp.exe", "pdf", "invoicefdp.exe.pdf"),   # RTL override: shown as 'invoiceexe.pdf'
    ("整改报告\u200b.PDF", "pdf", "整改报告.PDF"),
    ("photo.jpg", "pdf", "photo.jpg.pdf"),                   # the content decides what opens it
    ("现场照片.jpeg", "jpeg", "现场照片.jpeg"),
    (".htaccess", "zip", "htaccess.zip"),
    ("", "docx", "evidence.docx"),
    (None, "xlsx", "evidence.xlsx"),
    ('a"b<c>|d:e*f?.pdf', "pdf", "a_b_c__d_e_f_.pdf"),
])
def test_a_name_from_an_upload_is_cleaned_for_display(raw, kind, shown):
    assert clean_name(raw, KINDS[kind]) == shown


def test_a_very_long_name_is_cut_keeping_its_extension():
    name = clean_name("很长" * 500 + ".pdf", KINDS["pdf"])
    assert len(name) == MAX_NAME_CHARS and name.endswith(".pdf")


@given(raw=st.text(max_size=400), kind=st.sampled_from(sorted(KINDS)))
def test_no_name_can_become_a_path_or_hide_what_it_is(raw, kind):
    name = clean_name(raw, KINDS[kind])
    assert 1 <= len(name) <= MAX_NAME_CHARS
    assert not set(name) & set('/\\"<>|:*?')
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for c in name)
    assert not name.startswith((".", " ")) and ".." not in name.split(".")[0:1]
    assert name.rsplit(".", 1)[1].lower() in KINDS[kind].extensions
    header = content_disposition(name)
    header.encode("latin-1")  # a header value Starlette can send
    assert header.startswith('attachment; filename="') and "\n" not in header and "\r" not in header


# -- the store -----------------------------------------------------------------------------
def test_the_store_keeps_files_by_digest_and_names_a_changed_one(tmp_path):
    store = EvidenceStore(tmp_path / "evidence")
    data = docx()
    sha = store.put(data)
    path = store.path_of(sha)
    assert sha == digest_of(data) and path == tmp_path / "evidence" / "sha256" / sha[:2] / sha
    assert store.put(data) == sha and store.check(sha) is None and store.read(sha, what="x") == data
    path.chmod(0o644)
    path.write_bytes(xlsx())  # swapped behind the store's back
    assert "was changed" in store.check(sha)
    with pytest.raises(AuditBroken, match="file 7: the stored file was changed"):
        store.read(sha, what="file 7")
    store.put(data)  # the true bytes again repair it
    assert store.check(sha) is None
    path.unlink()
    assert store.check(sha) == "the stored file is missing"
    with pytest.raises(AuditBroken, match="not a SHA-256"):
        store.path_of("../../etc/passwd")
