"""A progress line on stderr for data scans that take a while.

Shown only when stderr is a terminal and the scan has run for more than a
second, so pipes, CI logs and quick scans stay clean.  It is the one piece of
output below cli.py: a long scan with no sign of life looks like a hang.
"""

from __future__ import annotations

import sys
import time

DELAY = 1.0  # seconds of silence before the line appears
INTERVAL = 0.2  # seconds between redraws


class Progress:
    def __init__(self, label: str, total: int, stream=None) -> None:
        self.label = label
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self._last = 0.0
        self._shown = False

    def update(self, done: int) -> None:
        """Redraw when due; cheap enough to call once per batch of records."""
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started < DELAY or now - self._last < INTERVAL:
            return
        self._last = now
        share = f"{100 * done / self.total:3.0f}% " if self.total else ""
        self.stream.write(f"\rcaffelint: scanning {self.label}: {share}({done:,} records)")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._shown = False
