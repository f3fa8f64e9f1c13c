"""A minimal progress line for long work, shown only when stderr is a terminal.

In: calls ``update(done, total)``. Out: one self-overwriting line on stderr such as
``tokenise  4,210/8,848 units  48%`` — nothing at all in CI, pipes and notebooks' captured
output, where the per-stage log lines say what happened.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressLine:
    """Report ``done/total`` on one terminal line, at most every ``interval`` seconds.

    Examples
    --------
    >>> import io
    >>> progress = ProgressLine("tokenise", "units", stream=io.StringIO())  # not a terminal
    >>> progress(5, 10); progress.close()  # prints nothing
    """

    def __init__(self, label: str, unit: str, stream: TextIO | None = None, interval: float = 0.2):
        self.label, self.unit, self.interval = label, unit, interval
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = 0.0
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self._last < self.interval:
            return
        self._last = now
        share = done / total if total else 1.0
        self.stream.write(f"\r{self.label}  {done:,}/{total:,} {self.unit}  {share:4.0%}")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """End the line (if anything was shown)."""
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False
