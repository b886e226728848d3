"""Reports kept in the database (services/reports/store.py, issue 17): a report made
where no folder is given (a worker's run) is stored with its record and written
nowhere else; any host reads it back by the store's name; a folder asked for gets
copies from the store; a report recorded before the store is read from its path."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update

from models.tables import Document, GeneratedReport
from services.core.directory import actor, campaign_row
from services.reports import generate as reports, store
from services.work.reading import report_file
from statemachine.errors import NotFound

from ..conftest import at

SUP = dict(actor="sup.city")
NAME = "reports/smoke-2023/city/monthly-2023-04"


def _documents(engine) -> dict[str, bytes]:
    with engine.connect() as conn:
        return {r.name: bytes(r.content) for r in conn.execute(select(Document.name, Document.content))}


def test_a_report_made_without_a_folder_is_in_the_database_and_nowhere_else(engine, campaign, tmp_path,
                                                                           monkeypatch):
    here = tmp_path / "cwd"
    here.mkdir()
    monkeypatch.chdir(here)
    g = reports.generate(engine, campaign, kind="monthly", period="2023-04", now=at("2023-05-05"), **SUP)
    assert g.created
    refs = {f: f"document:{NAME}.{f}" for f in ("md", "html", "xlsx", "docx")}
    assert g.files == g.stored == refs
    docs = _documents(engine)
    assert sorted(docs) == sorted(f"{NAME}.{f}" for f in refs)
    assert docs[f"{NAME}.md"].decode("utf-8") == g.markdown and docs[f"{NAME}.xlsx"][:2] == b"PK"
    assert list(here.iterdir()) == [] and not list(tmp_path.rglob("*.md"))  # not on this host's disk
    with engine.connect() as conn:
        record = json.loads(conn.execute(select(GeneratedReport.files_json)).scalar_one())
        who = actor(conn, campaign_row(conn, campaign).id, "sup.city")
    assert record == refs
    # what the web app serves, from whichever host: the stored bytes
    assert report_file(engine, campaign, who, unit="city", kind="monthly", period="2023-04",
                       fmt="html") == docs[f"{NAME}.html"]

    # asked again with a folder (the command line's --out): copies from the store, nothing made anew
    again = reports.generate(engine, campaign, kind="monthly", period="2023-04", out_dir=tmp_path / "out",
                             now=at("2023-05-06"), formats=("md", "docx"), **SUP)
    assert not again.created and again.markdown == g.markdown
    assert again.files == {f: str(tmp_path / "out" / "smoke-2023" / "city" / f"monthly-2023-04.{f}")
                           for f in ("md", "docx")}
    assert again.stored == {f: refs[f] for f in ("md", "docx")}
    assert Path(again.files["docx"]).read_bytes() == docs[f"{NAME}.docx"]
    assert _documents(engine) == docs


def test_forcing_a_report_replaces_its_stored_files_under_the_same_names(engine, campaign):
    g = reports.generate(engine, campaign, kind="monthly", period="2023-04", now=at("2023-05-05"),
                         formats=("md",), **SUP)
    forced = reports.generate(engine, campaign, kind="monthly", period="2023-04", now=at("2023-05-06"),
                              formats=("md",), force=True, **SUP)
    assert forced.created and forced.stored == g.stored
    docs = _documents(engine)
    assert list(docs) == [f"{NAME}.md"] and docs[f"{NAME}.md"].decode("utf-8") == forced.markdown


def test_a_report_recorded_before_the_store_is_read_from_its_path_and_remade_once_it_is_gone(
        engine, campaign, tmp_path):
    g = reports.generate(engine, campaign, kind="monthly", period="2023-04", now=at("2023-05-05"),
                         formats=("md",), **SUP)
    old = tmp_path / "old.md"
    old.write_text("报告（旧）", encoding="utf-8")
    with engine.begin() as conn:  # as a report generated before migration 0013 is recorded
        conn.execute(update(GeneratedReport).values(files_json=json.dumps({"md": str(old)})))
        conn.execute(Document.__table__.delete())
        cid = campaign_row(conn, campaign).id
        who = actor(conn, cid, "sup.city")
    assert store.read(engine, cid, str(old)) == "报告（旧）".encode()
    assert report_file(engine, campaign, who, unit="city", kind="monthly", period="2023-04",
                       fmt="md") == "报告（旧）".encode()
    same = reports.generate(engine, campaign, kind="monthly", period="2023-04", now=at("2023-05-06"),
                            formats=("md",), **SUP)
    assert not same.created and same.markdown == "报告（旧）"

    old.unlink()
    with pytest.raises(NotFound, match=r"^old\.md was written before reports were kept in the database"):
        report_file(engine, campaign, who, unit="city", kind="monthly", period="2023-04", fmt="md")
    remade = reports.generate(engine, campaign, kind="monthly", period="2023-04", now=at("2023-05-06"),
                              formats=("md",), **SUP)
    assert remade.created and remade.stored == g.stored and list(_documents(engine)) == [f"{NAME}.md"]


def test_a_name_the_store_does_not_hold_is_refused_in_one_line(engine, campaign):
    with engine.connect() as conn:
        cid = campaign_row(conn, campaign).id
    with pytest.raises(NotFound, match=r"^no document reports/x\.md in the store: regenerate the report$"):
        store.read(engine, cid, "document:reports/x.md")
