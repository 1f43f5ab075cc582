"""Progress of long work on stderr, with the time left: one line rewritten in place on a terminal, a plain line
every PLAIN_EVERY seconds otherwise; nothing at all for work done within its first QUIET_FOR seconds."""

import sys
import time

QUIET_FOR = 2.0
"""Seconds of work before progress shows: short work stays silent."""
PLAIN_EVERY = 10.0
"""Seconds between two plain lines when stderr is not a terminal."""


def duration(seconds: float) -> str:
    """Seconds as people read them: '0.4 s', '42 s', '2 min 05 s', '1 h 03 min'."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def time_left(seconds: float, done: float, total: float) -> str:
    """The time left to finish total steps when done of them took seconds, in words."""
    return f"about {duration(seconds / done * (total - done))} left" if done else "time left not known yet"


class Progress:
    """How far a piece of work of total steps has come, shown on stderr while it lasts; a context manager."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total = label, total
        self.start = time.monotonic()
        self.last: float | None = None  # when a line was last written

    def update(self, done: int, note: str = "") -> None:
        """Say that done steps are finished (note: what is being done, or a figure worth seeing)."""
        elapsed = time.monotonic() - self.start
        if done >= self.total or elapsed < QUIET_FOR:
            return
        terminal = sys.stderr.isatty()
        if not terminal and self.last is not None and elapsed - self.last < PLAIN_EVERY:
            return
        self.last = elapsed
        line = f"{self.label}: {done}/{self.total}{f', {note}' if note else ''}, {time_left(elapsed, done, self.total)}"
        sys.stderr.write(f"\r{line}\033[K" if terminal else f"{line}\n")
        sys.stderr.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        if self.last is None:
            return
        ending = "done" if exc[0] is None else "stopped"
        line = f"{self.label}: {ending} after {duration(time.monotonic() - self.start)}"
        sys.stderr.write(f"\r{line}\033[K\n" if sys.stderr.isatty() else f"{line}\n")
        sys.stderr.flush()
