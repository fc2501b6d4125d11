"""Published wastewater figures: every row cited, values canonical, transcriptions spot-checked
against the source text, and ``published_range`` checked on a hand-made table."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from wbe import datasets
from wbe.datasets import _published
from wbe.errors import InputError, UnknownNameError

DOI = re.compile(r"^10\.\d{4,9}/\S+$")
URL = re.compile(r"^https?://\S+$")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return datasets.load_published_wastewater()


def _one(table: pd.DataFrame, **where) -> float:
    rows = table
    for column, value in where.items():
        rows = rows[rows[column] == value]
    assert len(rows) == 1, f"expected one row for {where}, got {len(rows)}"
    return float(rows["value"].item())


def test_size_is_in_the_agreed_range(table):
    assert 30 <= len(table) <= 150
    assert table["study"].nunique() >= 5


def test_every_row_has_a_source_and_a_well_formed_doi_or_url(table):
    assert table["source"].notna().all()
    assert (table["source"].str.strip().str.len() > 20).all()
    assert table["table"].notna().all(), "every row says where in the source it was read"
    doi = table["doi"].fillna("").str.strip()
    url = table["url"].fillna("").str.strip()
    assert ((doi != "") | (url != "")).all(), "rows without a DOI or URL"
    assert doi[doi != ""].str.match(DOI).all(), doi[~doi.str.match(DOI) & (doi != "")].tolist()
    assert not doi.str.startswith("http").any(), "DOIs are stored bare"
    assert url[url != ""].str.match(URL).all()
    assert table["verified"].isin([True, False]).all()


def test_values_are_positive_in_canonical_units(table):
    assert (table["value"] > 0).all()
    assert np.isfinite(table["value"]).all()
    assert set(table["unit"]) == {"mg/day/1000 inhabitants"}
    assert set(table["quantity"]) <= {"consumption", "load"}
    assert set(table["statistic"]) <= {"mean", "median", "min", "max", "population-weighted mean"}
    # Nothing above ~1 g/day/1000 inhabitants for these drugs in the studies transcribed.
    assert table["value"].max() < 1000


def test_drug_and_biomarker_are_registry_ids_that_belong_together(table):
    parents = datasets.load_biomarkers().set_index("biomarker")["parent_drug"]
    assert set(table["biomarker"]) <= set(parents.index)
    assert (table["biomarker"].map(parents) == table["drug"]).all()


def test_min_max_rows_bracket_the_mean_rows_of_the_same_study(table):
    for (_study, _drug, _quantity), rows in table.groupby(["study", "drug", "quantity"]):
        stats = rows.groupby("statistic")["value"]
        if "min" in stats.groups and "max" in stats.groups:
            low, high = stats.get_group("min").min(), stats.get_group("max").max()
            assert low < high
            for name in ("mean", "population-weighted mean"):
                if name in stats.groups and rows["city"].isna().all():
                    assert ((stats.get_group(name) >= low) & (stats.get_group(name) <= high)).all()


def test_du2015_transcription(table):
    """Du et al. 2015, Water Research 84:76-84, abstract: "Mean METH loads of the cities
    ranged from 12.5 ± 14.9 to 181.2 ± 6.5 mg/1000 inh/d, whereas mean KET loads ranged
    from <0.2 to 89.6 ± 27.4 mg/1000 inh/d." (36 STPs in 18 cities)"""
    du = table[table["study"] == "du2015"]
    assert du["doi"].unique().tolist() == ["10.1016/j.watres.2015.07.025"]
    assert _one(du, drug="methamphetamine", statistic="min") == pytest.approx(12.5, abs=0.05)
    assert _one(du, drug="methamphetamine", statistic="max") == pytest.approx(181.2, abs=0.05)
    assert _one(du, drug="ketamine", statistic="max") == pytest.approx(89.6, abs=0.05)
    assert (du["n_plants"] == 36).all()


def test_espr2020_transcription(table):
    """Environ Sci Pollut Res 2020;27(8):8157-8165, doi 10.1007/s11356-019-07504-w,
    abstract: "The estimated consumption of methamphetamine was 23.0 (Dingxi) to 376
    (Xi'an) mg/day/1000 inhabitants with a mean value of 157 mg/day/1000 inhabitants."
    (27 WWTPs in 22 cities)"""
    e = table[table["study"] == "espr2020_meth"]
    assert _one(e, city="Dingxi") == pytest.approx(23.0, abs=0.05)
    assert _one(e, city="Xi'an") == pytest.approx(376, abs=0.5)
    assert _one(e, statistic="mean") == pytest.approx(157, abs=0.5)
    assert set(e["quantity"]) == {"consumption"}


