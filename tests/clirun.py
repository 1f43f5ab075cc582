"""Running the real `cnnapp` command in a subprocess, as a user would."""

import os
import subprocess
import sys
from pathlib import Path


def cnnapp(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 600):
    """The finished process of `python -m cnnapp ARGS`, its output captured as text."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cnnapp", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line_error(result, *words: str) -> str:
    """The process failed with exit code 2 and exactly one line on stderr holding every word, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]
