"""The HTML report: one self-contained page, every file string escaped,
rendered by headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from motorsign.outputs import write_csv, write_json
from motorsign.pipeline import ANALYSES, load_pipeline, run_pipeline
from motorsign.report import build_report, write_report
from motorsign.simulate.brainvision import write_brainvision

FS = 5000.0
EVIL = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
EVIL_NOTE = "<b>marker</b><iframe>"  # no "=" or ",": BrainVision marker fields cannot hold them


# ------------------------------------------------- contract-shaped fakes
def _read(path, read_options):
    from motorsign.io import read

    return read(path, **(read_options or {}))


def fake_detect(path, out_dir, *, muscle=None, side=None, channels=None, read_options=None, **kw):
    rec = _read(path, read_options)
    x = rec.get_traces()
    rows, summ = [], {}
    for j, ch in enumerate(rec.channel_names):
        idx = np.flatnonzero(x[:, j] > 300)
        for k, i in enumerate(idx):
            rows.append({"channel": ch, "time_s": i / FS, "kind": ("fibrillation", "fasciculation")[k % 2],
                         "amplitude_uv": float(x[i, j]), "duration_ms": 2, "phases": 2,
                         "initial_polarity": "positive", "train_id": 0 if k % 2 == 0 else -1,
                         "confidence": 1.0})
        summ[ch] = {"muscle": muscle, "side": side, "duration_s": rec.duration_s(), "rest_s": 1.0,
                    "counts": {"fibrillation": (len(idx) + 1) // 2, "fasciculation": len(idx) // 2},
                    "rates_per_min": {}, "fib_psw_grade": "2+", "fasciculation_rate_per_min": 6.0,
                    "trains": []}
    write_csv(Path(out_dir) / "discharges.csv", rows)
    write_json(Path(out_dir) / "summary.json", {"recording": str(path), "channels": summ})
    return summ


def fake_mup(path, out_dir, *, read_options=None, **kw):
    rec = _read(path, read_options)
    ch = rec.channel_names[0]
    x = rec.get_traces(channels=[ch])[:, 0]
    idx = np.flatnonzero(x > 300)
    write_csv(Path(out_dir) / "mup_discharges.csv",
              [{"channel": ch, "unit_id": 1, "time_s": i / FS} for i in idx])
    write_csv(Path(out_dir) / "mups.csv", [{"channel": ch, "unit_id": 1, "n_discharges": len(idx),
                                           "amplitude_uv": 500.0, "duration_ms": 9.0, "phases": 3,
                                           "turns": 3, "area_uvms": 900.0, "firing_rate_hz": 8.0}])
    write_json(Path(out_dir) / "summary.json", {"channels": {ch: {
        "mean_amplitude_uv": 500.0, "mean_duration_ms": 9.0, "polyphasic_fraction": 0.1,
        "classification": "neurogenic"}}})
    return {}


def fake_mep(path, out_dir, *, trigger=None, read_options=None, **kw):
    from motorsign.io.triggers import resolve_trigger

    rec = _read(path, read_options)
    evs = resolve_trigger(rec, trigger)
    rows = [{"trial": k, "channel": ch, "trigger_time_s": e.time_s, "present": k % 3 != 0,
             "onset_ms": 21.0 if k % 3 else float("nan"), "peak_to_peak_uv": 400.0,
             "area_uvms": 1.0, "duration_ms": 10.0, "silent_period_ms": float("nan"),
             "method": "threshold", "flags": ""}
            for ch in rec.channel_names for k, e in enumerate(evs)]
    write_csv(Path(out_dir) / "meps.csv", rows)
    write_json(Path(out_dir) / "summary.json", {"channels": {ch: {
        "n_trials": len(evs), "n_present": 2, "onset_ms_min": 21.0, "onset_ms_median": 21.0,
        "peak_to_peak_uv_median": 400.0} for ch in rec.channel_names}})
    return {}


def fake_nerve(path, out_dir, *, trigger=None, read_options=None, **kw):
    from motorsign.io.triggers import resolve_trigger

    rec = _read(path, read_options)
    evs = resolve_trigger(rec, trigger)
    rows = [{"trial": k + 1, "channel": ch, "m_onset_ms": 4.0, "m_amplitude_mv": 0.5,
             "f_present": k % 2 == 0, "f_latency_ms": 28.0 if k % 2 == 0 else float("nan"),
             "f_amplitude_uv": 100.0} for ch in rec.channel_names for k in range(len(evs))]
    write_csv(Path(out_dir) / "responses.csv", rows)  # contract columns only: no trigger time
    write_json(Path(out_dir) / "summary.json", {"channels": {ch: {
        "m_onset_ms": 4.0, "cmap_amplitude_mv": 0.5, "f_min_latency_ms": 28.0,
        "f_mean_latency_ms": 28.0, "f_persistence": 0.5, "f_chronodispersion_ms": 0.0}
        for ch in rec.channel_names}})
    return {}


EVIDENCE = {
    "regions": {
        "bulbar": {"umn": {"clinical": [], "supportive_tms": []}, "lmn": {"clinical": [], "emg": []},
                   "mixed_muscles": []},
        "cervical": {"umn": {"clinical": ["c1"], "supportive_tms": ["t1"]},
                     "lmn": {"clinical": [], "emg": ["e1", EVIL]}, "mixed_muscles": ["FDI R"]},
        "thoracic": {"umn": {"clinical": []}, "lmn": {"emg": []}},
        "lumbosacral": {"umn": {"clinical": []}, "lmn": {"emg": []}},
    },
    "criteria": {
        "revised_el_escorial": {"category": "possible", "reasons": [{"rule": "rEEC.possible", "findings": ["c1", "e1"]}]},
        "awaji": {"category": "possible", "reasons": [{"rule": "awaji.possible", "findings": ["e1"]}]},
        "gold_coast": {"met": True, "reasons": [{"rule": "gc.one_region_umn_lmn", "findings": ["c1", "e1"]}]},
        "pls_2020": {"category": "not_met", "reasons": ["LMN signs present"]},
    },
    "phenotype": "ALS",
}


@pytest.fixture(scope="module")
def run_out(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mod = Path(__file__).stem
    for name in ("detect", "mup", "mep", "nerve"):
        mp.setitem(ANALYSES, name, f"{mod}:fake_{name}")
    tmp = tmp_path_factory.mktemp("report")
    rng = np.random.default_rng(3)
    n = int(FS * 2)
    emg = rng.normal(0, 15, (n, 2)).astype(np.float32)
    for t in range(800, n - 200, 700):
        emg[t : t + 5, 0] += np.array([100, 600, -300, 80, 10], np.float32)
    write_brainvision(tmp / "needle.vhdr", emg, FS, [EVIL, "EMG2"])
    ev = rng.normal(0, 10, (n, 1)).astype(np.float32)
    stims = list(range(500, n - 600, 1500))
    for s in stims:
        ev[s + 100 : s + 140, 0] += 300 * np.hanning(40).astype(np.float32)
        ev[s + 20 : s + 40, 0] += 2000 * np.hanning(20).astype(np.float32)
    write_brainvision(tmp / "evoked.vhdr", ev, FS, ["APB"],
                      [("Stimulus", "TMS", s, 1) for s in stims] + [("Stimulus", EVIL_NOTE, 10, 1)])
    (tmp / "p.toml").write_text(
        'name = "report test"\n[[recordings]]\npath = "needle.vhdr"\nmuscle = "FDI"\nside = "R"\n'
        'analyses = ["detect", "mup"]\n[[recordings]]\npath = "evoked.vhdr"\nmuscle = "APB"\n'
        'side = "R"\nanalyses = ["mep", "nerve"]\ntrigger = "TMS"\n')
    out = tmp / "out"
    res = run_pipeline(load_pipeline(tmp / "p.toml"), out, scheduler="serial", report=False)
    mp.undo()
    assert res.exit_code == 0, res.errors
    write_json(out / "evidence.json", EVIDENCE)
    write_report(out)
    return out


def test_report_is_one_self_contained_page(run_out):
    html = (run_out / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)="(?!data:|#)', html), "external resource in the report"
    assert "default-src 'none'" in html
    pngs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    # traces, trains, MUP templates, MEP overlay, F-wave raster
    assert len(pngs) >= 5
    import base64

    assert all(base64.b64decode(p)[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    for text in ("Spontaneous activity", "Motor unit potentials", "Motor evoked potentials",
                 "M-waves and F-waves", "Region map", "revised_el_escorial", "rEEC.possible",
                 "Provenance", "firing train"):
        assert text in html, text
    assert "not drawn" not in html, re.findall(r'class="note">([^<]*)', html)


def test_file_strings_are_escaped(run_out):
    html = (run_out / "report.html").read_text()
    assert ESCAPED in html
    assert EVIL not in html
    assert "Stimulus/&lt;b&gt;marker&lt;/b&gt;&lt;iframe&gt;" in html  # a marker (annotation)
    assert EVIL_NOTE not in html


def test_missing_analysis_is_simply_absent(run_out, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(run_out, out)
    shutil.rmtree(out / "evoked" / "nerve")
    prov = json.loads((out / "provenance.json").read_text())
    del prov["recordings"]["evoked"]["analyses"]["nerve"]
    (out / "evidence.json").unlink()
    html = build_report(out, provenance=prov)
    assert "Motor evoked potentials" in html
    assert "M-waves and F-waves" not in html and "Region map" not in html


def test_unreadable_recording_is_a_note_not_a_crash(run_out, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(run_out, out)
    prov = json.loads((out / "provenance.json").read_text())
    prov["recordings"]["needle"]["path"] = str(tmp_path / "gone.vhdr")
    html = build_report(out, provenance=prov)
    assert "trace figure not drawn" in html
    assert "Spontaneous activity" in html


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("headless Chromium is not installed (apt-get install chromium)")


def _chromium_cmd(tmp_path: Path) -> list[str]:
    return [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}"]


@pytest.mark.slow
def test_report_renders_in_headless_chromium(run_out, tmp_path):
    url = (run_out / "report.html").resolve().as_uri()
    env = dict(os.environ, HOME=str(tmp_path))
    dom = subprocess.run(_chromium_cmd(tmp_path) + ["--dump-dom", url], capture_output=True,
                         text=True, timeout=90, env=env)
    assert dom.returncode == 0, dom.stderr[-2000:]
    out = dom.stdout
    # rendered: the body with its sections is in the DOM
    assert "<h2>Summary</h2>" in out and 'id="case"' in out
    # the malicious channel name is a text node, not an element
    assert ESCAPED in out
    assert "<script>alert(1)" not in out
    shot = tmp_path / "shot.png"
    res = subprocess.run(_chromium_cmd(tmp_path) + [f"--screenshot={shot}", "--window-size=1200,2000",
                                                    url], capture_output=True, text=True,
                         timeout=90, env=env)
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    from matplotlib.image import imread

    img = imread(shot)
    assert img.shape[0] >= 1000 and img.shape[1] >= 1000
    assert img[..., :3].std() > 0.05  # not a blank page


def test_mup_templates_npz_is_drawn(tmp_path):
    from motorsign.report import sections

    folder = tmp_path / "mup"
    folder.mkdir()
    t = np.linspace(-1, 1, 101)
    tpl = np.stack([np.sin(3 * t) * 300 * np.exp(-4 * t**2), -200 * np.exp(-8 * t**2)]).astype(np.float32)
    np.savez(folder / "templates.npz", channel=np.asarray([EVIL, EVIL]), unit_id=np.asarray([3, 7]),
             templates=tpl, fs=np.float64(10_000.0), pre_samples=np.int64(50))
    write_json(folder / "summary.json", {"channels": {EVIL: {"classification": "neurogenic",
                                                            "mean_amplitude_uv": 600.0}}})
    panels = sections._npz_templates(folder / "templates.npz")
    t_ms, units = panels[EVIL]
    assert [u for u, _ in units] == ["unit 3", "unit 7"]
    assert t_ms[0] == pytest.approx(-5.0) and t_ms[50] == 0.0
    html = sections.mup_section(folder, sections.RecordingSource(None))
    assert "MUP templates per channel (templates.npz)" in html and "data:image/png" in html
    assert ESCAPED in html and EVIL not in html


def test_envelope_keeps_every_peak():
    from motorsign.report.figures import envelope

    t = np.arange(100_000) / 10_000.0
    y = np.zeros_like(t)
    y[[123, 45_678, 99_990]] = [900.0, -700.0, 50.0]
    td, yd = envelope(t, y, n_bins=500)
    assert td.size <= 1000 + 500 and np.all(np.diff(td) >= 0)
    assert yd.max() == 900.0 and yd.min() == -700.0 and 50.0 in yd
    assert td[np.argmax(yd)] == t[123]
    short_t, short_y = envelope(t[:100], y[:100], n_bins=500)
    assert short_y.size == 100


@pytest.mark.parametrize("value,text", [(float("nan"), "NaN"), (None, ""), (2034.6, "2035"),
                                        (3.14159, "3.14"), (7.0, "7"), (True, "True"),
                                        ("<b>", "&lt;b&gt;"), (float("inf"), "inf")])
def test_cell_format(value, text):
    from motorsign.report.html import fmt

    assert fmt(value) == text


def test_sections_are_cached_and_redrawn_only_when_results_change(run_out, tmp_path, monkeypatch):
    import motorsign.report as report
    from motorsign.pipeline.cache import MANIFEST

    out = tmp_path / "copy"
    shutil.copytree(run_out, out)
    assert (out / "needle" / report.FRAGMENT).is_file()
    drawn = []

    def fake_render(out_dir, rec_id, info):
        drawn.append(rec_id)
        return f"<section>REDRAWN {rec_id}</section>"

    monkeypatch.setattr(report, "render_recording", fake_render)
    write_report(out)
    assert drawn == []  # everything from the cache
    html = (out / "report.html").read_text()
    assert "REDRAWN" not in html and "Spontaneous activity" in html
    m = json.loads((out / "needle" / "detect" / MANIFEST).read_text())
    m["files"]["discharges.csv"]["sha256"] = "0" * 64  # a rerun that changed an output
    (out / "needle" / "detect" / MANIFEST).write_text(json.dumps(m))
    write_report(out)
    assert drawn == ["needle"]
    html = (out / "report.html").read_text()
    assert "REDRAWN needle" in html and "Motor evoked potentials" in html


def test_trace_window_is_the_busiest_and_ignores_nan():
    from motorsign.report.sections import _best_window

    times = np.array([1.0, 50.0, 51.0, 52.0, np.nan])
    assert _best_window(times, 10.0, 100.0) == pytest.approx(49.5)
    assert _best_window(np.array([99.0, 99.5]), 10.0, 100.0) == pytest.approx(90.0)  # kept inside
    assert _best_window(np.array([]), 10.0, 100.0) == 0.0
    assert _best_window(times, 10.0, 5.0) == 0.0
