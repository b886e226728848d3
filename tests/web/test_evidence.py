"""Evidence files over HTTP, against the real app on SQLite and PostgreSQL: a county's
liaison uploads, supervisors above download, a sibling county is refused; too big,
the wrong type and hostile names are refused or made harmless; a file swapped in the
store is named by `rectify audit verify` (the real command, in a subprocess)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.tables import AuditRecord, EvidenceFile
from services.clues.lifecycle import NewClue, add_clues
from services.evidence.store import digest_of

from ..conftest import at
from ..e2e.conftest import Cli, assert_one_line_error, clean_env
from ..evidence_samples import docx, jpeg, pdf, zip_of
from .conftest import csrf_of, running_web

A, EF = AuditRecord.__table__, EvidenceFile.__table__
MiB = 2**20


@pytest.fixture
def ev(db_url, campaign, tmp_path):
    """The app with evidence files of at most 1 MiB (db_url: a clone of the loaded template)."""
    with running_web(db_url, tmp_path, evidence_max_mb=1) as w:
        yield w


def clue_of(web, unit: str) -> str:
    return add_clues(web.engine, web.campaign, [NewClue(channel="12345", aspect="profit", summary="设卡乱罚款",
                                                        unit=unit)],
                     actor="sup.city", now=at("2023-03-20"), calendar=web.runtime.calendar)[0]


def multipart(data: bytes, filename: str, **fields: str) -> tuple[bytes, str]:
    """A multipart body written byte by byte, the file name as given (NUL, RTL and all)."""
    boundary = "rectify-test-boundary-7d1f"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    shown = filename.replace('"', "%22")
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{shown}"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n".encode("utf-8") + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def upload(client, path: str, data: bytes, filename: str = "整改情况报告.pdf", *, csrf: str | None = None):
    """As a browser's form does: the CSRF token a field of the multipart body."""
    body, ctype = multipart(data, filename, **({"csrf_token": csrf} if csrf else {}))
    return client.post(path, content=body, headers={"Content-Type": ctype})


def pdf_of_size(size: int) -> bytes:
    """A sound PDF of exactly `size` bytes (a comment line pads it)."""
    p = pdf()
    data = p[:9] + b"%" + b"x" * (size - len(p) - 2) + b"\n" + p[9:]
    assert len(data) == size
    return data


def signed_in(web, username: str):
    c = web.browser(username)
    return c, csrf_of(c.get("/tokens"))


def stored_files(web) -> list[Path]:
    root = web.runtime.settings.evidence_folder
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def rows(web) -> list:
    with web.engine.connect() as conn:
        return conn.execute(select(EF).order_by(EF.c.id)).all()


# -- the way it is meant to go -----------------------------------------------------------------
def test_a_liaison_attaches_evidence_and_the_supervisor_above_downloads_it(ev):
    number = clue_of(ev, "county-a")
    liaison, csrf = signed_in(ev, "off.a")
    data = pdf("退还罚款凭证")
    r = upload(liaison, f"/api/v1/clues/{number}/evidence", data, csrf=csrf)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["name"] == "整改情况报告.pdf" and got["media_type"] == "application/pdf"
    assert got["sha256"] == digest_of(data) and got["size"] == len(data) and got["uploaded_by"] == "off.a"
    assert got["owner"] == f"clue {number}" and got["unit"] == "甲县" and r.headers["location"] == got["href"]

    again = upload(liaison, f"/api/v1/clues/{number}/evidence", data, "again.pdf", csrf=csrf)
    assert again.status_code == 200 and again.json()["id"] == got["id"]  # the same bytes: one file
    word = upload(liaison, f"/api/v1/clues/{number}/evidence", docx(), "整改措施.docx", csrf=csrf)
    assert word.status_code == 201 and word.json()["media_type"].endswith("wordprocessingml.document")

    supervisor, _ = signed_in(ev, "sup.city")
    listing = supervisor.get(f"/api/v1/clues/{number}/evidence")
    assert listing.status_code == 200
    assert [(f["id"], f["name"]) for f in listing.json()] == [(got["id"], "整改情况报告.pdf"),
                                                             (word.json()["id"], "整改措施.docx")]
    d = supervisor.get(got["href"])
    assert d.status_code == 200 and d.content == data, d.text
    assert d.headers["content-type"] == "application/pdf"
    assert d.headers["x-content-type-options"] == "nosniff"
    assert d.headers["content-disposition"] == (
        "attachment; filename=\"______.pdf\"; filename*=UTF-8''"
        "%E6%95%B4%E6%94%B9%E6%83%85%E5%86%B5%E6%8A%A5%E5%91%8A.pdf")
    assert "sandbox" in d.headers["content-security-policy"] and d.headers["etag"] == f'"{digest_of(data)}"'

    with ev.engine.connect() as conn:
        records = conn.execute(select(A.c.actor, A.c.entity, A.c.detail).where(A.c.trigger == "attach_evidence")
                               .order_by(A.c.seq)).all()
    assert [(r.actor, r.entity) for r in records] == [("off.a", "clue"), ("off.a", "clue")]
    assert json.loads(records[0].detail)["sha256"] == digest_of(data)  # the digest is in the chain too


