"""The candidate pool: chunks added in any order, growing, read back per channel."""

import os

import numpy as np
import pytest

import motorsign.spontaneous.detect as D
from motorsign.spontaneous.detect import _ChunkOut, _Pool


def _chunk(rng, segment, n_channels, n_features, snip_w):
    counts = rng.integers(0, 30, n_channels) * (rng.random() < 0.8)  # some chunks empty
    chans = np.repeat(np.arange(n_channels), counts)
    m = chans.size
    return _ChunkOut(segment, 0, np.arange(m, dtype=np.int64) * 7, chans,
                     rng.standard_normal((m, n_features)),
                     rng.standard_normal((m, snip_w)).astype(np.float32),
                     np.zeros((1, n_channels, 5)), np.ones(n_channels))


def test_pool_holds_every_chunk_in_any_order_across_growth(no_spare):
    rng = np.random.default_rng(4)
    n_chunks, nch, nf, w = 60, 3, 5, 7
    chunks = [_chunk(rng, k // 20, nch, nf, w) for k in range(n_chunks)]
    # the first chunk added is small: the pool has to grow
    chunks[0] = _ChunkOut(0, 0, np.zeros(1, np.int64), np.zeros(1, np.int64),
                          np.zeros((1, nf)), np.zeros((1, w), np.float32),
                          np.zeros((1, nch, 5)), np.ones(nch))
    want = {}
    for k, c in enumerate(chunks):
        for ch in range(nch):
            sel = c.chans == ch
            want[k, ch] = (c.peaks[sel].copy(), c.feat[sel].copy(), c.snips[sel].copy())
    pool = _Pool(np.array([c.segment for c in chunks]), nch, nf)
    sizes = []
    for k in [0, *rng.permutation(np.arange(1, n_chunks))]:
        pool.add(int(k), chunks[k])
        sizes.append(pool.peaks.size)
        assert chunks[k].feat is None  # the chunk's own copy is dropped
    assert len(set(sizes)) >= 2  # it grew after the first allocation
    assert pool.n == sum(v[0].size for v in want.values())
    for (k, ch), (peaks, feat, snips) in want.items():
        a, b = pool.cuts[k, ch], pool.cuts[k, ch + 1]
        np.testing.assert_array_equal(pool.peaks[a:b], peaks)
        np.testing.assert_array_equal(pool.feat[a:b], feat)
        np.testing.assert_array_equal(pool.snips[a:b], snips)


def test_pool_refuses_candidates_of_another_width():
    rng = np.random.default_rng(1)
    pool = _Pool(np.zeros(2, np.int64), 2, 5)
    pool.add(0, _ChunkOut(0, 0, np.zeros(3, np.int64), np.zeros(3, np.int64), np.zeros((3, 5)),
                          np.zeros((3, 7), np.float32), np.zeros((1, 2, 5)), np.ones(2)))
    wide = _ChunkOut(0, 0, np.zeros(2, np.int64), np.zeros(2, np.int64), rng.random((2, 5)),
                     np.zeros((2, 9), np.float32), np.zeros((1, 2, 5)), np.ones(2))
    with pytest.raises(RuntimeError, match="width"):
        pool.add(1, wide)


def test_pool_copies_outside_its_lock_and_grows_only_between_copies(monkeypatch):
    # threads copy their rows at once (outside the lock); a growth that moved the
    # arrays under a copy still in progress would lose that copy's rows
    import threading
    import time

    import motorsign.spontaneous.detect as detect_mod

    real_copy = detect_mod._copy_rows_nb
    inside = []
    overlapped = threading.Event()

    def slow_copy(*args):
        if args[3] == 0:  # the growth's own copy (and the first chunk): at once
            real_copy(*args)
            return
        inside.append(1)
        if len(inside) > 1:
            overlapped.set()
        time.sleep(0.01)  # a copy that faults in fresh pages
        real_copy(*args)
        inside.pop()

    monkeypatch.setattr(detect_mod, "_copy_rows_nb", slow_copy)
    rng = np.random.default_rng(7)
    n_chunks, nch, nf, w = 48, 2, 4, 5
    chunks = [_chunk(rng, 0, nch, nf, w) for _ in range(n_chunks)]
    want = {(k, ch): (c.peaks[c.chans == ch].copy(), c.snips[c.chans == ch].copy())
            for k, c in enumerate(chunks) for ch in range(nch)}
    pool = _Pool(np.zeros(n_chunks, np.int64), nch, nf)
    pool.add(0, _ChunkOut(0, 0, np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros((1, nf)),
                          np.zeros((1, w), np.float32), np.zeros((1, nch, 5)), np.ones(nch)))
    sizes = set()

    def worker(ks):
        for k in ks:
            pool.add(int(k), chunks[k])
            sizes.add(pool.peaks.size)

    threads = [threading.Thread(target=worker, args=(range(1 + i, n_chunks, 4),)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlapped.is_set()  # copies did run at the same time
    assert len(sizes) >= 2  # and the pool grew meanwhile
    assert not pool._copying
    for k in range(1, n_chunks):
        for ch in range(nch):
            a, b = pool.cuts[k, ch], pool.cuts[k, ch + 1]
            np.testing.assert_array_equal(pool.peaks[a:b], want[k, ch][0])
            np.testing.assert_array_equal(pool.snips[a:b], want[k, ch][1])


@pytest.fixture
def no_spare():
    D.release_scratch()
    yield
    D.release_scratch()


def _arrays(rows, n_features=5, width=7):
    return (np.zeros(rows, np.int64), np.zeros((rows, n_features)),
            np.zeros((rows, width), np.float32))


def test_spare_pool_is_taken_only_when_it_fits_and_only_once(no_spare):
    kept = _arrays(100)
    for rows, nf, w in ((101, 5, 7), (50, 6, 7), (50, 5, 8)):  # too few rows, other widths
        D._give_spare(kept)
        fit, unfit = D._take_spare(rows, nf, w)
        assert fit is None and unfit[0] is kept[0]  # handed back to be dropped
        assert D._spare is None  # not held during the call that could not use it
    D._give_spare(kept)
    fit, unfit = D._take_spare(100, 5, 7)
    assert fit[0] is kept[0] and unfit is None
    assert D._take_spare(10, 5, 7) == (None, None)  # handed out: gone from the slot


def test_spare_pool_keeps_the_larger_and_respects_the_limit(no_spare, monkeypatch):
    D._give_spare(_arrays(100))
    D._give_spare(_arrays(50))  # a smaller pool returned at the same time: not kept
    assert D._take_spare(100, 5, 7)[0] is not None
    monkeypatch.setattr(D, "_SPARE_MAX_BYTES", 1000)
    D._give_spare(_arrays(100))  # 100 * (8 + 40 + 28) bytes: over the limit
    assert D._take_spare(1, 5, 7) == (None, None)
    D._give_spare(_arrays(10))
    D.release_scratch()
    assert D._take_spare(1, 5, 7) == (None, None)


def test_pool_growth_hands_back_a_kept_pool_that_does_not_fit(no_spare):
    small = _arrays(3)
    D._give_spare(small)
    pool = _Pool(np.zeros(4, np.int64), 2, 5)
    pool.add(0, _ChunkOut(0, 0, np.zeros(8, np.int64), np.repeat([0, 1], 4), np.ones((8, 5)),
                          np.ones((8, 7), np.float32), np.zeros((1, 2, 5)), np.ones(2)))
    assert D._spare is None and pool.peaks.size >= 8 and pool.peaks is not small[0]
    np.testing.assert_array_equal(pool.feat[:8], 1.0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_forked_child_keeps_no_pool_and_gets_its_own_lock(no_spare):
    D._give_spare(_arrays(10))
    D._spare_lock.acquire()  # held by "another thread" at the fork
    try:
        pid = os.fork()
        if pid == 0:  # the child: nothing kept, and a lock that is free
            ok = D._spare is None and D._spare_lock.acquire(timeout=2)
            os._exit(0 if ok else 1)
    finally:
        D._spare_lock.release()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert D._take_spare(10, 5, 7)[0] is not None  # the parent's is untouched


def test_detect_reuses_its_pool_without_changing_earlier_results(no_spare, monkeypatch):
    from motorsign.recording import Recording
    from motorsign.simulate import needle_emg

    # the second recording is shorter: its pool fits in the first's
    sims = [needle_emg.generate(seed=s, duration_s=d, n_channels=2, fasc_units=1)
            for s, d in ((1, 8.0), (2, 4.0))]
    recs = [Recording.from_array(s.data_uv, s.fs, ["A", "B"]) for s in sims]
    taken = []
    take = D._take_spare
    monkeypatch.setattr(D, "_take_spare", lambda *a: taken.append(take(*a)) or taken[-1])
    first = D.detect_spontaneous(recs[0], n_jobs=2)
    before = first.discharges.copy()
    for a in D._spare:  # whatever the next call does not write must not matter
        a[...] = np.nan if a.dtype.kind == "f" else -(2 ** 40)
    second = D.detect_spontaneous(recs[1])
    assert taken[0][0] is None and taken[-1][0] is not None  # the second call wrote the first's arrays
    assert len(before) and len(second.discharges)
    # nothing of the first result lives in the reused arrays
    assert first.discharges.equals(before)
    D.release_scratch()
    fresh = D.detect_spontaneous(recs[1])
    assert fresh.discharges.equals(second.discharges)


def test_detect_calls_in_threads_at_once_share_the_spare_safely(no_spare):
    from concurrent.futures import ThreadPoolExecutor

    from motorsign.recording import Recording
    from motorsign.simulate import needle_emg

    recs = []
    for seed in (3, 4, 5, 6):
        sim = needle_emg.generate(seed=seed, duration_s=4, n_channels=2, fasc_units=1)
        recs.append(Recording.from_array(sim.data_uv, sim.fs, ["A", "B"]))
    alone = []
    for rec in recs:
        D.release_scratch()
        alone.append(D.detect_spontaneous(rec).discharges)
    with ThreadPoolExecutor(2) as ex:  # each call takes the spare or makes its own
        together = list(ex.map(lambda r: D.detect_spontaneous(r).discharges, recs * 2))
    for a, b in zip(alone * 2, together):
        assert a.equals(b)


def test_pool_is_not_handed_out_while_its_channels_are_still_read(no_spare, monkeypatch):
    # another call that runs during this call's per-channel work (here nested in
    # it) must not get this call's pool: it would overwrite the snippets in use
    from motorsign.recording import Recording
    from motorsign.simulate import needle_emg

    def rec(seed, seconds):
        sim = needle_emg.generate(seed=seed, duration_s=seconds, n_channels=2, fasc_units=1)
        return Recording.from_array(sim.data_uv, sim.fs, ["A", "B"])

    first, other = rec(1, 8.0), rec(2, 4.0)
    want = D.detect_spontaneous(first).discharges  # and leaves a pool that fits both
    cluster = D.cluster_channel
    nested = []

    def cluster_with_another_call(*a, **k):
        if not nested:
            nested.append(None)  # once: the nested call's own clustering runs as usual
            nested[0] = D.detect_spontaneous(other)
        return cluster(*a, **k)

    monkeypatch.setattr(D, "cluster_channel", cluster_with_another_call)
    got = D.detect_spontaneous(first).discharges
    assert nested and len(nested[0].discharges)
    assert got.equals(want)
