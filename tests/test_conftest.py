"""The shared-data guard of the suite: a missing dataset skips a test on a laptop and fails it in CI."""

import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

NEEDS_MISSING_DATA = """
from conftest import need_shared

def test_needs_data():
    need_shared("no-such-dataset")
"""


def run_guarded(tmp_path, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "test_guarded.py").write_text(NEEDS_MISSING_DATA)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(TESTS), "CNNAPP_DATA": str(tmp_path)}
    if ci is not None:
        env["CI"] = ci
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_guarded.py")]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_missing_shared_data_fails_in_ci_and_skips_elsewhere(tmp_path):
    in_ci = run_guarded(tmp_path, "true")
    assert in_ci.returncode == 1 and "1 failed" in in_ci.stdout, in_ci.stdout
    assert "real data not found: no-such-dataset" in in_ci.stdout
    elsewhere = run_guarded(tmp_path, None)
    assert elsewhere.returncode == 0 and "1 skipped" in elsewhere.stdout, elsewhere.stdout
