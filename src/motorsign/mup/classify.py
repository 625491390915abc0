"""Muscle classification from its MUPs: neurogenic, myopathic, normal, indeterminate.

Rules (each limit comes from the reference row, see ``data/mup_reference.md``):

1. **Quality gate** → ``indeterminate`` with the reason when: clipping covers
   more than ``max_clipped_fraction`` of the recording; voluntary activity
   lasts less than ``min_active_s``; fewer than ``min_total_discharges``
   discharges were sorted; fewer than ``min_units`` clean units were found.
2. **Duration** of the muscle mean is the primary criterion (the classical
   quantitative-EMG criterion): above ``duration_uln_ms`` → neurogenic
   evidence; below ``duration_lln_ms`` → myopathic evidence.
3. **Amplitude** of the muscle mean, above ``amplitude_uln_uv`` → neurogenic
   evidence; below ``amplitude_lln_uv`` → myopathic evidence.
4. Decision: short duration with high amplitude → indeterminate
   (conflicting). Long duration with *low* amplitude is not the enlarged
   unit of chronic reinnervation: with a polyphasic fraction above the limit
   and no reduced recruitment it is the chronic myopathic pattern (long,
   small, polyphasic units with satellites, as in chronic myositis) →
   myopathic; otherwise indeterminate. Else an abnormal duration decides. With
   a normal duration, an abnormal amplitude decides only together with a
   supporting sign: for neurogenic, a mean area above its limit (where the
   reference has one), reduced recruitment (recruitment ratio >
   ``recruitment_ratio_upper``) or a polyphasic fraction above the limit; for
   myopathic, a polyphasic fraction above the limit. Else normal.

Polyphasia alone is not specific (it rises in both) and is reported as
supporting evidence only.
"""

from __future__ import annotations

import math

from motorsign.mup.params import MupParams

__all__ = ["classify_muscle", "CLASSES"]

CLASSES = ("neurogenic", "myopathic", "normal", "indeterminate")


def _fmt(v: float, unit: str) -> str:
    return f"{v:.3g} {unit}" if math.isfinite(v) else "NaN"


def classify_muscle(stats: dict, reference: dict, params: MupParams) -> tuple[str, list[str]]:
    """Classify one muscle (channel) from its summary statistics.

    Parameters
    ----------
    stats : dict
        ``mean_duration_ms, mean_amplitude_uv, polyphasic_fraction, n_units_used,
        n_discharges, clipped_fraction, active_s, recruitment_ratio``.
    reference : dict
        Row of :func:`motorsign.mup.reference.lookup_reference`.
    params : MupParams

    Returns
    -------
    (classification, reasons)
        ``classification`` in :data:`CLASSES`; ``reasons`` are short sentences
        (the evidence for an abnormal class, the cause of indeterminate).
    """
    reasons: list[str] = []
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
    if stats.get("n_units_used", 0) < params.min_units:
        reasons.append(
            f"too few motor units: {stats.get('n_units_used', 0)} clean units "
            f"(needs {params.min_units})")
    if reasons:
        return "indeterminate", reasons

    dur = stats["mean_duration_ms"]
    amp = stats["mean_amplitude_uv"]
    poly = stats["polyphasic_fraction"]
    rr = stats.get("recruitment_ratio", math.nan)
    d_lo, d_hi = reference["duration_lln_ms"], reference["duration_uln_ms"]
    a_lo, a_hi = reference["amplitude_lln_uv"], reference["amplitude_uln_uv"]
    p_hi = reference["polyphasic_uln_pct"] / 100.0
    if not math.isfinite(dur):
        return "indeterminate", ["no MUP duration could be measured"]
    d_state = "high" if dur > d_hi else ("low" if dur < d_lo else "normal")
    a_state = "normal"
    if math.isfinite(amp):
        if math.isfinite(a_hi) and amp > a_hi:
            a_state = "high"
        elif math.isfinite(a_lo) and amp < a_lo:
            a_state = "low"
    area = stats.get("mean_area_uvms", math.nan)
    ar_hi = reference.get("area_uln_uvms", math.nan)
    area_high = math.isfinite(area) and math.isfinite(ar_hi) and area > ar_hi
    poly_high = math.isfinite(poly) and math.isfinite(p_hi) and poly > p_hi
    rr_high = math.isfinite(rr) and rr > params.recruitment_ratio_upper
    if d_state == "high":
        reasons.append(f"mean duration {_fmt(dur, 'ms')} > ULN {_fmt(d_hi, 'ms')}")
    elif d_state == "low":
        reasons.append(f"mean duration {_fmt(dur, 'ms')} < LLN {_fmt(d_lo, 'ms')}")
    if a_state == "high":
        reasons.append(f"mean amplitude {_fmt(amp, 'µV')} > ULN {_fmt(a_hi, 'µV')}")
    elif a_state == "low":
        reasons.append(f"mean amplitude {_fmt(amp, 'µV')} < LLN {_fmt(a_lo, 'µV')}")
    if area_high:
        reasons.append(f"mean area {_fmt(area, 'µV·ms')} > ULN {_fmt(ar_hi, 'µV·ms')}")
    if poly_high:
        reasons.append(f"polyphasic {100 * poly:.0f} % > {100 * p_hi:.0f} %")
    if rr_high:
        reasons.append(f"recruitment ratio {rr:.1f} > {params.recruitment_ratio_upper:g} (reduced recruitment)")
    if d_state == "high" and a_state == "low":
        # long but small: not chronic neurogenic change (which enlarges units);
        # polyphasic without reduced recruitment is the chronic myopathic pattern
        if poly_high and not rr_high:
            return "myopathic", reasons + [
                "long-duration, low-amplitude polyphasic MUPs without reduced recruitment"]
        return "indeterminate", ["conflicting: " + "; ".join(reasons)]
    if d_state == "low" and a_state == "high":
        return "indeterminate", ["conflicting: " + "; ".join(reasons)]
    if d_state == "high":
        return "neurogenic", reasons
    if d_state == "low":
        return "myopathic", reasons
    if a_state == "high" and (area_high or rr_high or poly_high):
        return "neurogenic", reasons
    if a_state == "low" and poly_high:
        return "myopathic", reasons
    return "normal", reasons or ["mean duration and amplitude within the reference limits"]
