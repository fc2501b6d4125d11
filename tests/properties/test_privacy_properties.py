"""Property tests of wbe.lab.privacy: small-cell suppression and keyed pseudonyms."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from wbe.lab.privacy import Redactor, normalise_identifier, subject_keys, suppress_small_cells

KEY = bytes.fromhex("0dc66852a8123b295fd592ba2f65d553194fcd53b8821c66041342a8c2174514")

counts = st.integers(min_value=0, max_value=40)
identifiers_text = st.text(min_size=1, max_size=20).filter(
    lambda s: normalise_identifier(s) is not None
)


@st.composite
def tables(draw):
    n_rows = draw(st.integers(min_value=1, max_value=8))
    n_parts = draw(st.integers(min_value=1, max_value=4))
    parts = np.array(draw(st.lists(st.lists(counts, min_size=n_parts, max_size=n_parts),
                                   min_size=n_rows, max_size=n_rows)))
    groups = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n_rows,
                           max_size=n_rows))
    frame = pd.DataFrame(parts, columns=[f"p{j}" for j in range(n_parts)])
    frame["total"] = parts.sum(axis=1)
    frame["group"] = groups
    return frame


@settings(max_examples=60, deadline=None)
@given(tables(), st.integers(min_value=1, max_value=10))
def test_no_small_count_visible_and_no_line_with_a_single_suppressed_cell(table, threshold):
    parts = [c for c in table.columns if c.startswith("p")]
    out = suppress_small_cells(table, parts, threshold, total_column="total",
                               group_by=["group"])
    cols = [*parts, "total"]
    shown = out[cols].to_numpy(dtype=float, na_value=np.nan)
    visible = shown[~np.isnan(shown)]
    assert ((visible == 0) | (visible >= threshold)).all()
    mask = np.isnan(shown)
    assert (mask.sum(axis=1) != 1).all()  # rows with their total
    for _, idx in out.groupby("group").indices.items():
        if len(idx) > 1:
            assert (mask[idx][:, : len(parts)].sum(axis=0) != 1).all()
    # visible values are unchanged
    original = table[cols].to_numpy(dtype=float)
    assert np.array_equal(shown[~mask], original[~mask])


@settings(max_examples=60, deadline=None)
@given(st.lists(identifiers_text, min_size=1, max_size=20))
def test_subject_keys_are_deterministic_and_order_free(identifiers):
    forward = subject_keys(identifiers, KEY).tolist()
    backward = subject_keys(identifiers[::-1], KEY).tolist()[::-1]
    assert forward == backward
    assert all(k.startswith("sk_") and len(k) == 23 for k in forward)
    # distinct normalised identifiers get distinct keys (80-bit truncation)
    normalised = [normalise_identifier(i) for i in identifiers]
    assert len(set(forward)) == len(set(normalised))


_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]


def _with_check(body: str) -> str:
    """GB 11643-1999 check character (ISO 7064 MOD 11-2) appended to 17 digits."""
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True)) % 11]


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet="0123456789", min_size=17, max_size=17),
       st.booleans(),
       st.text(alphabet="abc 甲基苯丙胺:'()-,.", max_size=12),
       st.text(alphabet="abc 甲基苯丙胺:'()-,.", max_size=12))
def test_redactor_removes_any_id_number_from_any_text(body, valid, before, after):
    number = _with_check(body) if valid else body + "X"
    text = f"{before}{number}{after}"
    # the surrounding text holds no digit, so exactly the number is replaced
    assert Redactor().text(text) == f"{before}<redacted>{after}"
