"""Shared fixtures: the real data in ../shared/datasets and course-schema HDF5 files written here."""

import os
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CNNAPP_DATA") or ROOT.parent / "shared" / "datasets").resolve()


SLOW_MODULES = {
    "test_cli_errors",
    "test_core_install",
    "test_evaluation",
    "test_faces",
    "test_hands",
    "test_hostile",
    "test_marks",
    "test_install",
    "test_mix",
    "test_nets",
    "test_page",
    "test_predict",
    "test_protocols",
    "test_quiet",
    "test_reports",
    "test_resume",
    "test_serve",
    "test_summary",
    "test_teach",
    "test_training",
    "test_tune",
}
"""The test modules that train, start TensorFlow in a subprocess, or install from PyPI, nearly test by test."""
SLOW_TESTS = {
    "test_missing_shared_data_fails_in_ci_and_skips_elsewhere",  # two pytest runs, each importing TensorFlow
    "test_data_get_of_the_full_archives_gives_the_fingerprints_of_the_shared_data",
    "test_data_get_from_a_mirror_in_the_upstream_layout_lays_out_the_shared_copy",
    "test_smiles_counts_and_readable_names",  # 13,165 photos decoded
    "test_the_real_smiles_folder_loads_whole_then_from_the_cache",
}
"""The slow tests of the other modules, by function name: whole datasets downloaded, decoded or checked."""
TRAINING_FIXTURES = {"adapted"}
"""Fixtures of the other modules that train a run: the tests that use them are slow too."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks the tests of SLOW_MODULES and SLOW_TESTS, and those using TRAINING_FIXTURES, `slow`; `pytest -m "not
    slow"` is the fast lane."""
    for item in items:
        trains = TRAINING_FIXTURES & set(getattr(item, "fixturenames", ()))
        if item.module.__name__ in SLOW_MODULES or item.originalname in SLOW_TESTS or trains:
            item.add_marker(pytest.mark.slow)


def need_shared(*names: str) -> Path:
    """The shared data folder; when those entries of it are not there the test is skipped, or fails in CI
    (CI=true), where the data must be present."""
    missing = [n for n in names if not (SHARED / n).exists()]
    if missing:
        message = f"real data not found: {', '.join(missing)} under {SHARED} (set CNNAPP_DATA)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return SHARED


def write_course_file(path: Path, part: str, x: np.ndarray, y: np.ndarray, classes=(0, 1)) -> Path:
    """A course HDF5 file with exactly the course's keys: {part}_set_x, {part}_set_y, list_classes."""
    with h5py.File(path, "w") as f:
        f.create_dataset(f"{part}_set_x", data=x)
        f.create_dataset(f"{part}_set_y", data=y)
        f.create_dataset("list_classes", data=np.asarray(classes))
    return path


def random_course_arrays(rng: np.random.Generator, m: int, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """m random uint8 images of the course's size and labels 0..classes-1 (for schema tests only)."""
    x = rng.integers(0, 256, size=(m, 64, 64, 3), dtype=np.uint8)
    y = np.arange(m, dtype=np.int64) % classes
    return x, y


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Each session keeps decoded folders in one cache of its own, outside every data folder."""
    if not os.environ.get("CNNAPP_CACHE"):
        monkeypatch.setenv("CNNAPP_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(autouse=True)
def _quiet_tensorflow(monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(scope="session")
def shared() -> Path:
    return SHARED


def every_nth(dataset, n: int):
    """A smaller dataset: every nth image, so every class keeps its share."""
    keep = np.arange(0, len(dataset.y), n)
    return replace(dataset, x=dataset.x[keep], y=dataset.y[keep], paths=None)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


from servers import server  # noqa: E402, F401  (one served pair of runs for the server and page tests)
