"""``--pdf``: the report printed by headless Chromium inside the staged release (issue 16,
item 3): browser search, clear errors, failures leave the previous release, real PDF."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import unicodedata
import warnings
import zlib
from pathlib import Path

import pytest

from wbe.cli import EXIT_USAGE, main
from wbe.config import Config
from wbe.errors import ConfigError, MissingDependencyError
from wbe.io import read_flows, read_samples, read_sites
from wbe.publish import run_pipeline
from wbe.publish._pdf import CHROMIUM_ENV, find_chromium, fix_pdf_dates, render_pdf

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
NAMES = {"WWTP01": "城东污水处理厂", "WWTP02": "城西污水处理厂"}


def _fake_browser(folder: Path, body: str, name: str = "fake-chromium") -> Path:
    """An executable shell script standing in for the browser."""
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return path


# ------------------------------------------------------------------------ browser search
def test_env_var_comes_first(tmp_path):
    fake = _fake_browser(tmp_path, "exit 0")
    assert find_chromium(env={CHROMIUM_ENV: str(fake), "PATH": ""}) == str(fake)


def test_env_var_naming_nothing_is_an_error_naming_it(tmp_path):
    with pytest.raises(MissingDependencyError) as info:
        find_chromium(env={CHROMIUM_ENV: str(tmp_path / "no-such-browser")})
    msg = str(info.value)
    assert CHROMIUM_ENV in msg and "--pdf" in msg and "no-such-browser" in msg


def test_path_search_order(tmp_path, monkeypatch):
    _fake_browser(tmp_path, "exit 0", "google-chrome")
    _fake_browser(tmp_path, "exit 0", "chromium-browser")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_chromium(env={}) == str(tmp_path / "chromium-browser")
    _fake_browser(tmp_path, "exit 0", "chromium")
    assert find_chromium(env={}) == str(tmp_path / "chromium")


def test_no_browser_message_names_option_and_search(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder
    with pytest.raises(MissingDependencyError) as info:
        find_chromium(env={}, lang="zh")
    msg = str(info.value)
    for word in ("--pdf", CHROMIUM_ENV, "chromium", "chromium-browser", "google-chrome",
                 "apt-get install chromium", "未找到"):
        assert word in msg, word


def test_cli_without_browser_exits_2_before_any_computation(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv(CHROMIUM_ENV, raising=False)
    out = tmp_path / "demo"
    code = main(["demo", "--out", str(out), "--draws", "10", "--pdf", "--quiet"])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert "option --pdf" in err and CHROMIUM_ENV in err
    assert "Traceback" not in err
    assert not out.exists()  # nothing simulated, nothing written


def test_cli_rejects_a_non_positive_timeout(tmp_path, capsys):
    code = main(["demo", "--out", str(tmp_path / "d"), "--pdf-timeout", "0"])
    assert code == EXIT_USAGE
    assert "option --pdf-timeout" in capsys.readouterr().err


# ---------------------------------------------------------------------- render failures
def test_browser_failure_names_the_option(tmp_path):
    page = tmp_path / "r.html"
    page.write_text("<p>x</p>", encoding="utf-8")
    bad = _fake_browser(tmp_path, "echo 'GPU process crashed' >&2; exit 3")
    with pytest.raises(ConfigError, match=r"option --pdf: .* exited with code 3") as info:
        render_pdf(page, tmp_path / "r.pdf", browser=str(bad))
    assert "GPU process crashed" in str(info.value)
    assert not (tmp_path / "r.pdf").exists()


def test_browser_timeout(tmp_path):
    page = tmp_path / "r.html"
    page.write_text("<p>x</p>", encoding="utf-8")
    slow = _fake_browser(tmp_path, "exec sleep 30")
    with pytest.raises(ConfigError, match=r"option --pdf: .* within 0.5 s"):
        render_pdf(page, tmp_path / "r.pdf", browser=str(slow), timeout_s=0.5)


def test_browser_writing_no_pdf_is_a_failure(tmp_path):
    page = tmp_path / "r.html"
    page.write_text("<p>x</p>", encoding="utf-8")
    liar = _fake_browser(tmp_path, "exit 0")  # success, but no file
    with pytest.raises(ConfigError, match="wrote no PDF"):
        render_pdf(page, tmp_path / "r.pdf", browser=str(liar))


def test_pdf_dates_fixed_in_place():
    pdf = (b"%PDF-1.4\n<</Producer (Skia/PDF m156)\n/CreationDate (D:20261205121913+00'00')\n"
           b"/ModDate (D:20261205121913+00'00')>>\n")
    fixed = fix_pdf_dates(pdf, "2025-01-01T00:00:00Z")
    assert len(fixed) == len(pdf)  # byte offsets of the xref table unchanged
    assert fixed.count(b"(D:20250101000000+00'00')") == 2
    assert b"2026" not in fixed


# -------------------------------------------------------------- the release and the PDF
@pytest.fixture(scope="module")
def inputs():
    """The example city with Chinese plant names (as in test_report_language)."""
    sites = read_sites(str(DATA / "sites.csv")).data
    samples = read_samples(str(DATA / "samples.csv"), sites=sites).data
    flows = read_flows(str(DATA / "flows.csv"), sites=sites).data
    return tuple(t.assign(site=t["site"].map(NAMES)) for t in (sites, samples, flows))


def _publish(inputs, out: Path, **kwargs):
    sites, samples, flows = inputs
    config = Config(seed=2, draws=20, created_at="2025-01-01T00:00:00Z", language="zh")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the example's notes are tested elsewhere
        return run_pipeline(sites=sites, samples=samples, flows=flows, config=config,
                            out_dir=out, month="2024-02", quiet=True, **kwargs)


def test_failed_pdf_leaves_the_previous_release(inputs, tmp_path, monkeypatch):
    out = tmp_path / "release"
    _publish(inputs, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert b"mathdefault" not in before["report.html"]  # log-axis ticks as plain numbers
    monkeypatch.setenv(CHROMIUM_ENV, str(_fake_browser(tmp_path, "exit 1")))
    with pytest.raises(ConfigError, match="option --pdf") as info:
        _publish(inputs, out, pdf=True)
    assert any("left intact" in n for n in getattr(info.value, "__notes__", []))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not (out / "report.pdf").exists()
    assert [p.name for p in tmp_path.iterdir() if "wbe-new" in p.name] == []  # no stage left


def _chromium_or_skip() -> str:
    try:
        return find_chromium()
    except MissingDependencyError:
        pytest.skip("chromium not installed; run .ci/system-packages (apt-get install chromium)")


@pytest.fixture(scope="module")
def pdf_run(inputs, tmp_path_factory):
    _chromium_or_skip()
    return _publish(inputs, tmp_path_factory.mktemp("pdf") / "release", pdf=True)


def test_pdf_is_written_and_listed_in_the_manifest(pdf_run):
    pdf = pdf_run.files["report_pdf"]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 2  # headline page + detail
    manifest = json.loads(pdf_run.files["manifest"].read_text(encoding="utf-8"))
    assert "report_pdf" in json.dumps(manifest["outputs"])
    assert b"(D:20250101000000+00'00')" in data  # dates from created_at


def test_pdf_is_reproducible(pdf_run, tmp_path):
    again = render_pdf(pdf_run.files["report"], tmp_path / "again.pdf",
                       browser=find_chromium(), created_at="2025-01-01T00:00:00Z")
    assert again.read_bytes() == pdf_run.files["report_pdf"].read_bytes()


def _pdftotext(pdf: Path, *pages: int) -> str:
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext not installed (Debian poppler-utils, .ci/system-packages)")
    first_last = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    proc = subprocess.run([exe, "-enc", "UTF-8", *first_last, str(pdf), "-"],
                          capture_output=True, timeout=60, check=True)
    return proc.stdout.decode("utf-8")


def test_pdf_has_the_chinese_text_headline_page_first(pdf_run):
    pdf = pdf_run.files["report_pdf"]
    first = _pdftotext(pdf, 1, 1)
    assert "2024-02 月度要点" in first and "千人日均消费量" in first
    assert "详细结果" not in first  # the detail starts on a new page
    everything = _pdftotext(pdf)
    for name in NAMES.values():  # plant names in the SVG figures, as text
        assert name in everything, name
    assert "需处置的预警" in everything


def _unicode_of_glyphs(pdf: bytes) -> set[int]:
    """Code points the PDF's ToUnicode maps give its glyphs (what a reader extracts)."""
    points: set[int] = set()
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, flags=re.S):
        try:
            body = zlib.decompress(raw)
        except zlib.error:
            body = raw
        if b"beginbfchar" not in body and b"beginbfrange" not in body:
            continue
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", body, flags=re.S):
            pairs = re.findall(rb"<[0-9A-Fa-f]+>\s*<([0-9A-Fa-f]{4})>", block)
            points |= {int(dst, 16) for dst in pairs}
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", body, flags=re.S):
            for lo, hi, dst in re.findall(
                    rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]{4})>", block):
                start = int(dst, 16)
                points |= set(range(start, start + int(hi, 16) - int(lo, 16) + 1))
    # the font's reverse map may name a compatibility character for a glyph (KANGXI RADICAL
    # MOON U+2F49 for 月): readers normalise these (NFKC), and so does this check
    return {ord(unicodedata.normalize("NFKC", chr(p))[0]) for p in points}


def test_pdf_maps_its_glyphs_to_chinese_text(pdf_run):
    """Without poppler: the glyphs drawn include CJK ideographs with a Unicode mapping (a
    missing CJK font would draw boxes mapped to nothing, or fall back to a Latin font)."""
    points = _unicode_of_glyphs(pdf_run.files["report_pdf"].read_bytes())
    for char in "月度要点城东污水处理厂":
        assert ord(char) in points, char


def test_chromium_env_var_is_used_by_the_pipeline(inputs, tmp_path, monkeypatch):
    exe = _chromium_or_skip()
    calls = tmp_path / "calls.txt"
    wrapper = _fake_browser(tmp_path, f'echo called >> "{calls}"\nexec "{exe}" "$@"')
    monkeypatch.setenv(CHROMIUM_ENV, str(wrapper))
    monkeypatch.setenv("PATH", os.environ.get("PATH", ""))
    result = _publish(inputs, tmp_path / "release", pdf=True)
    assert calls.read_text().strip() == "called"
    assert result.files["report_pdf"].read_bytes().startswith(b"%PDF-")
