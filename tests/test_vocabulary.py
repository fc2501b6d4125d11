"""Every public signature follows docs/vocabulary.md; renamed arguments keep a deprecated alias."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wbe import _compat
from wbe.errors import InputError, WBEDeprecationWarning

#: (qualified function, argument) allowed to break a rule, with the reason (docs/vocabulary.md,
#: "Deliberate exceptions")
EXCEPTIONS = {
    ("wbe.models.aberration.ears", "alpha"): "alarm threshold, as R surveillance",
    ("wbe.models.aberration.farrington", "alpha"): "alarm threshold, as R surveillance",
    ("wbe.models.blocks.ears_blocks", "alpha"): "alarm threshold of ears",
    ("wbe.models.trends.trend_class", "alpha"): "significance of the trend test",
    ("wbe.config.Config", "draws"): "mirrors the TOML key run.draws",
    ("wbe.lab.relapse.AbstinenceResult", "n_boot"): "published result field",
    ("wbe.datasets._simulate.simulate", "seed"): "example data: fixed default seed 0",
    ("wbe.publish._demo.run_demo", "seed"): "example data: fixed default seed 1",
    ("wbe.config.Config", "seed"): "mirrors the TOML key run.seed",
}
BANNED = {"draws": "n_draws", "n_boot": "n_draws", "n_sim": "n_draws", "range": "at/r_range",
          "alpha": "level", "conf": "level", "confidence": "level"}


def _public_callables():
    seen, out = set(), []
    for package in ("wbe", "wbe.lab", "wbe.models", "wbe.datasets", "wbe.publish"):
        names = [package]
        pkg = importlib.import_module(package)
        names += [i.name for i in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}.")
                  if not any(p.startswith("_") for p in i.name.split("."))]
        for mod_name in names:
            mod = importlib.import_module(mod_name)
            for name in getattr(mod, "__all__", []):
                obj = getattr(mod, name)
                if not callable(obj) or id(obj) in seen:
                    continue
                seen.add(id(obj))
                try:
                    sig = inspect.signature(obj)
                except (TypeError, ValueError):
                    continue
                out.append((f"{obj.__module__}.{obj.__qualname__}", sig))
    return out


CALLABLES = _public_callables()


def _violations(rule):
    bad = []
    for qualname, sig in CALLABLES:
        for name, p in sig.parameters.items():
            if (qualname, name) in EXCEPTIONS:
                continue
            msg = rule(name, p)
            if msg:
                bad.append(f"{qualname}({name}=...): {msg}")
    return bad


def test_enough_signatures_are_checked():
    assert len(CALLABLES) > 100


def test_argument_names_are_lower_case():
    assert not _violations(lambda n, p: "upper case" if n != n.lower() else None)


def test_no_banned_names():
    assert not _violations(lambda n, p: f"use {BANNED[n]}" if n in BANNED else None)


def test_level_is_a_coverage_in_0_1():
    def rule(name, p):
        if name == "level" and p.default is not inspect.Parameter.empty:
            if not (isinstance(p.default, float) and 0 < p.default < 1):
                return f"default {p.default!r} is not a coverage in (0, 1)"
        return None
    assert not _violations(rule)


def test_freq_is_only_a_pandas_alias():
    def rule(name, p):
        if name != "freq":
            return None
        if not isinstance(p.default, str):
            return f"default {p.default!r} is not a pandas frequency alias"
        pd.tseries.frequencies.to_offset(p.default)
        return None
    assert not _violations(rule)


def test_seed_defaults_to_none():
    def rule(name, p):
        if name == "seed" and p.default is not inspect.Parameter.empty and p.default is not None:
            return f"default {p.default!r}; use None (fresh entropy, recorded)"
        return None
    assert not _violations(rule)


def test_every_rename_is_in_the_guide():
    guide = Path(__file__).resolve().parents[1] / "docs" / "vocabulary.md"
    text = guide.read_text(encoding="utf-8")
    assert len(_compat.RENAMED) >= 18
    for qualname, old, new in _compat.RENAMED:
        func = qualname.rsplit(".", 1)[1]
        assert f"`{func}`" in text or f"{func}`" in text, qualname
        assert f"`{old}` | `{new}`" in text, (qualname, old, new)


def test_renamed_names_are_gone_from_signatures():
    sigs = dict(CALLABLES)
    for qualname, old, new in _compat.RENAMED:
        params = sigs[qualname].parameters
        assert new in params and old not in params, qualname


# ------------------------------------------------------------------ the aliases still work


def _same(old_call, new_call):
    with pytest.warns(WBEDeprecationWarning, match="deprecated") as rec:
        old = old_call()
    assert len([w for w in rec if issubclass(w.category, DeprecationWarning)]) >= 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = new_call()
    return old, new


def test_alias_block_memory_bytes():
    from wbe.scale import block_memory_bytes

    old, new = _same(lambda: block_memory_bytes(2, 3, 4, draws=5),
                     lambda: block_memory_bytes(2, 3, 4, n_draws=5))
    assert old == new == block_memory_bytes(2, 3, 4, 5)


def test_alias_alpha_becomes_level():
    from wbe.models import mann_kendall

    y = [1.0, 3.0, 2.0, 5.0, 4.0, 6.0, 8.0, 7.0, 9.0, 10.0]
    old, new = _same(lambda: mann_kendall(y, alpha=0.1), lambda: mann_kendall(y, level=0.9))
    assert (old.slope_lower, old.slope_upper) == (new.slope_lower, new.slope_upper)
    wide = mann_kendall(y, level=0.99)
    assert wide.slope_lower <= new.slope_lower and wide.slope_upper >= new.slope_upper


def test_alias_detector_range_and_l():
    from wbe.models import cusum, ears, ewma

    rng = np.random.default_rng(5)
    y = np.exp(rng.normal(3.0, 0.2, 60))
    old, new = _same(lambda: ewma(y, L=2.5, range=[40, 50]),
                     lambda: ewma(y, limit_sd=2.5, r_range=[40, 50]))
    pd.testing.assert_frame_equal(old, new)
    at = ewma(y, limit_sd=2.5, at=[39, 49])  # 0-based
    pd.testing.assert_frame_equal(at, new)
    old, new = _same(lambda: cusum(y, range=[30]), lambda: cusum(y, r_range=[30]))
    pd.testing.assert_frame_equal(old, new)
    mask = np.zeros(60, dtype=bool)
    mask[[20, 30]] = True
    old, new = _same(lambda: ears(y, range=mask), lambda: ears(y, at=mask))
    pd.testing.assert_frame_equal(old, new)
    with pytest.raises(InputError, match="not both"):
        ears(y, at=[3], r_range=[4])


def test_old_and_new_name_together_is_an_error():
    from wbe.scale import block_memory_bytes

    with pytest.raises(InputError, match="n_draws"):
        block_memory_bytes(1, 1, 1, n_draws=2, draws=3)