def test_a_unit_answers_its_case_with_a_file(ev):
    """(Report submissions take files the same way: tests/e2e/test_evidence_cli.py, whose plan
    has a reporting duty.)"""
    from services.ladder.cases import CaseInput, escalate_unit

    liaison, csrf = signed_in(ev, "off.b")
    case = escalate_unit(ev.engine, ev.campaign, "county-b", 1, actor="sup.city", now=at("2023-04-10"),
                         calendar=ev.runtime.calendar, data=CaseInput(reason="整改工作不力"))
    r = upload(liaison, f"/api/v1/cases/{case.id}/evidence", jpeg(), "约谈整改报告.jpg", csrf=csrf)
    assert r.status_code == 201 and r.json()["owner"] == f"case {case.id}", r.text
    assert liaison.get(f"/api/v1/cases/{case.id}/evidence").json()[0]["media_type"] == "image/jpeg"
    assert upload(liaison, "/api/v1/cases/999999/evidence", jpeg(), csrf=csrf).status_code == 404
    assert signed_in(ev, "off.a")[0].get(f"/api/v1/cases/{case.id}/evidence").status_code == 403


# -- who may ------------------------------------------------------------------------------------
def test_a_sibling_county_may_neither_see_nor_download_nor_attach(ev):
    number = clue_of(ev, "county-a")
    liaison, csrf = signed_in(ev, "off.a")
    href = upload(liaison, f"/api/v1/clues/{number}/evidence", pdf(), csrf=csrf).json()["href"]
    before = stored_files(ev)

    sibling, csrf_b = signed_in(ev, "off.b")
    for r in (sibling.get(href), sibling.get(f"/api/v1/clues/{number}/evidence"),
              upload(sibling, f"/api/v1/clues/{number}/evidence", pdf("另一份"), csrf=csrf_b)):
        assert r.status_code == 403, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert "off.b (乙县) may not" in r.json()["detail"] and "甲县" in r.json()["detail"]
    assert stored_files(ev) == before and len(rows(ev)) == 1  # the refused upload left nothing

    inspector, _ = signed_in(ev, "insp.city")  # above, but not a supervisor
    assert inspector.get(href).status_code == 403
    assert signed_in(ev, "sup.a")[0].get(href).status_code == 200  # county-a's own supervisor
    assert signed_in(ev, "off.c1")[0].get(href).status_code == 403  # a unit below sees nothing above
    assert ev.client().get(href).status_code == 401
    assert liaison.get("/api/v1/evidence/424242").status_code == 404


# -- bad input changes nothing ------------------------------------------------------------------
def test_a_file_too_big_is_413_and_nothing_is_stored(ev):
    number = clue_of(ev, "county-a")
    liaison, csrf = signed_in(ev, "off.a")
    path = f"/api/v1/clues/{number}/evidence"
    r = upload(liaison, path, pdf_of_size(MiB + 1), csrf=csrf)  # within the body's bound: the route measures
    assert r.status_code == 413 and "1 MiB" in r.json()["detail"], r.text
    r = upload(liaison, path, b"%PDF-1.7\n" + b"0" * (3 * MiB), csrf=csrf)  # refused on its declared length
    assert r.status_code == 413 and r.json()["error"] == "TooLarge" and "3 MiB" in r.json()["detail"]

    body, ctype = multipart(pdf(), "a.pdf", csrf_token=csrf)
    chunked = liaison.post(path, content=iter([body]), headers={"Content-Type": ctype})  # no Content-Length
    assert chunked.status_code == 411
    assert stored_files(ev) == [] and rows(ev) == []
    assert upload(liaison, path, pdf_of_size(MiB), csrf=csrf).status_code == 201


@pytest.mark.parametrize("data, why", [
    (b"This is a text file named like a PDF.", "not a file type accepted"),
    (pdf() + zip_of({"a.txt": b"x"}), "after its end"),
    (b"MZ\x90\x00" + bytes(200), "a program"),
    (b"<html><script>alert(1)</script></html>", "not a file type accepted"),
    (zip_of({"run.exe": b"MZ"}), "program or macro"),
], ids=["text", "polyglot", "exe", "html", "zip-with-exe"])
def test_the_wrong_type_is_415_whatever_the_name_says(ev, data, why):
    number = clue_of(ev, "county-a")
    liaison, csrf = signed_in(ev, "off.a")
    r = upload(liaison, f"/api/v1/clues/{number}/evidence", data, "整改报告.pdf", csrf=csrf)
    assert r.status_code == 415 and why in r.json()["detail"], r.text
    assert r.json()["error"] == "UnsupportedType"
    assert stored_files(ev) == [] and rows(ev) == []


