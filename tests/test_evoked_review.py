"""Review cases for the evoked verbs: multi-segment and multi-stream recordings, result-folder
kinds in ``cmct``, synthetic responses at known samples."""

from __future__ import annotations

import json

import numpy as np
import pytest

from motorsign.cli import main
from motorsign.errors import InputError
from motorsign.evoked.cmct import cmct_from_results
from motorsign.evoked.mep import analyze_meps
from motorsign.recording import Event, Recording
from writers.intan import write_rhd

FS = 5000.0


def _mep(x, start, amp=400.0, n=50):
    """A one-cycle sine MEP: 0 at ``start``, non-zero from ``start + 1``."""
    x[start:start + n] += (amp * np.sin(np.linspace(0.0, 2 * np.pi, n))).astype(np.float32)


def test_multi_segment_recording_with_one_pulse_per_segment_at_different_times(rng):
    # two recording blocks (neo segments) with one TMS pulse each, at different times: they are
    # continuous runs to cut epochs from, not whole trials with a common stimulus sample
    segs = [rng.normal(0, 2, (int(FS * 2), 1)).astype(np.float32) for _ in range(2)]
    evs = [Event("Stimulus/TMS", 0.5, 0), Event("Stimulus/TMS", 0.7, 1)]
    for e in evs:
        _mep(segs[e.segment][:, 0], int(round((e.time_s + 0.020) * FS)))
    rec = Recording.from_array(segs, FS, ["APB"], events=evs)
    tab, _ = analyze_meps(rec, "TMS")
    assert list(tab["segment"]) == [0, 1]
    assert list(tab["trigger_time_s"]) == pytest.approx([0.5, 0.7])
    assert tab["present"].all()
    assert tab["onset_ms"].to_numpy() == pytest.approx([20.0, 20.0], abs=0.1)


def test_multi_segment_sweeps_with_a_common_stimulus_sample_stay_whole_trials(rng):
    segs = [rng.normal(0, 2, (1000, 1)).astype(np.float32) for _ in range(3)]
    evs = [Event("TMS", 0.05, k) for k in range(3)]
    for s in segs:
        _mep(s[:, 0], 250 + 100)
    rec = Recording.from_array(segs, FS, ["APB"], events=evs)
    tab, _ = analyze_meps(rec, "TMS")
    assert len(tab) == 3 and tab["present"].all()
    assert tab["onset_ms"].to_numpy() == pytest.approx(20.0, abs=0.1)


def test_mep_cli_takes_a_stream_option(tmp_path, rng):
    # an Intan file with an amplifier stream and a board-ADC stream (both in volts): without
    # --stream the reader asks for one, so the evoked verbs must accept it
    n = 6000  # 0.3 s at 20 kHz, a multiple of 60
    fs = 20_000.0
    amp = np.full((n, 2), 32_768.0)
    amp[:, 0] += rng.normal(0, 5, n)
    amp[2000:2040, 1] += 5000  # trigger pulse on the second amplifier channel, µV = 0.195 * counts
    on = 2000 + int(0.020 * fs)
    amp[on:on + 200, 0] += 2000 * np.sin(np.linspace(0, 2 * np.pi, 200))
    adc = np.zeros((n, 1))
    p = write_rhd(tmp_path / "r.rhd", np.clip(np.rint(amp), 0, 65_535), fs, ["APB", "TRIG"], adc_raw=adc)
    out = tmp_path / "out"
    assert main(["mep", str(p), "--out", str(out), "--trigger", "analog:TRIG",
                 "--stream", "RHD2000 amplifier channel", "--pre-ms", "50", "--post-ms", "100"]) == 0
    summ = json.loads((out / "summary.json").read_text())
    assert list(summ["channels"]) == ["APB"]
    assert summ["channels"]["APB"]["n_present"] == 1
    assert summ["channels"]["APB"]["onset_ms_min"] == pytest.approx(20.0, abs=0.2)


def _write_summary(folder, channels):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps({"channels": channels}))
    return folder


MEP_SUMMARY = {"APB": {"muscle": "APB", "n_trials": 10, "n_present": 10, "onset_ms_min": 21.5,
                       "onset_ms_median": 22.0, "peak_to_peak_uv_median": 800.0}}
NERVE_SUMMARY = {"APB": {"muscle": "APB", "m_onset_ms": 3.5, "cmap_amplitude_mv": 5.0,
                         "f_min_latency_ms": 27.0, "f_persistence": 0.9}}


def test_cmct_from_folders_hand_arithmetic(tmp_path):
    mep = _write_summary(tmp_path / "mep", MEP_SUMMARY)
    nerve = _write_summary(tmp_path / "nerve", NERVE_SUMMARY)
    res = cmct_from_results(mep, nerve)
    assert res["peripheral_ms"] == pytest.approx((27.0 + 3.5 - 1.0) / 2)
    assert res["cmct_ms"] == pytest.approx(21.5 - 14.75)


