"""Unit choice on the wider match band (``match_highpass_hz``, ``relabel_wide``)."""

from __future__ import annotations

import numpy as np
import pytest

from motorsign.mup.kernels import relabel_wide
from motorsign.mup.params import MupParams
from motorsign.mup.preprocess import design_match_filter

L = 101  # template length (samples)
t = np.arange(L) - 50.0


def _spike(amp: float, width: float = 3.0) -> np.ndarray:
    return (amp * (1 - (t / width) ** 2) * np.exp(-0.5 * (t / width) ** 2)).astype(np.float32)


def _slow(amp: float) -> np.ndarray:
    """A slow lobe (what the detection band drops) following the spike."""
    return (amp * np.exp(-0.5 * ((t - 15.0) / 10.0) ** 2)).astype(np.float32)


def _case(true_unit: int, det_other: np.ndarray, label: int = 0):
    """One discharge at start 200 of ``true_unit``, currently labelled ``label``.

    Detection-band templates: unit 0 a spike, unit 1 ``det_other``. Match-band
    templates: the same spikes plus a slow lobe of opposite sign for the two units.
    """
    n = 600
    det_t = np.stack([_spike(-100.0), det_other])
    match_t = np.stack([_spike(-100.0) + _slow(40.0), det_other + _slow(-40.0)])
    st = 200
    det = np.zeros(n, np.float32)
    match = np.zeros(n, np.float32)
    det[st:st + L] += det_t[true_unit]
    match[st:st + L] += match_t[true_unit]
    rng = np.random.default_rng(3)
    det += rng.normal(0, 2.0, n).astype(np.float32)
    match += rng.normal(0, 2.0, n).astype(np.float32)
    starts = np.array([st], np.int64)
    units = np.array([label], np.int64)
    subs = np.zeros(1, np.int64)
    scores = np.ones(1, np.float32)
    resid = det.copy()
    resid[st:st + L] -= det_t[label]
    mres = match.copy()
    mres[st:st + L] -= match_t[label]
    anchors = np.array([[50, -1, -1, -1], [50, -1, -1, -1]], np.int64)
    return resid, det_t, mres, match_t, anchors, starts, units, subs, scores


def _run(resid, det_t, mres, match_t, anchors, starts, units, subs, scores, margin=0.0):
    return relabel_wide(resid, det_t, mres, match_t, 1, anchors, 12, 3, 0.3, margin,
                        starts, units, subs, scores)


def test_moves_to_unit_the_match_band_prefers():
    # detection-band templates identical: only the slow lobe tells the units apart
    args = _case(true_unit=1, det_other=_spike(-100.0), label=0)
    resid, *_, starts, units, subs, scores = args
    assert _run(*args) == 1
    assert units[0] == 1 and starts[0] == 200
    # the residuals now hold noise only
    assert np.abs(args[2][200:200 + L]).max() < 12.0
    assert np.abs(resid[200:200 + L]).max() < 12.0


def test_keeps_right_unit():
    args = _case(true_unit=0, det_other=_spike(-100.0), label=0)
    assert _run(*args) == 0
    assert args[6][0] == 0 and args[5][0] == 200


def test_margin_blocks_small_advantage():
    # the advantage of unit 1 is 2 x 40^2 x ~25 (lobe energy), far below 10 x its template energy
    args = _case(true_unit=1, det_other=_spike(-100.0), label=0)
    assert _run(*args, margin=10.0) == 0
    assert args[6][0] == 0


def test_detection_band_acceptance_still_applies():
    # unit 1's detection template has the opposite polarity: its detection-band fit
    # removes nothing, so the match band may not choose it whatever it says
    args = _case(true_unit=0, det_other=_spike(100.0), label=0)
    mres, match_t = args[2], args[3]
    # match band: unit 1's shape there (once unit 0's fit is added back), so the
    # match band alone would move the discharge
    mres[200:200 + L] += match_t[1] - match_t[0]
    assert _run(*args) == 0
    assert args[6][0] == 0


def test_match_filter_switch():
    assert design_match_filter(20000.0, MupParams()) is None  # off by default
    assert design_match_filter(20000.0, MupParams(match_highpass_hz=0.0)) is None
    sos = design_match_filter(20000.0, MupParams(match_highpass_hz=100.0))
    assert sos is not None and sos.shape[1] == 6
    from motorsign.errors import ConfigError

    with pytest.raises(ConfigError):
        design_match_filter(20000.0, MupParams(match_highpass_hz=5000.0))


def test_match_band_runs_through_the_sorter():
    # the option end to end: same muscle call, some discharges re-decided
    from motorsign import analyze_mups
    from motorsign.simulate import voluntary

    sim = voluntary.generate(seed=5, fs=4000.0, duration_s=8.0, condition="myopathic")
    rec = sim.to_recording()
    off = analyze_mups(rec)
    on = analyze_mups(rec, params={"match_highpass_hz": 100.0})
    assert on.summary["EMG"]["classification"] == off.summary["EMG"]["classification"]
    assert len(on.units) > 0
    assert not on.discharges.equals(off.discharges)
