"""Every domain rule and design decision the repository cites can be followed inside it.

Code, tests, plans and the README cite the domain by section of
docs/domain.md ("docs/domain.md §5.4") and the design by decision of
docs/architecture.md ("docs/architecture.md decision 8"). A citation of the
old briefs kept outside the repository, or of a section or decision the
document does not have, is a reference a reader cannot follow: each fails
here, naming file and line.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from .test_shipped_plans import FORBIDDEN

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_DOC = ROOT / "docs" / "domain.md"
ARCH_DOC = ROOT / "docs" / "architecture.md"

# the brief outside the repository, cited by section (the pattern is built so that
# this file does not match itself)
OUTSIDE = re.compile("DOMAIN" + r"(?:\.md)?\s*§")
# "docs/domain.md §4", "… §3, §7", "… §5.3 and §4.3", "… §1–§4"
CITATION = re.compile(r"docs/domain\.md((?:\s*(?:,|and|to|–|—|-)?\s*§\d+(?:\.\d+)*)+)")
SECTION = re.compile(r"§(\d+(?:\.\d+)*)")
HEADING = re.compile(r"^#{2,6} §(\d+(?:\.\d+)*)\.?\s", re.MULTILINE)
# the architecture notes outside the repository, cited by file name or by decision (the
# pattern is built so that this file does not match itself)
ARCH_OUTSIDE = re.compile("ARCH" + r"(?:ITECTURE)?(?:\.md\b|,? decisions?\b)")
# "docs/architecture.md decision 8", "… decisions 2 and 4"
ARCH_CITATION = re.compile(r"docs/architecture\.md,? decisions? (\d+(?:(?:\s*,\s*|\s+and\s+|\s*[–-]\s*)\d+)*)")
DECISION = re.compile(r"^### (\d+)\. ", re.MULTILINE)
# folders that are never part of the repository, for a checkout without git
NOT_OURS = {".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".rectify", "rectify-demo",
            "build"}


def _repository_files() -> list[Path]:
    """The repository's files: tracked or new, minus what .gitignore leaves out."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, capture_output=True, check=True).stdout
        names = [n for n in out.decode("utf-8").split("\0") if n]
        return [ROOT / n for n in names if (ROOT / n).is_file()]
    except (OSError, subprocess.CalledProcessError):  # no git, or not a checkout
        files = []
        for top, dirs, names in os.walk(ROOT):
            dirs[:] = [d for d in dirs if d not in NOT_OURS and not d.endswith(".egg-info")]
            files += [Path(top) / n for n in names]
        return files


def _texts() -> list[tuple[Path, str]]:
    texts = []
    for path in _repository_files():
        try:
            texts.append((path, path.read_text(encoding="utf-8")))
        except UnicodeDecodeError:  # spreadsheets, images: no citations in them
            continue
    return texts


def _sections() -> list[str]:
    return HEADING.findall(DOMAIN_DOC.read_text(encoding="utf-8"))


def _where(path: Path, text: str, offset: int) -> str:
    return f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, offset) + 1}"


def test_the_domain_reference_exists_and_numbers_each_section_once():
    sections = _sections()
    assert "1" in sections and len(sections) > 10
    assert len(sections) == len(set(sections)), sorted(s for s in sections if sections.count(s) > 1)


def test_nothing_cites_the_domain_brief_that_is_not_in_the_repository():
    found = [_where(path, text, m.start()) for path, text in _texts() for m in OUTSIDE.finditer(text)]
    assert not found, "cite docs/domain.md §N instead: " + ", ".join(found)


def test_every_cited_section_of_docs_domain_md_exists():
    sections = set(_sections())
    cited = 0
    missing = []
    for path, text in _texts():
        refs = [(m.start(), m.group(1)) for m in CITATION.finditer(text)]
        if path == DOMAIN_DOC:  # its own cross-references ("(§8.4)"), headings aside
            refs += [(m.start(), m.group(0)) for m in SECTION.finditer(text)
                     if not text.startswith("#", text.rfind("\n", 0, m.start()) + 1)]
        for offset, group in refs:
            for number in SECTION.findall(group):
                cited += 1
                if number not in sections:
                    missing.append(f"{_where(path, text, offset)} §{number}")
    assert cited > 30, "the citations were not found at all: is the pattern still right?"
    assert not missing, "docs/domain.md has no such section: " + ", ".join(missing)


def test_the_domain_reference_names_no_real_person_or_number_from_the_seeds():
    text = DOMAIN_DOC.read_text(encoding="utf-8")
    assert not [s for s in FORBIDDEN if s in text]


def _decisions() -> list[str]:
    text = ARCH_DOC.read_text(encoding="utf-8")
    return DECISION.findall(text[text.index("\n## Decisions"):])


def test_the_decisions_of_docs_architecture_md_are_numbered_once_in_order():
    decisions = _decisions()
    assert decisions == [str(n) for n in range(1, len(decisions) + 1)] and len(decisions) >= 15


def test_nothing_cites_the_architecture_notes_that_are_not_in_the_repository():
    found = [_where(path, text, m.start()) for path, text in _texts() for m in ARCH_OUTSIDE.finditer(text)]
    assert not found, "cite docs/architecture.md decision N instead: " + ", ".join(found)


def test_every_cited_decision_of_docs_architecture_md_exists():
    decisions = set(_decisions())
    cited = 0
    missing = []
    for path, text in _texts():
        for m in ARCH_CITATION.finditer(text):
            for number in re.findall(r"\d+", m.group(1)):
                cited += 1
                if number not in decisions:
                    missing.append(f"{_where(path, text, m.start())} decision {number}")
    assert cited > 15, "the citations were not found at all: is the pattern still right?"
    assert not missing, "docs/architecture.md has no such decision: " + ", ".join(missing)