def test_an_upload_that_is_not_multipart_is_refused(ev):
    number = clue_of(ev, "county-a")
    liaison, csrf = signed_in(ev, "off.a")
    r = liaison.post(f"/api/v1/clues/{number}/evidence", content=pdf(),
                     headers={"Content-Type": "application/pdf", "X-CSRF-Token": csrf})
    assert r.status_code == 415 and "multipart/form-data" in r.json()["detail"]
    body, ctype = multipart(pdf(), "a.pdf", csrf_token=csrf)
    r = liaison.post(f"/api/v1/clues/{number}/evidence", content=body.replace(b'name="file"', b'name="other"'),
                     headers={"Content-Type": ctype})
    assert r.status_code == 422 and "a file is required" in r.json()["detail"]
    forged = upload(liaison, f"/api/v1/clues/{number}/evidence", pdf(), csrf="forged")
    assert forged.status_code == 403 and rows(ev) == []


HOSTILE = {
    "../../etc/passwd": "passwd.pdf",
    "..\\..\\boot.ini": "boot.ini.pdf",
    "a\x00b.pdf": "ab.pdf",
    "invoice\u202efdp.exe": "invoicefdp.exe.pdf",
    "长" * 1000 + ".pdf": "长" * 116 + ".pdf",
    "/tmp/x/../../evidence/sha256/00/x": "x.pdf",
}


def test_hostile_file_names_are_display_text_and_never_paths(ev, tmp_path):
    number = clue_of(ev, "county-a")
    liaison, csrf = signed_in(ev, "off.a")
    shown = {}
    for i, name in enumerate(HOSTILE):
        r = upload(liaison, f"/api/v1/clues/{number}/evidence", pdf(f"凭证{i}"), name, csrf=csrf)
        assert r.status_code == 201, (name, r.text)
        shown[name] = r.json()
    assert {n: shown[n]["name"] for n in HOSTILE} == HOSTILE
    # every stored file lies at sha256/<2 hex>/<64 hex>, under the evidence folder, and nowhere else
    root = ev.runtime.settings.evidence_folder
    layout = re.compile(r"sha256/([0-9a-f]{2})/(\1[0-9a-f]{62})")
    assert all(layout.fullmatch(p.relative_to(root).as_posix()) for p in stored_files(ev))
    assert len(stored_files(ev)) == len(HOSTILE)
    assert not [p for p in tmp_path.rglob("*") if p.name in ("passwd", "boot.ini", "x") or "\u202e" in p.name]
    for name, got in shown.items():
        d = liaison.get(got["href"])
        disposition = d.headers["content-disposition"]
        assert d.status_code == 200 and "\u202e" not in disposition and "/" not in disposition.split("''")[0]
        disposition.encode("latin-1")


# -- a file changed behind the application's back -------------------------------------------------
def test_a_swapped_stored_file_is_named_by_audit_verify(ev, db_url, tmp_path):
    number = clue_of(ev, "county-a")
    liaison, csrf = signed_in(ev, "off.a")
    data, other = pdf("原件"), pdf("调包件")
    first = upload(liaison, f"/api/v1/clues/{number}/evidence", data, "原件.pdf", csrf=csrf).json()
    assert upload(liaison, f"/api/v1/clues/{number}/evidence", other, "另一份.pdf", csrf=csrf).status_code == 201
    cli = Cli(clean_env(db_url, tmp_path), tmp_path)  # the same home, so the same evidence folder
    assert "2 evidence files intact" in cli.ok("audit", "verify").stdout

    stored = ev.runtime.settings.evidence_folder / "sha256" / first["sha256"][:2] / first["sha256"]
    stored.chmod(0o644)
    stored.write_bytes(other)  # the bytes swapped in the store
    r = cli.run("audit", "verify")
    assert_one_line_error(r, code=3)
    assert f"evidence file {first['id']} ('原件.pdf' of clue {number}" in r.stderr
    assert "the stored file was changed" in r.stderr
    d = liaison.get(first["href"])  # never handed out as the evidence it is not
    assert d.status_code == 500 and "was changed" in d.json()["detail"] and d.content != other

    stored.write_bytes(data)
    assert cli.run("audit", "verify").returncode == 0
    with ev.engine.begin() as conn:  # the row pointed at the other file: the chain still says which
        conn.execute(EF.update().where(EF.c.id == first["id"]).values(sha256=digest_of(b"forged")))
    r = cli.run("audit", "verify")
    assert_one_line_error(r, code=3)
    assert "the database now names another file" in r.stderr and "than audit record" in r.stderr
    with ev.engine.begin() as conn:
        conn.execute(EF.update().where(EF.c.id == first["id"]).values(sha256=first["sha256"]))
    stored.unlink()
    r = cli.run("audit", "verify")
    assert_one_line_error(r, code=3)
    assert "the stored file is missing" in r.stderr
    with ev.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(EF)).scalar_one() == 2
