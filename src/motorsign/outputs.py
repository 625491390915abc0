"""Atomic writing of result files.

Everything motorsign writes goes through these helpers: the content is
written to a temporary file in the destination folder and renamed over the
target, so a killed process never leaves a half-written result and an
earlier complete file is never lost.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["atomic_write_bytes", "atomic_write_text", "write_json", "write_csv", "to_jsonable"]


def _umask() -> int:
    # Read once per process: os.umask can only be read by setting it, which is
    # not thread-safe, so it is never done while writer threads may run.
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


_UMASK: int | None = None


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file + fsync + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes owner-only files; results get the usual umask-based mode.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, paths and NaN to JSON-compatible values.

    NaN and infinities become ``None`` (JSON ``null``): a failed measurement
    stays visibly missing instead of becoming a number.
    """
    import numpy as np

    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        return to_jsonable(obj.to_dict())
    return obj


def write_json(path: str | os.PathLike, obj: Any, *, indent: int = 2) -> Path:
    """Write ``obj`` as JSON atomically (NaN written as ``null``)."""
    text = json.dumps(to_jsonable(obj), indent=indent, allow_nan=False, ensure_ascii=False)
    return atomic_write_text(path, text + "\n")


#: Rows of a DataFrame converted at a time by :func:`write_csv`.
_CSV_BLOCK_ROWS = 20000


def _fmt(value: Any) -> str:
    if value is None:
        return "NaN"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return repr(value) if math.isinf(value) else f"{value:.6g}"
    try:
        import numpy as np

        if isinstance(value, np.floating):
            return _fmt(float(value))
        if isinstance(value, np.bool_):
            return str(bool(value))
    except ImportError:  # pragma: no cover
        pass
    return str(value)


def write_csv(
    path: str | os.PathLike,
    rows: Iterable[Mapping[str, Any]] | Any,
    columns: Sequence[str] | None = None,
) -> Path:
    """Write a table as CSV atomically.

    Parameters
    ----------
    path : path-like
        Destination file.
    rows : iterable of mappings | pandas.DataFrame
        The rows. A DataFrame is written with its own columns.
    columns : sequence of str | None
        Column order; required columns of the output contract come first.
        Missing values and NaN are written as ``NaN``.
    """
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        if columns is None:
            columns = [str(c) for c in rows.columns]
        frame = rows
        # converted block by block: a list of dicts of a large table takes
        # several times the table's own memory
        rows = (r for a in range(0, len(frame), _CSV_BLOCK_ROWS)
                for r in frame.iloc[a : a + _CSV_BLOCK_ROWS].to_dict("records"))
    else:
        rows = list(rows)
        if columns is None:
            columns = list(rows[0].keys()) if rows else []
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_fmt(row.get(c)) for c in columns])
    return atomic_write_text(path, buf.getvalue())
