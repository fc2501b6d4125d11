"""Sphinx configuration for the wbe documentation site.

Build (no network needed; warnings are errors, every cross-reference must resolve)::

    python -m sphinx -W --keep-going -n -b html docs docs/_build/html

Needs ``sphinx``, ``pydata-sphinx-theme``, ``numpydoc``, ``myst-parser`` and ``myst-nb``
(plus ``ipykernel`` and the packages the tutorials import, which are executed): the
``docs`` extra of ``pyproject.toml``. Markdown pages are read by myst-parser
(through myst-nb), docstrings by autodoc + numpydoc, and the API reference in ``docs/api/``
is written by hand: one page per public module, listing the names of the module's
``__all__`` (``tests/test_docs_build.py`` checks that the pages and ``__all__`` agree).

Maths is rendered in the browser by MathJax, loaded from its CDN when a page is viewed.
"""

from __future__ import annotations

import importlib.metadata
import os

__all__: list[str] = []  # configuration module, nothing public

# -- Project -------------------------------------------------------------------------------

project = "wbe"
author = "wbe developers"
copyright = "wbe developers, BSD-3-Clause"
try:
    release = importlib.metadata.version("wbe-drugs")
except importlib.metadata.PackageNotFoundError:  # docs built from an uninstalled tree
    release = "0+unknown"
version = release

# -- Extensions ----------------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    # myst-nb reads Markdown pages (through myst-parser) and executes the text notebooks
    # (``file_format: mystnb`` front matter, ``{code-cell}`` blocks) of docs/tutorials/.
    "myst_nb",
]
root_doc = "index"
exclude_patterns = ["_build", "jupyter_execute", "**/.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]
language = "en"

# Markdown (myst-parser): ``$...$`` maths, definition lists, heading anchors so that
# ``[text](data-model.md#samples-污水样品)`` style links resolve.
myst_enable_extensions = ["dollarmath", "amsmath", "deflist", "colon_fence"]
myst_heading_anchors = 3

# Tutorials are executed at build time, so a tutorial that no longer runs fails the build.
# Results are cached between local builds (docs/_build/.jupyter_cache); CI starts empty.
nb_execution_mode = "cache"
nb_execution_timeout = 600  # [s] per notebook
nb_execution_raise_on_error = True
nb_execution_show_tb = True
# Run each notebook in a fresh temporary folder: files a tutorial writes (example inputs,
# outputs) must not land in the source tree.
nb_execution_in_temp = True

# -- Strictness ------------------------------------------------------------------------------

nitpicky = True

# No intersphinx: the build must run without network access and the project ships no
# object inventories. References to types of other libraries therefore cannot resolve;
# they are ignored here by pattern, and only these. Anything of wbe itself must resolve.
_EXTERNAL_PACKAGES = (
    "numpy",
    "np",
    "scipy",
    "pandas",
    "pd",
    "xarray",
    "xr",
    "statsmodels",
    "ruptures",
    "dask",
    "matplotlib",
    "sqlalchemy",
    "openpyxl",
    "collections",
    "collections\\.abc",
    "typing",
    "os",
    "pathlib",
    "datetime",
    "io",
    "hashlib",
    "hmac",
    "decimal",
    "numbers",
    "types",
    "enum",
    "dataclasses",
    "json",
    "re",
    "argparse",
    "importlib",
    "difflib",
    "warnings",
    "math",
    "inspect",
    "functools",
    "itertools",
    "zoneinfo",
)
_PYTHON_BUILTINS = (
    "str|int|float|bool|bytes|bytearray|complex|object|type|None|NoneType|list|tuple|dict|set|"
    "frozenset|slice|range|Ellipsis|callable|Callable|Any|Exception|ValueError|KeyError|"
    "TypeError|LookupError|UserWarning|Warning|RuntimeError|Iterable|Iterator|Sequence|"
    "Mapping|MutableMapping|Hashable|Path|PathLike|Generator|Literal|Self|Optional|Union"
)
nitpick_ignore_regex = [
    # Types of other libraries (numpy.ndarray, pandas.DataFrame, xarray.Dataset, scipy
    # frozen distributions such as scipy.stats._distn_infrastructure.rv_continuous_frozen,
    # statsmodels results, ...): no intersphinx inventories, see above.
    (r"py:.*", rf"({'|'.join(_EXTERNAL_PACKAGES)})\..*"),
    # Python built-ins and typing names as they appear in signatures and numpydoc types.
    (r"py:.*", rf"({_PYTHON_BUILTINS})"),
]

# Docstring problems in modules that were still being written when this configuration was
# made (their authors own the fix; each entry names the exact target). Remove an entry as
# soon as the docstring is fixed: the build then checks that reference again.
_PENDING_DOCSTRING_FIXES = [
    # wbe/io.py, read_samples: refers to a function of the private module wbe._tabular
    ("py:func", "wbe._tabular.parse_censored"),
]
nitpick_ignore = list(_PENDING_DOCSTRING_FIXES)

# -- autodoc / autosummary / numpydoc --------------------------------------------------------

autodoc_default_options = {"member-order": "bysource"}
# Types are given in the numpydoc Parameters/Returns sections (with units); keeping the
# signatures free of annotations avoids a second, unit-less copy of every type.
autodoc_typehints = "none"
autodoc_preserve_defaults = True
autosummary_generate = False  # the API pages in docs/api/ are hand-curated

numpydoc_show_class_members = False  # dataclass fields are documented in "Attributes"
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

# Optional docstring audit (not part of the CI build): ``WBE_DOCS_VALIDATE=1 python -m
# sphinx -E -b html docs /tmp/wbe-docs`` prints numpydoc's findings for every documented
# object: missing Parameters (PR01) or Returns (RT01) sections, unknown parameters (PR02),
# missing summaries (SS01). Dataclass fields are documented under "Attributes", so PR01 on
# a result class is expected.
if os.environ.get("WBE_DOCS_VALIDATE"):
    numpydoc_validation_checks = {"GL08", "PR01", "PR02", "PR10", "RT01", "SS01", "SA04"}

# -- HTML ----------------------------------------------------------------------------------

# pydata-sphinx-theme, the theme of NumPy, pandas, xarray and SciPy: the top bar lists the
# sections of the root page's tables of contents, the left sidebar the pages of the current
# section (each page once), the right sidebar the headings of the page. Everything it needs
# (fonts, icons, scripts) ships with the package: no network at build or view time.
html_theme = "pydata_sphinx_theme"
html_title = f"wbe {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 6,
    "show_toc_level": 2,
    "navigation_depth": 3,
    "show_prev_next": True,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
    "icon_links": [],
}
html_sidebars = {"index": []}  # the start page is the overview: no section sidebar

