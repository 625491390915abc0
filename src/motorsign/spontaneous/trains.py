"""Firing trains: discharges of one source grouped by shape, then timing.

Shapes are compared by the correlation of peak-aligned band-passed snippets
and by amplitude ratio (greedy online clustering against running-mean
templates, numba). Each cluster is one source; its discharges sorted in time
form its train. Regularity uses interval statistics that tolerate missed
discharges: intervals close to a multiple of the median interval count as
consistent and are divided by that multiple before the local variation
(CV2) is computed; a regular train has mostly consistent intervals and a
low CV2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

__all__ = ["cluster_shapes_nb", "cluster_rows_nb", "TrainStats", "train_stats", "train_stats_by_source",
           "source_stats_nb", "cluster_channel"]


@numba.njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
def _dot(a, b):  # pragma: no cover - compiled
    """Dot product of two equal-length vectors; the sum may be reordered (vector
    instructions), which changes it by rounding only."""
    s = 0.0
    for t in range(a.shape[0]):
        s += a[t] * b[t]
    return s


@numba.njit(nogil=True, cache=True)
def cluster_shapes_nb(snips, amps, noise, order, min_corr, floor_corr, max_ratio,
                      max_templates):  # pragma: no cover - compiled
    """Greedy clustering of snippets (m, w) visited in ``order``.

    :func:`cluster_rows_nb` with discharge ``i``'s snippet in row ``i``.
    """
    return cluster_rows_nb(snips, np.arange(snips.shape[0]), amps, noise, order, min_corr,
                           floor_corr, max_ratio, max_templates)


@numba.njit(nogil=True, cache=True)
def cluster_rows_nb(snips, src, amps, noise, order, min_corr, floor_corr, max_ratio,
                    max_templates):  # pragma: no cover - compiled
    """Greedy clustering of discharges ``0 .. m-1`` visited in ``order``.

    Discharge ``i``'s snippet is row ``src[i]`` of ``snips`` (read in place:
    a shared pool need not be copied).

    A snippet joins the template it correlates best with when the
    correlation is at least its own threshold and the amplitude ratio at
    most ``max_ratio``; otherwise it starts a new template (up to
    ``max_templates``; beyond, it stays unassigned, label -1). The threshold
    is ``min_corr`` scaled by the correlation a noisy copy of a clean
    template can reach, ``sqrt(1 - noise**2 / variance)``, and at least
    ``floor_corr``.
    Returns int64 labels and the correlation with the assigned template.
    """
    m, w = src.shape[0], snips.shape[1]
    labels = np.full(m, -1, np.int64)
    corr_out = np.zeros(m)
    tmpl = np.zeros((max_templates, w))
    tnorm = np.zeros((max_templates, w))
    tamp = np.zeros(max_templates)
    tcnt = np.zeros(max_templates, np.int64)
    k = 0
    v = np.empty(w)
    for oi in range(m):
        i = order[oi]
        row = src[i]
        mu = 0.0
        for t in range(w):
            mu += snips[row, t]
        mu /= w
        nn = 0.0
        for t in range(w):
            v[t] = snips[row, t] - mu
            nn += v[t] * v[t]
        var = nn / w
        nn = np.sqrt(nn)
        if nn <= 0:
            continue
        for t in range(w):
            v[t] /= nn
        nz2 = noise[i] * noise[i]
        rho = np.sqrt(max(0.0, 1.0 - nz2 / var)) if var > 0 else 0.0
        thr = max(floor_corr, min_corr * rho)
        best = -2.0
        bj = -1
        for q in range(k):
            r = tamp[q] / amps[i] if amps[i] > 0 else 1e9
            if r < 1.0:
                r = 1.0 / r
            if r > max_ratio:
                continue
            c = _dot(v, tnorm[q])
            if c > best:
                best = c
                bj = q
        if bj >= 0 and best >= thr:
            labels[i] = bj
            corr_out[i] = best
            n0 = tcnt[bj]
            for t in range(w):
                tmpl[bj, t] = (tmpl[bj, t] * n0 + snips[row, t]) / (n0 + 1)
            tamp[bj] = (tamp[bj] * n0 + amps[i]) / (n0 + 1)
            tcnt[bj] = n0 + 1
            mu = 0.0
            for t in range(w):
                mu += tmpl[bj, t]
            mu /= w
            nn = 0.0
            for t in range(w):
                nn += (tmpl[bj, t] - mu) ** 2
            nn = np.sqrt(nn)
            for t in range(w):
                tnorm[bj, t] = (tmpl[bj, t] - mu) / nn if nn > 0 else 0.0
        elif k < max_templates:
            for t in range(w):
                tmpl[k, t] = snips[row, t]
                tnorm[k, t] = v[t]
            tamp[k] = amps[i]
            tcnt[k] = 1
            labels[i] = k
            corr_out[i] = 1.0
            k += 1
    return labels, corr_out


@dataclass
class TrainStats:
    """Firing statistics of one source.

    Attributes
    ----------
    n : int
        Discharges.
    rate_hz : float
        (n - 1) / span; NaN below 2 discharges.
    isi_cv : float
        Coefficient of variation of the raw intervals (NaN below 3).
    regularity_cv2 : float
        Mean local CV2 of the *consistent* intervals (see
        ``consistent_fraction``), each divided by its multiple;
        0 = perfectly regular. NaN below 4 discharges.
    consistent_fraction : float
        Fraction of intervals within ``0.2 + 0.1 k`` of an integer multiple
        ``k`` (1-6) of the median interval (a regular train with missed
        discharges); a Poisson train has many intervals in between.
    median_isi_s : float
        Median interval.
    """

    n: int
    rate_hz: float
    isi_cv: float
    regularity_cv2: float
    consistent_fraction: float
    median_isi_s: float

    def is_regular(self, max_cv2: float, min_consistent: float, min_n: int) -> bool:
        """Regular firing: enough discharges, consistent intervals, low CV2."""
        return bool(self.n >= min_n and np.isfinite(self.regularity_cv2)
                    and self.regularity_cv2 <= max_cv2
                    and self.consistent_fraction >= min_consistent)


def train_stats(times_s: np.ndarray) -> TrainStats:
    """Firing statistics of sorted discharge times of one source.

    Parameters
    ----------
    times_s : ndarray
        Discharge times in seconds.

    Returns
    -------
    TrainStats
    """
    t = np.sort(np.asarray(times_s, float))
    n = t.size
    if n < 2:
        return TrainStats(n, np.nan, np.nan, np.nan, np.nan, np.nan)
    isi = np.diff(t)
    span = t[-1] - t[0]
    rate = (n - 1) / span if span > 0 else np.nan
    cv = float(isi.std() / isi.mean()) if n >= 3 and isi.mean() > 0 else np.nan
    med = float(np.median(isi))
    cv2 = np.nan
    frac = np.nan
    if n >= 4 and med > 0:
        r = isi / med
        k = np.rint(r)
        ok = (k >= 1) & (k <= 6) & (np.abs(r - k) <= 0.2 + 0.1 * k)
        frac = float(ok.mean())
        c = isi[ok] / k[ok]
        if c.size >= 3:
            cv2 = float(np.mean(2 * np.abs(np.diff(c)) / (c[1:] + c[:-1])))
    return TrainStats(int(n), float(rate), cv, cv2, frac, med)


@numba.njit(nogil=True, cache=True)
def source_stats_nb(times_s, labels, n_src):  # pragma: no cover - compiled
    """Firing statistics of every source at once (the rules of :func:`train_stats`).

    Parameters
    ----------
    times_s : float64 array (m,)
        Discharge times.
    labels : int64 array (m,)
        Source of each discharge (``-1``: none, ignored).
    n_src : int
        Number of sources (labels ``0 .. n_src - 1``).

    Returns
    -------
    float64 array (n_src, 6)
        ``n, rate_hz, isi_cv, regularity_cv2, consistent_fraction,
        median_isi_s`` per source (NaN where undefined).
    """
    out = np.full((n_src, 6), np.nan)
    count = np.zeros(n_src + 1, np.int64)
    for k in range(labels.shape[0]):
        lab = labels[k]
        if 0 <= lab < n_src:
            count[lab + 1] += 1
    for q in range(n_src):
        count[q + 1] += count[q]
    fill = count[:n_src].copy()
    buf = np.empty(count[n_src])
    for k in range(labels.shape[0]):
        lab = labels[k]
        if 0 <= lab < n_src:
            buf[fill[lab]] = times_s[k]
            fill[lab] += 1
    for q in range(n_src):
        t = np.sort(buf[count[q]:count[q + 1]])
        n = t.size
        out[q, 0] = n
        if n < 2:
            continue
        isi = t[1:] - t[:-1]
        span = t[-1] - t[0]
        out[q, 1] = (n - 1) / span if span > 0 else np.nan
        mean = isi.mean()
        if n >= 3 and mean > 0:
            out[q, 2] = np.sqrt(np.mean((isi - mean) ** 2)) / mean
        med = np.median(isi)
        out[q, 5] = med
        if n >= 4 and med > 0:
            nok = 0
            c = np.empty(isi.size)
            for i in range(isi.size):
                r = isi[i] / med
                kk = np.rint(r)
                if 1 <= kk <= 6 and abs(r - kk) <= 0.2 + 0.1 * kk:
                    c[nok] = isi[i] / kk
                    nok += 1
            out[q, 4] = nok / isi.size
            if nok >= 3:
                acc = 0.0
                for i in range(1, nok):
                    acc += 2 * abs(c[i] - c[i - 1]) / (c[i] + c[i - 1])
                out[q, 3] = acc / (nok - 1)
    return out


def train_stats_by_source(times_s: np.ndarray, labels: np.ndarray) -> dict[int, TrainStats]:
    """:func:`train_stats` of every source present in ``labels``, in one compiled call.

    Parameters
    ----------
    times_s : ndarray (m,)
        Discharge times in seconds.
    labels : ndarray of int (m,)
        Source of each discharge (``-1``: none).

    Returns
    -------
    dict
        label -> :class:`TrainStats`, for the labels that hold discharges.
    """
    labels = np.ascontiguousarray(labels, np.int64)
    n_src = int(labels.max(initial=-1)) + 1
    if n_src <= 0:
        return {}
    st = source_stats_nb(np.ascontiguousarray(times_s, np.float64), labels, n_src)
    return {q: TrainStats(int(r[0]), float(r[1]), float(r[2]), float(r[3]), float(r[4]),
                          float(r[5]))
            for q, r in enumerate(st) if r[0] > 0}


def cluster_channel(snips: np.ndarray, amps: np.ndarray, noise: np.ndarray, min_corr: float,
                    floor_corr: float, max_ratio: float,
                    max_templates: int = 256, select: np.ndarray | None = None,
                    rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cluster one channel's discharges by shape (largest first).

    Parameters
    ----------
    snips : ndarray (m, w) float32
        Peak-aligned snippets (with ``rows``: any number of rows, of which
        ``snips[rows[i]]`` is discharge ``i``'s).
    amps : ndarray (m,)
        Peak-to-peak amplitudes.
    noise : ndarray (m,)
        Noise SD of each snippet.
    min_corr, floor_corr, max_ratio : float
        ``shape_min_corr``, ``shape_floor_corr``, ``shape_max_amp_ratio`` of
        :class:`~motorsign.spontaneous.params.DetectParams`.
    max_templates : int
        Most sources per channel.
    select : ndarray of bool (m,) | None
        Cluster only these discharges (the others get label -1 and
        correlation 0); ``None``: all.
    rows : ndarray of int (m,) | None
        Where each discharge's snippet is in ``snips`` (a shared pool, read
        in place rather than copied); ``None``: row ``i``.

    Returns
    -------
    labels : ndarray of int64 (-1: unassigned)
    corr : ndarray of float (correlation with the source's template)
    """
    m = np.asarray(amps).shape[0]
    if select is None:
        select = np.ones(m, np.bool_)
    if rows is None:
        rows = np.arange(m, dtype=np.int64)
    elif np.asarray(rows).shape[0] != m:
        raise ValueError("cluster_channel: rows must have one entry per discharge")
    return _cluster_selected_nb(np.ascontiguousarray(snips, np.float32),
                                np.ascontiguousarray(rows, np.int64),
                                np.ascontiguousarray(amps, np.float64),
                                np.ascontiguousarray(noise, np.float64),
                                np.ascontiguousarray(select, np.bool_),
                                float(min_corr), float(floor_corr), float(max_ratio),
                                int(max_templates))


