"""The PhysioNet emgdb needle recordings (tibialis anterior, 4 kHz)."""

from __future__ import annotations

import pytest

from motorsign.mup import analyze_mups

pytestmark = pytest.mark.realdata


@pytest.mark.parametrize("stem, expected", [
    ("emg_healthy", "normal"),
    ("emg_myopathy", "myopathic"),
    ("emg_neuropathy", "neurogenic"),
])
def test_physionet_emgdb_classification(realdata, stem, expected):
    from motorsign.io import read

    rec = read(realdata / "physionet_emgdb" / f"{stem}.hea")
    s = analyze_mups(rec, muscle="TA").summary[rec.channel_names[0]]
    assert s["classification"] == expected, s["reasons"]
    assert s["n_units_used"] >= 3