def test_southwest_china_2021_transcription(table):
    """Southwest China, 21 cities, October-November 2021, abstract: "The city-specific
    population-weighted consumption of methamphetamine and ketamine were in the range of
    0.6-49.7 and N.D.-7.0 mg 1000 inh-1 day-1, respectively, with provincial
    population-weighted values of 22.6 and 2.4 ... the provincial heroin consumption was
    estimated to be 10.3 mg 1000 inh-1 day-1, ranging from 1.7 to 18.5"."""
    sw = table[(table["study"] == "southwest2021") & (table["quantity"] == "consumption")]
    pwm = "population-weighted mean"
    assert _one(sw, drug="methamphetamine", statistic=pwm) == pytest.approx(22.6, abs=0.05)
    assert _one(sw, drug="methamphetamine", statistic="max") == pytest.approx(49.7, abs=0.05)
    assert _one(sw, drug="ketamine", statistic=pwm) == pytest.approx(2.4, abs=0.05)
    assert _one(sw, drug="heroin", statistic="max") == pytest.approx(18.5, abs=0.05)
    assert (sw["n_plants"] == 156).all()


def test_emcdda_means_match_the_seven_day_values_in_the_note(table):
    """EMCDDA/SCORE rows store the mean of the seven day-of-week values quoted in the note
    (read from the reproduction of the EMCDDA source data: Graz and Dresden 2019-2021,
    Espoo 2020-2021).
    Spot check: Graz 2021 methamphetamine, Wednesday to Tuesday 12.44, 11.24, 14.99, 9.33,
    18.66, 9.33, 15.66 -> 13.09."""
    em = table[table["study"] == "emcdda_score"]
    assert len(em) >= 15 and set(em["city"]) == {"Graz", "Dresden", "Espoo"}
    for note, value in zip(em["note"], em["value"], strict=True):
        seven = [float(v) for v in re.search(r"\[([^\]]+)\]", note).group(1).split()]
        assert len(seven) == 7
        assert value == pytest.approx(np.mean(seven), abs=0.005)
    graz = em[(em["city"] == "Graz") & (em["year"] == 2021)]
    assert _one(graz, drug="methamphetamine") == pytest.approx(13.09, abs=0.005)
    assert not em["verified"].any(), "read from a third-party reproduction: not verified"
    assert set(em["quantity"]) == {"load"}


def test_filters_by_study_and_by_drug_name_in_any_language():
    du = datasets.load_published_wastewater(study="du2015")
    assert set(du["study"]) == {"du2015"}
    by_zh = datasets.load_published_wastewater(drug="冰毒")
    by_en = datasets.load_published_wastewater(drug="Methamphetamine")
    pd.testing.assert_frame_equal(by_zh, by_en)
    assert set(by_zh["drug"]) == {"methamphetamine"}
    assert set(datasets.load_published_wastewater(drug="K粉")["drug"]) == {"ketamine"}
    # A biomarker name selects its parent drug.
    assert set(datasets.load_published_wastewater(drug="benzoylecgonine")["drug"]) == {"cocaine"}


def test_unknown_study_or_drug_is_refused_with_the_valid_names():
    with pytest.raises(UnknownNameError, match="du2015"):
        datasets.load_published_wastewater(study="du2016")
    with pytest.raises(UnknownNameError, match="methamphetamine"):
        datasets.load_published_wastewater(drug="methamfetamin-xyz")
    with pytest.raises(UnknownNameError):
        datasets.load_published_wastewater(drug="codeine")  # known analyte, no published row


@pytest.fixture
def hand_table() -> pd.DataFrame:
    """Tiny table whose min/median/max are known by hand."""
    return pd.DataFrame(
        {
            "study": ["a", "a", "b", "b", "c", "c"],
            "country": ["China", "China", "China", "Austria", "China", "China"],
            "drug": ["methamphetamine"] * 5 + ["ketamine"],
            "quantity": ["consumption", "consumption", "consumption", "consumption", "load",
                         "consumption"],
            "value": [10.0, 40.0, 25.0, 3.0, 999.0, 7.0],
            "verified": [True, False, True, True, True, True],
        }
    )


def test_published_range_on_a_hand_table(hand_table):
    r = datasets.published_range("methamphetamine", table=hand_table)
    assert (r.min, r.median, r.max, r.n_rows) == (3.0, 17.5, 40.0, 4)
    assert r.studies == ("a", "b") and r.unit == "mg/day/1000 inhabitants"
    china = datasets.published_range("甲基苯丙胺", "china", table=hand_table)
    assert (china.min, china.median, china.max, china.n_rows) == (10.0, 25.0, 40.0, 3)
    assert china.country == "China"
    verified = datasets.published_range(
        "methamphetamine", "China", verified_only=True, table=hand_table
    )
    assert (verified.min, verified.median, verified.max) == (10.0, 17.5, 25.0)
    as_text = hand_table.assign(verified=hand_table["verified"].map({True: "true", False: "false"}))
    from_text = datasets.published_range(
        "methamphetamine", "China", verified_only=True, table=as_text
    )
    assert (from_text.min, from_text.median, from_text.max) == (10.0, 17.5, 25.0)
    load = datasets.published_range("methamphetamine", quantity="load", table=hand_table)
    assert (load.min, load.max, load.n_rows) == (999.0, 999.0, 1)


def test_published_range_refuses_what_it_cannot_summarise(hand_table):
    with pytest.raises(UnknownNameError, match="consumption"):
        datasets.published_range("methamphetamine", quantity="use", table=hand_table)
    with pytest.raises(UnknownNameError, match="China"):
        datasets.published_range("methamphetamine", "Chna", table=hand_table)
    with pytest.raises(InputError, match="no published load figures"):
        datasets.published_range("ketamine", quantity="load", table=hand_table)


