"""Pretrained model files: where one is found, and copies of them built from the registry package that ships them.

A model file is a catalog entry (sources.SOURCES, marked `model`): `cnnapp data get NAME` places the publisher's
file in the data directory. For a machine that reaches PyPI alone, build_wheel_copies() builds a copy of each from
the mediapipe 0.10.21 wheel into the cache. model_file() takes the data directory's file first, else that copy.
"""

import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from cnnapp.data.sources import SOURCES
from cnnapp.errors import CnnappError
from cnnapp.files import writing_file
from cnnapp.settings import cache_dir, data_dir

WHEEL = ("mediapipe", "0.10.21", "05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3")
"""The registry package the copies come from: name, version, SHA-256 of its Linux x86-64 wheel for CPython 3.11."""
WHEEL_MEMBERS = {
    "hand-landmarker": {
        "hand_detector.tflite": "mediapipe/modules/palm_detection/palm_detection_full.tflite",
        "hand_landmarks_detector.tflite": "mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
    },
    "face-landmarks": {"face_landmark.tflite": "mediapipe/modules/face_landmark/face_landmark.tflite"},
}
"""For each model file, the wheel's members it is made of: one is the file as it is; several are stored in a zip
(a .task bundle) under the names given."""


def wheel_copy(name: str) -> Path:
    """Where build_wheel_copies() keeps its copy of a model file: in the cache, in a folder named by the wheel."""
    package, version, _ = WHEEL
    return cache_dir() / "models" / f"{package}-{version}" / SOURCES[name].target


def model_file(name: str) -> Path:
    """A model file: the publisher's in the data directory, else the copy built from the wheel in the cache."""
    placed = data_dir() / SOURCES[name].target
    for path in (placed, wheel_copy(name)):
        if path.is_file():
            return path
    package, version, _ = WHEEL
    raise CnnappError(
        f"{placed}: no {name} model file; get it with `cnnapp data get {name}`, or build a copy from PyPI's "
        f"{package} {version} with cnnapp.data.model_files.build_wheel_copies()"
    )


def build_wheel_copies() -> dict[str, Path]:
    """Every model file's copy from the wheel, in the cache: the ones not there yet are built from one download of
    the wheel by pip, checked against its pinned SHA-256. Each build gives the same bytes."""
    copies = {name: wheel_copy(name) for name in WHEEL_MEMBERS}
    missing = [name for name, path in copies.items() if not path.is_file()]
    if missing:
        with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(download_wheel(Path(folder))) as wheel:
            for name in missing:
                members = {inside: wheel.read(path) for inside, path in WHEEL_MEMBERS[name].items()}
                copies[name].parent.mkdir(parents=True, exist_ok=True)
                with writing_file(copies[name]) as tmp:
                    tmp.write_bytes(bundled(members))
    return copies


def download_wheel(folder: Path) -> Path:
    """The pinned wheel, downloaded by pip into folder (not installed) and checked against its SHA-256."""
    package, version, digest = WHEEL
    command = [sys.executable, "-m", "pip", "download", f"{package}=={version}", "--no-deps", "--only-binary=:all:"]
    command += ["--python-version", "3.11", "--platform", "manylinux_2_28_x86_64", "--dest", str(folder), "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True)
    wheels = list(folder.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        last = (done.stderr.strip().splitlines() or ["no wheel"])[-1]
        raise CnnappError(f"{package} {version}: pip could not download its wheel ({last})")
    with wheels[0].open("rb") as f:
        got = hashlib.file_digest(f, "sha256").hexdigest()
    if got != digest:
        raise CnnappError(f"{wheels[0].name}: its SHA-256 is not the pinned {digest[:16]}...")
    return wheels[0]


def bundled(members: dict[str, bytes]) -> bytes:
    """One member's bytes as they are; several stored in a zip, dated 1980 so that every build is the same file."""
    if len(members) == 1:
        return next(iter(members.values()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as task:
        for inside, data in members.items():
            task.writestr(zipfile.ZipInfo(inside, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()
