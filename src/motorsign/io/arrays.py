"""Epoched arrays: ``.mat`` (v5 and v7.3), ``.npy`` and ``.csv`` with trials.

Labs export evoked responses (MEPs, M-waves) from Signal, LabChart or their
own scripts as a 2-D array of one channel: **samples × trials** by default
(one column per trial, MATLAB's habit). Such files carry no sampling rate
and no stimulus position, so both must be given (``fs=``/``stim_sample=``,
``--fs``/``--stim-sample``) or written in a sidecar ``FILE.json``
(``sampling_rate_hz``, ``stim_sample``, ``units``, ``variable``,
``layout``); explicit options override the sidecar.

Each trial becomes a :class:`~motorsign.recording.Segment` with one stimulus
:class:`~motorsign.recording.Event` (label :data:`STIM_LABEL`, source
``"epoch"``) at ``stim_sample``.

Layouts: ``"samples_x_trials"`` (default of the format), ``"trials_x_samples"``
and ``"auto"``, which keeps only the orientations in which ``stim_sample`` is
a valid sample index; when both remain it takes the one with more samples
than trials (an epoch is normally longer than the number of trials) and
warns that the choice was a guess.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np

from motorsign.errors import InputError
from motorsign.io._common import finish, warn
from motorsign.recording import Channel, Event, Recording, Segment, units_to_uv_factor

__all__ = ["read_epoched", "load_sidecar", "list_mat_variables", "STIM_LABEL", "LAYOUTS",
           "resolve_layout"]

log = logging.getLogger(__name__)

#: label of the stimulus event put in every trial
STIM_LABEL = "stimulus"
#: accepted values of ``layout``
LAYOUTS = ("auto", "samples_x_trials", "trials_x_samples")
_SIDECAR_KEYS = {"sampling_rate_hz", "stim_sample", "units", "variable", "layout", "channel"}


class EpochBackend:
    """Trials of a 2-D array; segment ``i`` is trial ``i`` (one channel)."""

    def __init__(self, array: np.ndarray, trial_axis: int):
        self.array = array
        self.trial_axis = int(trial_axis)

    def read(self, segment, start, stop, channel_indices):
        if self.trial_axis == 1:
            col = self.array[start:stop, segment]
        else:
            col = self.array[segment, start:stop]
        col = np.asarray(col, dtype=np.float64)
        return np.repeat(col[:, None], len(np.asarray(channel_indices)), axis=1)


def sidecar_paths(path: Path) -> list[Path]:
    """Candidate sidecars: ``FILE.EXT.json`` then ``FILE.json``."""
    return [path.with_name(path.name + ".json"), path.with_suffix(".json")]


def load_sidecar(path: Path) -> tuple[dict, Path | None]:
    """Read the sidecar JSON of an epoched array, if there is one.

    Raises
    ------
    InputError
        When the sidecar exists but is not a JSON object.
    """
    for side in sidecar_paths(path):
        if side.is_file():
            try:
                obj = json.loads(side.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InputError(f"sidecar is not valid JSON ({exc})", side) from exc
            if not isinstance(obj, dict):
                raise InputError("sidecar must be a JSON object", side)
            unknown = set(obj) - _SIDECAR_KEYS
            if unknown:
                log.warning("%s: unknown sidecar keys ignored: %s", side, ", ".join(sorted(unknown)))
            return obj, side
    return {}, None


def _is_numeric_2d(a) -> bool:
    return (isinstance(a, np.ndarray) and a.ndim in (1, 2) and a.size > 1
            and np.issubdtype(a.dtype, np.number) and not np.issubdtype(a.dtype, np.complexfloating))


def _mat_version(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(128)
    if len(head) < 128:
        raise InputError("file is too short to be a MATLAB .mat file (truncated?)", path)
    if head.startswith(b"\x89HDF") or head[:8] == b"\x89HDF\r\n\x1a\n":
        return "7.3"
    if head[:6] == b"MATLAB" and b"7.3" in head[:20]:
        return "7.3"
    return "5"


def _load_mat_v5(path: Path) -> dict[str, np.ndarray]:
    import scipy.io

    try:
        m = scipy.io.loadmat(str(path), squeeze_me=False)
    except Exception as exc:
        raise InputError(f"cannot read this .mat file: corrupt or truncated ({type(exc).__name__}: "
                         f"{' '.join(str(exc).split())[:160]})", path) from exc
    return {k: v for k, v in m.items() if not k.startswith("__")}


def _load_mat_v73(path: Path) -> dict:
    try:
        import h5py
    except ImportError as exc:
        raise InputError("this is a MATLAB v7.3 (HDF5) file; reading it needs h5py "
                         "(pip install h5py)", path) from exc
    out = {}
    try:
        f = h5py.File(str(path), "r")
    except Exception as exc:
        raise InputError(f"cannot open this MATLAB v7.3 file: corrupt or truncated ({exc})",
                         path) from exc

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and not name.startswith("#"):
            out[name] = obj

    f.visititems(visit)
    return out


class _H5Var:
    """A v7.3 variable seen in MATLAB's orientation (HDF5 stores it transposed)."""

    def __init__(self, ds):
        self.ds = ds
        self.shape = tuple(reversed(ds.shape))
        self.ndim = len(self.shape)
        self.dtype = ds.dtype
        self.size = int(np.prod(self.shape)) if self.shape else 0

    def __getitem__(self, key):
        rows, col = key
        if isinstance(col, (int, np.integer)):
            return self.ds[col, rows]
        return self.ds[col, rows].T


