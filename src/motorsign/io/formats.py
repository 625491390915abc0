"""The explicit file-extension -> reader map.

motorsign never lets a library guess a format from a file (``neo.io.get_io``
opens a WFDB ``.dat`` as Elphy and hides the errors of the readers it
tries). Every supported extension is listed here with the reader that
handles it; anything else is refused with the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["FormatSpec", "FORMATS", "NEO_CLASSES", "format_for", "supported_extensions"]


@dataclass(frozen=True)
class FormatSpec:
    """One supported format.

    Attributes
    ----------
    name : str
        Format name shown by ``motorsign info``.
    reader : str
        ``"neo"``, ``"wfdb"``, ``"array"`` or ``"nwb"``.
    neo_class : str | None
        The ``neo.rawio`` class for neo formats.
    marker_offset_samples : int
        Samples to subtract from the event positions the neo class reports
        (BrainVision ``.vmrk`` positions are 1-based and neo keeps them).
    merge_streams : bool
        Join neo streams that share rate and length into one (neo splits
        Spike2 channels by gain).
    label_with_channel : bool
        Event labels are ``"<event channel>/<label>"`` (BrainVision
        ``"Stimulus/S  1"``); False for formats whose neo event channel is
        a container with no meaning (EDF+ annotations: the text alone).
    """

    name: str
    reader: str
    neo_class: str | None = None
    marker_offset_samples: int = 0
    label_with_channel: bool = True
    merge_streams: bool = False
    signatures: tuple[tuple[int, bytes], ...] = ()

    def check_signature(self, head: bytes) -> bool:
        """True when ``head`` (the file's first bytes) carries one of the signatures."""
        if not self.signatures:
            return True
        if self.name == "BrainVision":  # text: any case, spaces, optional BOM
            return b"brainvision" in head[:200].lower().replace(b" ", b"")
        return any(head[o : o + len(sig)] == sig for o, sig in self.signatures)

    def signature_text(self) -> str:
        """The expected signature, for error messages."""
        return " or ".join(f"{sig!r} at byte {o}" for o, sig in self.signatures)


#: lower-case extension -> format
FORMATS: dict[str, FormatSpec] = {
    ".vhdr": FormatSpec("BrainVision", "neo", "BrainVisionRawIO", marker_offset_samples=1,
                        signatures=((0, b"Brain Vision"),)),
    ".edf": FormatSpec("EDF", "neo", "EDFRawIO", label_with_channel=False,
                       signatures=((0, b"0       "),)),
    ".bdf": FormatSpec("BDF", "neo", "EDFRawIO", label_with_channel=False,
                       signatures=((0, b"\xffBIOSEMI"),)),
    ".smr": FormatSpec("Spike2", "neo", "Spike2RawIO", merge_streams=True, signatures=((2, b"(C) CED 87"),)),
    ".abf": FormatSpec("Axon ABF", "neo", "AxonRawIO", signatures=((0, b"ABF "), (0, b"ABF2"))),
    ".rhd": FormatSpec("Intan RHD", "neo", "IntanRawIO", signatures=((0, b"\x02\x27\x91\xc6"),)),
    ".rhs": FormatSpec("Intan RHS", "neo", "IntanRawIO", signatures=((0, b"\xac\x27\x91\xd6"),)),
    ".trc": FormatSpec("Micromed TRC", "neo", "MicromedRawIO"),
    ".edr": FormatSpec("WinEDR", "neo", "WinEdrRawIO"),
    ".wcp": FormatSpec("WinWCP", "neo", "WinWcpRawIO"),
    ".nwb": FormatSpec("NWB", "nwb"),
    ".hea": FormatSpec("WFDB", "wfdb"),
    ".mat": FormatSpec("epoched-mat", "array"),
    ".npy": FormatSpec("epoched-npy", "array"),
    ".csv": FormatSpec("epoched-csv", "array"),
}

#: neo rawio class names used (for tests and ``info``)
NEO_CLASSES = sorted({f.neo_class for f in FORMATS.values() if f.neo_class})

#: files that belong to a supported format but are not the file to open
_COMPANIONS = {
    ".eeg": ".vhdr",
    ".vmrk": ".vhdr",
    ".dat": ".hea",
}


def supported_extensions() -> list[str]:
    """The extensions :func:`motorsign.io.read` accepts."""
    return sorted(FORMATS)


def format_for(path: str | Path) -> FormatSpec | None:
    """The format of ``path`` from its extension (``None`` when unsupported)."""
    return FORMATS.get(Path(path).suffix.lower())


def companion_hint(path: str | Path) -> str:
    """A hint when ``path`` is a data file of a format whose header must be opened."""
    ext = Path(path).suffix.lower()
    if ext in _COMPANIONS:
        return f" (open the {_COMPANIONS[ext]} header file instead)"
    return ""
