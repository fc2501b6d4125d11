"""Every documentation page appears once in the navigation.

The theme builds its navigation from the ``toctree`` directives. A page listed in two of
them (the old site also had a hidden ``:glob: *`` table that listed every page again) shows
twice in the sidebar; a page in none fails the Sphinx build. This reads the directives of
``docs/**/*.md`` (MyST ``{toctree}`` fences) and ``docs/**/*.rst`` without building.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path, PurePosixPath

DOCS = Path(__file__).resolve().parents[1] / "docs"

_MD_TOCTREE = re.compile(r"^```\{toctree\}[^\n]*\n(.*?)^```", re.M | re.S)
_RST_TOCTREE = re.compile(r"^\.\. toctree::[^\n]*\n((?:[ \t]+[^\n]*\n|\n)*)", re.M)


def _entries(block: str) -> tuple[list[str], list[str]]:
    """(options, entries) of one toctree body."""
    options, entries = [], []
    for line in block.splitlines():
        line = line.strip()
        if not line:
            continue
        (options if line.startswith(":") else entries).append(line)
    return options, entries


def _toctrees() -> list[tuple[Path, list[str], list[str]]]:
    out = []
    for path in sorted(DOCS.rglob("*")):
        if "_build" in path.parts or path.suffix not in (".md", ".rst"):
            continue
        text = path.read_text(encoding="utf-8")
        pattern = _MD_TOCTREE if path.suffix == ".md" else _RST_TOCTREE
        for block in pattern.findall(text):
            out.append((path, *_entries(block)))
    return out


def _doc_name(page: Path, entry: str) -> str:
    target = re.sub(r"^.*<(.+)>$", r"\1", entry)  # "Title <page>"
    if target.startswith("/"):
        return target.lstrip("/")
    base = PurePosixPath(page.relative_to(DOCS).parent.as_posix())
    return str(base / target) if str(base) != "." else target


def test_no_glob_or_hidden_catch_all_table():
    for page, options, _ in _toctrees():
        assert ":glob:" not in options, f"{page.name}: a :glob: toctree lists pages twice"


def test_every_page_is_listed_exactly_once():
    listed = Counter(_doc_name(page, e) for page, _, entries in _toctrees() for e in entries)
    twice = {k: v for k, v in listed.items() if v > 1}
    assert not twice, f"pages in more than one toctree (shown twice in the navigation): {twice}"
    pages = {str(p.relative_to(DOCS).with_suffix("").as_posix())
             for p in DOCS.rglob("*") if p.suffix in (".md", ".rst") and "_build" not in p.parts}
    unlisted = sorted(pages - set(listed) - {"index"})
    assert not unlisted, f"pages in no toctree (the build fails on them): {unlisted}"
    assert not set(listed) - pages, "toctree entries without a page"
