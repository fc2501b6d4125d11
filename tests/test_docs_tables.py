"""No Markdown table of the documentation is left as raw text.

A pipe table that the parser does not recognise is not an error for Sphinx: it becomes a
paragraph of ``| a | b |`` text, and ``sphinx-build -W`` passes. That happened to the
``trend_class`` row of ``docs/output-schemas.md`` (a blank line had cut it off its table).
This test parses every Markdown page of ``docs/`` with the parser Sphinx uses for them
(myst-parser's markdown-it, with the extensions enabled in ``docs/conf.py``) and fails on a
paragraph that holds table syntax: a line starting with ``|`` and holding another ``|``, or
a delimiter row (``|---|---|``). Code blocks and tables that were converted are not
paragraphs, so they are never flagged. Parsing the sources takes about a second; no build.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"

#: A line of a pipe table: starts with "|" and has another "|" later.
_ROW = re.compile(r"^\s*\|.*\|")
#: A delimiter row anywhere in a line: |---|, |:--|, ---|--- ...
_DELIMITER = re.compile(r"\|?\s*:?-{3,}:?\s*\|\s*:?-{3,}:?|\|\s*:?-{3,}:?\s*\|")


def _parser():
    pytest.importorskip("myst_parser", reason="the docs extra (myst-parser) is not installed")
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    conf = runpy.run_path(str(DOCS / "conf.py"))  # the same extensions as the build
    config = MdParserConfig(enable_extensions=set(conf.get("myst_enable_extensions", ())),
                            heading_anchors=conf.get("myst_heading_anchors", 0))
    return create_md_parser(config, RendererHTML)


def _front_matter_free(text: str) -> str:
    """The page without its YAML front matter (MyST-NB notebooks start with one)."""
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end != -1:
            return "\n" * text[:end + 5].count("\n") + text[end + 5:]
    return text


def raw_tables(markdown: str, parser=None) -> list[tuple[int, str]]:
    """Lines of table syntax left in paragraphs: ``(line number, line)``, 1-based."""
    md = parser or _parser()
    tokens = md.parse(_front_matter_free(markdown))
    found = []
    for i, tok in enumerate(tokens):
        if tok.type != "inline" or i == 0 or tokens[i - 1].type != "paragraph_open":
            continue
        first = (tokens[i - 1].map or [0, 0])[0]
        for k, line in enumerate(tok.content.splitlines()):
            if _ROW.match(line) or _DELIMITER.search(line):
                found.append((first + k + 1, line.strip()))
    return found


def _pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)


@pytest.fixture(scope="module")
def parser():
    return _parser()


def test_there_are_pages_with_tables(parser):
    """The check looks at real tables: many pages have converted ones."""
    with_tables = [p for p in _pages()
                   if "table_open" in {t.type for t in parser.parse(p.read_text("utf-8"))}]
    assert len(with_tables) >= 10, with_tables


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_no_raw_markdown_table(page, parser):
    found = raw_tables(page.read_text(encoding="utf-8"), parser)
    assert not found, (f"docs/{page.relative_to(DOCS)}: table syntax left as text (a blank "
                       "line inside the table, no blank line after a list, or a missing "
                       f"delimiter row): {found}")


# ---------------------------------------------------------------- the check can fail
GOOD = """Some text.

| field | meaning |
|---|---|
| `a` | first |
| `b` | second |

After the table.
"""


def test_a_good_table_passes(parser):
    assert raw_tables(GOOD, parser) == []


def test_a_row_cut_off_by_a_blank_line_is_caught(parser):
    """The original ``trend_class`` bug: a blank line before the last row."""
    broken = GOOD.replace("| `b` | second |", "\n| `b` | second |")
    assert raw_tables(broken, parser) == [(7, "| `b` | second |")]


def test_a_table_glued_to_a_list_is_caught(parser):
    """No blank line between a list and the table: the table becomes list-item text."""
    broken = "- an item\n| field | meaning |\n|---|---|\n| `a` | first |\n"
    found = raw_tables(broken, parser)
    assert [n for n, _ in found] == [2, 3, 4]


def test_a_table_without_delimiter_row_is_caught(parser):
    broken = "| field | meaning |\n| `a` | first |\n"
    assert len(raw_tables(broken, parser)) == 2


def test_code_blocks_and_inline_pipes_are_not_tables(parser):
    text = ("```\n| not | a table |\n|---|---|\n```\n\n"
            "The id hashes `site|biomarker|date|method`, and a|b is an or.\n")
    assert raw_tables(text, parser) == []


def test_notebook_front_matter_is_skipped(parser):
    text = "---\nfile_format: mystnb\n---\n\n# Title\n\n" + GOOD
    assert raw_tables(text, parser) == []
