"""The conventions document the tests and docstrings cite is in the repository, and every
"conventions.md, convention N" citation names a convention that exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "conventions.md"
CITATION = re.compile(r"conventions\.md,\s+convention\s+(\d+)")


def _conventions() -> dict[int, str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Conventions", 1)[1].split("\n## ", 1)[0]
    return {int(n): title for n, title in re.findall(r"^(\d+)\. \*\*(.+?)\*\*", section, re.M)}


def _sources():
    for folder in ("wbe", "lab", "models", "datasets", "tests", "docs"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in {".py", ".md", ".rst"} and "_build" not in path.parts:
                yield path


def test_conventions_are_numbered_without_gaps():
    numbers = sorted(_conventions())
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(numbers) >= 11


def test_every_citation_names_an_existing_convention():
    known = _conventions()
    cited = 0
    for path in _sources():
        for n in CITATION.findall(path.read_text(encoding="utf-8")):
            cited += 1
            assert int(n) in known, f"{path.relative_to(ROOT)} cites convention {n}"
    assert cited >= 3


def test_nothing_cites_a_design_document_outside_the_repository():
    for path in _sources():
        if path.name == "test_conventions_doc.py":
            continue
        assert "design.md" not in path.read_text(encoding="utf-8"), path.relative_to(ROOT)
