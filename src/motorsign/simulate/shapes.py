"""Waveforms of spontaneous and voluntary discharges, from a fibre model.

Single-fibre action potentials (SFAPs) come from the line-source model of a
muscle fibre: the transmembrane potential profile of Rosenfalck (1969),
``Vm(s) = 96 s^3 exp(-s/λ) - 90`` mV behind the wavefront (``s`` in mm),
gives a membrane current proportional to ``d²Vm/ds²``; two wavefronts leave
the end plate in opposite directions at the conduction velocity and stop at
the fibre ends. The potential at the electrode is the current weighted by
``1/distance`` (a homogeneous volume conductor), summed along the fibre.
That one model gives:

* a **fibrillation potential** when the electrode is away from the end plate
  (initial positive, then a sharp negative spike; bi/triphasic, 1–5 ms);
* an **end-plate spike** when the electrode sits on the end plate (negative
  first, 3–5 ms);
* a **motor unit potential** as a sum of fibres of one unit with scattered
  end plates, positions, terminal delays and velocities (and neuromuscular
  jitter from discharge to discharge).

Two shapes are not covered by a propagating wave and are phenomenological:
the **positive sharp wave** (a wavefront stopped at the needle-injured
membrane: a sharp positive deflection, then a slow negative phase of
10–30 ms) and **end-plate noise** (miniature end-plate potentials:
monophasic negative, 0.5–3 ms, < 50 µV).

Waveforms are computed on a fine time grid (:data:`FINE_FS_HZ`) and rendered
at any sampling rate by interpolation with the sub-sample position of their
largest absolute peak, so the truth time of a discharge is exact at every
rate. Amplitudes are set by scaling each shape to a drawn peak-to-peak value
(the figures of ``reference/discharges.md``); the shape itself comes from the
geometry. Units: ms and mm inside this module, µV for values.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numba
import numpy as np

__all__ = [
    "FINE_FS_HZ",
    "Waveform",
    "MotorUnit",
    "sfap",
    "measure_waveform",
    "fibrillation",
    "positive_sharp_wave",
    "end_plate_spike",
    "end_plate_noise_potential",
    "motor_unit",
    "complex_repetitive_complex",
    "MUP_VARIANTS",
]

log = logging.getLogger(__name__)

#: Rate of the fine grid on which every waveform is computed (Hz).
FINE_FS_HZ = 200_000.0
#: Rate at which the fibre model is evaluated before upsampling to the fine
#: grid (Hz); the model's fastest features last > 0.1 ms.
MODEL_FS_HZ = 50_000.0
#: Spatial step of the line-source sum (mm).
MODEL_DZ_MM = 0.1
#: Length of the membrane-current profile behind the wavefront (mm, in units
#: of the profile's length constant); what lies beyond is < 0.2 % of the peak current.
PROFILE_LENGTH = 14.0

#: Duration is measured between the first and last samples whose absolute
#: value exceeds this fraction of the largest absolute value.
DURATION_THRESHOLD_FRACTION = 0.03
#: A phase (a run of one sign) counts when its peak exceeds this fraction of
#: the largest absolute value; the initial polarity is the sign of the first
#: such phase.
PHASE_THRESHOLD_FRACTION = 0.1

MUP_VARIANTS = ("normal", "enlarged", "small_polyphasic")


# --------------------------------------------------------------------------
# fibre model


@numba.njit(nogil=True, cache=True)
def _sfap_kernel(t, im, s, r2, ze, z0, lo_r, hi_l, length_end_r, length_end_l, v, lam):  # pragma: no cover - compiled
    """Line-source sum for both wavefronts at each time (see :func:`sfap`)."""
    n = t.size
    m = s.size
    out = np.zeros(n)
    for i in range(n):
        tt = t[i]
        if tt < 0.0:
            continue
        for d in range(2):
            direction = 1.0 if d == 0 else -1.0
            front = z0 + direction * v * tt
            lo = z0 if d == 0 else lo_r
            hi = hi_l if d == 0 else z0
            acc = 0.0
            ds = s[1] - s[0]
            for k in range(m):
                z = front - direction * s[k]
                # the part of this cell [z - ds/2, z + ds/2] inside the fibre,
                # so the sum changes smoothly as the wave enters and leaves
                frac = (min(z + 0.5 * ds, hi) - max(z - 0.5 * ds, lo)) / ds
                if frac <= 0.0:
                    continue
                if frac > 1.0:
                    frac = 1.0
                dz = z - ze
                acc += frac * im[k] / np.sqrt(r2 + dz * dz)
            out[i] += acc * ds
            # point sink where the wave is born, point source where it dies
            u0 = v * tt / lam
            out[i] -= (3 * u0 * u0 - u0**3) * np.exp(-u0) / lam / np.sqrt(r2 + (z0 - ze) ** 2)
            end = length_end_r if d == 0 else length_end_l
            u_end = (front - end) * direction / lam
            if u_end > 0.0:
                out[i] += (3 * u_end * u_end - u_end**3) * np.exp(-u_end) / lam / np.sqrt(
                    r2 + (end - ze) ** 2
                )
    return out


def sfap(
    t_ms: np.ndarray,
    *,
    radial_mm: float,
    electrode_z_mm: float,
    endplate_z_mm: float,
    length_mm: float,
    velocity_mm_per_ms: float,
    length_constant_mm: float = 1.0,
    block_z_mm: float | None = None,
) -> np.ndarray:
    """Single-fibre action potential from the line-source model.

    Parameters
    ----------
    t_ms : ndarray
        Times after the end-plate activation (ms); zero before 0.
    radial_mm : float
        Distance of the electrode from the fibre axis (mm).
    electrode_z_mm : float
        Electrode position along the fibre (mm, 0 at one tendon end).
    endplate_z_mm : float
        End-plate position along the fibre (mm).
    length_mm : float
        Fibre length (mm).
    velocity_mm_per_ms : float
        Conduction velocity (mm/ms = m/s).
    length_constant_mm : float
        Spatial scale λ of the Rosenfalck profile (1 mm: the classic
        profile; larger is a wider, slower waveform).
    block_z_mm : float | None
        Position where propagation stops (injured membrane), if any.

    Returns
    -------
    ndarray
        Potential in arbitrary units (positive up), same shape as ``t_ms``.

    Notes
    -----
    The membrane current along the fibre is ``d²Vm/dz²`` of the travelling
    profile; at the end plate a point sink (minus the profile's slope there)
    and at the fibre end (or block) a point source keep the net current zero.
    Those point terms make the potential negative first when the electrode
    sits on the end plate.
    """
    t = np.ascontiguousarray(np.asarray(t_ms, dtype=float).ravel())
    lam = float(length_constant_mm)
    s = np.arange(0.0, PROFILE_LENGTH * lam, MODEL_DZ_MM * lam)
    u = s / lam
    # membrane current ~ d²Vm/dz² of 96 u^3 exp(-u): outward (a source,
    # positive potential) at the leading edge, inward (a sink) behind it.
    im = (6 * u - 6 * u**2 + u**3) * np.exp(-u) / lam**2
    z0 = float(endplate_z_mm)
    hi = float(length_mm)
    lo = 0.0
    if block_z_mm is not None:
        if block_z_mm >= z0:
            hi = min(hi, float(block_z_mm))
        else:
            lo = max(lo, float(block_z_mm))
    out = _sfap_kernel(
        t, im, s, float(radial_mm) ** 2, float(electrode_z_mm), z0, lo, hi, hi, lo,
        float(velocity_mm_per_ms), lam,
    )
    return out.reshape(np.shape(t_ms))


def _dprofile(u: np.ndarray) -> np.ndarray:
    """d/du of the Rosenfalck profile ``u^3 exp(-u)`` (u >= 0)."""
    return (3 * u**2 - u**3) * np.exp(-u)


def _to_fine(values_model: np.ndarray) -> np.ndarray:
    """Upsample model-rate waveforms (last axis) to the fine grid (cubic spline)."""
    from scipy.interpolate import CubicSpline

    n = values_model.shape[-1]
    x = np.arange(n) / MODEL_FS_HZ
    xf = np.arange(int((n - 1) * FINE_FS_HZ / MODEL_FS_HZ) + 1) / FINE_FS_HZ
    return CubicSpline(x, values_model, axis=-1)(xf)


#: Anti-alias low-pass corner as a fraction of the target sampling rate.
ANTI_ALIAS_FRACTION = 0.4


def band_limit(fine: np.ndarray, fs: float) -> np.ndarray:
    """Zero-phase low-pass of fine-grid waveforms (last axis) for sampling at ``fs``.

    The amplifier's anti-alias filter, applied before sampling; zero-phase
    so the largest peak stays where the model put it.

    Parameters
    ----------
    fine : ndarray
        Waveform(s) at :data:`FINE_FS_HZ`.
    fs : float
        Target sampling rate (Hz).

    Returns
    -------
    ndarray
        Filtered copy (unchanged when the corner is beyond the fine band).
    """
    from scipy.signal import butter, sosfiltfilt

    fine = np.asarray(fine, dtype=float)
    corner = ANTI_ALIAS_FRACTION * fs
    if corner >= 0.45 * FINE_FS_HZ or fine.shape[-1] < 40:
        return fine.copy()
    sos = butter(4, corner, fs=FINE_FS_HZ, output="sos")
    return sosfiltfilt(sos, fine, axis=-1, padlen=min(fine.shape[-1] - 1, 36))


def _trim(values: np.ndarray, fraction: float = 1e-3, pad_ms: float = 0.5) -> np.ndarray:
    """Cut leading/trailing stretches below ``fraction`` of the peak."""
    a = np.abs(values)
    idx = np.flatnonzero(a > fraction * a.max())
    pad = int(pad_ms * FINE_FS_HZ / 1000)
    lo = max(0, idx[0] - pad)
    hi = min(values.size, idx[-1] + pad + 1)
    out = values[lo:hi].copy()
    # taper the ends to exactly zero so a rendered discharge has no step
    n_taper = min(pad, out.size // 4)
    if n_taper > 1:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n_taper))
        out[:n_taper] *= ramp
        out[-n_taper:] *= ramp[::-1]
    return out


# --------------------------------------------------------------------------
# measurement


def measure_waveform(
    values: np.ndarray,
    fs: float,
    *,
    duration_fraction: float = DURATION_THRESHOLD_FRACTION,
    phase_fraction: float = PHASE_THRESHOLD_FRACTION,
) -> dict:
    """Amplitude, duration, phases and initial polarity of a clean waveform.

    Parameters
    ----------
    values : ndarray
        The waveform (µV) without noise.
    fs : float
        Its sampling rate (Hz).
    duration_fraction : float
        Duration runs from the first to the last sample above this fraction
        of the largest absolute value.
    phase_fraction : float
        Runs of one sign count as phases when their peak exceeds this
        fraction of the largest absolute value (the initial polarity is the
        sign of the first one).

    Returns
    -------
    dict
        ``amplitude_uv`` (peak-to-peak), ``duration_ms``, ``phases``,
        ``initial_polarity`` (``positive``/``negative``), ``peak_index``
        (index of the largest absolute value), ``peak_uv`` (its signed value).
    """
    x = np.asarray(values, dtype=float)
    a = np.abs(x)
    peak = int(np.argmax(a))
    m = a[peak]
    if not m > 0:
        return {
            "amplitude_uv": 0.0,
            "duration_ms": float("nan"),
            "phases": 0,
            "initial_polarity": "positive",
            "peak_index": peak,
            "peak_uv": 0.0,
        }
    above = np.flatnonzero(a > duration_fraction * m)
    duration_ms = (above[-1] - above[0]) * 1000.0 / fs
    seg = x[above[0] : above[-1] + 1]
    sign = np.sign(seg)
    # runs of one sign (zeros join the previous run): forward-fill zeros
    nz = np.flatnonzero(sign != 0)
    if nz.size:
        fill = np.maximum.accumulate(np.where(sign != 0, np.arange(sign.size), 0))
        sign = sign[fill]
        sign[: nz[0]] = sign[nz[0]]
    edges = np.flatnonzero(np.diff(sign) != 0) + 1
    starts = np.concatenate(([0], edges))
    stops = np.concatenate((edges, [seg.size]))
    big = [
        (int(sign[a0]), float(np.max(np.abs(seg[a0:b0]))))
        for a0, b0 in zip(starts, stops)
        if np.max(np.abs(seg[a0:b0])) > phase_fraction * m
    ]
    # merge consecutive kept runs of the same sign (a small opposite run
    # between them is not a phase)
    phases = 0
    last = 0
    for sgn, _ in big:
        if sgn != last:
            phases += 1
            last = sgn
    first = big[0][0] if big else int(np.sign(x[peak]))
    return {
        "amplitude_uv": float(x.max() - x.min()),
        "duration_ms": float(duration_ms),
        "phases": int(phases),
        "initial_polarity": "positive" if first > 0 else "negative",
        "peak_index": peak,
        "peak_uv": float(x[peak]),
    }


# --------------------------------------------------------------------------
# waveform container


@dataclass
class Waveform:
    """A discharge shape on the fine grid.

    Attributes
    ----------
    values_uv : ndarray
        Samples at :data:`FINE_FS_HZ` (µV).
    kind : str
        Discharge kind (``fibrillation``, ``positive_sharp_wave``, ...).
    params : dict
        The model parameters that made it.
    """

    values_uv: np.ndarray
    kind: str
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.values_uv = np.asarray(self.values_uv, dtype=float)
        self._features = measure_waveform(self.values_uv, FINE_FS_HZ)

    @property
    def peak_index(self) -> int:
        """Fine-grid index of the largest absolute value."""
        return int(self._features["peak_index"])

    @property
    def features(self) -> dict:
        """:func:`measure_waveform` of the fine waveform."""
        return dict(self._features)

    @property
    def duration_ms(self) -> float:
        """Measured duration (ms)."""
        return float(self._features["duration_ms"])

    @property
    def amplitude_uv(self) -> float:
        """Peak-to-peak amplitude (µV)."""
        return float(self._features["amplitude_uv"])

    @property
    def span_ms(self) -> tuple[float, float]:
        """First and last times of the waveform relative to its peak (ms)."""
        n = self.values_uv.size
        return (-self.peak_index * 1000 / FINE_FS_HZ, (n - 1 - self.peak_index) * 1000 / FINE_FS_HZ)

    def scaled(self, amplitude_uv: float) -> Waveform:
        """A copy scaled to a peak-to-peak amplitude."""
        return Waveform(self.values_uv * (amplitude_uv / self.amplitude_uv), self.kind, dict(self.params))

    def sample(self, fs: float, peak_time_s: float, start_sample: int | None = None):
        """The waveform sampled at ``fs`` with its peak at ``peak_time_s``.

        Parameters
        ----------
        fs : float
            Target sampling rate (Hz).
        peak_time_s : float
            Time of the largest absolute value (s from sample 0).
        start_sample : int | None
            First sample to return (default: the first one the waveform
            touches).

        Returns
        -------
        start : int
            Index of the first returned sample (may be negative).
        values : ndarray
            Samples (µV).
        """
        return sample_fine(self.values_uv, self.peak_index, fs, peak_time_s, start_sample)


def sample_fine(fine: np.ndarray, peak_index: int, fs: float, peak_time_s: float, start_sample=None):
    """Sample a fine-grid waveform at ``fs`` with its peak at ``peak_time_s``.

    Parameters
    ----------
    fine : ndarray
        Waveform at :data:`FINE_FS_HZ`.
    peak_index : int
        Fine-grid index that lands at ``peak_time_s``.
    fs : float
        Target rate (Hz).
    peak_time_s : float
        Time of ``fine[peak_index]`` (s).
    start_sample : int | None
        First sample to return.

    Returns
    -------
    start : int
    values : ndarray
    """
    t0 = peak_time_s - peak_index / FINE_FS_HZ  # time of fine[0]
    t1 = t0 + (fine.size - 1) / FINE_FS_HZ
    first = int(np.ceil(t0 * fs)) if start_sample is None else int(start_sample)
    last = int(np.floor(t1 * fs))
    if last < first:
        return first, np.zeros(0)
    n = np.arange(first, last + 1)
    pos = (n / fs - t0) * FINE_FS_HZ
    return first, np.interp(pos, np.arange(fine.size), fine, left=0.0, right=0.0)


def _model_time(duration_ms: float, pre_ms: float = 1.0) -> np.ndarray:
    return np.arange(-pre_ms, duration_ms, 1000.0 / MODEL_FS_HZ)


# --------------------------------------------------------------------------
# shapes


#: Fibrillation geometry (mm, m/s): the recording surface close to one
#: denervated fibre, away from its end plate.
FIB_RADIAL_MM = (0.2, 0.6)
FIB_VELOCITY = (2.5, 4.5)
FIB_LENGTH_CONSTANT_MM = (0.45, 0.9)
#: Fibrillation duration range accepted from the model (ms).
FIB_DURATION_MS = (1.0, 5.0)


def _draw_amplitude(rng: np.random.Generator, median: float, lo: float, hi: float, sigma: float = 0.5) -> float:
    return float(np.clip(median * np.exp(sigma * rng.standard_normal()), lo, hi))


def fibrillation(
    rng: np.random.Generator,
    *,
    amplitude_uv: float | None = None,
    amplitude_range_uv: tuple[float, float] = (10.0, 300.0),
    median_amplitude_uv: float = 50.0,
    max_tries: int = 20,
) -> Waveform:
    """A fibrillation potential (one denervated fibre, electrode off its end plate).

    Parameters
    ----------
    rng : numpy.random.Generator
    amplitude_uv : float | None
        Peak-to-peak amplitude; default drawn log-normally around
        ``median_amplitude_uv`` within ``amplitude_range_uv``.
    amplitude_range_uv : (float, float)
    median_amplitude_uv : float
    max_tries : int
        Geometries are redrawn until the waveform is initial-positive, has
        its largest peak negative and is 1–5 ms long.

    Returns
    -------
    Waveform
    """
    for _ in range(max_tries):
        length = rng.uniform(30.0, 60.0)
        z0 = rng.uniform(0.3, 0.7) * length
        side = rng.choice([-1.0, 1.0])
        ze = float(np.clip(z0 + side * rng.uniform(4.0, 15.0), 3.0, length - 3.0))
        params = {
            "radial_mm": rng.uniform(*FIB_RADIAL_MM),
            "electrode_z_mm": ze,
            "endplate_z_mm": z0,
            "length_mm": length,
            "velocity_mm_per_ms": rng.uniform(*FIB_VELOCITY),
            "length_constant_mm": rng.uniform(*FIB_LENGTH_CONSTANT_MM),
        }
        span = (max(z0, length - z0) + 20) / params["velocity_mm_per_ms"]
        v = _trim(_to_fine(sfap(_model_time(span), **params)))
        w = Waveform(v, "fibrillation", params)
        f = w.features
        ok_shape = f["initial_polarity"] == "positive" and f["peak_uv"] < 0
        if ok_shape and FIB_DURATION_MS[0] <= f["duration_ms"] <= FIB_DURATION_MS[1]:
            break
    amp = amplitude_uv if amplitude_uv is not None else _draw_amplitude(rng, median_amplitude_uv, *amplitude_range_uv)
    return w.scaled(amp)


#: Positive sharp wave parameters: rise of the positive deflection (ms), its
#: decay constant (ms), total duration of the slow negative phase (ms) and
#: its peak relative to the positive peak.
PSW_RISE_MS = (0.3, 1.0)
PSW_DECAY_MS = (0.8, 2.5)
PSW_NEGATIVE_MS = (12.0, 28.0)
PSW_NEGATIVE_RATIO = (0.1, 0.3)


def positive_sharp_wave(
    rng: np.random.Generator,
    *,
    amplitude_uv: float | None = None,
    amplitude_range_uv: tuple[float, float] = (10.0, 1000.0),
    median_amplitude_uv: float = 70.0,
) -> Waveform:
    """A positive sharp wave: a sharp positive deflection, then a slow negative phase.

    The positive phase is a wavefront approaching and stopping at the
    needle-injured membrane (its leading edge is the fibre model's); the
    slow negative phase (10–30 ms in all) is modelled as a gamma-shaped
    recovery.

    Parameters
    ----------
    rng : numpy.random.Generator
    amplitude_uv : float | None
        Peak-to-peak amplitude (default drawn around ``median_amplitude_uv``).
    amplitude_range_uv, median_amplitude_uv :
        See :func:`fibrillation`.

    Returns
    -------
    Waveform
    """
    rise = rng.uniform(*PSW_RISE_MS)
    decay = rng.uniform(*PSW_DECAY_MS)
    neg_len = rng.uniform(*PSW_NEGATIVE_MS)
    ratio = rng.uniform(*PSW_NEGATIVE_RATIO)
    t = np.arange(-1.0, rise + 5 * decay + neg_len + 2.0, 1000.0 / FINE_FS_HZ)
    # positive: sharp rise (gamma shape with its peak at `rise`), exponential fall
    k = 3.0
    pos = np.where(t > 0, (np.maximum(t, 0) / rise) ** k * np.exp(k * (1 - np.maximum(t, 0) / rise)), 0.0)
    pos = np.where(t > rise, np.exp(-(t - rise) / decay), pos)
    # negative: a slow gamma bump starting at the positive peak, lasting neg_len
    tn = np.maximum(t - rise, 0.0)
    kn = 2.0
    tau = neg_len / (kn + 4.0)
    neg = (tn / (kn * tau)) ** kn * np.exp(kn - tn / tau)
    v = pos - ratio * neg
    v[t < 0] = 0.0
    params = {"rise_ms": rise, "decay_ms": decay, "negative_ms": neg_len, "negative_ratio": ratio}
    w = Waveform(_trim(v), "positive_sharp_wave", params)
    amp = amplitude_uv if amplitude_uv is not None else _draw_amplitude(rng, median_amplitude_uv, *amplitude_range_uv)
    return w.scaled(amp)


#: End-plate spike geometry: electrode within this distance of the end plate (mm).
EPS_ENDPLATE_OFFSET_MM = (0.0, 0.3)
EPS_RADIAL_MM = (0.2, 0.6)
EPS_LENGTH_CONSTANT_MM = (0.7, 1.1)
EPS_DURATION_MS = (3.0, 5.0)


def end_plate_spike(
    rng: np.random.Generator,
    *,
    amplitude_uv: float | None = None,
    amplitude_range_uv: tuple[float, float] = (100.0, 200.0),
    max_tries: int = 20,
) -> Waveform:
    """An end-plate spike: a fibre discharging under the electrode (negative first).

    Parameters
    ----------
    rng : numpy.random.Generator
    amplitude_uv : float | None
        Peak-to-peak amplitude (default uniform in ``amplitude_range_uv``).
    amplitude_range_uv : (float, float)
    max_tries : int
        Geometries are redrawn until the waveform is negative first and
        about 3–5 ms long.

    Returns
    -------
    Waveform
    """
    for _ in range(max_tries):
        length = rng.uniform(30.0, 60.0)
        z0 = rng.uniform(0.35, 0.65) * length
        params = {
            "radial_mm": rng.uniform(*EPS_RADIAL_MM),
            "electrode_z_mm": z0 + rng.choice([-1, 1]) * rng.uniform(*EPS_ENDPLATE_OFFSET_MM),
            "endplate_z_mm": z0,
            "length_mm": length,
            "velocity_mm_per_ms": rng.uniform(2.0, 3.5),
            "length_constant_mm": rng.uniform(*EPS_LENGTH_CONSTANT_MM),
        }
        span = (max(z0, length - z0) + 20) / params["velocity_mm_per_ms"]
        w = Waveform(_trim(_to_fine(sfap(_model_time(span), **params))), "end_plate", params)
        f = w.features
        if f["initial_polarity"] == "negative" and EPS_DURATION_MS[0] <= f["duration_ms"] <= EPS_DURATION_MS[1]:
            break
    amp = amplitude_uv if amplitude_uv is not None else rng.uniform(*amplitude_range_uv)
    return w.scaled(amp)


def end_plate_noise_potential(
    rng: np.random.Generator,
    *,
    amplitude_uv: float | None = None,
    amplitude_range_uv: tuple[float, float] = (8.0, 40.0),
    duration_range_ms: tuple[float, float] = (0.55, 2.8),
) -> Waveform:
    """A miniature end-plate potential (end-plate noise): monophasic negative.

    Parameters
    ----------
    rng : numpy.random.Generator
    amplitude_uv : float | None
        Peak amplitude (default uniform in ``amplitude_range_uv``).
    amplitude_range_uv : (float, float)
    duration_range_ms : (float, float)
        Range of the drawn duration.

    Returns
    -------
    Waveform
    """
    dur = rng.uniform(*duration_range_ms)
    tau = dur / 8.0
    t = np.arange(0, dur * 1.6, 1000.0 / FINE_FS_HZ)
    v = -((t / (2 * tau)) ** 2) * np.exp(2 - t / tau)
    w = Waveform(_trim(v, pad_ms=0.2), "end_plate_noise", {"duration_ms": dur})
    amp = amplitude_uv if amplitude_uv is not None else rng.uniform(*amplitude_range_uv)
    return w.scaled(amp)


# --------------------------------------------------------------------------
# motor units


#: Per-variant motor unit anatomy. ``fibres``: fibres of the unit within
#: the electrode's pick-up area; ``pickup_mm``: radius of that area;
#: ``endplate_sd_mm``: scatter of end-plate positions; ``terminal_delay_sd_ms``:
#: scatter of axonal terminal delays (immature sprouts in reinnervation);
#: ``velocity``: fibre conduction velocities (m/s); ``amplitude_uv``: median
#: and range of the peak-to-peak amplitude; ``length_constant_mm``: range
#: of the Rosenfalck profile scale (thin, regenerating or split fibres of a
#: myopathy have short, fast potentials); ``jitter_us``: neuromuscular
#: jitter (SD per fibre per discharge); ``sprout_fraction``: fibres
#: reinnervated by immature collateral sprouts, whose terminal delay gets an
#: extra exponential delay of mean :data:`SPROUT_DELAY_MS` (late components).
SPROUT_DELAY_MS = 2.0
MUP_ANATOMY = {
    "normal": {
        "fibres": (30, 55),
        "pickup_mm": 2.5,
        "endplate_sd_mm": 3.0,
        "terminal_delay_sd_ms": 0.2,
        "sprout_fraction": 0.0,
        "velocity": (3.2, 4.5),
        "length_constant_mm": (0.8, 1.3),
        "electrode_to_endplate_mm": (3.0, 12.0),
        "amplitude_uv": (600.0, 200.0, 1500.0),
        "jitter_us": 25.0,
    },
    "enlarged": {
        "fibres": (70, 110),
        "pickup_mm": 3.0,
        "endplate_sd_mm": 4.0,
        "terminal_delay_sd_ms": 0.6,
        "sprout_fraction": 0.3,
        "velocity": (2.2, 4.5),
        "length_constant_mm": (0.8, 1.3),
        "electrode_to_endplate_mm": (3.0, 12.0),
        "amplitude_uv": (2500.0, 1200.0, 7000.0),
        "jitter_us": 60.0,
    },
    "small_polyphasic": {
        "fibres": (8, 20),
        "pickup_mm": 0.8,
        "endplate_sd_mm": 1.0,
        "terminal_delay_sd_ms": 0.3,
        "sprout_fraction": 0.0,
        "velocity": (2.0, 4.5),
        "length_constant_mm": (0.45, 0.75),
        "electrode_to_endplate_mm": (2.0, 6.0),
        "amplitude_uv": (250.0, 80.0, 600.0),
        "jitter_us": 40.0,
    },
}


@dataclass
class MotorUnit:
    """A motor unit seen by one electrode: the fine waveforms of its fibres.

    Attributes
    ----------
    fibres_uv : ndarray, shape (n_fibres, n_fine)
        Fibre potentials on the fine grid, aligned on the unit's firing time
        and already scaled so that their sum has the unit's amplitude.
    variant : str
        ``normal``, ``enlarged`` or ``small_polyphasic``.
    jitter_us : float
        Neuromuscular jitter (SD per fibre and discharge, µs).
    params : dict
        Anatomy drawn.
    """

    fibres_uv: np.ndarray
    variant: str
    jitter_us: float
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.template = Waveform(self.fibres_uv.sum(axis=0), "motor_unit_potential", dict(self.params))

    @property
    def features(self) -> dict:
        """Features of the jitter-free unit potential."""
        return self.template.features

    def band_limited(self, fs: float) -> MotorUnit:
        """The same unit seen through the anti-alias filter for rate ``fs``.

        Filtering commutes with the per-fibre jitter shifts, so discharges of
        the returned unit need no further filtering.
        """
        return MotorUnit(band_limit(self.fibres_uv, fs), self.variant, self.jitter_us, {**self.params, "band_limited_fs": fs})

    def discharge(self, rng: np.random.Generator | None = None, amplitude_sd: float = 0.0) -> Waveform:
        """One discharge: fibres shifted by neuromuscular jitter.

        Parameters
        ----------
        rng : numpy.random.Generator | None
            None gives the jitter-free template.
        amplitude_sd : float
            Relative SD of a whole-unit amplitude change.

        Returns
        -------
        Waveform
        """
        if rng is None or (self.jitter_us <= 0 and amplitude_sd <= 0):
            return self.template
        n_f, n = self.fibres_uv.shape
        shifts = np.rint(rng.normal(0.0, self.jitter_us * 1e-6 * FINE_FS_HZ, n_f)).astype(int)
        pad = int(np.abs(shifts).max()) if n_f else 0
        out = np.zeros(n + 2 * pad)
        for row, sh in zip(self.fibres_uv, shifts):
            out[pad + sh : pad + sh + n] += row
        out = out[pad : pad + n]
        if amplitude_sd > 0:
            out *= max(0.2, 1.0 + amplitude_sd * rng.standard_normal())
        return Waveform(out, "motor_unit_potential", self.params)


def motor_unit(
    rng: np.random.Generator,
    variant: str = "normal",
    *,
    amplitude_uv: float | None = None,
    n_fibres: int | None = None,
    jitter_us: float | None = None,
) -> MotorUnit:
    """A motor unit near the needle, as the sum of its fibres' potentials.

    Fibres are placed uniformly in the pick-up disc around the electrode
    (closest 50 µm), each with its own end plate (scattered along the
    fibre), terminal delay, conduction velocity and length constant. The
    summed potential is scaled to the drawn amplitude; the fibres keep their
    relative sizes (near fibres dominate, as in a real needle recording).

    Parameters
    ----------
    rng : numpy.random.Generator
    variant : {"normal", "enlarged", "small_polyphasic"}
        Normal unit; enlarged (chronic reinnervation: more fibres, scattered
        terminal delays, long, large, often polyphasic); small polyphasic
        (myopathic: few fibres of varied diameter; short, small).
    amplitude_uv : float | None
        Peak-to-peak amplitude (default drawn from :data:`MUP_ANATOMY`).
    n_fibres : int | None
        Fibres in the pick-up area (default drawn from the variant).
    jitter_us : float | None
        Neuromuscular jitter SD (default from the variant).

    Returns
    -------
    MotorUnit
    """
    if variant not in MUP_ANATOMY:
        from motorsign.errors import ConfigError

        raise ConfigError(f"unknown motor unit variant {variant!r}; choose one of: {', '.join(MUP_ANATOMY)}")
    a = MUP_ANATOMY[variant]
    nf = int(n_fibres) if n_fibres is not None else int(rng.integers(a["fibres"][0], a["fibres"][1] + 1))
    length = rng.uniform(40.0, 80.0)
    z_ep = rng.uniform(0.4, 0.6) * length  # end-plate band centre
    ze = z_ep + rng.choice([-1, 1]) * rng.uniform(*a["electrode_to_endplate_mm"])
    radial = np.sqrt(rng.uniform(0, 1, nf)) * a["pickup_mm"] + 0.05
    zs = z_ep + rng.normal(0, a["endplate_sd_mm"], nf)
    delays = np.abs(rng.normal(0, a["terminal_delay_sd_ms"], nf))
    sprouts = rng.uniform(0, 1, nf) < a["sprout_fraction"]
    delays[sprouts] += rng.exponential(SPROUT_DELAY_MS, int(sprouts.sum()))
    vel = rng.uniform(*a["velocity"], nf)
    lam = rng.uniform(*a["length_constant_mm"], nf)
    diam = rng.uniform(0.7, 1.3, nf) if variant != "small_polyphasic" else rng.uniform(0.3, 1.3, nf)
    span = (length + 20) / a["velocity"][0] + float(delays.max()) + 1.0
    t = _model_time(span)
    fibres = []
    for i in range(nf):
        v = sfap(
            t - delays[i],
            radial_mm=radial[i],
            electrode_z_mm=ze,
            endplate_z_mm=float(np.clip(zs[i], 2.0, length - 2.0)),
            length_mm=length,
            velocity_mm_per_ms=vel[i] * (0.8 + 0.2 * diam[i]),
            length_constant_mm=lam[i],
        )
        fibres.append(v * diam[i] ** 2)
    fib = _to_fine(np.asarray(fibres))
    total = fib.sum(axis=0)
    ab = np.abs(total)
    idx = np.flatnonzero(ab > 1e-3 * ab.max())
    pad = int(0.5e-3 * FINE_FS_HZ)
    lo, hi = max(0, idx[0] - pad), min(total.size, idx[-1] + pad + 1)
    fib = fib[:, lo:hi]
    n_taper = pad
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n_taper))
    fib[:, :n_taper] *= ramp
    fib[:, -n_taper:] *= ramp[::-1]
    total = fib.sum(axis=0)
    med, lo_a, hi_a = a["amplitude_uv"]
    amp = amplitude_uv if amplitude_uv is not None else _draw_amplitude(rng, med, lo_a, hi_a)
    fib *= amp / float(total.max() - total.min())
    params = {
        "variant": variant,
        "n_fibres": nf,
        "fibre_length_mm": length,
        "electrode_to_endplate_mm": float(abs(ze - z_ep)),
    }
    return MotorUnit(fib, variant, float(a["jitter_us"] if jitter_us is None else jitter_us), params)


def complex_repetitive_complex(
    rng: np.random.Generator,
    *,
    n_fibres: int | None = None,
    amplitude_uv: float | None = None,
    amplitude_range_uv: tuple[float, float] = (100.0, 1000.0),
    span_ms: tuple[float, float] = (3.0, 12.0),
) -> Waveform:
    """The repeating complex of a complex repetitive discharge.

    A pacemaker fibre drives its neighbours ephaptically; their potentials
    follow at fixed delays, so the complex repeats identically.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_fibres : int | None
        Fibres in the circuit (default 3–8).
    amplitude_uv : float | None
        Peak-to-peak amplitude (default log-uniform in ``amplitude_range_uv``).
    amplitude_range_uv : (float, float)
    span_ms : (float, float)
        Range of the delay of the last fibre after the pacemaker.

    Returns
    -------
    Waveform
    """
    nf = int(n_fibres) if n_fibres is not None else int(rng.integers(3, 9))
    last = rng.uniform(*span_ms)
    delays = np.sort(np.concatenate(([0.0], rng.uniform(0.5, last, nf - 1))))
    t = _model_time(last + 15.0)
    total = np.zeros(t.size)
    for d in delays:
        length = rng.uniform(30.0, 60.0)
        z0 = rng.uniform(0.3, 0.7) * length
        ze = float(np.clip(z0 + rng.choice([-1, 1]) * rng.uniform(3.0, 12.0), 2.0, length - 2.0))
        total += rng.uniform(0.4, 1.0) * sfap(
            t - d,
            radial_mm=rng.uniform(0.05, 0.3),
            electrode_z_mm=ze,
            endplate_z_mm=z0,
            length_mm=length,
            velocity_mm_per_ms=rng.uniform(3.0, 4.5),
        )
    w = Waveform(_trim(_to_fine(total)), "complex_repetitive", {"n_fibres": nf, "delays_ms": delays.tolist()})
    lo, hi = amplitude_range_uv
    amp = amplitude_uv if amplitude_uv is not None else float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    return w.scaled(amp)
