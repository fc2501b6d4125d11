"""Seed-report figures: transcriptions checked against the report files, printed rates recomputed
from the printed numerators and denominators, and the consistent-count search checked by hand."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wbe import datasets
from wbe.errors import InputError, UnknownNameError

_DEFAULT = Path(__file__).resolve().parents[2] / ".." / "shared"
SHARED = Path(os.environ.get("WBE_SHARED_DATA", _DEFAULT))
SEEDS = SHARED / "seeds"
if not SEEDS.is_dir():  # a worktree at /work/wt/NAME: the shared folder is /work/shared
    SEEDS = Path(__file__).resolve().parents[3] / ".." / "shared" / "seeds"


@pytest.fixture(scope="module")
def table():
    return datasets.load_seed_figures()


def _row(table, figure_id):
    rows = table[table["figure_id"] == figure_id]
    assert len(rows) == 1, figure_id
    return rows.iloc[0]


def test_ids_unique_and_every_row_sourced(table):
    assert table["figure_id"].is_unique
    assert table["source"].str.fullmatch(r"00[0-4]_[0-9a-f]{16}\.txt").all()
    assert table["quote"].str.len().gt(3).all()
    assert table["indicator_zh"].notna().all() and table["indicator_en"].notna().all()


def test_the_figures_named_in_issue_18(table):
    """The numbers the issue quotes, read by hand from the reports."""
    assert (_row(table, "loudi_civil_servant_hidden_users")[["numerator", "denominator"]]
            .tolist() == [25, 219213])
    assert (_row(table, "loudi_hair_hidden_or_relapsed")[["numerator", "denominator"]]
            .tolist() == [134, 1258])
    assert _row(table, "wuzhong_hair_tests")["value"] == 5023
    rate = _row(table, "wuzhong_abstinence_3y_rate")
    assert rate["value"] == 91.87 and rate["numerator"] == 7792 and rate["unit"] == "%"
    assert _row(table, "wuhan_registered_users")["value"] == 54975
    assert _row(table, "wuhan_actual_users")["value"] == 300000
    assert _row(table, "wuzhong_wwtp_monitored")["value"] == 9
    assert _row(table, "wuzhong_wwtp_campaigns")["value"] == 2
    assert _row(table, "wuzhong_abstinence_3y_rate")["indicator_zh"] == "戒断3年巩固率"


def test_registered_users_split_adds_up(table):
    parts = (_row(table, "wuhan_registered_heroin")["value"]
             + _row(table, "wuhan_registered_synthetic")["value"])
    assert parts == _row(table, "wuhan_registered_users")["value"]


def test_printed_rates_recomputed_from_numerator_and_denominator(table):
    """Every percent or ratio row with both counts reproduces its printed value."""
    both = table[table["kind"].isin(["percent", "ratio"])
                 & table["numerator"].notna() & table["denominator"].notna()]
    assert len(both) >= 4
    for _, row in both.iterrows():
        scale = 100 if row["kind"] == "percent" else 1
        recomputed = round(scale * int(row["numerator"]) / int(row["denominator"]),
                           int(row["decimals"]))
        assert recomputed == pytest.approx(row["value"], abs=1e-9), row["figure_id"]


def test_growth_discrepancy_documented(table):
    """Wuzhong's 7.6 % growth is 591/7792, not 591/(7792-591) = 8.2 %; the note says so."""
    growth = _row(table, "wuzhong_abstinent_3y_growth")
    assert round(100 * 591 / 7792, 1) == growth["value"]
    assert round(100 * 591 / (7792 - 591), 1) == 8.2
    assert "591/7792" in growth["note"]


def test_consistent_counts_by_hand():
    # 7792/8481 = 91.876 %, 7792/8482 = 91.865 %, 7792/8483 = 91.854 %
    assert datasets.consistent_counts(91.87, 2, numerator=7792) == [8482]
    # 2058/2062 = 99.806 %, 2059/2062 = 99.855 %, 2060/2062 = 99.903 %
    assert datasets.consistent_counts(99.85, 2, denominator=2062) == [2059]
    # 1380/1427 = 96.706 %, 1381/1427 = 96.776 %: nothing rounds to 96.77, 1381 truncates to it
    assert datasets.consistent_counts(96.77, 2, denominator=1427) == []
    assert datasets.consistent_counts(96.77, 2, denominator=1427, rounding="truncate") == [1381]
    # 128/130 = 98.46 %, 128/131 = 97.71 %, 128/132 = 96.97 %, 128/129 = 99.22 %
    assert datasets.consistent_counts(98, 0, numerator=128) == [130, 131]


def test_notes_state_the_implied_counts(table):
    assert "8482" in _row(table, "wuzhong_abstinence_3y_rate")["note"]
    assert "2059/2062" in _row(table, "loudi_community_orders_executed")["note"]


def test_consistent_counts_refuses_bad_calls():
    with pytest.raises(InputError, match="exactly one"):
        datasets.consistent_counts(50, 0)
    with pytest.raises(InputError, match="exactly one"):
        datasets.consistent_counts(50, 0, numerator=1, denominator=2)
    with pytest.raises(InputError, match="rounding"):
        datasets.consistent_counts(50, 0, numerator=1, rounding="up")
    with pytest.raises(InputError, match="whole"):
        datasets.consistent_counts(50, 0, numerator=1.5)


def test_city_selection():
    assert set(datasets.load_seed_figures("Wuhan")["city"]) == {"Wuhan"}
    with pytest.raises(UnknownNameError):
        datasets.load_seed_figures("Beijing")


def test_quotes_are_verbatim_in_the_reports(table):
    if not SEEDS.is_dir():
        pytest.skip(f"seed reports not found at {SEEDS} (set WBE_SHARED_DATA)")
    for _, row in table.iterrows():
        text = (SEEDS / row["source"]).read_text(encoding="utf-8")
        assert row["quote"] in text, row["figure_id"]
        if row["kind"] == "count" and "万" not in row["quote"]:  # 30万 = 300000
            digits = str(int(row["value"]))
            assert digits in row["quote"] or digits in text, row["figure_id"]
