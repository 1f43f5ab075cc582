"""Native libraries' own lines on stderr (TensorFlow Lite's and MediaPipe's C++ logs), kept off the user's console."""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Within the block, what is written to the process's stderr file descriptor goes nowhere; Python's own
    exceptions still reach the caller."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