@numba.njit(nogil=True, cache=True)
def _stable_order(x):  # pragma: no cover - compiled
    """``np.argsort(x, kind="stable")``: a quicksort, then equal keys (NaNs
    among them) put back in index order (runs of ties are short)."""
    order = np.argsort(x)
    i = 0
    n = order.size
    while i < n:
        j = i + 1
        xi = x[order[i]]
        while j < n and (x[order[j]] == xi or (xi != xi and x[order[j]] != x[order[j]])):
            j += 1
        for a in range(i + 1, j):  # insertion sort of the run
            v = order[a]
            b = a - 1
            while b >= i and order[b] > v:
                order[b + 1] = order[b]
                b -= 1
            order[b + 1] = v
        i = j
    return order


@numba.njit(nogil=True, cache=True)
def _cluster_selected_nb(snips, src, amps, noise, select, min_corr, floor_corr, max_ratio,
                         max_templates):  # pragma: no cover - compiled
    """:func:`cluster_shapes_nb` on the selected discharges, largest amplitude
    first (ties in order); labels and correlations for all of them. Discharge
    ``i``'s snippet is ``snips[src[i]]``."""
    rows = np.flatnonzero(select)
    m = rows.size
    labels = np.full(amps.shape[0], -1, np.int64)
    corr = np.zeros(amps.shape[0])
    if m == 0:
        return labels, corr
    sub_src = np.empty(m, np.int64)
    sub_amp = np.empty(m)
    sub_noise = np.empty(m)
    for i in range(m):
        sub_src[i] = src[rows[i]]
        sub_amp[i] = amps[rows[i]]
        sub_noise[i] = noise[rows[i]]
    order = _stable_order(-sub_amp)
    # the snippets are read where they are (no copy: fewer fresh pages)
    lab, c = cluster_rows_nb(snips, sub_src, sub_amp, sub_noise, order, min_corr, floor_corr,
                             max_ratio, max_templates)
    for i in range(m):
        labels[rows[i]] = lab[i]
        corr[rows[i]] = c[i]
    return labels, corr