def test_cmct_refuses_a_nerve_folder_given_as_mep_and_vice_versa(tmp_path, capsys):
    # a nerve summary has no MEP counts: reading it as "no MEP" would call the CMCT abnormal
    mep = _write_summary(tmp_path / "mep", MEP_SUMMARY)
    nerve = _write_summary(tmp_path / "nerve", NERVE_SUMMARY)
    with pytest.raises(InputError, match="not a mep result"):
        cmct_from_results(nerve, nerve)
    with pytest.raises(InputError, match="not a nerve result"):
        cmct_from_results(mep, mep)
    with pytest.raises(InputError, match="not a mep result"):
        cmct_from_results(mep, root_dir=nerve)
    assert main(["cmct", "--mep", str(nerve), "--nerve", str(nerve)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a mep result" in err[0]


def test_a_lab_norms_table_with_a_non_number_is_an_error_not_a_missing_norm(tmp_path):
    # "8,5" (decimal comma) must not silently become "no norm" (the CMCT would go unjudged)
    from motorsign.evoked.cmct import compute_cmct

    p = tmp_path / "norms.csv"
    p.write_text('muscle,measure,mean,sd,uln,source\nAPB,cmct_ms,,,"8,5",lab\n')
    with pytest.raises(InputError, match="uln"):
        compute_cmct(mep_latency_ms=21.5, f_latency_ms=27.0, m_latency_ms=3.5, muscle="APB", norms=p)
    p.write_text("muscle,measure,mean,sd,uln,source\nAPB,cmct_ms,,,8.5,lab\n")
    res = compute_cmct(mep_latency_ms=21.5, f_latency_ms=27.0, m_latency_ms=3.5, muscle="APB", norms=p)
    assert res["cmct_ms"] == pytest.approx(6.75) and res["uln_ms"] == 8.5 and res["abnormal"] is False


def test_nerve_method_help_states_the_real_default(capsys):
    from motorsign.evoked.nerve import NerveOptions

    with pytest.raises(SystemExit):
        main(["nerve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert f"(default {NerveOptions().method}" in out


@pytest.mark.parametrize("name, row", [("tibialis_anterior", "TA"), ("Tibialis anterior", "TA"),
                                       ("first dorsal interosseous", "FDI"), ("flexor_carpi_radialis", "FCR"),
                                       ("abductor_hallucis", "AH"), ("apb", "APB")])
def test_mep_window_follows_catalog_aliases(name, row):
    # a catalog alias must get its muscle's window, not the 8-60 ms default
    from motorsign.evoked.tables import load_windows, mep_window

    assert mep_window(name) == load_windows()[row.lower()]


def test_nerve_windows_follow_catalog_aliases():
    from motorsign.evoked.nerve import F_WINDOWS, NerveOptions, _windows

    assert _windows("tibialis_anterior", NerveOptions())[2] == "leg"
    assert _windows("tibialis_anterior", NerveOptions())[1] == F_WINDOWS["leg"][2:]


def test_unknown_muscle_falls_back_to_the_default_window_with_a_warning(caplog):
    from motorsign.evoked.tables import load_windows, mep_window

    with caplog.at_level("WARNING"):
        assert mep_window("pectoralis") == load_windows()["default"]
    assert "pectoralis" in caplog.text and "default" in caplog.text


def test_cmct_norm_found_through_a_catalog_alias():
    from motorsign.evoked.cmct import compute_cmct

    by_alias = compute_cmct(mep_latency_ms=21.5, f_latency_ms=27.0, m_latency_ms=3.5,
                            muscle="abductor_pollicis_brevis")
    by_name = compute_cmct(mep_latency_ms=21.5, f_latency_ms=27.0, m_latency_ms=3.5, muscle="APB")
    assert by_alias["uln_ms"] == by_name["uln_ms"] == pytest.approx(7.8 + 2.5 * 1.3)
    assert by_alias["abnormal"] is False


@pytest.mark.filterwarnings("ignore::motorsign.errors.MotorsignWarning")
@pytest.mark.parametrize("verb", ["mep", "nerve"])
def test_summary_records_that_amplitudes_are_not_in_microvolts(tmp_path, verb, rng):
    # an epoched array without units: values are used unscaled; the result must say so
    x = rng.normal(0, 2, (1000, 3))
    p = tmp_path / "a.npy"
    np.save(p, x)
    out = tmp_path / "out"
    assert main([verb, str(p), "--fs", "10000", "--stim-sample", "100", "--out", str(out)]) == 0
    summ = json.loads((out / "summary.json").read_text())
    assert any("not a voltage" in w for w in summ["warnings"])


def test_cmct_channel_names_may_differ_between_mep_and_nerve_results(tmp_path, capsys):
    # cortical MEPs recorded on "EMG1", the nerve study on "APB": --channel picks the MEP channel,
    # --nerve-channel the nerve one; a nerve result with one channel needs no name
    mep = _write_summary(tmp_path / "mep", {"EMG1": MEP_SUMMARY["APB"], "EMG2": MEP_SUMMARY["APB"]})
    nerve = _write_summary(tmp_path / "nerve", {"APB": NERVE_SUMMARY["APB"]})
    res = cmct_from_results(mep, nerve, channel="EMG1")
    assert res["cmct_ms"] == pytest.approx(6.75) and res["sources"]["nerve_channel"] == "APB"
    nerve2 = _write_summary(tmp_path / "nerve2", {"APB": NERVE_SUMMARY["APB"], "ADM": NERVE_SUMMARY["APB"]})
    assert main(["cmct", "--mep", str(mep), "--nerve", str(nerve2), "--channel", "EMG1",
                 "--nerve-channel", "ADM", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sources"]["nerve_channel"] == "ADM" and out["cmct_ms"] == pytest.approx(6.75)


def test_cmct_result_folder_without_mep_folder_says_so(tmp_path, capsys):
    nerve = _write_summary(tmp_path / "nerve", NERVE_SUMMARY)
    assert main(["cmct", "--mep-latency", "21.5", "--nerve", str(nerve)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--nerve DIR goes with --mep DIR" in err[0]


def test_analog_trigger_given_by_index_is_not_analysed_as_a_muscle(rng):
    from motorsign.evoked.epochs import signal_channels

    rec = Recording.from_array(rng.normal(0, 1, (1000, 3)).astype(np.float32), FS, ["APB", "TRIG", "FDI"])
    assert signal_channels(rec, "analog:1") == [0, 2]
    assert signal_channels(rec, "analog:1:500") == [0, 2]
    assert signal_channels(rec, "analog:TRIG:500") == [0, 2]


def test_negative_amplitude_floor_is_refused(tmp_path, capsys):
    from motorsign.errors import ConfigError
    from motorsign.evoked.mep import options_from

    with pytest.raises(ConfigError, match="amplitude_floor_uv"):
        options_from(amplitude_floor_uv=-5.0)


def test_intensities_file_that_does_not_exist_is_named(tmp_path):
    from motorsign.commands.mep import _intensities

    with pytest.raises(InputError, match="not found"):
        _intensities(str(tmp_path / "ints.txt"))
    assert _intensities("50, 60,70") == [50.0, 60.0, 70.0]


@pytest.mark.parametrize("kind, bad", [("tms", {"n_trials": 0}), ("tms", {"fs": 0}), ("tms", {"amp_min_uv": 0}),
                                       ("nerve", {"n_trials": 0}), ("nerve", {"fs": 0}),
                                       ("nerve", {"m_latency_ms": 0})])
def test_simulators_refuse_zero_instead_of_silently_using_the_default(kind, bad):
    from motorsign.errors import ConfigError
    from motorsign.simulate import nerve as sim_nerve
    from motorsign.simulate import tms as sim_tms

    gen = {"tms": sim_tms, "nerve": sim_nerve}[kind].generate
    with pytest.raises(ConfigError):
        gen(seed=0, **bad)


def test_nerve_trials_without_baseline_are_not_measured_not_f_absent():
    # stimulus at the first sample of every sweep: nothing can be measured, so persistence must
    # be NaN ("not measured"), never 0 ("no F-waves")
    from motorsign.evoked.nerve import analyze_nerve, summarize_nerve

    fs = 10_000.0
    rng = np.random.default_rng(0)
    segs = []
    for k in range(10):
        x = rng.normal(0, 5, 800).astype(np.float32)
        x[35:95] += (5000 * np.sin(np.linspace(0, 2 * np.pi, 60))).astype(np.float32)
        x[270 + k:310 + k] += (200 * np.sin(np.linspace(0, 2 * np.pi, 40))).astype(np.float32)
        segs.append(x[:, None])
    rec = Recording.from_array(segs, fs, ["APB"], events=[Event("stimulus", 0.0, k, "epoch") for k in range(10)])
    tab = analyze_nerve(rec, None)
    assert not tab["measured"].any() and tab["flags"].str.contains("not_measured").all()
    s = summarize_nerve(tab)["APB"]
    assert s["n_stimuli"] == 0 and s["n_not_measured"] == 10
    assert np.isnan(s["f_persistence"]) and np.isnan(s["m_onset_ms"])
