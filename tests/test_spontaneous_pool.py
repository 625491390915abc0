"""The candidate pool: chunks added in any order, growing, read back per channel."""

import numpy as np
import pytest

from motorsign.spontaneous.detect import _ChunkOut, _Pool


def _chunk(rng, segment, n_channels, n_features, snip_w):
    counts = rng.integers(0, 30, n_channels) * (rng.random() < 0.8)  # some chunks empty
    chans = np.repeat(np.arange(n_channels), counts)
    m = chans.size
    return _ChunkOut(segment, 0, np.arange(m, dtype=np.int64) * 7, chans,
                     rng.standard_normal((m, n_features)),
                     rng.standard_normal((m, snip_w)).astype(np.float32),
                     np.zeros((1, n_channels, 5)), np.ones(n_channels))


def test_pool_holds_every_chunk_in_any_order_across_growth():
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
