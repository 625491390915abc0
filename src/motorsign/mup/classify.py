"""Muscle classification from its MUPs: neurogenic, myopathic, normal, indeterminate.

Reference values (``data/mup_reference.md``) describe the **muscle mean** of
MUP features in control subjects, each mean taken over about
``n_units_per_subject`` (20) MUPs. A muscle examined with fewer units has a
noisier mean, so comparing it with the reference limits as they stand is a
knife edge: four normal units fall below a lower limit by chance. The rules
below are therefore tests, with the sample size in them.

1. **Quality gate** → ``indeterminate`` with the reason when: clipping covers
   more than ``max_clipped_fraction`` of the recording; voluntary activity
   lasts less than ``min_active_s``; fewer than ``min_total_discharges``
   discharges were sorted; fewer than ``min_units`` measurable units were
   found.
2. **Mean tests** (duration, amplitude, area). With the reference mean ``μ``
   and SD of subject means ``σ_ref`` (for a row that gives only limits:
   ``μ`` = their midpoint and ``σ_ref`` = their distance / (2·``z_crit``)),
   the SD of the mean of ``n`` units is widened for the missing units:
   ``σ_n² = σ_ref² + s²·max(0, 1/n − 1/n_ref)``, where ``n_ref`` is
   ``n_units_per_subject`` and ``s = unit_cv · μ`` the spread of single
   MUPs in a normal muscle (the null hypothesis; the spread observed in the
   muscle is reported but not used, so that a diseased muscle's
   heterogeneous units do not widen its own limits). The measure is
   high (low) when ``z = (mean − μ) / σ_n`` is above ``z_crit`` (below
   ``−z_crit``). With ``n ≥ n_ref`` the limits are the source's own
   (mean ± 2 SD).
3. **Outliers** (neurogenic side): single MUPs above the single-MUP
   amplitude limit ``unit_amplitude_uln_uv`` are counted; at least
   ``min_outliers`` of them and more than the ``outlier_rate`` expected in
   normal muscle by a one-sided binomial test at ``alpha`` make the
   amplitude high. Units longer than ``unit_duration_uln_ms`` are counted and
   reported only (single-template durations are noise-sensitive). Low-side
   outliers are not used: small units far from the needle also measure
   short and small.
4. **Distance**: units judged ``distant`` (rise time) enter every test except
   the low-amplitude one (amplitude falls steeply with distance; duration
   much less): low amplitude is tested on the near units only, and not at all
   with fewer than ``min_units`` near units (stated in the reasons).
5. **Polyphasia**: the fraction above ``polyphasic_uln_pct`` is a supporting
   sign; a fraction significantly above it (binomial test at ``alpha``) is
   *marked* polyphasia.
6. Decision: short duration with high amplitude → indeterminate
   (conflicting). Long duration with *low* amplitude (significantly low, or
   a near-unit mean below the reference mean by more than
   ``incongruent_amplitude_z``) is not the enlarged
   unit of chronic reinnervation: with polyphasia above the limit and no
   reduced recruitment it is the chronic myopathic pattern (long, small,
   polyphasic units with satellites, as in chronic myositis) → myopathic;
   otherwise indeterminate. Else an abnormal duration decides. With a normal
   duration, an abnormal amplitude decides only together with a supporting
   sign: for neurogenic, a high mean area, reduced recruitment (recruitment
   ratio > ``recruitment_ratio_upper``) or polyphasia above the limit; for
   myopathic, polyphasia above the limit. Marked polyphasia with otherwise
   normal figures is not normal and not specific → indeterminate. Else
   normal — except with the coarse fallback row (no reference values for the
   muscle), where figures inside its wide limits give ``indeterminate``
   (``fallback_normal``); below ``n_ref`` units the reasons say that the
   limits were widened and the confidence is ``reduced``. Reduced
   recruitment with otherwise normal figures is not normal either: loss of
   motor units without the MUP change of chronic reinnervation →
   indeterminate (``recruitment_alone_normal``).
7. **Band limit** (recordings sampled below ``band_limited_below_hz``,
   10 kHz): the anti-alias filter has removed the MUP spikes' upper band,
   which lowers peak-to-peak amplitudes against reference values measured
   on a wide band (duration and area change little). The decision is made
   again with every amplitude divided by ``1 − band_limited_amplitude_loss``;
   a verdict that changes (e.g. normal as measured, neurogenic with the
   loss allowed for; or myopathic resting on a low amplitude, normal with
   it) is not decidable from the recording → indeterminate with both
   readings in the reasons.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from motorsign.mup.params import MupParams

__all__ = ["classify_muscle", "assess_muscle", "ClassifyRules", "mean_test", "binom_sf", "CLASSES"]

CLASSES = ("neurogenic", "myopathic", "normal", "indeterminate")


@dataclass(frozen=True)
class ClassifyRules:
    """Statistical settings of the classification (see the module docstring).

    Attributes
    ----------
    z_crit : float
        A muscle mean is abnormal beyond ``z_crit`` widened SDs of the
        reference mean (2: the sources' mean ± 2 SD limits).
    alpha : float
        One-sided significance of the binomial tests (outliers, marked
        polyphasia).
    outlier_rate : float
        Fraction of single normal MUPs expected above a single-MUP upper limit.
    min_outliers : int
        Amplitude outliers count only when at least this many units exceed
        the limit (and the binomial test is significant).
    incongruent_amplitude_z : float
        A long mean duration whose near units' mean amplitude lies below the
        reference mean by more than this many widened SDs (z below it), yet
        not significantly low, is not the enlarged unit of reinnervation:
        it is treated like long duration with low amplitude.
    fallback_normal : bool
        With the coarse ``*`` fallback row (no reference values for the
        muscle), figures inside its wide limits give ``indeterminate`` (the
        limits cannot show a mild or moderate change) unless this is True,
        when they give ``normal``.
    recruitment_alone_normal : bool
        Reduced recruitment (recruitment ratio above
        ``MupParams.recruitment_ratio_upper``) with MUP figures inside the
        limits gives ``indeterminate`` (loss of motor units without the MUP
        change of chronic reinnervation) unless this is True, when it gives
        ``normal`` as before.
    band_limited_below_hz : float
        A recording sampled below this rate (Hz) has lost the MUP spikes'
        upper band behind its anti-alias filter, which lowers peak-to-peak
        amplitudes against reference values measured on a wide band (up to
        10 kHz); its classification is checked against that loss (below).
    band_limited_amplitude_loss : float
        Typical fraction of the wide-band peak-to-peak amplitude that the
        band limit removes (0.15: the median loss of normal units on the
        simulator at 4 kHz; ``docs/mup.md``). Below ``band_limited_below_hz`` the decision is made
        again with every amplitude divided by ``1 − loss``; when that gives
        another class, the muscle is ``indeterminate`` (the verdict depends
        on a bias the recording cannot measure). Area and duration are not
        corrected (the band limit changes them little).
    """

    z_crit: float = 2.0
    alpha: float = 0.05
    outlier_rate: float = 0.05
    min_outliers: int = 2
    incongruent_amplitude_z: float = -1.0
    fallback_normal: bool = False
    recruitment_alone_normal: bool = False
    band_limited_below_hz: float = 10000.0
    band_limited_amplitude_loss: float = 0.15


def _coerce_rule(name: str, value):
    """``value`` as the type of rule ``name``'s default (no silent truncation)."""
    from motorsign.errors import ConfigError

    default = getattr(ClassifyRules, name)
    try:
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
        elif isinstance(default, int):
            if not isinstance(value, bool) and float(value) == int(float(value)):
                return int(float(value))
        elif not isinstance(value, bool):
            return float(value)
    except (TypeError, ValueError):
        pass
    kind = type(default).__name__.replace("bool", "true or false")
    raise ConfigError(f"MUP classification rule {name} must be {kind}, got {value!r}")


def resolve_rules(rules: ClassifyRules | dict | None) -> ClassifyRules:
    """Return :class:`ClassifyRules` from ``None``, an instance or a dict of overrides.

    Parameters
    ----------
    rules : ClassifyRules | dict | None
        Overrides by field name (``motorsign mup --rule NAME=VALUE``, or a
        pipeline's ``options.mup.rules`` table).

    Returns
    -------
    ClassifyRules

    Raises
    ------
    ConfigError
        On an unknown name or a value outside its range.
    """
    from dataclasses import fields, replace

    from motorsign.errors import ConfigError

    if rules is None:
        return ClassifyRules()
    if isinstance(rules, ClassifyRules):
        r = rules
    else:
        if not isinstance(rules, dict):
            raise ConfigError(f"classification rules must be a table of NAME = VALUE, got {rules!r}")
        names = {f.name for f in fields(ClassifyRules)}
        bad = sorted(set(rules) - names)
        if bad:
            raise ConfigError(f"unknown MUP classification rule(s): {', '.join(bad)} "
                              f"(known: {', '.join(sorted(names))})")
        r = replace(ClassifyRules(), **{k: _coerce_rule(k, v) for k, v in rules.items()})
    checks = [
        ("z_crit", r.z_crit > 0),
        ("alpha", 0 < r.alpha < 1),
        ("outlier_rate", 0 < r.outlier_rate < 1),
        ("min_outliers", r.min_outliers >= 1),
        ("band_limited_below_hz", r.band_limited_below_hz >= 0),
        ("band_limited_amplitude_loss", 0 <= r.band_limited_amplitude_loss < 1),
    ]
    for name, ok in checks:
        value = getattr(r, name)
        if not (ok and math.isfinite(float(value))):
            raise ConfigError(f"MUP classification rule {name} = {value!r} is out of range")
    for name in ("fallback_normal", "recruitment_alone_normal"):
        if not isinstance(getattr(r, name), bool):
            raise ConfigError(f"MUP classification rule {name} must be true or false, "
                              f"got {getattr(r, name)!r}")
    return r


def _fmt(v: float, unit: str) -> str:
    return f"{v:.3g} {unit}" if math.isfinite(v) else "NaN"


def _num(d: dict, key: str) -> float:
    v = d.get(key, math.nan)
    try:
        v = float(v)
    except (TypeError, ValueError):
        return math.nan
    return v


def binom_sf(k: int, n: int, p: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, p).

    Parameters
    ----------
    k, n : int
    p : float

    Returns
    -------
    float
    """
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return float(min(1.0, sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))))


def mean_test(values, reference: dict, key: str, *, n: int | None = None, mean: float | None = None,
              rules: ClassifyRules | None = None) -> dict:
    """Compare a muscle mean with the reference, limits widened for few units.

    Parameters
    ----------
    values : sequence of float | None
        The units' values (their SD is reported); None when only the
        mean and ``n`` are known.
    reference : dict
        Reference row (:func:`motorsign.mup.reference.lookup_reference`).
    key : {"duration", "amplitude", "area"}
        Measure.
    n, mean : int, float
        Number of units and mean, when ``values`` is None.
    rules : ClassifyRules | None

    Returns
    -------
    dict
        ``n, mean, observed_sd, ref_mean, ref_sd, unit_sd, sd, z, lower, upper,
        state``
        (``state``: ``high``, ``low``, ``normal`` or ``untested``) and
        ``derived`` (True when mean and SD come from the row's limits).
    """
    r = rules or ClassifyRules()
    unit = {"duration": "ms", "amplitude": "uv", "area": "uvms"}[key]
    if values is not None:
        v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
        n = int(v.size)
        mean = float(v.mean()) if n else math.nan
        s_obs = float(v.std(ddof=1)) if n >= 2 else math.nan
    else:
        n = int(n or 0)
        mean = math.nan if mean is None else float(mean)
        s_obs = math.nan
    mu, sd = _num(reference, f"mean_{key}_{unit}"), _num(reference, f"sd_{key}_{unit}")
    lln, uln = _num(reference, f"{key}_lln_{unit}"), _num(reference, f"{key}_uln_{unit}")
    derived = False
    if not (math.isfinite(mu) and math.isfinite(sd)) and math.isfinite(lln) and math.isfinite(uln):
        mu, sd, derived = (lln + uln) / 2.0, (uln - lln) / (2.0 * r.z_crit), True
    out: dict[str, Any] = {"n": n, "mean": mean, "observed_sd": s_obs, "ref_mean": mu, "ref_sd": sd,
                           "unit_sd": math.nan,
                           "sd": math.nan, "z": math.nan, "lower": math.nan, "upper": math.nan,
                           "state": "untested", "derived": derived}
    if not (n > 0 and math.isfinite(mean) and math.isfinite(mu) and math.isfinite(sd) and sd > 0):
        return out
    # spread of single MUPs in a *normal* muscle (the null hypothesis); the
    # spread observed here is reported, not used: a diseased muscle's
    # heterogeneous units must not widen its own limits
    cv = _num(reference, f"unit_cv_{key}")
    s_unit = cv * abs(mu) if math.isfinite(cv) else 0.0
    n_ref = _num(reference, "n_units_per_subject")
    missing = max(0.0, 1.0 / n - 1.0 / n_ref) if math.isfinite(n_ref) and n_ref > 0 else 0.0
    sd_n = math.sqrt(sd * sd + s_unit * s_unit * missing)
    z = (mean - mu) / sd_n
    out.update(unit_sd=s_unit, sd=sd_n, z=z, lower=mu - r.z_crit * sd_n, upper=mu + r.z_crit * sd_n,
               state="high" if z > r.z_crit else ("low" if z < -r.z_crit else "normal"))
    return out


def _outliers(values, limit: float, rules: ClassifyRules) -> dict:
    v = [x for x in (values or []) if x is not None and math.isfinite(x)]
    k = sum(1 for x in v if x > limit) if math.isfinite(limit) else 0
    p = binom_sf(k, len(v), rules.outlier_rate) if v and math.isfinite(limit) else math.nan
    return {"limit": limit, "n": len(v), "above": k, "p": p,
            "significant": bool(k >= max(1, rules.min_outliers) and math.isfinite(p) and p < rules.alpha)}


def assess_muscle(stats: dict, reference: dict, params: MupParams,
                  rules: ClassifyRules | None = None) -> dict:
    """Classify one muscle (channel) and return the evidence.

    Parameters
    ----------
    stats : dict
        ``mean_duration_ms, mean_amplitude_uv, mean_area_uvms,
        polyphasic_fraction, n_units_used, n_discharges, clipped_fraction,
        active_s, recruitment_ratio``; optionally ``unit_values`` (dict of
        per-unit lists ``duration_ms, amplitude_uv, area_uvms, polyphasic``
        of the units used), ``amplitude_near_uv`` (amplitudes of the used
        units that are not ``distant``) and ``sampling_rate_hz`` (of the
        recording: below ``rules.band_limited_below_hz`` the verdict is
        checked against the band limit's loss of amplitude). Without the
        unit values the tests use the means and ``n_units_used`` with the
        reference's single-MUP spread.
    reference : dict
        Row of :func:`motorsign.mup.reference.lookup_reference`.
    params : MupParams
    rules : ClassifyRules | None

    Returns
    -------
    dict
        ``classification`` (in :data:`CLASSES`), ``reasons`` (short
        sentences), ``confidence`` (``normal``, ``reduced`` below
        ``n_units_per_subject`` units, or None when indeterminate by the
        quality gate) and ``tests`` (the figures of every test; with
        ``band_limit`` when the band-limit check ran).
    """
    r = rules or ClassifyRules()
    out = _assess(stats, reference, params, r)
    fs = _num(stats, "sampling_rate_hz")
    loss = r.band_limited_amplitude_loss
    if not (out["tests"] and math.isfinite(fs) and fs < r.band_limited_below_hz and 0 < loss < 1):
        return out
    # the recording lacks the spikes' upper band: its amplitudes are lower than on the
    # reference's wide band by an amount it cannot measure; decide again with the
    # typical loss allowed for, and keep the verdict only when it does not move
    gain = 1.0 / (1.0 - loss)
    alt_stats = dict(stats)
    alt_stats["mean_amplitude_uv"] = _num(stats, "mean_amplitude_uv") * gain
    uv = stats.get("unit_values")
    if uv is not None:
        alt_stats["unit_values"] = {**uv, "amplitude_uv": [
            (x * gain if x is not None else x) for x in (uv.get("amplitude_uv") or [])]}
    if stats.get("amplitude_near_uv") is not None:
        alt_stats["amplitude_near_uv"] = [x * gain for x in stats["amplitude_near_uv"]]
    alt = _assess(alt_stats, reference, params, r)
    check = {"sampling_rate_hz": fs, "amplitude_loss": loss, "classification": alt["classification"],
             "amplitude_mean_z": _num(alt["tests"].get("amplitude_mean", {}), "z"), "stable": True}
    out["tests"]["band_limit"] = check
    if alt["classification"] == out["classification"] or out["classification"] == "indeterminate":
        return out
    check["stable"] = False
    first = (f"sampled at {fs / 1000:.3g} kHz: MUP amplitudes are band-limited (typically "
             f"{100 * loss:.0f} % below the reference's wide band); the muscle reads "
             f"{out['classification']} as measured and {alt['classification']} with that loss allowed for")
    out["reasons"][:] = [first, *out["reasons"]]
    out["classification"] = "indeterminate"
    return out


def _assess(stats: dict, reference: dict, params: MupParams, r: ClassifyRules) -> dict:
    """:func:`assess_muscle` without the band-limit check."""
    reasons: list[str] = []
    out: dict[str, Any] = {"classification": "indeterminate", "reasons": reasons, "confidence": None,
                           "tests": {}}
    n_used = int(stats.get("n_units_used", 0) or 0)
    if stats.get("clipped_fraction", 0.0) > params.max_clipped_fraction:
        reasons.append(
            f"clipping: {100 * stats['clipped_fraction']:.0f} % of the recording is clipped "
            f"(limit {100 * params.max_clipped_fraction:.0f} %)")
    if stats.get("active_s", 0.0) < params.min_active_s:
        reasons.append(
            f"no voluntary activity: {stats.get('active_s', 0.0):.2f} s with MUP discharges "
            f"(needs {params.min_active_s:g} s)")
    if stats.get("n_discharges", 0) < params.min_total_discharges:
        reasons.append(
            f"too few discharges: {stats.get('n_discharges', 0)} sorted "
            f"(needs {params.min_total_discharges})")
    if n_used < params.min_units:
        reasons.append(
            f"too few motor units: {n_used} measurable units "
            f"(needs {params.min_units})")
    if reasons:
        return out
    dur = _num(stats, "mean_duration_ms")
    if not math.isfinite(dur):
        reasons.append("no MUP duration could be measured")
        return out

    uv = stats.get("unit_values")

    def vals(key):
        return None if uv is None else uv.get(key)

    def test(key, col, mean_key):
        v = vals(col)
        if v is None:
            return mean_test(None, reference, key, n=n_used, mean=_num(stats, mean_key), rules=r)
        return mean_test(v, reference, key, rules=r)

    t_dur = test("duration", "duration_ms", "mean_duration_ms")
    t_amp = test("amplitude", "amplitude_uv", "mean_amplitude_uv")
    near = stats.get("amplitude_near_uv")
    if near is None:
        t_amp_low = t_amp
    elif len([x for x in near if math.isfinite(x)]) >= params.min_units:
        t_amp_low = mean_test(near, reference, "amplitude", rules=r)
    else:
        t_amp_low = {"state": "untested", "n": len(near)}
    t_area = test("area", "area_uvms", "mean_area_uvms")
    o_dur = _outliers(vals("duration_ms"), _num(reference, "unit_duration_uln_ms"), r)
    o_amp = _outliers(vals("amplitude_uv"), _num(reference, "unit_amplitude_uln_uv"), r)
    poly = _num(stats, "polyphasic_fraction")
    p_hi = _num(reference, "polyphasic_uln_pct") / 100.0
    pv = vals("polyphasic")
    n_poly = len(pv) if pv is not None else n_used
    k_poly = int(sum(bool(x) for x in pv)) if pv is not None else (
        int(round(poly * n_used)) if math.isfinite(poly) else 0)
    poly_high = math.isfinite(poly) and math.isfinite(p_hi) and poly > p_hi
    poly_p = binom_sf(k_poly, n_poly, p_hi) if math.isfinite(p_hi) and n_poly else math.nan
    poly_marked = bool(poly_high and math.isfinite(poly_p) and poly_p < r.alpha)
    rr = _num(stats, "recruitment_ratio")
    rr_high = math.isfinite(rr) and rr > params.recruitment_ratio_upper
    area_high = t_area["state"] == "high"
    out["tests"] = {
        "duration_mean": t_dur, "amplitude_mean": t_amp, "amplitude_mean_near": t_amp_low,
        "area_mean": t_area, "duration_outliers": o_dur, "amplitude_outliers": o_amp,
        "polyphasic": {"n": n_poly, "polyphasic": k_poly, "fraction": poly, "uln": p_hi, "p": poly_p,
                       "above_limit": bool(poly_high), "marked": poly_marked},
        "rules": asdict(r),
    }

    def lims(t, unit):
        return f"{_fmt(t['lower'], unit)}–{_fmt(t['upper'], unit)} for {t['n']} units"

    # duration outliers are reported, not decisive: single-template durations
    # are noise-sensitive (late components, noisy baselines at 4 kHz)
    d_high = t_dur["state"] == "high"
    d_low = t_dur["state"] == "low"
    a_high = t_amp["state"] == "high" or o_amp["significant"]
    a_low = t_amp_low["state"] == "low"
    if t_dur["state"] == "high":
        reasons.append(f"mean duration {_fmt(t_dur['mean'], 'ms')} > {_fmt(t_dur['upper'], 'ms')} "
                       f"(limits {lims(t_dur, 'ms')}, z = {t_dur['z']:.1f})")
    elif d_low:
        reasons.append(f"mean duration {_fmt(t_dur['mean'], 'ms')} < {_fmt(t_dur['lower'], 'ms')} "
                       f"(limits {lims(t_dur, 'ms')}, z = {t_dur['z']:.1f})")
    if t_amp["state"] == "high":
        reasons.append(f"mean amplitude {_fmt(t_amp['mean'], 'µV')} > {_fmt(t_amp['upper'], 'µV')} "
                       f"(limits {lims(t_amp, 'µV')}, z = {t_amp['z']:.1f})")
    if o_amp["significant"]:
        reasons.append(f"{o_amp['above']} of {o_amp['n']} MUPs larger than {_fmt(o_amp['limit'], 'µV')} "
                       f"(p = {o_amp['p']:.2g} against {100 * r.outlier_rate:.0f} % in normal muscle)")
    if a_low:
        who = "mean amplitude" if near is None else "mean amplitude of near units"
        reasons.append(f"{who} {_fmt(t_amp_low['mean'], 'µV')} < "
                       f"{_fmt(t_amp_low['lower'], 'µV')} (limits {lims(t_amp_low, 'µV')}, "
                       f"z = {t_amp_low['z']:.1f})")
    if area_high:
        reasons.append(f"mean area {_fmt(t_area['mean'], 'µV·ms')} > {_fmt(t_area['upper'], 'µV·ms')}")
    if poly_high:
        reasons.append(f"polyphasic {k_poly}/{n_poly} ({100 * poly:.0f} %) > {100 * p_hi:.0f} %"
                       + (f" (p = {poly_p:.2g})" if poly_marked else " (not significant for this sample)"))
    if rr_high:
        reasons.append(f"recruitment ratio {rr:.1f} > {params.recruitment_ratio_upper:g} (reduced recruitment)")
    notes = []
    if t_amp_low["state"] == "untested" and near is not None:
        notes.append(f"low amplitude not assessed: {len(near)} near units (needs {params.min_units}); "
                     "the others are distant (rise time) and measure small")
    n_ref = _num(reference, "n_units_per_subject")
    small = math.isfinite(n_ref) and t_dur["n"] < n_ref
    if small:
        notes.append(f"{t_dur['n']} units (reference means from {n_ref:.0f} per subject): "
                     "limits widened for the small sample")
    if t_dur.get("derived"):
        notes.append(f"no reference row for this muscle: coarse limb-muscle limits "
                     f"(duration {_fmt(t_dur['lower'], 'ms')}–{_fmt(t_dur['upper'], 'ms')})")
    out["confidence"] = "reduced" if small or t_dur.get("derived") else "normal"

    def done(cls, extra=()):
        out["classification"] = cls
        reasons.extend(extra)
        reasons.extend(notes)
        return out

    if (d_high and d_low) or (a_high and a_low):
        return done("indeterminate", ["conflicting: " + "; ".join(reasons)])
    d_state = "high" if d_high else ("low" if d_low else "normal")
    a_state = "high" if a_high else ("low" if a_low else "normal")
    z_near = _num(t_amp_low, "z")
    if (d_state == "high" and a_state == "normal" and math.isfinite(z_near)
            and z_near < r.incongruent_amplitude_z):
        reasons.append(f"near units' mean amplitude below the reference mean (z = {z_near:.1f}): "
                       "not the enlarged units of reinnervation")
        a_state = "low"
    if d_state == "high" and a_state == "low":
        # long but small: not chronic neurogenic change (which enlarges units);
        # polyphasic without reduced recruitment is the chronic myopathic pattern
        if poly_high and not rr_high:
            return done("myopathic", ["long-duration, low-amplitude polyphasic MUPs without reduced recruitment"])
        msg = "conflicting: " + "; ".join(reasons)
        reasons.clear()
        return done("indeterminate", [msg])
    if d_state == "low" and a_state == "high":
        msg = "conflicting: " + "; ".join(reasons)
        reasons.clear()
        return done("indeterminate", [msg])
    if d_state == "high":
        return done("neurogenic")
    if d_state == "low":
        return done("myopathic")
    if a_state == "high" and (area_high or rr_high or poly_high):
        return done("neurogenic")
    if a_state == "low" and poly_high:
        return done("myopathic")
    if poly_marked:
        return done("indeterminate", [
            "marked polyphasia without an abnormal mean duration or amplitude: not specific"])
    if rr_high and not r.recruitment_alone_normal:
        return done("indeterminate", [
            "reduced recruitment with MUPs inside the reference limits: loss of motor units without "
            "the enlarged MUPs of chronic reinnervation (acute denervation, conduction block, or "
            "too few units to show the change)"])
    if reference.get("matched") == "fallback" and not r.fallback_normal:
        return done("indeterminate", [
            f"no reference values for muscle {reference.get('requested') or 'unknown'}: within the coarse "
            "limb-muscle limits, which cannot show a mild or moderate change"])
    within = " (widened for the small sample)" if small else ""
    if a_state == "normal":
        reasons.insert(0, "mean duration and amplitude within the reference limits" + within)
    else:
        reasons.insert(0, f"mean duration within the reference limits{within}; {a_state} amplitude "
                       "without a supporting sign is not decisive")
    return done("normal")


def classify_muscle(stats: dict, reference: dict, params: MupParams,
                    rules: ClassifyRules | None = None) -> tuple[str, list[str]]:
    """Classify one muscle (channel) from its summary statistics.

    Parameters
    ----------
    stats : dict
        See :func:`assess_muscle`.
    reference : dict
        Row of :func:`motorsign.mup.reference.lookup_reference`.
    params : MupParams
    rules : ClassifyRules | None

    Returns
    -------
    (classification, reasons)
        ``classification`` in :data:`CLASSES`; ``reasons`` are short
        sentences (the evidence for an abnormal class, the cause of
        indeterminate, the caveats).
    """
    a = assess_muscle(stats, reference, params, rules)
    return a["classification"], a["reasons"]
