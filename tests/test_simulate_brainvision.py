"""The BrainVision writer: 1-based markers, escaping, and what cannot be written."""

from __future__ import annotations

import numpy as np
import pytest

from motorsign.errors import InputError
from motorsign.io import read
from motorsign.simulate.brainvision import write_brainvision


def test_marker_lands_on_its_sample_and_commas_survive(tmp_path):
    x = np.zeros((2000, 2), np.float32)
    p = write_brainvision(tmp_path / "r.vhdr", x, 20000.0, ["FDI", "A,B"],
                          [("Stimulus", "TMS", 100, 1)])
    rec = read(p)
    assert rec.channel_names == ["FDI", "A,B"]
    (ev,) = rec.events_for("Stimulus/TMS")
    assert ev.time_s == pytest.approx(100 / 20000.0)


@pytest.mark.parametrize("name", ["a=b", "line\nbreak"])
def test_unescapable_text_is_refused(tmp_path, name):
    x = np.zeros((10, 1), np.float32)
    with pytest.raises(InputError, match="cannot write"):
        write_brainvision(tmp_path / "r.vhdr", x, 1000.0, ["EMG"], [("Comment", name, 1, 1)])
    with pytest.raises(InputError, match="cannot write"):
        write_brainvision(tmp_path / "s.vhdr", x, 1000.0, [name])
    assert not list(tmp_path.iterdir())
