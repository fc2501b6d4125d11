"""Instrument-export variants seen in the wild (issue 11), written inline as the
software writes them. Expected values are read off the text by eye."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from wbe._encoding import decode_text
from wbe.errors import InputError
from wbe.lab import classify, qc_report, read_masshunter, read_sciex, read_targetlynx


def _buf(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def _one(data, sample, analyte, column="value"):
    hit = data[(data["sample_id"] == sample) & (data["analyte_name"] == analyte)]
    assert len(hit) == 1, (sample, analyte, len(hit))
    return hit.iloc[0][column]


# --------------------------------------------------------------------------- MassHunter

MH_DATA_FILE_ONLY = (
    ",,Methamphetamine Method,Methamphetamine Results,,,,Qualifier (150.1 -> 119.1) Results,,,"
    "Methamphetamine-D5 (ISTD) Results,\n"
    "Data File,Type,Exp. Conc.,RT,Final Conc.,Resp.,Calc. Conc.,RT,Final Conc.,Ratio,RT,"
    "Final Conc.\n"
    "cal1.d,Cal,10,3.21,10.4,0.52,10.3,3.21,9.9,48.2,3.20,50\n"
    "rc1.d,ResponseCheck,20,3.21,19.5,0.98,19.4,3.21,19.0,47.9,3.20,50\n"
    "dbl.d,DoubleBlank,,,,,,,,,,\n"
    "mbl.d,MatrixBlank,,3.22,<0.5,,,,,,3.20,49\n"
    "ms1.d,MatrixSpike,5,3.21,5.2,0.26,5.1,3.21,5.0,49.0,3.20,\n"
    "cc1.d,CC,10,3.21,9.8,0.49,9.7,3.21,9.5,48.5,3.20,51\n"
    "u001.d,Sample,,3.22,7.77,0.39,1.55,3.22,1.50,30.1,3.20,N/A\n"
)


def test_masshunter_without_name_uses_data_file_and_reads_wild_types():
    data, rejects = read_masshunter(_buf(MH_DATA_FILE_ONLY), matrix="urine",
                                    unit="ng/mL", file_label="mh.csv")
    meth = data[data["analyte"] == "methamphetamine"].set_index("sample_id")
    # injections named by Data File without '.d'
    assert list(meth.index) == ["cal1", "rc1", "dbl", "mbl", "ms1", "cc1", "u001"]
    assert meth["sample_type"].to_dict() == {
        "cal1": "calibrator", "rc1": "qc", "dbl": "blank", "mbl": "blank", "ms1": "qc",
        "cc1": "qc", "u001": "unknown"}
    # Final Conc. wins over Calc. Conc. whatever their order; qualifier blocks are not
    # results, their Ratio is the compound's ion ratio
    assert meth.loc["u001", "value"] == 7.77
    assert meth.loc["u001", "ion_ratio"] == pytest.approx(0.301, rel=1e-12)  # 30.1 %
    assert meth.loc["cal1", "nominal"] == 10.0 and meth.loc["cal1", "response"] == 0.52
    assert meth.loc["mbl", "detection"] == "below_loq" and meth.loc["mbl", "loq"] == 0.5
    assert not data["analyte_name"].str.startswith("Qualifier").any()
    # the internal standard's 'N/A' in u001 is kept (no rejection of the row's analytes)
    istd = data[data["internal_standard"]]
    assert len(istd) == 7 and istd["analyte_name"].eq("Methamphetamine-D5 (ISTD)").all()
    assert rejects.empty


def test_one_bad_cell_rejects_one_result_not_the_injection():
    text = MH_DATA_FILE_ONLY.replace("u001.d,Sample,,3.22,7.77", "u001.d,Sample,,3.22,abc")
    data, rejects = read_masshunter(_buf(text), matrix="urine", unit="ng/mL")
    assert rejects[["source_row", "column"]].values.tolist() == [
        [9, "value (Methamphetamine Results)"]]
    # the internal standard of that injection is still there
    assert len(data[data["source_row"] == 9]) == 1


MH_REPORT = (
    "Batch Info\n"
    "Batch Data Path,D:\\MassHunter\\Data\\B1\\QuantResults\\B1.batch.bin\n"
    "Analysis Time,2024-09-02 10:00\n"
    "\n"
    "Target Compound,Ketamine\n"
    "Name,Data File,Type,Level,RT,Resp.,Exp. Conc.,Calc. Conc.,Final Conc.\n"
    "CAL1,cal1.d,Cal,1,2.80,0.10,1,1.02,1.02\n"
    "S001,s001.d,Sample,,2.81,0.50,,5.01,25.05\n"
    "\n"
    "Target Compound,Norketamine\n"
    "Name,Data File,Type,Level,RT,Resp.,Exp. Conc.,Calc. Conc.,Final Conc.\n"
    "CAL1,cal1.d,Cal,1,2.60,0.20,1,0.98,0.98\n"
    "S001,s001.d,Sample,,2.61,,,,ND\n"
)


def test_masshunter_quant_report_csv_sections():
    data, rejects = read_masshunter(_buf(MH_REPORT), matrix="urine", unit="ng/mL")
    assert rejects.empty
    assert _one(data, "S001", "Ketamine") == 25.05  # Final Conc. (dilution applied)
    assert _one(data, "CAL1", "Norketamine", "nominal") == 1.0
    assert _one(data, "S001", "Norketamine", "detection") == "not_detected"
    assert _one(data, "S001", "Ketamine", "source_row") == 8  # line in the file


MH_FLAT = (
    "SampleName,Compound,CalculatedConcentration,FinalConcentration,Units\n"
    "S001,Methamphetamine,10.5,21.0,nM\n"
    "S001,Cortisol,3.0,3.0,nM\n"
    "S002,Methamphetamine,ND,ND,nM\n"
)


def test_masshunter_flat_long_with_nd_and_molar_units():
    data, rejects = read_masshunter(_buf(MH_FLAT), matrix="urine")
    assert rejects.empty
    # 21.0 nM methamphetamine x 149.24 g/mol = 3.134 ng/mL
    assert _one(data, "S001", "Methamphetamine") == pytest.approx(21.0 * 149.24e-3, rel=1e-12)
    assert _one(data, "S001", "Methamphetamine", "unit") == "ng/mL"
    # no molar mass for an analyte outside the registry: kept in nM, with a reason
    assert _one(data, "S001", "Cortisol") == 3.0
    assert _one(data, "S001", "Cortisol", "unit") == "nM"
    assert "no molar mass" in _one(data, "S001", "Cortisol", "note")
    assert _one(data, "S002", "Methamphetamine", "detection") == "not_detected"


def test_masshunter_unknown_layout_names_the_layouts():
    with pytest.raises(InputError, match=r"batch table .*Quant report CSV.*flat long"):
        read_masshunter(_buf("a,b\n1,2\n"), matrix="urine", unit="ng/mL")


# --------------------------------------------------------------------------- TargetLynx

TL_COMPOUND = (
    "Quantify Compound Summary Report \r\n\r\nPrinted Mon Sep 02 10:00:00 2024\r\n\r\n"
    "Compound 1:  Methamphetamine\r\n\r\n"
    "\tName\tSample Text\tType\tStd. Conc\tRT\tArea\tIS Area\tResponse\tµM\r\n"
    "1\tSTD1\tL1\tStandard\t0.1\t3.21\t600\t25000\t0.024\t0.101\r\n"
    "2\tRun-7\tHB-0042\tAnalyte\t\t3.22\t19260\t25000\t0.770\t2.5\r\n"
    "\r\n"
    "Compound 2:  Methamphetamine-d5\r\n\r\n"
    "\tName\tSample Text\tType\tStd. Conc\tRT\tArea\tIS Area\tResponse\tµM\r\n"
    "1\tSTD1\tL1\tStandard\t\t3.20\t25000\t\t\t\r\n"
    "2\tRun-7\tHB-0042\tAnalyte\t\t3.20\t25000\t\t\t\r\n"
)


def test_targetlynx_unit_named_column_latin1_and_sample_text():
    data, rejects = read_targetlynx(_buf(TL_COMPOUND, "cp1252"), matrix="urine",
                                    sample_id_column="Sample Text")
    assert rejects.empty
    # 2.5 µM x 149.24 g/mol = 373.1 ng/mL
    assert _one(data, "HB-0042", "Methamphetamine") == pytest.approx(2.5 * 149.24, rel=1e-12)
    assert _one(data, "L1", "Methamphetamine", "nominal") == pytest.approx(0.1 * 149.24)
    assert data[data["internal_standard"]]["analyte_name"].eq("Methamphetamine-d5").all()


TL_SAMPLE = (
    "Quantify Sample Summary Report \r\n\r\n"
    "Sample Name: S001   Sample ID: HB-0001   Type: Analyte\r\n\r\n"
    "\t#\tName\tTrace\tRT\tArea\tIS Area\tResponse\tng/mL\t%Dev\r\n"
    "1\t1\tKetamine\t238 > 125\t2.80\t5000\t25000\t0.2\t12.4\t\r\n"
    "2\t2\tNorketamine\t224 > 125\t2.60\t\t25000\t\t\t\r\n"
    "\r\n"
    "Sample Name: STD1   Sample ID: L1   Type: Standard\r\n\r\n"
    "\t#\tName\tTrace\tRT\tArea\tIS Area\tResponse\tng/mL\t%Dev\r\n"
    "1\t1\tKetamine\t238 > 125\t2.80\t500\t25000\t0.02\t1.02\t2.0\r\n"
)


def test_targetlynx_sample_summary_blocks():
    data, rejects = read_targetlynx(_buf(TL_SAMPLE, "cp1252"), matrix="urine")
    assert _one(data, "S001", "Ketamine") == 12.4
    assert _one(data, "STD1", "Ketamine", "sample_type") == "calibrator"
    assert _one(data, "S001", "Ketamine", "source_row") == 6
    # S001 norketamine: no concentration -> one reject of that result
    assert rejects["source_row"].tolist() == [7]
    data, _ = read_targetlynx(_buf(TL_SAMPLE), matrix="urine", sample_id_column="Sample ID")
    assert set(data["sample_id"]) == {"HB-0001", "L1"}


WATERS_CONNECT = (
    "Injection Name,Injection Type,Compound Name,Expected Concentration,"
    "Calculated Concentration,Concentration Units,Retention Time,Area\n"
    "Cal 1,Standard,Benzoylecgonine,5,5.1,ng/mL,4.10,1200\n"
    "U-001,Analyte,Benzoylecgonine,,Not Detected,ng/mL,,\n"
    "U-002,Analyte,Benzoylecgonine,,0.25,µg/mL,4.11,60000\n"
)


def test_waters_connect_csv():
    data, rejects = read_targetlynx(_buf(WATERS_CONNECT), matrix="urine")
    assert rejects.empty
    assert _one(data, "U-001", "Benzoylecgonine", "detection") == "not_detected"
    assert _one(data, "U-002", "Benzoylecgonine") == 250.0  # 0.25 µg/mL
    assert _one(data, "Cal 1", "Benzoylecgonine", "nominal") == 5.0


def test_targetlynx_unknown_layout_is_refused_naming_layouts():
    with pytest.raises(InputError, match=r"Compound Summary.*Sample Summary.*waters_connect"):
        read_targetlynx(_buf("hello\tworld\n"), matrix="urine")


# --------------------------------------------------------------------------- SCIEX

SCIEX_OS = (
    "Sample Name\tSample ID\tSample Type\tComponent Name\tComponent Group Name\t"
    "Component Type\tIS\tUsed\tReportable\tActual Concentration\tArea Ratio\t"
    "Calculated Concentration\tConc. Units\n"
    "Cal1\tC1\tStandard\tMeth 1\tMethamphetamine\tQuantifiers\tFalse\tTrue\tTrue\t1\t0.05\t"
    "1.01\tng/mL\n"
    "Cal1\tC1\tStandard\tMeth 2\tMethamphetamine\tQualifiers\tFalse\tTrue\tTrue\t1\t0.02\t"
    "0.98\tng/mL\n"
    "Cal2\tC2\tStandard\tMeth 1\tMethamphetamine\tQuantifiers\tFalse\tFalse\tTrue\t5\t0.40\t"
    "7.90\tng/mL\n"
    "Inj 12\tHB-0042\tUnknown\tMeth 1\tMethamphetamine\tQuantifiers\tFalse\tTrue\tTrue\tN/A\t"
    "2.00\t40.2\tng/mL\n"
    "Inj 12\tHB-0042\tUnknown\tMeth-d5\tMeth-d5\tInternal Standards\tTrue\tTrue\tTrue\tN/A\t"
    "N/A\tN/A\tng/mL\n"
    "Inj 13\tHB-0043\tUnknown\tMeth 1\tMethamphetamine\tQuantifiers\tFalse\tTrue\tFalse\tN/A\t"
    "1.00\t20.0\tng/mL\n"
)


def test_sciex_os_selection_identity_and_units():
    data, rejects = read_sciex(_buf(SCIEX_OS), matrix="urine", sample_id_column="Sample ID")
    reasons = rejects.set_index("source_row")["reason"].to_dict()
    assert set(reasons) == {3, 4, 7}
    assert "qualifier" in reasons[3]
    assert "Used" in reasons[4] and "Reportable" in reasons[7]
    meth = data[~data["internal_standard"]]
    assert meth[["sample_id", "analyte", "value"]].values.tolist() == [
        ["C1", "methamphetamine", 1.01], ["HB-0042", "methamphetamine", 40.2]]
    assert data[data["internal_standard"]]["sample_id"].tolist() == ["HB-0042"]


def test_sciex_header_unit_and_no_sample_type():
    text = ("Sample Name\tComponent Name\tCalculated Concentration (µg/L)\n"
            "S1\tKetamine\t12.5\nS1\tCortisol\t3\n")
    data, rejects = read_sciex(_buf(text), matrix="urine")
    assert rejects.empty
    assert data["sample_type"].eq("unknown").all()
    assert _one(data, "S1", "Ketamine") == 12.5 and _one(data, "S1", "Ketamine", "unit") == "ng/mL"
    # an analyte the registry does not know is kept, flagged, and not classified
    cortisol = data[data["analyte_name"] == "Cortisol"].iloc[0]
    assert (cortisol["analyte"], bool(cortisol["analyte_known"])) == ("Cortisol", False)
    res = classify(data, "samhsa2017").results.set_index("analyte_name")
    assert res.loc["Cortisol", "classification"] is None
    assert "not in the registry" in res.loc["Cortisol", "reason"]


def test_two_unknown_analytes_are_not_duplicates():
    text = ("Sample Name\tComponent Name\tCalculated Concentration\n"
            "S1\tLPC 16:0\t1\nS1\tLPC 18:0\t2\n")
    data, rejects = read_sciex(_buf(text), matrix="urine", unit="ng/mL")
    assert rejects.empty and data["analyte"].tolist() == ["LPC 16:0", "LPC 18:0"]


def test_classify_leaves_molar_values_without_mass_unclassified():
    data, _ = read_masshunter(_buf(MH_FLAT), matrix="urine")
    res = classify(data, "samhsa2017").results
    cortisol = res[res["analyte_name"] == "Cortisol"].iloc[0]
    assert cortisol["classification"] is None
    assert np.isnan(res[res["analyte_name"] == "Cortisol"]["cutoff"]).all()


# --------------------------------------------------------------------------- encodings


def test_gb18030_reading_of_latin1_micro_is_refused():
    raw = "Name\t22,18µgmL\n".encode("latin-1")
    assert raw.decode("gb18030") == "Name\t22,18礸mL\n"  # what a naive reader returns
    text, encoding = decode_text(raw, "x.txt")
    assert (text, encoding) == ("Name\t22,18µgmL\n", "cp1252")


def test_wrong_explicit_encoding_is_a_clear_error():
    with pytest.raises(InputError, match=r"not valid utf-8.*line 2"):
        decode_text("a\nµ\n".encode("cp1252"), "x.txt", "utf-8")


def test_utf8_bom_and_utf16_are_read():
    assert decode_text("\ufeffName\n".encode(), "x") == ("Name\n", "utf-8-sig")
    assert decode_text("样品\n".encode("utf-16"), "x") == ("样品\n", "utf-16")


def test_qc_report_uses_qualifier_ratios_from_masshunter():
    data, _ = read_masshunter(_buf(MH_DATA_FILE_ONLY), matrix="urine", unit="ng/mL")
    report = qc_report(data.assign(batch="B1"))
    row = report.table.set_index(["analyte", "check"]).loc[("methamphetamine", "ion_ratio")]
    # reference 48.2 % from the calibrator (EU tier 20-50 %: ±25 %); u001 at 30.1 % is
    # 38 % below it
    assert row["verdict"] == "warn" and row["samples"] == "u001"
    assert "methamphetamine-d5" not in set(report.table["analyte"].str.lower())
    assert isinstance(report.table, pd.DataFrame)


ANALYST = (
    "Peak Name: Amphetamine\n"
    "Internal Standard: Amphetamine-D5\n"
    "Q1/Q3 Masses: 136.10/91.10 Da\n"
    "Fit\tLinear\tWeighting\t1 / x\tIterate\tNone\n"
    "\n"
    "Sample Name\tSample Type\tAnalyte Peak Name\tAnalyte Concentration (ng/mL)\t"
    "Calculated Concentration (ng/mL)\tAnalyte Peak Area (counts)\n"
    "CAL 1\tStandard\tAmphetamine\t5.00\t5.12\t1200\n"
    "U1\tUnknown\tAmphetamine\tN/A\t88.4\t21000\n"
    "\n"
    "Peak Name: Methamphetamine\n"
    "Fit\tLinear\tWeighting\t1 / x\tIterate\tNone\n"
    "\n"
    "Sample Name\tSample Type\tAnalyte Peak Name\tAnalyte Concentration (ng/mL)\t"
    "Calculated Concentration (ng/mL)\tAnalyte Peak Area (counts)\n"
    "CAL 1\tStandard\tMethamphetamine\t5.00\t4.95\t1500\n"
    "U1\tUnknown\tMethamphetamine\tN/A\t412\t99000\n"
)


def test_sciex_analyst_text_export_with_one_table_per_analyte():
    data, rejects = read_sciex(_buf(ANALYST, "cp1252"), matrix="urine")
    assert rejects.empty
    assert _one(data, "U1", "Methamphetamine") == 412.0
    assert _one(data, "U1", "Methamphetamine", "source_row") == 15  # line 15 of the text
    assert _one(data, "CAL 1", "Amphetamine", "nominal") == 5.0
    assert len(data) == 4


def test_targetlynx_block_footers_are_not_results_and_d5_prefix_is_istd():
    text = TL_COMPOUND.replace("Compound 2:  Methamphetamine-d5", "Compound 2:  d5-Methamphetamine")
    text = text.replace("\r\n\r\nCompound 2", "\r\nCalibration curve: 0.2417 * x + 0.0011\r\n"
                        "Correlation coefficient: r = 0.9991\r\n\r\nCompound 2")
    data, rejects = read_targetlynx(_buf(text, "cp1252"), matrix="urine")
    assert rejects.empty and len(data) == 4
    assert data[data["internal_standard"]]["analyte_name"].eq("d5-Methamphetamine").all()


def test_semicolon_masshunter_export_reads_decimal_commas():
    text = ("Sample;;Ketamine Results;\n"
            "Name;Type;RT;Final Conc.\n"
            "S1;Sample;2,81;12,5\n")
    data, rejects = read_masshunter(_buf(text), matrix="urine", unit="ng/mL")
    assert rejects.empty
    assert (_one(data, "S1", "Ketamine"), _one(data, "S1", "Ketamine", "retention_time_min")) \
        == (12.5, 2.81)


def test_masshunter_without_unit_is_one_error_not_a_reject_per_result():
    with pytest.raises(InputError, match="does not state the concentration unit"):
        read_masshunter(_buf(MH_DATA_FILE_ONLY), matrix="urine")


def test_analyst_wide_row_with_is_columns_units_and_use_record():
    text = ("Sample Name\tSample ID\tSample Type\tAnalyte Peak Name\tAnalyte Units\t"
            "Analyte Peak Area (counts)\tIS Peak Name\tIS Peak Area (counts)\t"
            "Analyte Concentration (ng/mL)\tCalculated Concentration (ng/mL)\tUse Record\n"
            "Std 1\t\tStandard\tKetamine\tng/mL\t1000\tKetamine-D4\t50000\t1.00\t0.97\t1\n"
            "Std 2\t\tStandard\tKetamine\tng/mL\t5200\tKetamine-D4\t51000\t5.00\t7.10\t0\n"
            "H-17\tHB-17\tUnknown\tKetamine\tng/mL\t3000\tKetamine-D4\t49000\tN/A\t2.95\t1\n")
    data, rejects = read_sciex(_buf(text), matrix="urine")
    assert rejects["source_row"].tolist() == [3] and "Used" in rejects["reason"].iloc[0]
    assert _one(data, "H-17", "Ketamine") == 2.95
    assert _one(data, "H-17", "Ketamine", "response") == 3000.0
    assert not data["internal_standard"].any()  # the IS is in columns, not rows


def test_masshunter_batch_table_below_a_title_line():
    text = "Batch Table: B1.batch.bin\n" + MH_DATA_FILE_ONLY
    data, _ = read_masshunter(_buf(text), matrix="urine", unit="ng/mL")
    assert _one(data, "u001", "Methamphetamine", "source_row") == 10


def test_short_gb18030_text_that_is_also_valid_utf8_is_read_as_chinese():
    """The UTF-8 reading gives Cyrillic letters inside Latin text, the GB18030 reading
    common Chinese characters: the UTF-8 reading is refused, GB18030 is used."""
    raw = "S液液1\n".encode("gb18030")
    assert raw.decode("utf-8") == "SҺҺ1\n"  # valid UTF-8, Cyrillic letters
    assert decode_text(raw, "x.txt") == ("S液液1\n", "gb18030")
    # Western and Cyrillic UTF-8 stay UTF-8
    assert decode_text("Проба µg\n".encode(), "x")[1] == "utf-8"
