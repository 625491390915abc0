"""Resume and caching: input hashes, task keys, completion manifests.

A (recording, analysis) result is *complete* when its folder holds a
completion manifest (:data:`MANIFEST`) whose key matches the current input
sha256, options and package version, and every file the manifest lists is
there with the recorded size.

Results are never written in place: the analysis writes into a hidden
staging folder next to the final one, the manifest is written last (atomic
temp file + rename), and only then is the staging folder renamed to the
final name. A run killed at any point leaves either the previous complete
result, or no result, plus hidden leftovers that the next run removes.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from motorsign.outputs import to_jsonable, write_json

__all__ = [
    "MANIFEST",
    "file_sha256",
    "HashCache",
    "input_files",
    "input_digest",
    "task_key",
    "is_complete",
    "read_manifest",
    "write_manifest",
    "staging_dir",
    "publish",
    "clean_leftovers",
]

log = logging.getLogger(__name__)

#: name of the completion manifest in each result folder
MANIFEST = ".motorsign-complete.json"
#: manifest format version (bumped when its meaning changes)
MANIFEST_VERSION = 1
#: read block size for hashing
HASH_BLOCK_BYTES = 1 << 20

_STAGING_TAG = ".partial-"
_OLD_TAG = ".old-"


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 (hex) of a file, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(HASH_BLOCK_BYTES)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def input_files(path: str | os.PathLike) -> list[Path]:
    """The files a recording consists of: the file itself and its companions.

    Companions are the siblings sharing its stem (``x.vhdr`` -> ``x.vmrk``,
    ``x.eeg``; ``x.hea`` -> ``x.dat``) and sidecars named after the whole file
    name (``x.mat`` -> ``x.mat.json``). Any change in them changes the hash.
    """
    path = Path(path)
    found = {path}
    for pattern in (glob.escape(path.stem) + ".*", glob.escape(path.name) + ".*"):
        for p in path.parent.glob(pattern):
            if p.is_file() and not p.name.startswith("."):
                found.add(p)
    return sorted(found)


def _stat_key(p: Path) -> list:
    st = p.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


class HashCache:
    """sha256 of files, remembered by (size, mtime, ctime, inode) between runs.

    A file whose size, modification time, status-change time and inode are
    all unchanged is not read again: re-running a batch over hundreds of
    large recordings then costs a ``stat`` per file. Any write to a file
    changes its ctime (which no tool can set back), so a changed file is
    always re-hashed.

    Parameters
    ----------
    path : path-like | None
        JSON file that keeps the cache (``None``: in memory only).
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = None if path is None else Path(path)
        self.entries: dict[str, dict] = {}
        if self.path is not None:
            try:
                with open(self.path, encoding="utf-8") as fh:
                    data = json.load(fh)
                if isinstance(data, dict) and data.get("version") == MANIFEST_VERSION:
                    self.entries = dict(data.get("files", {}))
            except (OSError, ValueError):
                pass

    def sha256(self, p: Path) -> str:
        """The file's sha256, from the cache when its stat is unchanged."""
        key = str(Path(p).resolve())
        stat = _stat_key(Path(p))
        hit = self.entries.get(key)
        if hit and hit.get("stat") == stat:
            return hit["sha256"]
        digest = file_sha256(p)
        self.entries[key] = {"stat": stat, "sha256": digest}
        return digest

    def save(self) -> None:
        """Write the cache (atomically)."""
        if self.path is not None:
            write_json(self.path, {"version": MANIFEST_VERSION, "files": self.entries}, indent=0)


def input_digest(path: str | os.PathLike, hashes: HashCache | None = None) -> dict[str, Any]:
    """Hash a recording and its companion files.

    Parameters
    ----------
    path : path-like
        The recording.
    hashes : HashCache | None
        Reuse hashes of unchanged files.

    Returns
    -------
    dict
        ``sha256`` (of the main file), ``combined_sha256`` (of all files, by
        name) and ``files`` (name -> sha256).
    """
    path = Path(path)
    h = hashes.sha256 if hashes is not None else file_sha256
    files = {p.name: h(p) for p in input_files(path)}
    combined = hashlib.sha256()
    for name in sorted(files):
        combined.update(f"{name}\0{files[name]}\n".encode())
    return {"sha256": files[path.name], "combined_sha256": combined.hexdigest(), "files": files}


def task_key(combined_sha256: str, options: dict, version: str) -> str:
    """Cache key of one task: input hash, options and package version."""
    blob = json.dumps(
        {"input": combined_sha256, "options": to_jsonable(options), "version": version,
         "manifest": MANIFEST_VERSION},
        sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def read_manifest(folder: str | os.PathLike) -> dict | None:
    """The completion manifest of a result folder, or ``None``."""
    try:
        with open(Path(folder) / MANIFEST, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_complete(folder: str | os.PathLike, key: str) -> bool:
    """True when ``folder`` holds a complete result for ``key``."""
    folder = Path(folder)
    m = read_manifest(folder)
    if m is None or m.get("key") != key:
        return False
    files = m.get("files")
    if not isinstance(files, dict):
        return False
    for name, info in files.items():
        p = folder / name
        try:
            if p.stat().st_size != info.get("size"):
                return False
        except OSError:
            return False
    return True


def _list_outputs(folder: Path) -> dict[str, dict]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != MANIFEST and not p.name.startswith("."):
            out[p.relative_to(folder).as_posix()] = {"size": p.stat().st_size, "sha256": file_sha256(p)}
    return out


def write_manifest(folder: str | os.PathLike, key: str, info: dict) -> dict:
    """Write the completion manifest of ``folder`` (the last file written).

    Parameters
    ----------
    folder : path-like
        The (staging) result folder, with every output already written.
    key : str
        The task key (:func:`task_key`).
    info : dict
        Anything else worth keeping (options, input hash, timings).

    Returns
    -------
    dict
        The manifest.
    """
    folder = Path(folder)
    manifest = {"manifest_version": MANIFEST_VERSION, "key": key, **info,
                "files": _list_outputs(folder)}
    write_json(folder / MANIFEST, manifest)
    return manifest


def staging_dir(final: str | os.PathLike) -> Path:
    """A new, empty hidden staging folder beside ``final``."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    d = final.parent / f".{final.name}{_STAGING_TAG}{uuid.uuid4().hex[:12]}"
    d.mkdir()
    return d


def publish(staging: str | os.PathLike, final: str | os.PathLike) -> Path:
    """Move a complete staging folder to its final name.

    The previous result (if any) is renamed away first and removed after,
    so ``final`` is at every moment either absent or a complete result.
    """
    staging, final = Path(staging), Path(final)
    old = None
    if final.exists():
        old = final.parent / f".{final.name}{_OLD_TAG}{uuid.uuid4().hex[:12]}"
        os.replace(final, old)
    os.replace(staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final


def clean_leftovers(folder: str | os.PathLike) -> int:
    """Remove staging and replaced folders a killed run left in ``folder``.

    Returns
    -------
    int
        How many were removed.
    """
    folder = Path(folder)
    n = 0
    if not folder.is_dir():
        return 0
    for p in folder.iterdir():
        if p.name.startswith(".") and (_STAGING_TAG in p.name or _OLD_TAG in p.name) and p.is_dir():
            with contextlib.suppress(OSError):
                shutil.rmtree(p)
                n += 1
    return n