# -- Re-exported names ------------------------------------------------------------------------
#
# Every public object is documented once, on the page of the module that defines it
# (``wbe.lab.classify.classify``). Docstrings also refer to it by the shorter name a user
# imports (``wbe.lab.classify``'s ``classify`` as ``wbe.lab.classify`` or, from inside the
# package, ``back_calculate`` for ``wbe.backcalc.back_calculate``). This handler resolves
# such a reference to the documented home of the same Python object; it never invents a
# target, so a name that is documented nowhere still fails the nitpicky build.


def _import_longest_prefix(dotted: str):
    import importlib

    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _documented_homes(obj, documented) -> list[str]:
    """Documented names (keys of the Python domain's objects) bound to ``obj`` itself."""
    qualname = getattr(obj, "__qualname__", None)
    if not qualname or not getattr(obj, "__module__", "").startswith("wbe"):
        return []
    suffix = f".{qualname}"
    return [
        name
        for name in sorted(documented)
        if name.endswith(suffix) and _import_longest_prefix(name) is obj
    ]


def _resolve_reexport(app, env, node, contnode):
    if node.get("refdomain") != "py" or not node.get("reftarget"):
        return None
    target = node["reftarget"].lstrip("~.")
    candidates = [target]
    if node.get("py:module"):
        candidates.append(f"{node['py:module']}.{target}")
    domain = env.get_domain("py")
    for candidate in candidates:
        if not candidate.startswith("wbe"):
            continue
        obj = _import_longest_prefix(candidate)
        if obj is None:
            continue
        for home in _documented_homes(obj, domain.objects):
            if home != candidate:
                return domain.resolve_xref(
                    env, node["refdoc"], app.builder, "obj", home, node, contnode
                )
    return None


# -- Constants without a ``#:`` comment ----------------------------------------------------
#
# autodoc falls back to the docstring of the value's type for a module constant that has no
# ``#:`` comment ("Built-in immutable sequence. ..." for a tuple). Such text says nothing
# about the constant: drop it, keeping the name and value.


def _drop_type_docstring(app, what, name, obj, options, lines):
    if what != "data" or not lines:
        return
    type_doc = type(obj).__doc__
    if type_doc and [ln.strip() for ln in lines if ln.strip()][:1] == _first_line(type_doc):
        lines.clear()


def _first_line(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()][:1]


def setup(app):
    app.connect("missing-reference", _resolve_reexport)
    app.connect("autodoc-process-docstring", _drop_type_docstring, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