def _h5_numeric(ds) -> bool:
    return (len(ds.shape) in (1, 2) and int(np.prod(ds.shape)) > 1
            and np.issubdtype(ds.dtype, np.number))


def list_mat_variables(path: Path) -> dict[str, tuple[int, ...]]:
    """Name -> shape (MATLAB orientation) of the numeric 1-D/2-D variables of a ``.mat``."""
    if _mat_version(path) == "7.3":
        return {k: tuple(reversed(v.shape)) for k, v in _load_mat_v73(path).items()
                if _h5_numeric(v)}
    return {k: v.shape for k, v in _load_mat_v5(path).items() if _is_numeric_2d(v)}


def _choose_variable(candidates: dict, variable: str | None, path: Path, all_names) -> str:
    if variable is not None:
        if variable in candidates:
            return variable
        if variable in all_names:
            v = all_names[variable]
            shape = f" is {shape_str(v)}," if hasattr(v, "shape") else ""
            raise InputError(f"variable {variable!r}{shape} not a 1-D or 2-D numeric array "
                             "(one channel: samples x trials)", path)
        raise InputError(
            f"no variable {variable!r} in the file; numeric variables are: "
            f"{', '.join(f'{k} {shape_str(v)}' for k, v in candidates.items()) or 'none'}",
            path,
        )
    if len(candidates) == 1:
        return next(iter(candidates))
    if not candidates:
        others = [f"{k} {shape_str(v)}" for k, v in all_names.items() if hasattr(v, "shape")]
        raise InputError("the file holds no 1-D or 2-D numeric array"
                         + (f" (variables: {', '.join(others[:8])})" if others else ""), path)
    raise InputError(
        "the file holds several arrays; choose one with variable=/--variable: "
        + ", ".join(f"{k} {shape_str(v)}" for k, v in candidates.items()),
        path,
    )


def shape_str(shape) -> str:
    """``(451, 152)`` -> ``"451x152"``."""
    return "x".join(str(int(s)) for s in (shape.shape if hasattr(shape, "shape") else shape))


def _load_array(path: Path, variable: str | None):
    """Return (array-like 2-D or 1-D, variable name or None)."""
    ext = path.suffix.lower()
    if ext == ".npy":
        if variable is not None:
            log.info("%s: variable=%r ignored for .npy", path, variable)
        try:
            arr = np.load(str(path), mmap_mode="r", allow_pickle=False)
        except Exception as exc:
            raise InputError(f"cannot read this .npy file: corrupt or truncated "
                             f"({' '.join(str(exc).split())[:160]})", path) from exc
        if not np.issubdtype(arr.dtype, np.number):
            raise InputError(f".npy array has non-numeric dtype {arr.dtype}", path)
        if np.issubdtype(arr.dtype, np.complexfloating):
            raise InputError(f".npy array is complex ({arr.dtype}), not a recorded signal", path)
        return arr, None
    if ext == ".csv":
        return _load_csv(path), None
    # .mat
    if _mat_version(path) == "7.3":
        dsets = _load_mat_v73(path)
        cands = {k: tuple(reversed(v.shape)) for k, v in dsets.items() if _h5_numeric(v)}
        name = _choose_variable(cands, variable, path, dsets)
        return _H5Var(dsets[name]), name
    mvars = _load_mat_v5(path)
    cands = {k: v.shape for k, v in mvars.items() if _is_numeric_2d(v)}
    name = _choose_variable(cands, variable, path, mvars)
    return mvars[name], name


