"""Kernel of :func:`wbe.back_calculate`: keyed Monte Carlo draws (in memory or as dask
blocks), the closed-form (log-normal) path, censored-concentration draws, non-abuse
subtraction and the provenance of the result.

Both paths evaluate the chain through :mod:`wbe.chain` (the linear functions for the draws,
their log-space twins for the closed form), so the equations live in one place. Parameters
and their distributions come from :mod:`wbe._backcalc_parameters`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
import xarray as xr

from wbe import _draws
from wbe import chain as _chain
from wbe._backcalc_parameters import (
    MEASUREMENT,
    build_globals,
    describe,
    lognormal_params,
    measurement_defaults,
    parameter_sources,
    population_dists,
)
from wbe._backcalc_validation import Inputs
from wbe.errors import InputError, unknown_name_error

__all__: list[str] = []  # private module (names without _ are shared with wbe.backcalc)

#: uncertain components -> scope ("global" = per biomarker, shared by every site and day)
COMPONENTS: dict[str, str] = {
    "sampling": "sample",
    "chemical_analysis": "sample",
    "censoring": "sample",
    "flow": "site-day",
    "population": "site",
    "residence_time": "site",
    "correction_factor": "global",
    "half_life": "global",
    "typical_dose": "global",
    "doses_per_user_per_day": "global",
}

#: output variable -> (units, components whose uncertainty it carries)
VARIABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "load_mg_per_day": ("mg/day", ("sampling", "chemical_analysis", "censoring", "flow")),
    "consumption_mg_per_day": (
        "mg/day",
        ("sampling", "chemical_analysis", "censoring", "flow", "residence_time", "half_life",
         "correction_factor"),
    ),
    "consumption_mg_per_day_per_1000": (
        "mg/day/1000 inhabitants",
        ("sampling", "chemical_analysis", "censoring", "flow", "residence_time", "half_life",
         "correction_factor", "population"),
    ),
    "doses_per_day_per_1000": (
        "doses/day/1000 inhabitants",
        ("sampling", "chemical_analysis", "censoring", "flow", "residence_time", "half_life",
         "correction_factor", "population", "typical_dose"),
    ),
    "users": (
        "persons",
        ("sampling", "chemical_analysis", "censoring", "flow", "residence_time", "half_life",
         "correction_factor", "typical_dose", "doses_per_user_per_day"),
    ),
    "prevalence": (
        "fraction",
        ("sampling", "chemical_analysis", "censoring", "flow", "residence_time", "half_life",
         "correction_factor", "typical_dose", "doses_per_user_per_day", "population"),
    ),
}

METHODS = ("montecarlo", "analytic")

def _cf_draws(cf_options, seed: int, bios: list[str], n: int) -> np.ndarray:
    """CF draws [-] per biomarker, shape ``(biomarker, draw)``: from its one parameter set,
    or, across sets, the set of each draw chosen with the stated weights (keyed by
    "parameter_set"). Every set of a biomarker inverts the same uniforms (keyed by
    "correction_factor" and the biomarker); one ``ppf`` per scipy family for all of them."""
    rows = [(b, spec) for options, b in zip(cf_options, bios, strict=True)
            for _, spec, _ in options]
    x = _draws.keyed_draws_each([spec.distribution for _, spec in rows], seed,
                                "correction_factor", [(b,) for b, _ in rows], n)
    mixed = [b for options, b in zip(cf_options, bios, strict=True) if len(options) > 1]
    u = dict(zip(mixed, _draws.keyed_uniforms(seed, "parameter_set", [(b,) for b in mixed], n),
                 strict=True))
    out = np.empty((len(bios), n))
    first = 0  # row of x of the biomarker's first set
    for i, (options, b) in enumerate(zip(cf_options, bios, strict=True)):
        if len(options) == 1:
            out[i] = options[0][1].from_draws(x[first])
        else:
            edges = np.cumsum([w for w, _, _ in options])
            edges[-1] = np.inf
            choice = np.searchsorted(edges, u[b], side="right")
            for k, (_, spec, _) in enumerate(options):
                pick = choice == k
                out[i, pick] = spec.from_draws(x[first + k])[pick]
        first += len(options)
    return out


@dataclass(frozen=True)
class CensoredDraws:
    """Draws of the censored concentrations as fractions of their LOQ."""

    position: np.ndarray  # per sample: row of ``fraction`` (-1 if quantified)
    fraction: np.ndarray  # (n_censored, draws), in (0, 1]
    mu_log: np.ndarray  # per censored sample: the site-biomarker fit (NaN = uniform)
    sigma_log: np.ndarray


def censored_draws(inputs, seed: int, n: int) -> CensoredDraws:
    """Censored concentrations per draw: the site-biomarker series' censored log-normal
    (:func:`wbe.censoring.censored_lognormal_fit`) truncated at the LOQ, or uniform on
    (0, LOQ) with too few quantified values; keyed by (seed, "censored_concentration",
    (site, biomarker)) with the day in the stream position (:func:`wbe._draws.day_uniforms`). The
    fit uses the whole series of the call."""
    from wbe.censoring import censored_lognormal_fit, draw_censored_concentrations

    cens = inputs.censored
    rows = np.flatnonzero(cens)
    mu = np.full(len(rows), np.nan)
    sigma = np.full(len(rows), np.nan)
    series = inputs.s_idx * len(inputs.biomarker) + inputs.b_idx
    for key in np.unique(series[rows]):
        members = series == key
        fit = censored_lognormal_fit(np.where(cens[members], np.nan, inputs.conc[members]),
                                     cens[members], inputs.loq[members])
        if fit is not None:
            mu[series[rows] == key], sigma[series[rows] == key] = fit
    u = np.empty((len(rows), n))
    days = _draws.day_numbers(inputs.date)
    for key in np.unique(series[rows]):  # one stream per (site, biomarker), days in its position
        members = np.flatnonzero(series[rows] == key)
        r = rows[members]
        scope = (inputs.site[inputs.s_idx[r[0]]], inputs.biomarker[inputs.b_idx[r[0]]])
        u[members] = _draws.day_uniforms(seed, "censored_concentration", scope,
                                         days[inputs.t_idx[r]], n)
    np.maximum(u, np.finfo(float).tiny, out=u)
    loq = inputs.loq[rows]
    fraction = draw_censored_concentrations(loq, u, mu, sigma) / loq[:, None]
    position = np.full(len(cens), -1)
    position[rows] = np.arange(len(rows))
    return CensoredDraws(position, fraction, mu, sigma)


def _day_grid(seed, component, scopes, days, mask, n, out, normal, scale=1.0) -> None:
    """Fill ``out[idx]`` (shape ``(n_dates, n)``) with the day-layout draws of each scope
    (:func:`wbe._draws.day_normals`; normals times ``scale``, folded into the ziggurat the
    same way on every path): ``scopes`` maps an index of ``out`` to the scope's identity;
    ``days`` are day numbers (:func:`wbe._draws.day_numbers`); only the days where
    ``mask[idx]`` is true are drawn."""
    if normal and mask.all() and list(scopes) == list(np.ndindex(mask.shape[:-1])):
        # every scope on every day, in the order of ``out``: one call, straight into it
        _draws.day_normals_scopes(seed, component, list(scopes.values()), days, n,
                                  out=out.reshape(-1, len(days), n), scale=scale)
        return

    def fill(scope, at, target=None):
        if not normal:
            return _draws.day_uniforms(seed, component, scope, at, n, out=target)
        target = None if target is None else target[None]
        return _draws.day_normals_scopes(seed, component, [scope], at, n, out=target,
                                         scale=scale)[0]

    for idx, scope in scopes.items():
        m = mask[idx]
        if m.all():
            fill(scope, days, out[idx])
        elif m.any():
            out[idx][m] = fill(scope, days[m])


def _inverse_error_log(dist, seed, component, scopes, days, mask, n) -> np.ndarray:
    """log(1/epsilon) draws of an error factor, shape ``(*mask.shape, n)`` (0 where the mask
    is false), keyed per scope with the day in the stream position."""
    out = np.zeros((*mask.shape, n))
    ln = lognormal_params(dist)
    if ln is not None:
        mu, sigma = ln
        if sigma == 0:
            out[mask] = -mu
            return out
        _day_grid(seed, component, scopes, days, mask, n, out, normal=True, scale=-sigma)
        if mask.all():
            out -= mu
        else:
            out[mask] -= mu
        return out
    _day_grid(seed, component, scopes, days, mask, n, out, normal=False)
    out[mask] = -np.log(dist.ppf(out[mask]))
    return out


def _montecarlo(inputs, sel, glob, meas, pop, rt_spec, non_abuse, seed, n, cens=None,
                tsel=None) -> xr.Dataset:
    """Monte Carlo draws for the sites ``sel`` (and dates ``tsel``, default all), computed in
    (site, date, biomarker, draw)."""
    if tsel is None:
        tsel = np.arange(len(inputs.date))
    n_s, n_t, n_b = len(sel), len(tsel), len(inputs.biomarker)
    pos = np.full(len(inputs.site), -1)
    pos[sel] = np.arange(n_s)
    tpos = np.full(len(inputs.date), -1)
    tpos[tsel] = np.arange(n_t)
    rows = np.flatnonzero((pos[inputs.s_idx] >= 0) & (tpos[inputs.t_idx] >= 0))
    si, ti, bi = pos[inputs.s_idx[rows]], tpos[inputs.t_idx[rows]], inputs.b_idx[rows]
    dates = inputs.date[tsel]
    days = _draws.day_numbers(dates)  # [day since 1970-01-01], in the draws' position
    sites = [inputs.site[i] for i in sel]
    bios = inputs.biomarker
    present = np.zeros((n_s, n_t, n_b), dtype=bool)
    present[si, ti, bi] = True
    cells = np.flatnonzero(present.ravel())  # row-major order of the grid
    cs = np.unravel_index(cells, present.shape)[0]
    # Streams keyed by (site, biomarker), the day and draw in their position (wbe._draws).
    scopes = {(a, c): (sites[a], bios[c]) for a in range(n_s) for c in range(n_b)}
    sd_present = present.any(axis=2)
    mask_sb = present.transpose(0, 2, 1)  # (site, biomarker, date)

    # flow error per site-day, shared by all biomarkers of the day
    log_f = _inverse_error_log(meas["flow"], seed, "flow",
                               {(a,): (sites[a],) for a in range(n_s)}, days, sd_present, n)
    var_f = log_f.var(axis=2)
    # load [mg/day] = C Q 1e-3 / (eps_s eps_a eps_Q), at the measured values
    conc = np.full((n_s, n_t, n_b), np.nan)
    conc[si, ti, bi] = inputs.conc[rows]
    base = _chain.mass_load(conc, inputs.flow[np.ix_(sel, tsel)][:, :, None])

    # log(1/error) of sampling x analysis per sample, written straight into the grid
    work = np.empty((n_s, n_t, n_b, n))
    by_scope = work.transpose(0, 2, 1, 3)  # views (date, draw) per (site, biomarker)
    if len(cells) < present.size:
        work[~present] = np.nan
    samp = meas["sampling"]  # one distribution, or one per site (sampling_mode)
    site_ln = ([lognormal_params(samp[i]) for i in sel] if isinstance(samp, list)
               else [lognormal_params(samp)] * len(sel))
    ln_a = lognormal_params(meas["chemical_analysis"])
    in_cache = False  # True: each site's block already turned into loads, while in cache
    if all(p is not None for p in site_ln) and ln_a is not None:
        mu_site = np.array([p[0] for p in site_ln] or [0.0]) + ln_a[0]
        sig_site = np.array([p[1] for p in site_ln] or [0.0])
        sig = np.hypot(sig_site, ln_a[1])  # per site
        log_f -= mu_site[:, None, None]  # log(1/eps_Q) - mu_s - mu_a, per site-day and draw
        var_s, var_a = (sig_site ** 2)[cs], ln_a[1] ** 2
        if (sig > 0).any():
            # One site at a time, all biomarkers at once (days of the site with any sample;
            # cells without a sample get NaN from the NaN load), turned into loads at once:
            # log(1/eps_s eps_a) = -sigma z - mu, plus the flow term, exp, times C Q 1e-3.
            for a in range(n_s):
                m = np.flatnonzero(sd_present[a])
                if len(m) == 0:
                    continue
                dense = len(m) == n_t
                at = slice(None) if dense else m
                z = _draws.day_normals_scopes(seed, "measurement",
                                              [(sites[a], b) for b in bios], days[at], n,
                                              out=by_scope[a] if dense else None,
                                              scale=-sig[a])
                z += log_f[a, at][None]
                np.exp(z, out=z)
                z *= base[a, at].T[:, :, None]
                if not dense:
                    by_scope[a][:, m] = z
            in_cache = True
        else:
            work[present] = 0.0
    else:
        if isinstance(samp, list):
            raise InputError("a non-log-normal sampling error must be given in "
                             "uncertainty={'sampling': ...} for every site")
        ls = _inverse_error_log(samp, seed, "sampling", scopes, days, mask_sb, n)
        la = _inverse_error_log(meas["chemical_analysis"], seed, "chemical_analysis", scopes,
                                days, mask_sb, n)
        var_s = ls.var(axis=-1).transpose(0, 2, 1).ravel()[cells]
        var_a = la.var(axis=-1).transpose(0, 2, 1).ravel()[cells]
        ls += la
        by_scope[...] = ls
        work[~present] = np.nan
    if not in_cache:
        work += log_f[:, :, None, :]
        np.exp(work, out=work)
        work *= base[..., None]
    load = work
    # censored samples: the load at the LOQ times each draw's fraction of the LOQ
    var_c = 0.0
    if cens is not None:
        crow = cens.position[rows]
        hit = crow >= 0
        if hit.any():
            frac = cens.fraction[crow[hit]]
            load[si[hit], ti[hit], bi[hit]] *= frac
            var_c = np.zeros(shape=(n_s, n_t, n_b))
            with np.errstate(divide="ignore"):
                var_c[si[hit], ti[hit], bi[hit]] = np.log(frac).var(axis=1)

    # globals (biomarker, draw) and per-site (site, draw)
    cf = _cf_draws(glob.cf, seed, bios, n)

    def per_biomarker(dists, component):
        return _draws.keyed_draws_each(dists, seed, component, [(b,) for b in bios], n)

    half = per_biomarker(glob.half_life, "half_life")
    dose = per_biomarker(glob.dose, "typical_dose")
    ndose = per_biomarker(glob.n_doses, "doses_per_user_per_day")
    popd = _draws.keyed_draws_each([pop[i] for i in sel], seed, "population",
                                   [(inputs.site[i],) for i in sel], n)
    rt = np.repeat(inputs.residence_h[sel][:, None], n, axis=1)
    if rt_spec is not None:
        rt = rt * _draws.keyed_draws(rt_spec, seed, "residence_time", [(s,) for s in sites], n)

    cons_load = _subtract_non_abuse(load, bios, non_abuse) if non_abuse else load
    # The chain of wbe.chain, evaluated on a unit load at shape (site, biomarker, draw) and
    # then scaled by the load of each cell: every step is linear in the load, so this is
    # the composition consumption(stability_correction(L, t_half, t), CF), per_1000, doses,
    # users, prevalence, with one multiplication per output value.
    with np.errstate(divide="ignore", invalid="ignore"):
        stab = _chain.stability_factor(half[None, :, :], rt[:, None, :])  # (site, bio, draw)
        pop3 = popd[:, None, :]
        to_cons = _chain.consumption(stab, cf[None, :, :])
        to_per1000 = _chain.per_1000(to_cons, pop3)
        to_doses = _chain.doses(to_per1000, dose[None, :, :])
        to_users = _chain.users(to_cons, dose[None, :, :], ndose[None, :, :])
        cons = cons_load * to_cons[:, None, :, :]
        per1000 = cons_load * to_per1000[:, None, :, :]
        dpk = cons_load * to_doses[:, None, :, :]
        usr = cons_load * to_users[:, None, :, :]

    dims = ("site", "date", "biomarker", "draw")
    data = {
        "load_mg_per_day": (dims, load),
        "consumption_mg_per_day": (dims, cons),
        "consumption_mg_per_day_per_1000": (dims, per1000),
        "doses_per_day_per_1000": (dims, dpk),
        "users": (dims, usr),
    }
    if np.isfinite(inputs.reference_fraction).any():
        ref = inputs.reference_fraction[sel]
        with np.errstate(invalid="ignore"):
            to_prev = _chain.prevalence(to_users, pop3, ref[:, None, None])
            data["prevalence"] = (dims, cons_load * to_prev[:, None, :, :])

    # log-scale variance of each component's factor, per cell
    shape = (n_s, n_t, n_b)
    with np.errstate(invalid="ignore", divide="ignore"):
        v_stab = np.log(stab).var(axis=2)[:, None, :]
        logvar = {
            "sampling": var_s, "chemical_analysis": var_a, "censoring": var_c,
            "flow": var_f[:, :, None],
            "population": np.log(popd).var(axis=1)[:, None, None],
            "residence_time": v_stab if rt_spec is not None else 0.0,
            "correction_factor": np.log(cf).var(axis=1)[None, None, :],
            "half_life": 0.0 if rt_spec is not None else v_stab,
            "typical_dose": np.log(dose).var(axis=1)[None, None, :],
            "doses_per_user_per_day": np.log(ndose).var(axis=1)[None, None, :],
        }
    comps = list(COMPONENTS)
    lv = np.empty((len(comps), *shape))
    for k, c in enumerate(comps):
        value = logvar[c]
        if np.ndim(value) == 1:  # per present cell
            lv[k] = np.nan
            lv[k].reshape(-1)[cells] = value
        else:
            lv[k] = value
    lv[:, ~present] = np.nan
    data["log_variance"] = (("component", "site", "date", "biomarker"), lv)
    return xr.Dataset(data, coords={"site": sites, "date": dates, "biomarker": bios,
                                    "draw": np.arange(n), "component": comps})


def _chunk_sizes(chunks, n_sites: int, n_dates: int) -> tuple[int, int]:
    """``chunks=`` (sites per chunk, or a mapping with ``site`` and/or ``date``) -> sizes."""
    if isinstance(chunks, Mapping):
        unknown = set(chunks) - {"site", "date"}
        if unknown:
            raise unknown_name_error("chunk dimension", sorted(map(str, unknown))[0],
                                     ["site", "date"])
        size = {"site": chunks.get("site", n_sites), "date": chunks.get("date", n_dates)}
    else:
        size = {"site": chunks, "date": n_dates}
    out = []
    for dim, full in (("site", n_sites), ("date", n_dates)):
        value = size[dim]
        if value in (-1, None):
            value = full
        if not (isinstance(value, int | np.integer) and not isinstance(value, bool)
                and value >= 1):
            raise InputError(f"chunks: {dim} chunk size must be a positive integer (or -1 "
                             f"for one chunk), got {value!r}", column="chunks")
        out.append(int(value))
    return out[0], out[1]


def _montecarlo_block(inputs, sel, tsel, args) -> xr.Dataset:
    return _montecarlo(inputs, sel, *args, tsel=tsel)


def _lazy_montecarlo(inputs: Inputs, chunks, args) -> xr.Dataset:
    """Dask-backed draws, one delayed Monte Carlo computation per (site, date) block."""
    try:
        import dask
        import dask.array as dsa
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError("chunks= needs dask: pip install 'wbe-drugs[dask]'") from None
    n_sites, n_dates = len(inputs.site), len(inputs.date)
    chunk_sites, chunk_dates = _chunk_sizes(chunks, n_sites, n_dates)
    n_b, n = len(inputs.biomarker), args[6]
    names = [v for v in VARIABLES if v != "prevalence"]
    if np.isfinite(inputs.reference_fraction).any():
        names.append("prevalence")
    site_starts = range(0, n_sites, chunk_sites)
    date_starts = range(0, n_dates, chunk_dates)
    # Shared inputs enter the graph once (one key each, not hashed or copied per block).
    shared = dask.delayed(inputs, traverse=False)
    shared_args = dask.delayed(args, traverse=False)
    token = dask.base.tokenize(shared.key, shared_args.key)
    grid = {name: [] for name in [*names, "log_variance"]}
    for start in site_starts:
        sel = np.arange(start, min(start + chunk_sites, n_sites))
        row = {name: [] for name in grid}
        for tstart in date_starts:
            tsel = np.arange(tstart, min(tstart + chunk_dates, n_dates))
            block = dask.delayed(_montecarlo_block)(
                shared, sel, tsel, shared_args,
                dask_key_name=f"wbe-montecarlo-{token}-{start}-{tstart}")
            for name in names:
                row[name].append(dsa.from_delayed(block[name].data,
                                                  shape=(len(sel), len(tsel), n_b, n),
                                                  dtype=float))
            row["log_variance"].append(dsa.from_delayed(
                block["log_variance"].data, shape=(len(COMPONENTS), len(sel), len(tsel), n_b),
                dtype=float))
        for name in grid:
            grid[name].append(row[name])
    data = {}
    for name in names:
        data[name] = (("site", "date", "biomarker", "draw"), dsa.block(
            [[[[b]] for b in r] for r in grid[name]]))
    lv = dsa.concatenate([dsa.concatenate(r, axis=2) for r in grid["log_variance"]], axis=1)
    data["log_variance"] = (("component", "site", "date", "biomarker"), lv)
    return xr.Dataset(data, coords={"site": inputs.site, "date": inputs.date,
                                    "biomarker": inputs.biomarker, "draw": np.arange(n),
                                    "component": list(COMPONENTS)})


#: non-abuse correction -> (biomarker corrected, biomarker whose load is subtracted)
_NON_ABUSE_PAIRS = {"amphetamine_from_methamphetamine": ("amphetamine", "methamphetamine"),
                    "morphine_from_codeine": ("morphine", "codeine")}


def resolve_non_abuse(non_abuse, bios: list[str], method: str) -> dict:
    """``non_abuse=`` -> the corrections to apply. ``"default"``: every correction with a
    cited default ratio whose biomarkers are both present (amphetamine from
    methamphetamine), and a warning naming each drug whose non-abuse share is assumed to be
    zero; ``None`` or ``{}``: none, silently (the explicit opt-out); a mapping: as given."""
    import warnings

    from wbe.errors import WBEWarning

    if non_abuse is None:
        return {}
    if isinstance(non_abuse, Mapping):
        return dict(non_abuse)
    if non_abuse != "default":
        raise unknown_name_error("non_abuse", non_abuse, ["default", "None", "a mapping"])
    out = {}
    notes = []
    if "amphetamine" in bios:
        if "methamphetamine" in bios:
            out["amphetamine_from_methamphetamine"] = None  # cited default ratio
        else:
            notes.append("amphetamine: no methamphetamine measured, so all amphetamine is "
                         "attributed to amphetamine use (none to methamphetamine metabolism)")
    if "morphine" in bios:
        notes.append("morphine: no cited default ratio for morphine from codeine or "
                     "therapeutic morphine, so all morphine is attributed to heroin use; pass "
                     "non_abuse={'morphine_from_codeine': ratio} for your setting")
    if out and method == "analytic":
        raise InputError("method='analytic' cannot subtract the default non-abuse correction "
                         "(amphetamine from methamphetamine); pass non_abuse=None to "
                         "attribute all amphetamine to amphetamine use, or use "
                         "method='montecarlo'", column="non_abuse")
    for note in notes:
        warnings.warn(f"non-abuse sources: {note} (non_abuse=None silences this by opting "
                      "out of every non-abuse correction)", WBEWarning, stacklevel=4)
    return out


def _check_non_abuse(non_abuse, bios) -> None:
    """Refuse unknown corrections and a missing codeine ratio before any draw is made
    (on the lazy path :func:`_subtract_non_abuse` only runs when a block is computed)."""
    for name in non_abuse:
        if name not in _NON_ABUSE_PAIRS:
            raise unknown_name_error("non-abuse correction", name, _NON_ABUSE_PAIRS)
    ratio = non_abuse.get("morphine_from_codeine", 0.0)
    if ratio is None and all(b in bios for b in _NON_ABUSE_PAIRS["morphine_from_codeine"]):
        raise InputError("morphine_from_codeine needs an explicit ratio (no default)")


def _subtract_non_abuse(load, bios, non_abuse):
    """Subtract the non-abuse loads (``non_abuse`` checked by :func:`_check_non_abuse`)."""
    out = load.copy()
    for name, ratio in non_abuse.items():
        target, source = _NON_ABUSE_PAIRS[name]
        if target not in bios or source not in bios:
            continue
        if ratio is None:
            ratio = _chain.AMP_METH_RATIO_DEFAULT
        jt, js = bios.index(target), bios.index(source)
        src = load[:, :, js, :]
        has = np.isfinite(src)
        if target == "amphetamine":
            corrected = _chain.amphetamine_from_methamphetamine(load[:, :, jt, :], src, ratio)
        else:
            corrected = _chain.heroin_related_morphine(load[:, :, jt, :], src,
                                                       codeine_to_morphine_ratio=ratio)
        out[:, :, jt, :] = np.where(has, corrected, load[:, :, jt, :])
    return out


def _analytic(inputs, glob, meas, pop, rt_spec, non_abuse) -> xr.Dataset:
    if non_abuse:
        raise InputError("method='analytic' cannot subtract non-abuse sources (a difference of "
                         "log-normals is not log-normal); use method='montecarlo'")
    bad = []
    params = {}
    for c in MEASUREMENT:
        if isinstance(meas[c], list):  # per site (sampling_mode)
            per_site = [lognormal_params(d) for d in meas[c]]
            params[c] = None if any(p is None for p in per_site) else (
                np.array([p[0] for p in per_site])[inputs.s_idx],
                np.array([p[1] for p in per_site])[inputs.s_idx])
        else:
            params[c] = lognormal_params(meas[c])
        if params[c] is None:
            bad.append(c)
    pop_ln = [lognormal_params(p) for p in pop]
    if any(p is None for p in pop_ln):
        bad.append("population")
    cf_ln = []
    for options in glob.cf:
        if len(options) > 1:  # a mixture of parameter sets is not log-normal
            cf_ln.append(None)
            continue
        spec = options[0][1]
        e = lognormal_params(spec.distribution)
        if spec.source == "correction_factor" or e is None:
            cf_ln.append(e)
        else:  # log CF = log(M_parent/M_biomarker) - log f
            cf_ln.append((math.log(spec.molar_mass_ratio) - e[0], e[1]))
    if any(p is None for p in cf_ln):
        bad.append("correction_factor")
    dose_ln = [lognormal_params(d) if not (isinstance(d, float) and math.isnan(d))
               else (math.nan, 0.0) for d in glob.dose]
    if any(p is None for p in dose_ln):
        bad.append("typical_dose")
    nd_ln = [lognormal_params(d) if not (isinstance(d, float) and math.isnan(d))
             else (math.nan, 0.0) for d in glob.n_doses]
    if any(p is None for p in nd_ln):
        bad.append("doses_per_user_per_day")
    if any(hasattr(h, "ppf") for h in glob.half_life) or rt_spec is not None:
        bad.append("half_life/residence_time")
    if bad:
        raise InputError("method='analytic' needs every uncertain component to be log-normal "
                         f"(or fixed); not log-normal: {', '.join(bad)}. Pass log-normal "
                         "distributions in `uncertainty=` or use method='montecarlo'")
    si, ti, bi = inputs.s_idx, inputs.t_idx, inputs.b_idx
    n_s, n_t, n_b = len(inputs.site), len(inputs.date), len(inputs.biomarker)
    mu = {c: -params[c][0] for c in MEASUREMENT}  # log(1/eps)
    var = {c: params[c][1] ** 2 for c in MEASUREMENT}
    half = np.array([float(h) for h in glob.half_life])
    cf_mu, cf_var = np.array([p[0] for p in cf_ln]), np.array([p[1] ** 2 for p in cf_ln])
    p_mu, p_var = np.array([p[0] for p in pop_ln]), np.array([p[1] ** 2 for p in pop_ln])
    d_mu, d_var = np.array([p[0] for p in dose_ln]), np.array([p[1] ** 2 for p in dose_ln])
    n_mu, n_var = np.array([p[0] for p in nd_ln]), np.array([p[1] ** 2 for p in nd_ln])
    # medians through the log-space twins of wbe.chain; variances add (independent factors)
    with np.errstate(divide="ignore"):
        log_load = _chain.log_mass_load(np.log(inputs.conc), np.log(inputs.flow[si, ti]))
    mu_load = log_load + sum(mu.values())
    v_load = np.zeros(len(si)) + sum(var.values())
    log_stab = _chain.log_stability_factor(half[bi], inputs.residence_h[si])
    mu_cons = _chain.log_consumption(mu_load + log_stab, cf_mu[bi])
    v_cons = v_load + cf_var[bi]
    mu_k = _chain.log_per_1000(mu_cons, p_mu[si])
    v_k = v_cons + p_var[si]
    mu_d, v_d = _chain.log_doses(mu_k, d_mu[bi]), v_k + d_var[bi]
    mu_u = _chain.log_users(mu_cons, d_mu[bi], n_mu[bi])
    v_u = v_cons + d_var[bi] + n_var[bi]
    out = {"load_mg_per_day": (mu_load, v_load), "consumption_mg_per_day": (mu_cons, v_cons),
           "consumption_mg_per_day_per_1000": (mu_k, v_k), "doses_per_day_per_1000": (mu_d, v_d),
           "users": (mu_u, v_u)}
    if np.isfinite(inputs.reference_fraction).any():
        ref = inputs.reference_fraction
        out["prevalence"] = (_chain.log_prevalence(mu_u, p_mu[si], np.log(ref[si])),
                             v_u + p_var[si])

    def grid(values):
        g = np.full((n_s, n_t, n_b), np.nan)
        g[si, ti, bi] = values
        return g

    dims = ("site", "date", "biomarker")
    data = {}
    for name, (m, v) in out.items():
        data[name] = (dims, grid(np.exp(m)))
        data[f"{name}_log_sd"] = (dims, grid(np.sqrt(v)))
    comps = list(COMPONENTS)
    lv = {c: np.zeros(len(si)) for c in comps}
    lv.update({c: np.zeros(len(si)) + var[c] for c in MEASUREMENT})
    lv["correction_factor"], lv["population"] = cf_var[bi], p_var[si]
    lv["typical_dose"], lv["doses_per_user_per_day"] = d_var[bi], n_var[bi]
    data["log_variance"] = (("component", *dims), np.stack([grid(lv[c]) for c in comps]))
    return xr.Dataset(data, coords={"site": inputs.site, "date": inputs.date,
                                    "biomarker": inputs.biomarker, "component": comps})


@cache
def _package_versions() -> dict[str, str]:
    """Installed versions of the numeric stack, for the provenance (cached: reading package
    metadata costs milliseconds per package)."""
    import importlib.metadata as md

    versions = {}
    for pkg in ("numpy", "scipy", "pandas", "xarray"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:  # pragma: no cover
            versions[pkg] = "unknown"
    return versions


def _finish(ds, inputs, glob, meas, pop, rt, sources, seed, censoring, method, draws,
            non_abuse, cens_draws=None):
    import wbe

    n_s, n_t, n_b = len(inputs.site), len(inputs.date), len(inputs.biomarker)
    si, ti, bi = inputs.s_idx, inputs.t_idx, inputs.b_idx
    conc = np.full((n_s, n_t, n_b), np.nan)
    conc[si, ti, bi] = inputs.conc
    loq = np.full((n_s, n_t, n_b), np.nan)
    loq[si, ti, bi] = inputs.loq
    cens = np.zeros((n_s, n_t, n_b), dtype=bool)
    cens[si, ti, bi] = inputs.censored
    dims = ("site", "date", "biomarker")
    if censoring == "draw":
        conc[cens] = np.nan
        conc_note = "measured concentration; NaN where censored (drawn below the LOQ per draw)"
        cens_note = ("value was below LOQ/LOD: its concentration is drawn per draw "
                     "(wbe.censoring.draw_censored_concentrations)")
    else:
        conc_note = f"concentration after substitution of censored values ({censoring})"
        cens_note = f"value was below LOQ/LOD and substituted ({censoring})"
    n_substituted = np.bincount(bi[inputs.censored], minlength=n_b)
    # one assign per group of variables (each xarray assignment is a merge of the Dataset)
    ds = ds.assign({
        "concentration_ng_per_l": (dims, conc, {"units": "ng/L", "long_name": conc_note}),
        "loq_ng_per_l": (dims, loq, {"units": "ng/L"}),
        "censored": (dims, cens, {"long_name": cens_note}),
        "flow_m3_per_day": (("site", "date"), inputs.flow, {"units": "m3/day"}),
        "population": (("site",), inputs.population, {"units": "inhabitants"}),
        "n_substituted": (("biomarker",), n_substituted,
                          {"long_name": f"censored values (treatment: {censoring})"}),
    })
    if cens_draws is not None:
        rows = np.flatnonzero(inputs.censored)
        ds = ds.assign_coords(
            censored_site=("censored_sample", np.asarray(inputs.site)[si[rows]]),
            censored_date=("censored_sample", inputs.date[ti[rows]]),
            censored_biomarker=("censored_sample", np.asarray(inputs.biomarker)[bi[rows]]))
        ds = ds.assign({
            "censored_fraction_of_loq": (("censored_sample", "draw"), cens_draws.fraction, {
                "units": "1",
                "long_name": "drawn concentration / LOQ of each censored sample"}),
            "censored_fit_mu_log": (("censored_sample",), cens_draws.mu_log, {
                "long_name": "log-normal fitted to the site-biomarker series (NaN: uniform)"}),
            "censored_fit_sigma_log": (("censored_sample",), cens_draws.sigma_log),
        })
    sets = [" | ".join(f"{name} {w:.3g}" if len(options) > 1 else name
                       for w, _, name in options) for options in glob.cf]
    ds = ds.assign_coords(
        drug=("biomarker", glob.drug),
        parameter_sets=("biomarker", sets, {
            "long_name": "parameter set(s) of the correction factor, with weights for a "
                         "mixture"}),
        conditional_on_one_set=("biomarker", [len(o) == 1 for o in glob.cf], {
            "long_name": "True: the interval is conditional on one published parameter set "
                         "(the disagreement between sets is not in it)"}))
    variables = ds.variables  # their attrs, without building a DataArray per variable
    for name, (units, comps) in VARIABLES.items():
        if name in variables:
            variables[name].attrs.update({"units": units,
                                          "uncertainty_components": " ".join(comps)})
        if f"{name}_log_sd" in variables:
            variables[f"{name}_log_sd"].attrs.update({"units": "1",
                                                      "long_name": f"sd of log({name})"})
    variables["log_variance"].attrs.update({"units": "1", "long_name": "variance of the log of "
                                            "each component's factor (share: "
                                            "wbe.uncertainty_budget)"})
    if np.isnan(np.asarray([float(x) if not hasattr(x, "ppf") else 0.0
                            for x in glob.n_doses])).any():
        variables["users"].attrs["note"] = ("NaN where the parameter set gives no "
                                            "doses_per_user_per_day; pass it in uncertainty=")
    versions = {"wbe": wbe.__version__, **_package_versions()}
    comps = {
        "sampling": ({s: f"{m}: {describe(d)}" for s, m, d in zip(
            inputs.site, inputs.sampling_mode, meas["sampling"], strict=True)}
            if isinstance(meas["sampling"], list) else describe(meas["sampling"])),
        "chemical_analysis": describe(meas["chemical_analysis"]),
        "flow": describe(meas["flow"]),
        "population": {s: describe(p) for s, p in zip(inputs.site, pop, strict=True)},
        "population_method": dict(zip(inputs.site, inputs.population_method, strict=True)),
        "residence_time": describe(rt),
        "parameters": glob.described,
    }
    ds.attrs.update({
        "title": "wastewater back-calculation (wbe.back_calculate)",
        "parameter_set": sources.name,
        "dose_parameter_set": sources.primary_name,  # where typical doses come from
        "seed": str(seed),
        "method": method,
        "draws": int(draws) if method == "montecarlo" else 0,
        "censoring": censoring,
        "n_substituted": json.dumps(dict(zip(inputs.biomarker, n_substituted.tolist(),
                                             strict=True))),
        "non_abuse": json.dumps(dict(non_abuse or {})),
        "versions": json.dumps(versions),
        "component_scopes": json.dumps(COMPONENTS),
        "component_distributions": json.dumps(comps),
        "error_convention": "measured = true x factor; back-calculation divides by the factor",
    })
    return ds



def run(inputs, *, parameters, draws, seed, method, censoring, uncertainty, chunks,
        non_abuse) -> xr.Dataset:
    """Everything after input validation: parameters, draws (or closed form), provenance."""
    non_abuse = resolve_non_abuse(non_abuse, inputs.biomarker, method)
    sources = parameter_sources(parameters)
    glob = build_globals(sources, inputs.biomarker, uncertainty)
    spec = measurement_defaults()
    meas = {c: (1.0 if uncertainty[c] is None else uncertainty[c]) if c in uncertainty
            else spec[c] for c in MEASUREMENT}
    if "sampling" not in uncertainty:  # per site, from its sampling mode
        meas["sampling"] = [spec["sampling_by_mode"][m] for m in inputs.sampling_mode]
    pop = population_dists(inputs, uncertainty, [spec["population_cv_by_method"][m]
                                                  for m in inputs.population_method])
    rt = uncertainty.get("residence_time")

    cens = None
    if method == "analytic":
        if censoring == "draw" and inputs.censored.any():
            raise InputError("method='analytic' cannot draw censored concentrations; pass a "
                             "substitution policy (e.g. censoring='loq/2') or use "
                             "method='montecarlo'", column="censored")
        ds = _analytic(inputs, glob, meas, pop, rt, non_abuse)
    else:
        if non_abuse:
            _check_non_abuse(non_abuse, inputs.biomarker)
        if censoring == "draw" and inputs.censored.any():
            cens = censored_draws(inputs, seed, int(draws))
        args = (glob, meas, pop, rt, non_abuse, seed, int(draws), cens)
        if chunks is not None and chunks is not False:
            ds = _lazy_montecarlo(inputs, chunks, args)
        else:
            ds = _montecarlo(inputs, np.arange(len(inputs.site)), *args)
    return _finish(ds, inputs, glob, meas, pop, rt, sources, seed, censoring, method,
                   draws, non_abuse, cens)

