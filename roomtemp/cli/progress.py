"""A progress line on stderr, drawn only when a person is watching (a terminal): in a pipe or a
log it would be a pile of carriage returns, and the summary at the end says it all."""

import sys
import time
from typing import TextIO

WIDTH = 30
EVERY = 0.1  # seconds between redraws: drawing each batch would cost more than it shows


class Progress:
    def __init__(self, label: str, total: float | None, stream: TextIO | None = None) -> None:
        """`total`: how much there is to do (bytes of a file, measurements), None if unknown."""
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.shown = self.stream.isatty()
        self.started = time.monotonic()
        self.drawn_at = 0.0

    def update(self, done: float, count: int, force: bool = False) -> None:
        """`done` out of the total so far, `count` measurements."""
        now = time.monotonic()
        if not self.shown or (now - self.drawn_at < EVERY and not force):
            return
        self.drawn_at = now
        rate = count / max(now - self.started, 1e-9)
        bar = ""
        if self.total:
            share = min(done / self.total, 1.0)
            filled = round(share * WIDTH)
            bar = f"[{'#' * filled}{'.' * (WIDTH - filled)}] {share:4.0%} "
        self.stream.write(f"\r{self.label} {bar}{count:,} measurements, {rate:,.0f}/s\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        """Clear the line, for the summary to take its place."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
