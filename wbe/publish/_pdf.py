"""``report.pdf``: the HTML report printed by headless Chromium (``wbe publish --pdf``).

The browser is found by :func:`find_chromium`: the ``WBE_CHROMIUM`` environment variable
(a path or a command name), else the first of ``chromium``, ``chromium-browser`` and
``google-chrome`` on ``PATH``. The page is printed with the report's print stylesheet (A4,
the headline page on its own sheet) by ``chromium --headless --print-to-pdf``, in a
throwaway browser profile, with a time limit.

The PDF is made reproducible: untagged (Chromium numbers the structure tags of a tagged
PDF after internal DOM node ids, which change from run to run) and with its creation and
modification dates set to the run's ``created_at``, so that the same inputs, config and
seed give the same bytes (the manifest records its SHA-256 like every other output).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from wbe.errors import ConfigError, MissingDependencyError

__all__: list[str] = []

#: Environment variable naming the browser (a path or a command on ``PATH``).
CHROMIUM_ENV = "WBE_CHROMIUM"
#: Commands tried on ``PATH``, in order, when ``WBE_CHROMIUM`` is not set.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
#: Default time limit of one PDF rendering [s].
DEFAULT_PDF_TIMEOUT_S = 120.0

_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run",
          "--no-default-browser-check", "--no-pdf-header-footer", "--disable-pdf-tagging")
_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:\d{14}[^)]*\)")


def _bilingual(en: str, zh: str, lang: str) -> str:
    return en if lang == "en" else f"{en}\n{zh}"


def find_chromium(*, option: str = "--pdf", lang: str = "en",
                  env: Mapping[str, str] | None = None) -> str:
    """The headless browser to print the report with.

    Parameters
    ----------
    option : str, default "--pdf"
        The option that asked for a PDF, named in the error message.
    lang : {"en", "zh"}, default "en"
        Language of the error message ("zh": English, then Chinese).
    env : mapping, optional
        Environment to read ``WBE_CHROMIUM`` from; default ``os.environ``.

    Returns
    -------
    str
        Absolute path of the browser executable.

    Raises
    ------
    MissingDependencyError
        If ``WBE_CHROMIUM`` names no executable, or it is unset and none of
        :data:`CHROMIUM_NAMES` is on ``PATH``.
    """
    env = os.environ if env is None else env
    wanted = env.get(CHROMIUM_ENV, "").strip()
    if wanted:
        found = shutil.which(wanted)
        if found is None:
            raise MissingDependencyError(_bilingual(
                f"option {option}: {CHROMIUM_ENV}={wanted!r} is not an executable browser; "
                f"set {CHROMIUM_ENV} to the path of Chromium or Chrome, or unset it to search "
                f"PATH for {', '.join(CHROMIUM_NAMES)}",
                f"选项 {option}：环境变量 {CHROMIUM_ENV}={wanted!r} 不是可执行的浏览器；"
                f"请将其设为 Chromium 或 Chrome 的路径，或取消设置以在 PATH 中查找。", lang))
        return str(Path(found).absolute())
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return str(Path(found).absolute())
    raise MissingDependencyError(_bilingual(
        f"option {option} needs headless Chromium to print the report, and none was found: "
        f"searched {CHROMIUM_ENV} (unset) and {', '.join(CHROMIUM_NAMES)} on PATH; install "
        "it (Debian: apt-get install chromium) or set "
        f"{CHROMIUM_ENV}=/path/to/chromium; or leave out {option} (report.html is complete)",
        f"选项 {option} 需要无头 Chromium 浏览器来生成 PDF，但未找到（已查找环境变量 "
        f"{CHROMIUM_ENV} 及 PATH 中的 {', '.join(CHROMIUM_NAMES)}）；请安装（Debian："
        f"apt-get install chromium）或设置 {CHROMIUM_ENV}；也可不用 {option}"
        "（report.html 内容完整）。", lang))


def _pdf_date(created_at: str) -> bytes:
    """``D:YYYYMMDDHHmmSS+00'00'`` of an ISO 8601 time stamp (in UTC)."""
    stamp = pd.Timestamp(created_at)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("D:%Y%m%d%H%M%S+00'00'").encode()


def fix_pdf_dates(pdf: bytes, created_at: str) -> bytes:
    """The PDF with its ``/CreationDate`` and ``/ModDate`` set to ``created_at``.

    Only the date strings change; a replacement of another length would shift the byte
    offsets of the cross-reference table, so a PDF whose dates are not in Chromium's
    ``D:YYYYMMDDHHmmSS+HH'mm'`` form is returned unchanged.
    """
    date = _pdf_date(created_at)

    def repl(m: re.Match) -> bytes:
        new = b"/" + m.group(1) + b" (" + date + b")"
        return new if len(new) == len(m.group(0)) else m.group(0)

    return _DATE.sub(repl, pdf)


def render_pdf(html_path: str | Path, pdf_path: str | Path, *, browser: str,
               created_at: str | None = None, timeout_s: float = DEFAULT_PDF_TIMEOUT_S,
               option: str = "--pdf", lang: str = "en") -> Path:
    """Print an HTML file to PDF with headless Chromium.

    Parameters
    ----------
    html_path : str or path-like
        The page (``report.html``).
    pdf_path : str or path-like
        The PDF to write.
    browser : str
        Browser executable (:func:`find_chromium`).
    created_at : str, optional
        ISO 8601 time stamp written as the PDF's creation and modification date (for
        byte-identical re-runs); default the time of printing.
    timeout_s : float, default 120
        Time limit of the browser [s].
    option : str, default "--pdf"
        The option that asked for the PDF, named in error messages.
    lang : {"en", "zh"}, default "en"
        Language of error messages ("zh": English, then Chinese).

    Returns
    -------
    pathlib.Path
        ``pdf_path``.

    Raises
    ------
    ConfigError
        If the browser fails, exceeds ``timeout_s`` or writes no PDF; the message names
        ``option``, the browser and the end of its error output.
    """
    html_path, pdf_path = Path(html_path).absolute(), Path(pdf_path).absolute()
    pdf_path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="wbe-chromium-") as profile:
        cmd = [browser, *_FLAGS, f"--user-data-dir={profile}",
               f"--print-to-pdf={pdf_path}", html_path.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                                  check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise ConfigError(_bilingual(
                f"option {option}: {browser} did not print the report within {timeout_s:g} s",
                f"选项 {option}：浏览器 {browser} 在 {timeout_s:g} 秒内未能生成 PDF", lang)
            ) from None
        except OSError as exc:
            raise ConfigError(_bilingual(
                f"option {option}: cannot run {browser}: {exc}",
                f"选项 {option}：无法运行浏览器 {browser}：{exc}", lang)) from None
    head = pdf_path.read_bytes()[:5] if pdf_path.is_file() else b""
    if proc.returncode != 0 or head != b"%PDF-":
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise ConfigError(_bilingual(
            f"option {option}: {browser} exited with code {proc.returncode} and "
            f"{'wrote no PDF' if head != b'%PDF-' else 'a PDF that may be incomplete'}; "
            f"its last messages:\n{tail}",
            f"选项 {option}：浏览器 {browser} 退出码 {proc.returncode}，未能生成 PDF", lang))
    if created_at is not None:
        pdf_path.write_bytes(fix_pdf_dates(pdf_path.read_bytes(), created_at))
    return pdf_path
