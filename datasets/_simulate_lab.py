"""Lab part of the simulator: hair and urine drug tests of cross-sectional groups and of
registered users followed over time, with batch QC samples and the true status of everyone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from wbe.datasets._simulate_common import lognormal_noise as _lognormal_noise
from wbe.datasets._simulate_common import stream as _stream
from wbe.errors import InputError, unknown_name_error

__all__ = ["CUTOFFS", "CUTOFF_SETS", "simulate_lab"]

_LAB_COLUMNS = [
    "batch", "sample_id", "subject_id", "matrix", "collected_on", "group", "analyte", "value",
    "unit", "method", "sample_type", "segment_cm_from", "segment_cm_to", "censored",
    "detection", "source_row",
]

# Lab groups tested cross-sectionally: one row per group and analyte.
_LAB_GROUP_ROWS = [
    # group, matrix, tests per month, analyte, prevalence, sensitivity, specificity
    ("drivers", "hair", 150, "methamphetamine", 0.004, 0.95, 0.995),
    ("drivers", "hair", 150, "ketamine", 0.002, 0.95, 0.995),
    ("drivers", "hair", 150, "morphine", 0.001, 0.95, 0.995),
    ("drivers", "hair", 150, "mdma", 0.0005, 0.95, 0.995),
    ("civil_servants", "urine", 200, "methamphetamine", 0.001, 0.95, 0.995),
    ("civil_servants", "urine", 200, "ketamine", 0.0005, 0.95, 0.995),
    ("civil_servants", "urine", 200, "morphine", 0.0005, 0.95, 0.995),
    ("civil_servants", "urine", 200, "mdma", 0.0002, 0.95, 0.995),
]
_LAB_GROUP_COLUMNS = [
    "group", "matrix", "tests_per_month", "analyte", "prevalence", "sensitivity", "specificity",
]

_REGISTERED_DEFAULTS: dict[str, object] = {
    "group": "community_rehabilitation",
    "n": 300,
    "followup_days": 1095,  # community rehabilitation lasts three years
    "urine_interval_days": 14,
    "hair_interval_days": 182,
    "attendance": 0.9,
    "cure_fraction": 0.25,
    "weibull_shape": 0.38,
    "weibull_scale_days": 92.0,
    "sensitivity": 0.95,
    "specificity": 0.995,
    "segmented_fraction": 0.5,
    "drug_mix": {"methamphetamine": 0.7, "morphine": 0.2, "ketamine": 0.1},
}

#: Cutoffs of the simulated tests, equal to the registry sets of :func:`load_cutoffs`:
#: urine colloidal-gold screening strips ``china-urine-kit`` [ng/mL] and hair confirmation
#: ``china-hair`` [ng/mg] (公安部《涉毒人员毛发样本检测规范》2018, 第九条).
_CUTOFF_SETS = {"urine": ("china-urine-kit", "screen"), "hair": ("china-hair", "confirm")}
_CUTOFFS = {
    "urine": {"methamphetamine": 1000.0, "morphine": 300.0, "ketamine": 1000.0, "mdma": 500.0},
    "hair": {"methamphetamine": 0.2, "morphine": 0.2, "ketamine": 0.2, "mdma": 0.2},
}
_LAB_ANALYTES = ("methamphetamine", "ketamine", "morphine", "mdma")
_HAIR_CM_PER_MONTH = 1.0
_DAYS_PER_MONTH = 365.25 / 12.0
_REGION_CODES = np.array(["110101", "310101", "440304", "510104", "530102", "420102"])
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))


# --------------------------------------------------------------------------------------
# lab
# --------------------------------------------------------------------------------------


def _fake_ids(rng, n: int, source: int) -> np.ndarray:
    """Unique synthetic 18-digit resident ID numbers (GB 11643-1999 layout, valid check digit).

    Region code + birth date (1960-2004) + 3-digit sequence + ISO 7064 MOD 11-2 check digit.
    The first sequence digit is ``source % 10`` (one per lab group), so that different groups
    never share a number; within a source the last two digits count the people born on the
    same day in the same region. They are random, not real people's numbers.
    """
    if n == 0:
        return np.array([], dtype=object)
    region = _REGION_CODES[rng.integers(0, len(_REGION_CODES), n)]
    births = pd.Timestamp("1960-01-01") + pd.to_timedelta(rng.integers(0, 16436, n), unit="D")
    birth = np.asarray(births.strftime("%Y%m%d"), dtype=object)
    frame = pd.DataFrame({"r": region, "b": birth, "s": rng.integers(0, 100, n)})
    same_day = frame.groupby(["r", "b"])
    rank = same_day.cumcount().to_numpy()
    if rank.max() >= 100:  # pragma: no cover - needs > 100 people with one birthday
        raise InputError("too many simulated people for unique ID numbers", column="n")
    seq = (source % 10) * 100 + (same_day["s"].transform("first").to_numpy() + rank) % 100
    body = frame["r"] + frame["b"] + pd.Series(seq).astype(str).str.zfill(3)
    digits = (np.frombuffer("".join(body).encode("ascii"), dtype=np.uint8).reshape(n, 17)
              - ord("0")).astype(np.int64)
    check = _ID_CHECK[(digits @ _ID_WEIGHTS) % 11]
    return (body + check).to_numpy(dtype=object)


def _lab_values(rng, truly: np.ndarray, se: np.ndarray, sp: np.ndarray, cutoff: np.ndarray):
    """Measured values: positive results at or above the cutoff, negatives below or ND."""
    n = len(truly)
    u = rng.random((3, n))
    positive = np.where(truly, u[0] < se, u[0] >= sp)
    # log-normal-like tail (half-normal on the log scale): median about 2.5x the cutoff,
    # 99th percentile about 24x; an exponential log-tail (Pareto values) gave urine results
    # above 1e6 ng/mL. Illustrative, not fitted to published concentration distributions.
    above = cutoff * np.exp(0.1 + 1.2 * np.abs(rng.standard_normal(n)))
    quantified_negative = u[1] < 0.1
    below = cutoff * (0.1 + 0.8 * u[2])
    return np.where(positive, above, np.where(quantified_negative, below, np.nan))


def _lab_rows(block: dict, rng) -> dict:
    """Add measured values, detection and key columns to a block of per-row arrays."""
    value = _lab_values(rng, block["truly"], block["se"], block["sp"], block["cutoff"])
    out = {k: block[k] for k in ("subject_id", "matrix", "collected_on", "group", "analyte",
                                 "seg_from", "seg_to", "truly", "key")}
    out["value"] = value
    out["collected_on"] = np.asarray(out["collected_on"], dtype="datetime64[D]")
    return out


def _cross_sectional(groups: pd.DataFrame, dates: pd.DatetimeIndex, root) -> list[dict]:
    months = pd.period_range(dates[0], dates[-1], freq="M")
    out = []
    for source, (group, table) in enumerate(groups.groupby("group", sort=True), start=1):
        rng = _stream(root, "lab_group", group)
        matrix = str(table["matrix"].iloc[0])
        per_month = int(table["tests_per_month"].iloc[0])
        n_months = len(months)
        n = per_month * n_months
        month_idx = np.repeat(np.arange(n_months), per_month)
        first = np.array([max(m.start_time, dates[0]) for m in months], dtype="datetime64[ns]")
        last = np.array([min(m.end_time.normalize(), dates[-1]) for m in months],
                        dtype="datetime64[ns]")
        span = ((last - first) / np.timedelta64(1, "D")).astype(int) + 1
        offset = np.floor(rng.random(n) * span[month_idx]).astype(int)
        collected = first[month_idx] + offset.astype("timedelta64[D]")
        ids = _fake_ids(rng, n, source)
        analytes = table["analyte"].to_numpy()
        k = len(analytes)
        truly = rng.random((n, k)) < table["prevalence"].to_numpy()[None, :]
        cutoff = np.array([_CUTOFFS[matrix][a] for a in analytes])
        seg = (0.0, 3.0) if matrix == "hair" else (np.nan, np.nan)
        block = {
            "subject_id": np.repeat(ids, k),
            "matrix": np.full(n * k, matrix, dtype=object),
            "collected_on": np.repeat(collected, k),
            "group": np.full(n * k, group, dtype=object),
            "analyte": np.tile(analytes, n).astype(object),
            "seg_from": np.full(n * k, seg[0]),
            "seg_to": np.full(n * k, seg[1]),
            "truly": truly.ravel(),
            "se": np.tile(table["sensitivity"].to_numpy(float), n),
            "sp": np.tile(table["specificity"].to_numpy(float), n),
            "cutoff": np.tile(cutoff, n),
            "key": np.repeat(np.arange(n), k),
        }
        out.append(_lab_rows(block, rng))
    return out


def _relapse_survival(cfg: Mapping, days) -> np.ndarray:
    """True survival of the time to relapse: cure fraction + Weibull."""
    t = np.asarray(days, dtype=float)
    pi = float(cfg["cure_fraction"])
    weib = np.exp(-((t / float(cfg["weibull_scale_days"])) ** float(cfg["weibull_shape"])))
    return pi + (1 - pi) * weib


def _registered(cfg: Mapping, dates: pd.DatetimeIndex, root):
    rng = _stream(root, "lab_registered")
    n = int(cfg["n"])
    follow = int(cfg["followup_days"])
    end = dates[-1]
    span_start = dates[0] - pd.Timedelta(days=follow)
    span = max((end - span_start).days - int(cfg["urine_interval_days"]), 1)
    origin = span_start + pd.to_timedelta(np.floor(rng.random(n) * span), unit="D")
    ids = _fake_ids(rng, n, 0)
    mix = dict(cfg["drug_mix"])
    drug_names = np.array(list(mix), dtype=object)
    probs = np.array([float(v) for v in mix.values()])
    primary = drug_names[rng.choice(len(drug_names), size=n, p=probs / probs.sum())]
    cured = rng.random(n) < float(cfg["cure_fraction"])
    weib = float(cfg["weibull_scale_days"]) * rng.weibull(float(cfg["weibull_shape"]), n)
    relapse_day = np.where(cured, np.inf, weib)
    end_day = np.minimum(follow, (end - origin).days.to_numpy()).astype(float)
    relapse = pd.DataFrame({
        "subject_id": ids,
        "origin": origin,
        "analyte": primary,
        "relapse_day": relapse_day,
        "followup_end_day": end_day,
        "relapsed_in_followup": relapse_day <= end_day,
        "abstinent_3y": pd.array(
            np.where(end_day >= 1095, relapse_day > 1095, False), dtype="boolean"
        ),
    })
    relapse.loc[end_day < 1095, "abstinent_3y"] = pd.NA

    analytes = np.array(_LAB_ANALYTES, dtype=object)
    k = len(analytes)
    se, sp = float(cfg["sensitivity"]), float(cfg["specificity"])
    blocks = []
    # urine every interval from the origin (day 0 included), attended with a probability
    step = int(cfg["urine_interval_days"])
    n_tests = (end_day // step).astype(int) + 1
    person = np.repeat(np.arange(n), n_tests)
    day = (np.arange(n_tests.sum()) - np.repeat(np.cumsum(n_tests) - n_tests, n_tests)) * step
    keep = rng.random(len(day)) < float(cfg["attendance"])
    person, day = person[keep], day[keep].astype(float)
    used = day[:, None] >= relapse_day[person][:, None]
    truly = used & (primary[person][:, None] == analytes[None, :])
    m = len(day)
    blocks.append({
        "subject_id": np.repeat(ids[person], k),
        "matrix": np.full(m * k, "urine", dtype=object),
        "collected_on": np.repeat((origin[person] + pd.to_timedelta(day, unit="D")).to_numpy(), k),
        "group": np.full(m * k, cfg["group"], dtype=object),
        "analyte": np.tile(analytes, m),
        "seg_from": np.full(m * k, np.nan),
        "seg_to": np.full(m * k, np.nan),
        "truly": truly.ravel(),
        "se": np.full(m * k, se),
        "sp": np.full(m * k, sp),
        "cutoff": np.tile([_CUTOFFS["urine"][a] for a in analytes], m),
        "key": np.repeat(np.arange(m), k),
    })
    # hair every hair interval from the origin (not at day 0); some segmented 0-3 / 3-6 cm
    step = int(cfg["hair_interval_days"])
    n_hair = (end_day // step).astype(int)
    person = np.repeat(np.arange(n), n_hair)
    day = (np.arange(n_hair.sum()) - np.repeat(np.cumsum(n_hair) - n_hair, n_hair) + 1) * step
    day = day.astype(float)
    segmented = rng.random(len(day)) < float(cfg["segmented_fraction"])
    n_seg = np.where(segmented, 2, 1)
    s_person = np.repeat(person, n_seg)
    s_day = np.repeat(day, n_seg)
    s_key = np.repeat(np.arange(len(day)), n_seg) + m
    seg_index = np.arange(n_seg.sum()) - np.repeat(np.cumsum(n_seg) - n_seg, n_seg)
    seg_from = 3.0 * seg_index
    seg_to = seg_from + 3.0
    # a segment is truly positive if its window reaches before the origin (pre-treatment use)
    # or after the relapse (continuous use after relapse); 1 cm of hair ~ 1 month
    win_start = s_day - seg_to / _HAIR_CM_PER_MONTH * _DAYS_PER_MONTH
    win_end = s_day - seg_from / _HAIR_CM_PER_MONTH * _DAYS_PER_MONTH
    used = (win_start < 0) | (win_end > relapse_day[s_person])
    truly = used[:, None] & (primary[s_person][:, None] == analytes[None, :])
    h = len(s_day)
    blocks.append({
        "subject_id": np.repeat(ids[s_person], k),
        "matrix": np.full(h * k, "hair", dtype=object),
        "collected_on": np.repeat(
            (origin[s_person] + pd.to_timedelta(s_day, unit="D")).to_numpy(), k
        ),
        "group": np.full(h * k, cfg["group"], dtype=object),
        "analyte": np.tile(analytes, h),
        "seg_from": np.repeat(seg_from, k),
        "seg_to": np.repeat(seg_to, k),
        "truly": truly.ravel(),
        "se": np.full(h * k, se),
        "sp": np.full(h * k, sp),
        "cutoff": np.tile([_CUTOFFS["hair"][a] for a in analytes], h),
        "key": np.repeat(s_key, k),
    })
    return [_lab_rows(b, rng) for b in blocks], relapse


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _text(codes: np.ndarray, labels: np.ndarray) -> pd.Series:
    return pd.Series(pd.Categorical.from_codes(codes, labels.astype(str))).astype("str")


def _assemble_lab(blocks: list[dict], root, qc: bool) -> pd.DataFrame:
    """Sample ids, batches (matrix, group, ISO week), QC rows and source rows.

    Works on integer codes and numpy arrays and builds one DataFrame at the end. Returns
    the canonical columns plus ``_truly`` (False on QC rows).
    """
    offset = 0
    keys = []
    for block in blocks:
        keys.append(block["key"] + offset)
        offset = int(keys[-1].max()) + 1
    cols = {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0] if k != "key"}
    sample = np.concatenate(keys)
    n = len(sample)
    m_code, m_lab = _codes(cols["matrix"])
    g_code, g_lab = _codes(cols["group"])
    a_code, a_lab = _codes(cols["analyte"])
    day = cols["collected_on"]
    iso = pd.DatetimeIndex(day).isocalendar()
    year = iso["year"].to_numpy(np.int64)
    week = iso["week"].to_numpy(np.int64)
    batch_key = ((m_code * len(g_lab) + g_code) * 10_000 + year) * 100 + week
    is_qc = np.zeros(n, dtype=bool)
    subject = cols["subject_id"].astype(object)
    value = cols["value"]
    seg_from, seg_to, truly = cols["seg_from"], cols["seg_to"], cols["truly"].astype(bool)
    if qc:
        rng = _stream(root, "lab_qc")
        ub, first = np.unique(batch_key, return_index=True)
        nb, k = len(ub), len(a_lab)
        q_m = np.repeat(m_code[first], k)
        q_a = np.tile(np.arange(k), nb)
        cutoff = np.array([_CUTOFFS[m_lab[i]].get(a_lab[j], np.nan) for i, j in
                           zip(q_m, q_a, strict=True)])
        ok = ~np.isnan(cutoff)
        q_m, q_a, cutoff = q_m[ok], q_a[ok], cutoff[ok]
        q_first = np.repeat(first, k)[ok]
        nq = len(q_m)
        m_code = np.concatenate([m_code, q_m])
        g_code = np.concatenate([g_code, g_code[q_first]])
        a_code = np.concatenate([a_code, q_a])
        day = np.concatenate([day, day[q_first]])
        batch_key = np.concatenate([batch_key, batch_key[q_first]])
        subject = np.concatenate([subject, np.full(nq, None, dtype=object)])
        value = np.concatenate([value, 1.25 * cutoff * _lognormal_noise(rng, 0.10, nq)])
        seg_from = np.concatenate([seg_from, np.full(nq, np.nan)])
        seg_to = np.concatenate([seg_to, np.full(nq, np.nan)])
        truly = np.concatenate([truly, np.zeros(nq, dtype=bool)])
        sample = np.concatenate([sample, np.full(nq, -1)])
        is_qc = np.concatenate([is_qc, np.ones(nq, dtype=bool)])
    # order: batch, QC first, sample, segment, analyte
    seg = np.nan_to_num(seg_from, nan=-1.0)
    order = np.lexsort((a_code, seg, sample, ~is_qc, batch_key))
    ub, b_code = np.unique(batch_key[order], return_inverse=True)
    b_week, b_rest = ub % 100, ub // 100
    b_year, b_mg = b_rest % 10_000, b_rest // 10_000
    b_matrix, b_group = b_mg // len(g_lab), b_mg % len(g_lab)
    b_lab = np.array([
        f"{'U' if m_lab[m] == 'urine' else 'H'}{y}W{w:02d}-{g_lab[g]}"
        for m, g, y, w in zip(b_matrix, b_group, b_year, b_week, strict=True)
    ], dtype=object)
    # number unknown samples S0000000.. in order of appearance; QC samples QC-<batch>
    sample = sample[order]
    qc_row = is_qc[order]
    uniq, first_pos, inverse = np.unique(sample, return_index=True, return_inverse=True)
    real = uniq >= 0
    rank = np.full(len(uniq), -1, dtype=np.int64)
    rank[np.flatnonzero(real)[np.argsort(first_pos[real], kind="stable")]] = np.arange(
        int(real.sum())
    )
    s_lab = np.array([f"S{r:07d}" for r in rank], dtype=object)
    sample_id = s_lab[inverse]
    sample_id[qc_row] = "QC-" + b_lab[b_code[qc_row]]
    value = value[order]
    detected = ~np.isnan(value)
    matrix = m_code[order]
    urine = m_lab[matrix] == "urine"
    lab = pd.DataFrame({
        "batch": _text(b_code, b_lab),
        "sample_id": pd.array(sample_id, dtype="str"),
        "subject_id": pd.array(subject[order], dtype="str"),
        "matrix": _text(matrix, m_lab),
        "collected_on": pd.DatetimeIndex(day[order]).as_unit("us"),
        "group": _text(g_code[order], g_lab),
        "analyte": _text(a_code[order], a_lab),
        "value": value,
        "unit": _text(urine.astype(np.int64), np.array(["ng/mg", "ng/mL"], dtype=object)),
        "method": _text(urine.astype(np.int64), np.array(["confirm", "screen"], dtype=object)),
        "sample_type": _text((~qc_row).astype(np.int64), np.array(["qc", "unknown"])),
        "segment_cm_from": seg_from[order],
        "segment_cm_to": seg_to[order],
        "censored": ~detected,
        "detection": _text(detected.astype(np.int64),
                           np.array(["not_detected", "quantified"], dtype=object)),
    })
    lab["source_row"] = np.arange(2, len(lab) + 2)
    codes = pd.DataFrame({
        "group": g_code[order], "analyte": a_code[order], "sample": inverse,
        "month": pd.DatetimeIndex(day[order]).to_period("M").asi8, "truly": truly[order],
        "qc": qc_row,
    })
    return lab, codes, g_lab, a_lab


@cache
def _empty_lab_template() -> pd.DataFrame:
    return pd.DataFrame(columns=_LAB_COLUMNS)


def _empty_lab() -> pd.DataFrame:
    return _empty_lab_template().copy()


@cache
def _default_lab_groups() -> pd.DataFrame:
    return pd.DataFrame(_LAB_GROUP_ROWS, columns=_LAB_GROUP_COLUMNS)


def _lab_groups(groups) -> pd.DataFrame:
    if groups is None:
        return _default_lab_groups().copy()
    if not isinstance(groups, pd.DataFrame):
        raise InputError(f"lab_groups must be a DataFrame, got {type(groups).__name__}")
    missing = [c for c in _LAB_GROUP_COLUMNS if c not in groups.columns]
    if missing:
        raise InputError(f"lab_groups lacks column(s) {missing}", file="lab_groups",
                         column=missing[0])
    table = groups[_LAB_GROUP_COLUMNS].copy().reset_index(drop=True)
    for i, row in table.iterrows():
        where = {"file": "lab_groups", "row": i + 2}
        if row["matrix"] not in _CUTOFFS:
            raise unknown_name_error("matrix", row["matrix"], _CUTOFFS, column="matrix", **where)
        if row["analyte"] not in _CUTOFFS[row["matrix"]]:
            raise unknown_name_error("analyte", row["analyte"], _CUTOFFS[row["matrix"]],
                                     column="analyte", **where)
        for col in ("prevalence", "sensitivity", "specificity"):
            if not 0 <= float(row[col]) <= 1:
                raise InputError(f"expected a fraction in [0, 1], got {row[col]!r}",
                                 column=col, **where)
        if int(row["tests_per_month"]) < 0:
            raise InputError("expected a count >= 0", column="tests_per_month", **where)
    return table


def _registered_config(overrides) -> dict:
    cfg = dict(_REGISTERED_DEFAULTS)
    if overrides is None:
        return cfg
    if not isinstance(overrides, Mapping):
        raise InputError(f"registered must be a mapping, got {type(overrides).__name__}")
    for key, value in overrides.items():
        if key not in cfg:
            raise unknown_name_error("registered setting", key, cfg, file="registered")
        cfg[key] = value
    for key in ("cure_fraction", "attendance", "sensitivity", "specificity",
                "segmented_fraction"):
        if not 0 <= float(cfg[key]) <= 1:
            raise InputError(f"expected a fraction in [0, 1], got {cfg[key]!r}",
                             file="registered", column=key)
    if not float(cfg["n"]) >= 0:
        raise InputError(f"expected a count >= 0, got {cfg['n']!r}", file="registered",
                         column="n")
    for key in ("followup_days", "urine_interval_days", "hair_interval_days",
                "weibull_shape", "weibull_scale_days"):
        if not float(cfg[key]) > 0:
            raise InputError(f"expected a positive number, got {cfg[key]!r}",
                             file="registered", column=key)
    unknown = [a for a in cfg["drug_mix"] if a not in _LAB_ANALYTES]
    if unknown:
        raise unknown_name_error("analyte", unknown[0], _LAB_ANALYTES, file="registered",
                                 column="drug_mix")
    return cfg


def _lab(groups: pd.DataFrame, registered: dict | None, dates, root, qc: bool):
    frames = _cross_sectional(groups[groups["tests_per_month"] > 0], dates, root)
    relapse = None
    if registered is not None:
        reg_frames, relapse = _registered(registered, dates, root)
        frames.extend(reg_frames)
    frames = [f for f in frames if len(f["key"])]
    if not frames:
        return _empty_lab(), {}
    lab, codes, g_lab, a_lab = _assemble_lab(frames, root, qc)
    unknown = ~codes["qc"].to_numpy()
    status = lab.loc[unknown, ["sample_id", "analyte", "segment_cm_from", "segment_cm_to"]]
    status = status.assign(true_positive=codes["truly"].to_numpy()[unknown])
    status = status.reset_index(drop=True)
    # one test = one sample; a segmented hair sample is truly positive if any segment is
    per_test = codes[unknown].groupby(["group", "month", "analyte", "sample"], sort=True)[
        "truly"
    ].any().reset_index()
    prev = per_test.groupby(["group", "month", "analyte"], sort=True).agg(
        tests=("truly", "size"), truly_positive=("truly", "sum")
    ).reset_index()
    prev["true_share"] = prev["truly_positive"] / prev["tests"]
    prev["group"] = _text(prev["group"].to_numpy(), g_lab)
    prev["analyte"] = _text(prev["analyte"].to_numpy(), a_lab)
    prev["month"] = pd.PeriodIndex.from_ordinals(prev["month"].to_numpy(), freq="M")
    param = groups.set_index(["group", "analyte"])["prevalence"]
    prev["prevalence"] = [
        float(param.get((g, a), np.nan)) for g, a in zip(prev["group"], prev["analyte"],
                                                           strict=True)
    ]
    prev = prev[["group", "month", "analyte", "prevalence", "tests", "truly_positive",
                 "true_share"]]
    lab_truth = {"prevalence": prev, "status": status}
    if relapse is not None:
        years = np.array([0.5, 1.0, 2.0, 3.0, 5.0])
        lab_truth["relapse"] = relapse
        lab_truth["relapse_survival"] = pd.DataFrame({
            "years": years, "days": years * 365.25,
            "survival": _relapse_survival(registered, years * 365.25),
        })
    return lab, lab_truth


@dataclass(frozen=True, eq=False)
class LabPart:
    """Tables of the lab part (see :class:`wbe.datasets.SimulatedCity`)."""

    results: pd.DataFrame
    truth: dict
    groups: pd.DataFrame
    registered: dict


def simulate_lab(*, lab_groups: pd.DataFrame | None, registered: Mapping[str, object] | None,
                 dates: pd.DatetimeIndex, root: np.random.SeedSequence, qc: bool,
                 enabled: bool) -> LabPart:
    """Lab results and their truth (empty tables when ``enabled`` is False)."""
    groups = _lab_groups(lab_groups)
    reg_cfg = _registered_config(registered)
    if enabled:
        reg = reg_cfg if int(reg_cfg["n"]) > 0 else None
        results, truth = _lab(groups, reg, dates, root, qc)
    else:
        results, truth = _empty_lab(), {}
    return LabPart(results, truth, groups, reg_cfg)


#: Names used by :func:`wbe.datasets.simulate`.
CUTOFFS = _CUTOFFS
CUTOFF_SETS = _CUTOFF_SETS
