"""Pipeline file validation: everything is checked before any work starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from motorsign.errors import ConfigError
from motorsign.pipeline import load_pipeline


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("a.vhdr", "b.vhdr", "sub/a.vhdr", "case.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    return tmp_path


def load(folder: Path, text: str):
    p = folder / "p.toml"
    p.write_text(text)
    return load_pipeline(p)


def test_full_file_with_defaults_options_cmct_and_fusion(folder):
    pipe = load(folder, """
name = "demo"
[defaults]
analyses = ["detect"]
side = "R"
[defaults.options.detect]
threshold = 4.0
[[recordings]]
path = "a.vhdr"
muscle = "FDI"
channels = "EMG1, EMG2"
[recordings.options.detect]
threshold = 5.0
min_rest_s = 2
[[recordings]]
path = "b.vhdr"
id = "tms"
analyses = ["mep", "nerve"]
trigger = "TMS"
fs = 5000
stim_sample = 100
[[cmct]]
mep = "tms"
nerve = "tms"
muscle = "ADM"
[fusion]
clinical = "case.json"
""")
    assert pipe.name == "demo" and pipe.n_tasks == 3
    a, b = pipe.recordings
    assert a.id == "a" and a.path == (folder / "a.vhdr").resolve()
    assert a.analyses == ("detect",) and a.side == "R" and a.channels == ("EMG1", "EMG2")
    assert a.options == {"detect": {"threshold": 5.0, "min_rest_s": 2}}
    assert b.read_options == {"fs": 5000, "stim_sample": 100} and b.trigger == "TMS"
    assert pipe.cmct[0].id == "tms+tms" and pipe.cmct[0].side == "R"
    assert pipe.fusion.clinical == (folder / "case.json").resolve()


@pytest.mark.parametrize(
    "text,expected",
    [
        ('[[recordings]]\npath = "a.vhdr"\nanlyses = ["detect"]\n',
         r"\[\[recordings\]\] #1: unknown key 'anlyses'; did you mean 'analyses'\?"),
        ('[defaults]\nmusle = "FDI"\n[[recordings]]\npath = "a.vhdr"\nanalyses = ["detect"]\n',
         r"\[defaults\]: unknown key 'musle'; did you mean 'muscle'\?"),
        ('recording = []\n', r"unknown key 'recording'; did you mean 'recordings'\?"),
        ('[[recordings]]\npath = "a.vhdr"\nanalyses = ["detct"]\n',
         r"unknown analysis 'detct' .*did you mean 'detect'\?"),
        ('[[recordings]]\npath = "a.vhdr"\nanalyses = ["detect"]\nside = "right"\n',
         r"side: must be one of L, R"),
        ('[[recordings]]\npath = "a.vhdr"\nanalyses = ["mep"]\nfs = -3\n', r"fs: must be positive"),
        ('[[recordings]]\npath = "a.vhdr"\n', r"no analyses"),
        ('[[recordings]]\npath = "a.vhdr"\nanalyses = ["detect"]\n[recordings.options.mep]\nx = 1\n',
         r"options for mep which this recording does not run"),
        ('[[recordings]]\npath = "a.vhdr"\nanalyses = ["detect"]\n[[recordings]]\npath = "sub/a.vhdr"\n'
         'analyses = ["detect"]\nid = "a"\n', r"id 'a' is already used"),
        ('[[recordings]]\npath = "a.vhdr"\nanalyses = ["detect"]\nid = "cmct"\n', r"reserved"),
        ('[[recordings]]\npath = "a.vhdr"\nanalyses = ["mep"]\n[[cmct]]\nmep = "a"\nnerve = "b"\n',
         r"\[\[cmct\]\] #1.nerve: no recording with id 'b'"),
        ('[[recordings]]\npath = "a.vhdr"\nanalyses = ["mep"]\n[[cmct]]\nmep = "a"\nnerve = "a"\n',
         r"recording 'a' does not run the 'nerve' analysis"),
        ('[[recordings]]\npath = "a.vhdr"\nanalyses = ["detect"]\n[fusion]\nclinical = "nope.json"\n',
         r"\[fusion\].clinical: file 'nope.json' not found"),
        ('[[recordings]]\npath = "gone.vhdr"\nanalyses = ["detect"]\n', r"missing recording.*gone.vhdr"),
        ("[[recordings]\n", r"not a valid TOML file"),
        ("", r"lists no recordings"),
    ],
)
def test_invalid_files_name_the_problem(folder, text, expected):
    with pytest.raises(ConfigError, match=expected) as info:
        load(folder, text)
    assert str(folder / "p.toml") in str(info.value)
    assert "\n" not in str(info.value)


def test_ids_from_stems_and_paths_when_stems_collide(folder):
    pipe = load(folder, '[defaults]\nanalyses = ["detect"]\n[[recordings]]\npath = "a.vhdr"\n'
                        '[[recordings]]\npath = "sub/a.vhdr"\n[[recordings]]\npath = "b.vhdr"\n')
    assert [r.id for r in pipe.recordings] == ["a", "sub_a", "b"]


def test_missing_pipeline_file(tmp_path):
    with pytest.raises(ConfigError, match="pipeline file not found"):
        load_pipeline(tmp_path / "none.toml")


def test_check_files_false_allows_missing(folder):
    p = folder / "p.toml"
    p.write_text('[[recordings]]\npath = "later.vhdr"\nanalyses = ["detect"]\n')
    assert load_pipeline(p, check_files=False).recordings[0].id == "later"


PIPELINES = sorted((Path(__file__).resolve().parents[1] / "pipelines").glob("*.toml"))


@pytest.mark.parametrize("path", PIPELINES, ids=[p.name for p in PIPELINES])
def test_shipped_pipelines_validate(path):
    sample = path.parent.parent / "sample_data"
    have_data = (sample / "needle_fdi_r.vhdr").is_file()
    pipe = load_pipeline(path, check_files=have_data)
    assert pipe.recordings
    for rec in pipe.recordings:
        if set(rec.analyses) & {"mep", "nerve"}:
            assert rec.trigger, f"{path.name}: {rec.id} needs a trigger"


def test_demo_covers_every_analysis_cmct_and_fusion():
    demo = load_pipeline(PIPELINES[0].parent / "demo.toml", check_files=False)
    assert {a for r in demo.recordings for a in r.analyses} == {"detect", "mup", "mep", "nerve"}
    assert demo.cmct and demo.fusion is not None


def test_run_verb_and_pipeline_import_nothing_heavy():
    import subprocess
    import sys

    code = ("import sys, motorsign.commands.run, motorsign.pipeline, motorsign.report; "
            "print(sorted(m for m in ('numpy', 'pandas', 'matplotlib', 'dask', 'distributed', "
            "'numba', 'mne', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_analysis_module_missing_is_reported_before_work(folder, monkeypatch):
    from motorsign.pipeline import ANALYSES

    monkeypatch.setitem(ANALYSES, "ghost", "motorsign.commands.no_such_module:execute")
    with pytest.raises(ConfigError, match=r"analysis 'ghost' is not available .*no_such_module"):
        load(folder, '[[recordings]]\npath = "a.vhdr"\nanalyses = ["ghost"]\n')
