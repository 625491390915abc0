"""Classification rules added for low sampling rates and reduced recruitment (docs/mup.md, Classification)."""

from __future__ import annotations

import pytest

from motorsign.mup.classify import ClassifyRules, assess_muscle
from motorsign.mup.params import MupParams
from motorsign.mup.reference import lookup_reference

P = MupParams()
REF = lookup_reference("TA")


def _stats(durations, amplitudes, areas, polyphasic, *, rr=3.0, fs=None):
    st = {
        "n_units_used": len(durations), "n_discharges": 400, "clipped_fraction": 0.0, "active_s": 10.0,
        "recruitment_ratio": rr,
        "mean_duration_ms": sum(durations) / len(durations),
        "mean_amplitude_uv": sum(amplitudes) / len(amplitudes),
        "mean_area_uvms": sum(areas) / len(areas),
        "polyphasic_fraction": sum(polyphasic) / len(polyphasic),
        "unit_values": {"duration_ms": list(durations), "amplitude_uv": list(amplitudes),
                        "area_uvms": list(areas), "polyphasic": list(polyphasic)},
        "amplitude_near_uv": list(amplitudes),
    }
    if fs is not None:
        st["sampling_rate_hz"] = fs
    return st


# two units: a large polyphasic one and a normal one; the amplitude mean lies just
# inside the widened upper limit (about 1100 µV for two units), polyphasia above the
# limit supports a neurogenic reading if the amplitude were high
NEAR_HIGH = dict(durations=[13.9, 6.5], amplitudes=[1750.0, 240.0], areas=[2800.0, 180.0],
                 polyphasic=[True, False])


def test_band_limit_check_acts_below_10_khz_when_the_verdict_depends_on_amplitude():
    a = assess_muscle(_stats(**NEAR_HIGH, fs=4000.0), REF, P)
    assert a["classification"] == "indeterminate"
    assert "band-limited" in a["reasons"][0] and "neurogenic" in a["reasons"][0]
    bl = a["tests"]["band_limit"]
    assert bl["stable"] is False and bl["classification"] == "neurogenic"
    assert bl["amplitude_loss"] == pytest.approx(0.15)
    # the amplitude test as measured is still reported (normal, z below the limit)
    assert a["tests"]["amplitude_mean"]["state"] == "normal"


def test_band_limit_check_does_not_act_at_wide_band_or_when_the_verdict_is_stable():
    # the same figures at 20 kHz (or with no rate given): the measured amplitudes stand
    for fs in (20000.0, 10000.0, None):
        a = assess_muscle(_stats(**NEAR_HIGH, fs=fs), REF, P)
        assert a["classification"] == "normal", (fs, a["reasons"])
        assert "band_limit" not in a["tests"]
    # switched off
    a = assess_muscle(_stats(**NEAR_HIGH, fs=4000.0), REF, P, ClassifyRules(band_limited_amplitude_loss=0.0))
    assert a["classification"] == "normal"
    # clearly normal units at 4 kHz: 15 % more amplitude changes nothing
    normal = _stats([9.5, 8.8, 10.2, 9.0, 9.9, 8.5], [600, 520, 700, 450, 650, 580],
                    [800, 700, 900, 650, 850, 750], [False] * 6, fs=4000.0)
    a = assess_muscle(normal, REF, P)
    assert a["classification"] == "normal" and a["tests"]["band_limit"]["stable"] is True
    # clearly short units at 4 kHz stay myopathic (duration decides, not amplitude)
    myo = _stats([5.0, 5.5, 4.8, 6.0, 5.2, 4.5], [300, 250, 280, 350, 260, 240],
                 [200, 180, 190, 250, 170, 160], [True, True, False, True, False, True], fs=4000.0)
    a = assess_muscle(myo, REF, P)
    assert a["classification"] == "myopathic" and a["tests"]["band_limit"]["stable"] is True


def test_band_limit_check_also_guards_a_myopathic_verdict_resting_on_low_amplitude():
    # normal duration, amplitude just below the lower limit, polyphasia: myopathic as
    # measured; 15 % more amplitude brings it inside the limits
    st = _stats([7.7, 8.1, 4.9, 5.5, 9.5, 10.0, 6.8, 11.1], [390, 190, 130, 400, 350, 600, 480, 720],
                [220, 90, 250, 470, 520, 300, 245, 840],
                [False, False, True, True, False, True, True, False], fs=4000.0)
    at20 = assess_muscle({**st, "sampling_rate_hz": 20000.0}, REF, P)
    assert at20["classification"] == "myopathic"
    a = assess_muscle(st, REF, P)
    assert a["classification"] == "indeterminate" and "myopathic as measured" in a["reasons"][0]


def test_reduced_recruitment_with_normal_mups_is_not_normal():
    units = ([9.5, 10.0, 9.0], [650.0, 700.0, 600.0], [850.0, 900.0, 800.0], [False, False, False])
    a = assess_muscle(_stats(*units, rr=12.0), REF, P)
    assert a["classification"] == "indeterminate"
    assert any("reduced recruitment with MUPs inside" in r for r in a["reasons"])
    # recruitment ratio within its limit: normal
    assert assess_muscle(_stats(*units, rr=6.0), REF, P)["classification"] == "normal"
    # the former behaviour on request
    old = ClassifyRules(recruitment_alone_normal=True)
    assert assess_muscle(_stats(*units, rr=12.0), REF, P, old)["classification"] == "normal"
    # reduced recruitment with enlarged units is still neurogenic (a supporting sign)
    big = _stats([10.0, 10.5, 9.5], [1600.0, 1500.0, 1700.0], [2000.0, 1900.0, 2100.0],
                 [False, False, False], rr=12.0)
    assert assess_muscle(big, REF, P)["classification"] == "neurogenic"


def test_rules_overrides_are_checked_and_typed():
    from motorsign.errors import ConfigError
    from motorsign.mup.classify import resolve_rules

    assert resolve_rules(None) == ClassifyRules()
    r = resolve_rules({"z_crit": 3, "min_outliers": 4.0, "fallback_normal": True})
    assert r.z_crit == 3.0 and isinstance(r.z_crit, float)
    assert r.min_outliers == 4 and isinstance(r.min_outliers, int) and r.fallback_normal is True
    for bad, word in (({"z_crt": 2.0}, "z_crt"), ({"alpha": 1.5}, "alpha"),
                      ({"min_outliers": 2.5}, "min_outliers"), ({"fallback_normal": "yes"},
                                                                "fallback_normal"),
                      ({"band_limited_amplitude_loss": 1.0}, "band_limited_amplitude_loss"),
                      ({"z_crit": float("nan")}, "z_crit")):
        with pytest.raises(ConfigError, match=word):
            resolve_rules(bad)


def test_rules_change_the_verdict_they_govern():
    # a stricter z_crit turns the long-and-large muscle normal; the default calls it neurogenic
    st = _stats(durations=[16.0, 15.0, 14.5, 15.5], amplitudes=[1900.0, 1700.0, 2100.0, 1800.0],
                areas=[3000.0, 2800.0, 3300.0, 2900.0], polyphasic=[True, False, True, False])
    assert assess_muscle(st, REF, P)["classification"] == "neurogenic"
    from motorsign.mup.classify import resolve_rules

    lax = resolve_rules({"z_crit": 40.0, "min_outliers": 100, "alpha": 1e-9})
    assert assess_muscle(st, REF, P, lax)["classification"] != "neurogenic"
