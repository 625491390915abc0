"""Stimulus-artifact blanking: where the artifact ends, and a clipped amplifier."""

from __future__ import annotations

import numpy as np

from motorsign.signal.artifact import ArtifactOptions, blank_artifacts

FS = 5000.0


def _epochs(n_trials=4, seed=0):
    n, stim = int(0.2 * FS), int(0.1 * FS)
    x = (np.random.default_rng(seed).standard_normal((n_trials, n)) * 5).astype(np.float32)
    return x, stim


def test_decaying_artifact_ends_where_the_trace_settles():
    x, stim = _epochs()
    t = np.arange(x.shape[1] - stim) / FS
    x[:, stim:] += (3000.0 * np.exp(-t / 0.0008)).astype(np.float32)  # 0.8 ms decay
    end, unsettled = blank_artifacts(x, np.full(len(x), stim), FS)
    ms = (end - stim) / FS * 1000
    assert not unsettled.any()
    # settled = first difference under 6 x its baseline noise (about 42 µV per sample
    # here): 750 µV/sample x e^(-t/0.8 ms) falls under it after 2.3 ms
    assert np.all((ms >= 2.2) & (ms <= 3.5)), ms
    # the blanked stretch is a straight line between the clean samples around it
    for t, e in enumerate(end):
        seg = x[t, stim - int(0.0005 * FS): e].astype(float)
        assert np.abs(np.diff(seg, 2)).max() < 1e-2


def test_clipped_amplifier_is_not_settled():
    """A rail held for 10 ms has zero first differences but has not recovered."""
    x, stim = _epochs()
    x[:, stim: stim + int(0.010 * FS)] = 8000.0
    end, unsettled = blank_artifacts(x.copy(), np.full(len(x), stim), FS,
                                     ArtifactOptions(max_blank_ms=20.0))
    assert not unsettled.any()
    np.testing.assert_allclose((end - stim) / FS * 1000, 10.2, atol=0.5)
    end, unsettled = blank_artifacts(x.copy(), np.full(len(x), stim), FS)  # cap 6 ms
    assert unsettled.all()  # flagged artifact_long by the callers, never measured as settled


def test_quantised_baseline_with_repeated_values_still_settles():
    """Repeated values near the baseline (a coarse ADC) are not a rail."""
    x, stim = _epochs()
    x = np.round(x / 5.0) * 5.0  # 5 µV steps: many zero differences
    x[:, stim: stim + 5] = 2000.0
    end, unsettled = blank_artifacts(x.astype(np.float32), np.full(len(x), stim), FS)
    assert not unsettled.any()
    assert np.all((end - stim) / FS * 1000 <= 2.0)