def _load_csv(path: Path) -> np.ndarray:
    """A numeric CSV table: ``,``, ``;`` or tab separated, an optional header line, trailing
    delimiters allowed; with ``;`` separators a ``,`` is read as the decimal mark (European
    spreadsheet exports)."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = [ln.rstrip("\r\n") for ln in fh]
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        raise InputError("the CSV holds no numbers", path)
    probe = lines[1] if len(lines) > 1 else lines[0]  # the first line may be a header
    delim = ";" if ";" in probe else ("\t" if "\t" in probe else ("," if "," in probe else None))
    decimal_comma = delim in (";", "\t") and "," in probe

    def fields(line: str) -> list[str]:
        parts = line.split(delim) if delim else line.split()
        while parts and not parts[-1].strip():  # "1,2,3," : a trailing delimiter
            parts.pop()
        return [p.strip().replace(",", ".") if decimal_comma else p.strip() for p in parts]

    def numbers(line: str) -> list[float]:
        return [float(v) for v in fields(line)]

    start = 0
    try:
        numbers(lines[0])
    except ValueError:
        start = 1  # a header line
    rows = []
    for k, line in enumerate(lines[start:], start=start + 1):
        try:
            rows.append(numbers(line))
        except ValueError as exc:
            raise InputError(f"cannot read this CSV as a numeric table (line {k}: "
                             f"{' '.join(str(exc).split())[:120]})", path) from exc
    if not rows or not rows[0]:
        raise InputError("the CSV holds no numbers", path)
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise InputError(f"the CSV rows have different numbers of values ({sorted(widths)[:4]})", path)
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), -1)


def resolve_layout(shape: tuple[int, int], layout: str, stim_sample: int | None,
                   path: Path) -> tuple[int, list[str]]:
    """Decide which axis holds the trials.

    Returns
    -------
    trial_axis : int
        1 for samples × trials, 0 for trials × samples.
    notes : list of str
        Warnings to show (an ambiguous automatic choice).

    Raises
    ------
    InputError
        For an unknown layout, or when ``stim_sample`` fits no orientation.
    """
    if layout not in LAYOUTS:
        raise InputError(f"layout {layout!r} is not one of {', '.join(LAYOUTS)}", path)
    rows, cols = shape
    n_samples = {1: rows, 0: cols}  # trial_axis -> samples per trial
    if layout != "auto":
        axis = 1 if layout == "samples_x_trials" else 0
        if stim_sample is not None and not 0 <= stim_sample < n_samples[axis]:
            raise InputError(f"stim_sample {stim_sample} is outside the {n_samples[axis]} samples "
                             f"of a trial in layout {layout} (array {rows}x{cols})", path)
        return axis, []
    ok = [a for a in (1, 0) if stim_sample is None or 0 <= stim_sample < n_samples[a]]
    if not ok:
        raise InputError(f"stim_sample {stim_sample} fits neither orientation of the "
                         f"{rows}x{cols} array", path)
    if len(ok) == 1:
        return ok[0], []
    if rows == cols:
        axis = 1
        why = "the array is square, so the documented default samples x trials was used"
    else:
        axis = 1 if rows > cols else 0
        why = (f"took {'samples x trials' if axis == 1 else 'trials x samples'} because an "
               "epoch is normally longer than the number of trials")
    return axis, [f"layout auto: both orientations of the {rows}x{cols} array are consistent "
                  f"with stim_sample={stim_sample}; {why} (pass layout=/--layout to be explicit)"]


def read_epoched(path: Path, spec=None, *, fs: float | None = None, stim_sample: int | None = None,
                 variable: str | None = None, units: str | None = None, channels=None,
                 layout: str = "auto", **_ignored) -> Recording:
    """Open an epoched array file (``.mat``/``.npy``/``.csv``).

    Parameters
    ----------
    path : Path
        The file.
    fs : float | None
        Sampling rate in Hz (else the sidecar's ``sampling_rate_hz``).
    stim_sample : int | None
        0-based sample of the stimulus in every trial (else the sidecar's).
    variable : str | None
        ``.mat`` variable to read (else the sidecar's, else the only 2-D
        numeric variable).
    units : str | None
        Units of the values (else the sidecar's); without units the values
        are returned unscaled, with a warning.
    channels : names | indices | None
        Channel selection (the one channel is named after the variable or the file).
    layout : str
        ``"auto"``, ``"samples_x_trials"`` or ``"trials_x_samples"``.

    Returns
    -------
    Recording
        One segment per trial, each with a stimulus event.
    """
    side, side_path = load_sidecar(path)
    if units is not None and not math.isfinite(units_to_uv_factor(units)):
        # the user's own statement of the units (a sidecar's is the file's: a warning then)
        raise InputError(f"--units {units!r} is not a voltage unit (use V, mV, uV or nV)", path)
    fs = fs if fs is not None else side.get("sampling_rate_hz")
    stim_sample = stim_sample if stim_sample is not None else side.get("stim_sample")
    variable = variable if variable is not None else side.get("variable")
    units = units if units is not None else side.get("units")
    if layout in (None, "auto") and side.get("layout"):
        layout = side["layout"]
    layout = layout or "auto"

    arr, var_name = _load_array(path, variable)
    missing = [flag for flag, v in (("--fs HZ", fs), ("--stim-sample N", stim_sample)) if v is None]
    if missing:
        raise InputError(
            f"an epoched array ({shape_str(arr.shape)}) carries no "
            f"{' and no '.join('sampling rate' if m == '--fs HZ' else 'stimulus sample' for m in missing)}: "
            f"pass {' and '.join(missing)} or write them in a sidecar {path.name}.json "
            "(sampling_rate_hz, stim_sample)",
            path,
        )
    try:
        fs = float(fs)
    except (TypeError, ValueError) as exc:
        raise InputError(f"sampling rate {fs!r} is not a number", side_path or path) from exc
    if not (math.isfinite(fs) and fs > 0):
        raise InputError(f"sampling rate must be positive, got {fs}", side_path or path)
    try:
        stim_f = float(stim_sample)
    except (TypeError, ValueError) as exc:
        raise InputError(f"stim_sample {stim_sample!r} is not an integer", side_path or path) from exc
    if stim_f != int(stim_f):
        raise InputError(f"stim_sample must be a whole sample index, got {stim_sample}", path)
    stim_sample = int(stim_f)
    if stim_sample < 0:
        raise InputError(f"stim_sample must be >= 0, got {stim_sample}", path)

    if arr.ndim == 1:
        arr = np.asarray(arr)[:, None]
        trial_axis, notes = 1, []
        if not stim_sample < arr.shape[0]:
            raise InputError(f"stim_sample {stim_sample} is outside the {arr.shape[0]} samples", path)
    elif arr.ndim == 2:
        trial_axis, notes = resolve_layout(tuple(arr.shape), layout, stim_sample, path)
    else:
        raise InputError(f"expected a 1-D or 2-D array, got shape {shape_str(arr.shape)}", path)
    if isinstance(arr, np.ndarray) and not np.issubdtype(arr.dtype, np.number):
        raise InputError(f"array has non-numeric dtype {arr.dtype}", path)

    n_trials = arr.shape[trial_axis]
    n_samples = arr.shape[1 - trial_axis]
    if n_trials == 0 or n_samples == 0:
        raise InputError(f"the array ({shape_str(arr.shape)}) holds "
                         f"{'no trials' if n_trials == 0 else 'no samples'}", path)
    u = "" if units is None else str(units)
    name = var_name or path.stem
    chan = Channel(name, u, fs, units_to_uv_factor(u) if units is not None else math.nan)
    segments = tuple(Segment(i, n_samples) for i in range(n_trials))
    events = [Event(STIM_LABEL, stim_sample / fs, i, "epoch") for i in range(n_trials)]
    fmt = {".mat": "epoched-mat", ".npy": "epoched-npy", ".csv": "epoched-csv"}[path.suffix.lower()]
    rec = Recording(
        channels=(chan,),
        segments=segments,
        backend=EpochBackend(arr, trial_axis),
        events=events,
        path=str(path),
        format=fmt,
        stream=var_name,
        streams=(var_name,) if var_name else (),
        annotations={
            "layout": "samples_x_trials" if trial_axis == 1 else "trials_x_samples",
            "stim_sample": stim_sample,
            "variable": var_name,
            "array_shape": list(arr.shape),
            "sidecar": None if side_path is None else str(side_path),
        },
    )
    for n in notes:
        warn(rec.warnings, path, n)
    return finish(rec, channels=channels)
