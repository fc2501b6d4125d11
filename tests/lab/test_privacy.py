"""Tests of wbe.lab.privacy and of the privacy guarantees of the lab readers.

HMAC-SHA256 is checked against the RFC 4231 test case 2 digest; the suppression rule is
checked on hand-made tables. The end-to-end test reads fixtures holding invented ID-card
numbers and names and searches every output table, the rejects, error messages, reprs
and the captured log for the raw strings.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from pathlib import Path

import pandas as pd
import pytest

from wbe.errors import InputError
from wbe.lab.classify import classify
from wbe.lab.io import read_lab_results, read_sciex
from wbe.lab.privacy import (
    MIN_KEY_BYTES,
    is_resident_id_number,
    normalise_identifier,
    subject_keys,
    suppress_small_cells,
)

DATA = Path(__file__).parents[1] / "data" / "lab"
KEY = "test-key-not-a-secret-0123456789abcdef"


# --------------------------------------------------------------------------- pseudonyms


def test_hmac_sha256_matches_rfc4231_case_2():
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert hmac.new(b"Jefe", b"what do ya want for nothing?", hashlib.sha256).hexdigest() == (
        expected
    )
    key = b"Jefe" * 8  # 32 bytes
    got = subject_keys(["what do ya want for nothing?".upper()], key)[0]
    ref = hmac.new(key, b"WHAT DO YA WANT FOR NOTHING?".replace(b" ", b""), hashlib.sha256)
    assert got == "sk_" + ref.hexdigest()[:20]


def test_subject_keys_are_stable_normalised_and_keyed():
    full_width = " １１０１０５１９４９１２３１００２Ｘ"
    ids = ["11010519491231002X", "11010519491231002x", full_width, None]
    k = subject_keys(ids, KEY)
    assert k[0] == k[1] == k[2] and k[3] is None
    other = subject_keys(ids[:1], KEY + "!")
    assert other[0] != k[0]
    assert normalise_identifier("  张 三 ") == "张三"


@pytest.mark.parametrize("bad", [None, "", "short", b"x" * (MIN_KEY_BYTES - 1), 12345])
def test_missing_or_short_key_is_refused(bad):
    with pytest.raises(InputError, match="key"):
        subject_keys(["a"], bad)


def test_key_of_minimum_length_is_accepted():
    assert subject_keys(["a"], b"x" * MIN_KEY_BYTES)[0].startswith("sk_")


def test_resident_id_check_character():
    # GB 11643-1999 worked example 11010519491231002X
    assert is_resident_id_number("11010519491231002X")
    assert is_resident_id_number("11010519491231002x")
    assert not is_resident_id_number("110105194912310021")
    assert not is_resident_id_number("1101051949123100")
    assert not is_resident_id_number(None)


# --------------------------------------------------------------------------- end to end


def _raw_identifiers() -> set[str]:
    cn = pd.read_csv(DATA / "long_hair_cn.csv", dtype=str, encoding="utf-8-sig")
    manifest = pd.read_csv(DATA / "manifest.csv", dtype=str, encoding="utf-8-sig")
    urine = pd.read_excel(DATA / "long_urine.xlsx", dtype=str)
    raw = set(cn["身份证号"].dropna()) | set(cn["姓名"].dropna())
    raw |= set(manifest["身份证号"]) | set(manifest["姓名"]) | set(urine["Name"])
    assert len(raw) == 8  # 4 invented ID numbers and 4 names
    return raw


def _texts(frame: pd.DataFrame) -> str:
    return frame.to_csv() + repr(frame) + frame.to_string()


def test_no_raw_identifier_reaches_any_output(caplog):
    raw = _raw_identifiers()
    outputs: list[str] = []
    with caplog.at_level(logging.DEBUG):
        for result in (
            read_lab_results(DATA / "long_hair_cn.csv", key=KEY),
            read_lab_results(DATA / "long_urine.xlsx", key=KEY),
            read_sciex(DATA / "sciex_results.txt", matrix="hair",
                       manifest=DATA / "manifest.csv", key=KEY),
        ):
            outputs += [_texts(result.data), _texts(result.rejects), repr(result)]
            hair = (result.data["matrix"] == "hair").all()
            res, summary = classify(result.data, "sht2012" if hair else "samhsa2017")
            outputs += [_texts(res), _texts(summary)]
        for kwargs in ({"on_error": "raise"},):
            with pytest.raises(InputError) as info:
                read_lab_results(DATA / "long_hair_cn.csv", key=KEY, **kwargs)
            outputs += [str(info.value), repr(info.value), repr(info.value.value)]
        # the row with the ID number typed as sample id, alone, with on_error="raise"
        cn = pd.read_csv(DATA / "long_hair_cn.csv", dtype=str, encoding="utf-8-sig")
        with pytest.raises(InputError) as info:
            read_lab_results(cn.iloc[[12]], key=KEY, on_error="raise")
        outputs += [str(info.value), repr(info.value.value)]
        assert "ID-card" in str(info.value)
        with pytest.raises(InputError) as info:
            read_lab_results(cn.iloc[[11]], key=KEY, on_error="raise")
        outputs += [str(info.value)]
    outputs.append(caplog.text)
    blob = "\n".join(outputs)
    leaked = sorted(s for s in raw if s in blob)
    assert leaked == []
    # the raw identifier columns are not in the output tables
    data = read_lab_results(DATA / "long_hair_cn.csv", key=KEY).data
    assert not {"subject_id", "subject_name", "身份证号", "姓名"} & set(data.columns)


# --------------------------------------------------------------------------- suppression


def test_primary_suppression_and_threshold():
    t = pd.DataFrame({"cell": ["a", "b", "c", "d"], "positive": [0, 1, 4, 5]})
    out = suppress_small_cells(t, ["positive"])
    assert out["positive"].isna().tolist() == [False, True, True, False]
    assert out["suppressed"].tolist() == ["", "positive", "positive", ""]
    out = suppress_small_cells(t, ["positive"], threshold=2, suppress_zero=True)
    assert out["positive"].isna().tolist() == [True, True, False, False]


def test_small_total_is_suppressed_with_a_complement():
    t = pd.DataFrame({"positive": [0, 6], "tested": [3, 40]})
    out = suppress_small_cells(t, ["positive"], total_column="tested")
    assert out["suppressed"].tolist() == ["positive,tested", ""]


def test_row_complement_protects_against_subtraction():
    t = pd.DataFrame({"positive": [3, 20], "negative": [40, 2], "inconclusive": [7, 9],
                      "tested": [50, 31]})
    out = suppress_small_cells(t, ["positive", "negative", "inconclusive"],
                               total_column="tested")
    # row 0: positive (3) primary; smallest other non-zero is inconclusive (7)
    assert out.loc[0, "suppressed"] == "positive,inconclusive"
    # row 1: negative (2) primary; complement inconclusive (9)
    assert out.loc[1, "suppressed"] == "negative,inconclusive"
    # no line (row with its total) has exactly one suppressed cell
    cols = ["positive", "negative", "inconclusive", "tested"]
    assert (out[cols].isna().sum(axis=1) != 1).all()


def test_column_complement_within_groups_and_derived_columns():
    t = pd.DataFrame({
        "drug": ["meth"] * 3 + ["ketamine"] * 3,
        "month": ["2024-01", "2024-02", "2024-03"] * 2,
        "positive": [2, 30, 12, 40, 50, 60],
        "tested": [100, 120, 110, 90, 95, 100],
        "prevalence": [0.02, 0.25, 0.109, 0.44, 0.53, 0.6],
    })
    out = suppress_small_cells(t, ["positive"], group_by=["drug"],
                               derived_columns=["prevalence"])
    # meth: 2 primary; its group total would reveal it, so 12 (smallest other) goes too
    assert out["positive"].isna().tolist() == [True, False, True, False, False, False]
    assert out["prevalence"].isna().tolist() == [True, False, True, False, False, False]
    assert out["tested"].tolist() == t["tested"].tolist()
    assert out.loc[0, "suppressed"] == "positive,prevalence"


def test_suppression_refuses_bad_counts():
    with pytest.raises(InputError, match="count"):
        suppress_small_cells(pd.DataFrame({"n": [1.5]}), ["n"])
    with pytest.raises(InputError, match="lacks"):
        suppress_small_cells(pd.DataFrame({"n": [1]}), ["m"])
    with pytest.raises(InputError, match="threshold"):
        suppress_small_cells(pd.DataFrame({"n": [1]}), ["n"], threshold=0)
