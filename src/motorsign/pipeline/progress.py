"""A progress bar on a terminal; nothing (but INFO logs) otherwise."""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

__all__ = ["Progress"]

log = logging.getLogger(__name__)

#: width of the bar in characters
BAR_WIDTH = 30


class Progress:
    """Counts finished tasks and draws a one-line bar on a TTY.

    Parameters
    ----------
    total : int
        Number of tasks.
    stream : file | None
        Where to draw (default ``sys.stderr``).
    enabled : bool | None
        Force the bar on/off; by default it is drawn only when ``stream``
        is a terminal.
    """

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool | None = None):
        self.total = max(0, int(total))
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled
        self.done = 0
        self.failed = 0
        self.t0 = time.perf_counter()

    def update(self, label: str, *, failed: bool = False, cached: bool = False) -> None:
        """One more task finished."""
        self.done += 1
        self.failed += int(failed)
        state = "failed" if failed else ("cached" if cached else "done")
        log.info("[%d/%d] %s %s", self.done, self.total, label, state)
        if self.enabled:
            frac = self.done / self.total if self.total else 1.0
            fill = int(round(BAR_WIDTH * frac))
            bar = "#" * fill + "-" * (BAR_WIDTH - fill)
            elapsed = time.perf_counter() - self.t0
            fail = f", {self.failed} failed" if self.failed else ""
            text = f"\r[{bar}] {self.done}/{self.total}{fail} {elapsed:5.1f}s {label[:40]:<40}"
            self.stream.write(text)
            self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
