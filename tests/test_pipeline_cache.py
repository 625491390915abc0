"""Completion manifests, atomic publishing and the input-hash cache."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from motorsign.outputs import write_json
from motorsign.pipeline import cache


def test_input_files_and_digest_cover_companions(tmp_path):
    for name, data in (("x.vhdr", b"h"), ("x.vmrk", b"m"), ("x.eeg", b"e"), ("x.vhdr.json", b"{}"),
                       ("xy.eeg", b"other"), (".x.vhdr.tmp", b"temp")):
        (tmp_path / name).write_bytes(data)
    names = [p.name for p in cache.input_files(tmp_path / "x.vhdr")]
    assert names == ["x.eeg", "x.vhdr", "x.vhdr.json", "x.vmrk"]
    d = cache.input_digest(tmp_path / "x.vhdr")
    assert d["sha256"] == hashlib.sha256(b"h").hexdigest()
    before = d["combined_sha256"]
    (tmp_path / "x.eeg").write_bytes(b"E")  # only a companion changes
    assert cache.input_digest(tmp_path / "x.vhdr")["combined_sha256"] != before


def test_task_key_depends_on_input_options_and_version():
    k = cache.task_key("abc", {"a": 1, "b": [1, 2]}, "0.1")
    assert k == cache.task_key("abc", {"b": [1, 2], "a": 1}, "0.1")
    assert k != cache.task_key("abd", {"a": 1, "b": [1, 2]}, "0.1")
    assert k != cache.task_key("abc", {"a": 2, "b": [1, 2]}, "0.1")
    assert k != cache.task_key("abc", {"a": 1, "b": [1, 2]}, "0.2")


def test_publish_manifest_and_completeness(tmp_path):
    final = tmp_path / "rec" / "detect"
    st = cache.staging_dir(final)
    assert st.name.startswith(".detect.partial-")
    write_json(st / "summary.json", {"x": 1})
    (st / "sub").mkdir()
    (st / "sub" / "t.npz").write_bytes(b"123")
    cache.write_manifest(st, "K", {"note": "n"})
    assert not final.exists()
    cache.publish(st, final)
    assert not st.exists() and cache.is_complete(final, "K")
    assert not cache.is_complete(final, "other key")
    m = cache.read_manifest(final)
    assert set(m["files"]) == {"summary.json", "sub/t.npz"} and m["note"] == "n"
    # republishing replaces the old result as a whole
    st2 = cache.staging_dir(final)
    write_json(st2 / "summary.json", {"x": 2})
    cache.write_manifest(st2, "K2", {})
    cache.publish(st2, final)
    assert cache.is_complete(final, "K2") and not (final / "sub").exists()
    assert [p.name for p in final.parent.iterdir()] == ["detect"]
    # a truncated file makes it incomplete
    (final / "summary.json").write_text("{")
    assert not cache.is_complete(final, "K2")


def test_clean_leftovers_only_removes_hidden_staging(tmp_path):
    (tmp_path / ".mep.partial-abc").mkdir()
    (tmp_path / ".mep.old-abc").mkdir()
    (tmp_path / "mep").mkdir()
    (tmp_path / ".keep").write_text("")
    assert cache.clean_leftovers(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [".keep", "mep"]


def test_hash_cache_skips_unchanged_and_catches_in_place_edits(tmp_path, monkeypatch):
    f = tmp_path / "big.eeg"
    f.write_bytes(b"a" * 1000)
    calls = []
    real = cache.file_sha256
    monkeypatch.setattr(cache, "file_sha256", lambda p: calls.append(p) or real(p))
    hc = cache.HashCache(tmp_path / "h.json")
    first = hc.sha256(f)
    hc.save()
    hc2 = cache.HashCache(tmp_path / "h.json")
    assert hc2.sha256(f) == first and len(calls) == 1
    st = f.stat()
    with open(f, "r+b") as fh:  # same size, same mtime restored: ctime still moves
        fh.write(b"b")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert hc2.sha256(f) == hashlib.sha256(b"b" + b"a" * 999).hexdigest()
    assert len(calls) == 2


def test_corrupt_hash_cache_is_ignored(tmp_path):
    (tmp_path / "h.json").write_text("{not json")
    f = tmp_path / "f"
    f.write_bytes(b"x")
    assert cache.HashCache(tmp_path / "h.json").sha256(f) == hashlib.sha256(b"x").hexdigest()


def test_stale_result_removed_when_rerun_fails(tmp_path, monkeypatch):
    import test_pipeline_run as tr
    from motorsign.pipeline import ANALYSES, load_pipeline, run_pipeline

    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.setitem(ANALYSES, "fdetect", "test_pipeline_run:fake_detect")
    tr.make_recording(tmp_path / "a.vhdr")
    p = tmp_path / "p.toml"
    p.write_text('[[recordings]]\npath = "a.vhdr"\nanalyses = ["fdetect"]\n')
    out = tmp_path / "out"
    assert run_pipeline(load_pipeline(p), out, scheduler="serial", report=False).exit_code == 0
    assert (out / "a" / "fdetect" / "summary.json").is_file()
    p.write_text('[[recordings]]\npath = "a.vhdr"\nanalyses = ["fdetect"]\nchannels = ["nope"]\n')
    res = run_pipeline(load_pipeline(p), out, scheduler="serial", report=False)
    assert res.exit_code == 1 and "nope" in res.errors[0]["error"]
    assert not (out / "a" / "fdetect").exists()


def test_interleave_alternates_analyses_largest_first():
    from motorsign.pipeline.runner import interleave

    tasks = [{"analysis": a, "size": s, "n": n} for n, (a, s) in enumerate(
        [("detect", 5), ("detect", 9), ("mup", 7), ("mup", 1), ("mep", 2), ("detect", 1)])]
    order = [(t["analysis"], t["size"]) for t in interleave(tasks)]
    assert order == [("detect", 9), ("mup", 7), ("mep", 2), ("detect", 5), ("mup", 1), ("detect", 1)]
    assert interleave([]) == []
