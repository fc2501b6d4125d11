"""The vectorised lab paths give the same output as simple cell-by-cell references.

The readers parse each distinct cell once, ``subject_keys`` keys each distinct identifier
once and ``classify`` joins reasons and looks up co-analytes without per-row pandas
(issue 17). Each reference below is the straightforward per-cell/per-row version written
out in the test, run on a few thousand rows with many repeated, some odd and some missing
cells; the outputs must be equal, not close.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import unicodedata

import numpy as np
import pandas as pd
import pytest

from wbe._tabular import parse_dates, parse_numbers
from wbe.lab.classify import classify
from wbe.lab.privacy import normalise_identifier, subject_keys

classify_module = importlib.import_module("wbe.lab.classify")
KEY = "c7248ef7e57f7e56ad7197e29ebff4827002882d08801853d85795a13a8c04b5"  # token_hex(32), public
N = 3000


def _cells(rng, pool, n=N):
    return pd.Series([pool[i] for i in rng.integers(0, len(pool), n)], dtype=object)


# --------------------------------------------------------------------------- tabular


def _reference_numbers(series):
    values, reasons = [], []
    for v in series:
        one = parse_numbers(pd.Series([v], dtype=object))  # one cell at a time
        values.append(one[0].iloc[0])
        reasons.append(one[1].iloc[0])
    return np.array(values), reasons


def test_parse_numbers_equals_cell_by_cell():
    rng = np.random.default_rng(1)
    pool = ["1.5", " 2 ", "１２", "1,234.5", "0,5", "abc", "NaN", "n/a", "1e400", "1e-400",
            None, "", "  ", "-3", "7.25", "１.５"]
    cells = _cells(rng, pool)
    values, reasons = parse_numbers(cells)
    ref_values, ref_reasons = _reference_numbers(cells.iloc[:400])
    np.testing.assert_array_equal(values.to_numpy()[:400], ref_values)
    assert reasons.tolist()[:400] == ref_reasons
    assert values.index.equals(cells.index)


def test_parse_numbers_keeps_numbers_and_text_apart():
    # 1, 1.0 and True are equal dictionary keys but different cells
    values, reasons = parse_numbers(pd.Series([1, 1.0, True, "1", None], dtype=object))
    ref_values, ref_reasons = _reference_numbers([1, 1.0, True, "1", None])
    np.testing.assert_array_equal(values.to_numpy(), ref_values)
    assert reasons.tolist() == ref_reasons


def test_parse_dates_equals_cell_by_cell():
    rng = np.random.default_rng(2)
    pool = ["2024-03-05", "2024/3/5", "2024年3月5日", "20240305", "45356", "03/05/2024",
            "13/05/2024", "2024-02-30", "9999-12-31", "tomorrow", None, " 2024-03-05 "]
    cells = _cells(rng, pool, 600)
    dates, reasons = parse_dates(cells)
    for i, v in enumerate(cells):
        d1, r1 = parse_dates(pd.Series([v, "x" + str(i)], dtype=object))  # all distinct
        assert (pd.isna(dates.iloc[i]) and pd.isna(d1.iloc[0])) or dates.iloc[i] == d1.iloc[0]
        assert (reasons.iloc[i] == r1.iloc[0]) or (pd.isna(reasons.iloc[i])
                                                    and pd.isna(r1.iloc[0]))


# --------------------------------------------------------------------------- privacy


def test_subject_keys_equal_per_value_hmac():
    rng = np.random.default_rng(4)
    pool = ["110105194912310021", " 110105194912310021", "11010519491231002x",
            "１１０１０５１９４９１２３１００２X", "张三", "张 三", "P001", None, np.nan, 17, 17.0]
    ids = [pool[i] for i in rng.integers(0, len(pool), N)]
    got = subject_keys(ids, KEY).tolist()
    ref = []
    for v in ids:
        t = normalise_identifier(v)
        ref.append(None if t is None else "sk_" + hmac.new(
            KEY.encode(), t.encode(), hashlib.sha256).hexdigest()[:20])
    assert got == ref


# --------------------------------------------------------------------------- classify


def _reference_requirements(frame, cut, idx, cls, reason):
    """The per-row version (iterrows and a dictionary of rows)."""
    req_a = np.where(idx >= 0, cut["requires_analyte"].to_numpy()[np.maximum(idx, 0)], None)
    req_c = np.where(idx >= 0, cut["requires_cutoff"].to_numpy()[np.maximum(idx, 0)], np.nan)
    need = (cls == "positive") & (frame["method"].to_numpy() == "confirm") & pd.notna(req_a)

    def key(row):
        return tuple(None if row[k] is None or (isinstance(row[k], float) and np.isnan(row[k]))
                     else row[k] for k in classify_module._KEYS)

    lookup = {(key(r), r["analyte"]): r for _, r in frame[frame["method"] == "confirm"].iterrows()}
    for j in np.flatnonzero(need):
        row = frame.iloc[j]
        co = lookup.get((key(row), req_a[j]))
        u = classify_module.CANONICAL_UNIT[row["matrix"]]
        rc, fmt = req_c[j], classify_module._fmt
        if co is None:
            cls[j] = "inconclusive"
            reason[j] += f"; but the required {req_a[j]} (≥ {fmt(rc)} {u}) was not measured"
        elif co["detection"] == "quantified" and co["value"] >= rc:
            reason[j] += f"; required {req_a[j]} {fmt(co['value'])} ≥ {fmt(rc)} {u}"
        else:
            cls[j] = "inconclusive"
            got = (fmt(co["value"]) if co["detection"] == "quantified"
                   else classify_module._WORDS.get(co["detection"], str(co["detection"])))
            reason[j] += f"; but the required {req_a[j]} is {got} (< {fmt(rc)} {u})"


def _reference_join(group, reason, analyte):
    chosen = pd.DataFrame({"reason": reason, "analyte": analyte, "_group": group})
    return chosen.groupby("_group", sort=True).agg(
        reason=("reason", "; ".join), analytes=("analyte", lambda a: ",".join(a.astype(str))))


def _urine_results(n_samples: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    analytes = ["methamphetamine", "amphetamine", "morphine", "codeine", "mdma",
                "benzoylecgonine"]
    rows = []
    for s in range(n_samples):
        method = "screen" if s % 7 == 0 else "confirm"
        for a in rng.choice(analytes, size=rng.integers(1, 5), replace=False):
            det = rng.choice(["quantified", "below_loq", "not_detected", "detected"],
                             p=[0.6, 0.2, 0.15, 0.05])
            rows.append({"sample_id": f"U{s % (n_samples // 2)}", "batch": f"B{s % 3}",
                         "matrix": "urine", "method": method, "analyte": a,
                         "value": rng.lognormal(5, 1.5) if det == "quantified" else np.nan,
                         "loq": rng.choice([np.nan, 10.0, 600.0]), "detection": det,
                         "subject_key": f"sk_{s // 2}", "group": "g"})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("require_confirmation", [True, False])
def test_classify_equals_per_row_reference(monkeypatch, require_confirmation):
    results = _urine_results(1500, seed=5)
    assert len(results) > 2000
    fast = classify(results, "samhsa2017", require_confirmation=require_confirmation)
    monkeypatch.setattr(classify_module, "_apply_requirements", _reference_requirements)
    monkeypatch.setattr(classify_module, "_join_per_group", _reference_join)
    slow = classify(results, "samhsa2017", require_confirmation=require_confirmation)
    pd.testing.assert_frame_equal(fast.results, slow.results)
    pd.testing.assert_frame_equal(fast.summary, slow.summary)
    # the co-analyte rule was exercised both ways
    reasons = fast.results["reason"].dropna()
    assert reasons.str.contains("; required amphetamine").any()
    assert reasons.str.contains("; but the required amphetamine").any()


def test_join_per_group_keeps_input_order():
    rng = np.random.default_rng(6)
    group = rng.integers(0, 300, N)
    reason = np.array([f"r{i}" for i in range(N)], dtype=object)
    analyte = np.array([f"a{i % 7}" for i in range(N)], dtype=object)
    fast = classify_module._join_per_group(group, reason, analyte)
    pd.testing.assert_frame_equal(fast, _reference_join(group, reason, analyte),
                                  check_dtype=False)


def test_texts_normalise_like_nfkc_strip():
    from wbe._tabular import _texts

    cells = ["  １２ ", "a", None, np.nan, "", " a", 3, 3.0, True]
    ref = [None if (v is None or (isinstance(v, float) and np.isnan(v)))
           else (unicodedata.normalize("NFKC", str(v)).strip() or None) for v in cells]
    assert _texts(cells) == ref
    assert _texts(pd.Series(cells[:6] * 500, dtype=object)) == ref[:6] * 500