def test_published_range_on_the_packaged_table_keeps_loads_apart(table):
    r = datasets.published_range("methamphetamine", "China")
    rows = table[(table["drug"] == "methamphetamine") & (table["country"] == "China")
                 & (table["quantity"] == "consumption")]
    assert r.n_rows == len(rows)
    assert r.min == rows["value"].min() and r.max == rows["value"].max()
    assert "du2015" not in r.studies  # Du 2015 figures are stored as loads


@pytest.mark.parametrize(
    ("column", "bad", "match"),
    [
        ("value", "-1", "positive"),
        ("value", "abc", "number"),
        ("unit", "mg/day/1000 people aged 15-64", "one of"),
        ("statistic", "average", "one of"),
    ],
)
def test_a_malformed_table_names_row_and_column(monkeypatch, column, bad, match):
    good = _published.read_data_file(_published._FILE)

    def broken(file):
        frame = good.copy()
        frame.loc[3, column] = bad
        return frame

    monkeypatch.setattr(_published, "read_data_file", broken)
    with pytest.raises(InputError, match=match) as info:
        datasets.load_published_wastewater()
    assert info.value.row == 5 and info.value.column == column
    assert info.value.file == "published_wastewater.csv"


def test_every_packaged_row_states_its_method(table):
    assert table["factor_basis"].isin(["none", "correction_factor", "unknown"]).all()
    assert table["factor_source"].str.len().gt(10).all()
    assert table["population_method"].notna().all() and table["sampling_design"].notna().all()
    # residue loads only carry "none"; EMCDDA weeks are seven consecutive days
    assert (table.loc[table["factor_basis"] == "none", "quantity"] == "load").all()
    emcdda = table[table["study"] == "emcdda_score"]
    assert (emcdda["factor_basis"] == "none").all()
    assert emcdda["sampling_design"].str.contains("7 consecutive").all()


@pytest.fixture
def method_table() -> pd.DataFrame:
    """Rows made with a known factor (CF 10 and CF 1), a residue load and an unknown factor."""
    return pd.DataFrame({
        "study": ["a", "b", "c", "d"], "country": ["China"] * 4,
        "drug": ["ketamine"] * 4, "biomarker": ["ketamine"] * 4,
        "quantity": ["consumption", "consumption", "load", "consumption"],
        "value": [100.0, 5.0, 2.0, 600.0], "verified": [True] * 4,
        "factor_basis": ["correction_factor", "correction_factor", "none", "unknown"],
        "correction_factor_used": [10.0, 1.0, np.nan, np.nan],
    })


def test_rescaling_to_the_users_factor_by_hand(method_table):
    with pytest.raises(InputError, match=r"\['d'\]"):
        datasets.published_range("ketamine", table=method_table, rescale_to=5.0)
    r = datasets.published_range("ketamine", table=method_table, rescale_to=5.0,
                                 unknown_factor="exclude")
    # a: 100 x 5/10 = 50; b: 5 x 5/1 = 25; c: load 2 x 5 = 10
    assert (r.min, r.median, r.max, r.n_rows) == (10.0, 25.0, 50.0, 3)
    assert r.excluded_studies == ("d",) and r.comparable and r.quantity == "consumption"
    assert r.rescaled_to == "ketamine: CF 5"
    # the registry's default ketamine CF (5, Du et al. 2020) gives the same numbers
    by_name = datasets.published_range("ketamine", table=method_table, rescale_to="default",
                                       unknown_factor="exclude")
    assert (by_name.min, by_name.max) == pytest.approx((10.0, 50.0))


def test_unrescaled_range_says_whether_it_mixes_factors(method_table):
    mixed = datasets.published_range("ketamine", table=method_table)
    assert not mixed.comparable
    assert mixed.factors == ("a: CF 10", "b: CF 1", "d: unknown")
    one = datasets.published_range("ketamine", table=method_table[method_table["study"] == "a"])
    assert one.comparable


def test_packaged_ketamine_cannot_be_rescaled_without_known_factors():
    """The Chinese ketamine figures (2.4 to 673.7) come from studies whose factor was not read:
    rescaling refuses rather than mixing them."""
    r = datasets.published_range("ketamine", "China")
    assert r.min == 2.4 and r.max == 673.7 and not r.comparable
    with pytest.raises(InputError, match="unknown"):
        datasets.published_range("ketamine", "China", rescale_to="default")
    with pytest.raises(InputError, match="no published figure"):
        datasets.published_range("ketamine", "China", rescale_to="default",
                                 unknown_factor="exclude")


def test_a_factor_without_its_basis_is_refused(monkeypatch):
    good = _published.read_data_file(_published._FILE)

    def broken(file):
        frame = good.copy()
        frame.loc[3, "correction_factor_used"] = "5"
        return frame

    monkeypatch.setattr(_published, "read_data_file", broken)
    with pytest.raises(InputError, match="correction_factor_used") as info:
        datasets.load_published_wastewater()
    assert info.value.row == 5
