"""Property tests: an instrument export written in any encoding labs meet reads back to
the same values (MassHunter batch table, TargetLynx compound summary, SCIEX results).

Western-locale Windows writes cp1252/latin-1, Chinese-locale GB18030, newer software
UTF-8 with or without BOM. Sample names carry the characters that break decoding in
practice: ``µ`` (``22,18µgmL``), accented letters, Chinese characters.
"""

from __future__ import annotations

import io
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wbe._encoding import decode_text
from wbe.lab import read_masshunter, read_sciex, read_targetlynx

#: Non-ASCII tokens of sample names per encoding: Chinese comes in words (样品),
#: Western accents one at a time inside ASCII words (22,18µgmL, Probe_ü3).
SPECIAL = {
    "utf-8": ("µ", "é", "ü", "样品", "尿液"),
    "utf-8-sig": ("µ", "é", "ü", "样品", "尿液"),
    "gb18030": ("样品", "尿液", "毛发", "µ"),
    "cp1252": ("µ", "é", "ä", "ö", "ü", "ß", "É"),
    "latin-1": ("µ", "é", "ä", "ö", "ü", "ß", "É"),
}
COMPOUNDS = ("Methamphetamine", "Ketamine", "Cortisol", "Methamphetamine-D5 (ISTD)")
WORD = st.text(alphabet="ABCXYZabcxyz", min_size=1, max_size=4)
VALUE = st.integers(min_value=1, max_value=10**7).map(lambda i: i / 1000)


@st.composite
def exports(draw):
    encoding = draw(st.sampled_from(sorted(SPECIAL)))
    n = draw(st.integers(min_value=1, max_value=6))
    ids = []
    for i in range(n):
        # one special character between ASCII words, as in real sample names
        ch = draw(st.sampled_from(SPECIAL[encoding]))
        ids.append(f"{draw(WORD)}{ch}{draw(WORD)}_{i}")
    compounds = draw(st.lists(st.sampled_from(COMPOUNDS), min_size=1, max_size=4,
                              unique=True))
    values = {(s, c): draw(VALUE) for s in ids for c in compounds}
    return encoding, ids, compounds, values


def _masshunter(ids, compounds, values) -> str:
    top = ["", "", "Sample", ""]
    for c in compounds:
        top += [f"{c} Results", ""]
    sub = ["", "", "Name", "Type"] + ["RT", "Final Conc."] * len(compounds)
    lines = [",".join(top), ",".join(sub)]
    for s in ids:
        cells = ["", "", s, "Sample"]
        for c in compounds:
            cells += ["3.21", f"{values[(s, c)]:.3f}"]
        lines.append(",".join(cells))
    return "\r\n".join(lines) + "\r\n"


def _targetlynx(ids, compounds, values) -> str:
    lines = ["Quantify Compound Summary Report ", "", "Printed Mon Jan 06 10:00:00 2025", ""]
    for k, c in enumerate(compounds, start=1):
        lines += [f"Compound {k}:  {c}", "", "\tName\tType\tRT\tArea\tng/mL"]
        for i, s in enumerate(ids, start=1):
            lines.append(f"{i}\t{s}\tAnalyte\t3.21\t1000.0\t{values[(s, c)]:.3f}")
        lines.append("")
    return "\r\n".join(lines) + "\r\n"


def _sciex(ids, compounds, values) -> str:
    lines = ["Sample Name\tSample Type\tComponent Name\tCalculated Concentration (ng/mL)"]
    for s in ids:
        for c in compounds:
            lines.append(f"{s}\tUnknown\t{c}\t{values[(s, c)]:.3f}")
    return "\n".join(lines) + "\n"


WRITERS = {"masshunter": (_masshunter, read_masshunter, {"unit": "ng/mL"}),
           "targetlynx": (_targetlynx, read_targetlynx, {}),
           "sciex": (_sciex, read_sciex, {})}


@pytest.mark.parametrize("layout", sorted(WRITERS))
@settings(max_examples=30, deadline=None)
@given(export=exports())
def test_export_in_any_encoding_reads_back_the_same_values(layout, export):
    encoding, ids, compounds, values = export
    write, read, kwargs = WRITERS[layout]
    raw = write(ids, compounds, values).encode(encoding)
    data, rejects = read(io.BytesIO(raw), matrix="urine", file_label="x", **kwargs)
    assert rejects.empty, rejects.to_dict("records")
    got = {(s, a): v for s, a, v in zip(data["sample_id"], data["analyte_name"],
                                        data["value"], strict=True)}
    assert got == pytest.approx(values, rel=1e-12)


@settings(max_examples=50, deadline=None)
@given(text=st.text(alphabet="ABCabc0123 \t,.µéüß", min_size=1, max_size=60))
def test_latin1_text_is_never_read_as_gb18030(text):
    """Western text with at most one accented letter between ASCII characters never
    decodes to CJK characters; it is read as cp1252 with the same characters."""
    assume_single = all(not (a in "µéüß" and b in "µéüß") for a, b in itertools.pairwise(text))
    if not assume_single:
        return
    decoded, encoding = decode_text(text.encode("cp1252"), "x")
    assert decoded == text
    assert encoding in ("utf-8", "cp1252")


def test_ambiguous_bytes_are_refused_not_guessed():
    """'Informação' in latin-1 is also valid GB18030 ('Informa' + one CJK character +
    'o'): neither reading is certain, so the reader asks for encoding= instead of
    guessing."""
    raw = "Sample Name\tComponent Name\tCalculated Concentration\nInformação\tKetamine\t1.5\n"
    with pytest.raises(Exception, match="encoding=") as info:
        read_sciex(io.BytesIO(raw.encode("latin-1")), matrix="urine", unit="ng/mL",
                   file_label="x")
    assert "gb18030" in str(info.value)
    data, _ = read_sciex(io.BytesIO(raw.encode("latin-1")), matrix="urine", unit="ng/mL",
                         file_label="x", encoding="latin-1")
    assert data["sample_id"].tolist() == ["Informação"]
