"""cnnapp's dependencies resolve to wheels on every platform it installs on, with the right TensorFlow for each.

pip's dry run against PyPI, as pip would install for another machine (`--platform`). pip reads the environment
markers of the requirements it is given against the machine it runs on, not the target, so the markers of
pyproject.toml are read here for each target and the requirements that apply are passed without them (the markers
of the dependencies' own requirements are still read for this machine). Needs PyPI.
"""

import json
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def manylinux(machine: str) -> list[str]:
    """The wheel tags a Linux machine with glibc 2.28 takes (manylinux_2_17 to 2_28, and their old names)."""
    old = [f"manylinux2014_{machine}"] + ([f"manylinux2010_{machine}", f"manylinux1_{machine}"] * (machine == "x86_64"))
    return [f"manylinux_2_{minor}_{machine}" for minor in range(28, 16, -1)] + old


PLATFORMS = {  # name: (wheel tags, marker environment, the TensorFlow distribution expected)
    "linux-x86_64": (manylinux("x86_64"), {"sys_platform": "linux", "platform_machine": "x86_64"}, "tensorflow-cpu"),
    "linux-aarch64": (manylinux("aarch64"), {"sys_platform": "linux", "platform_machine": "aarch64"}, "tensorflow"),
    "macos-arm64": (["macosx_14_0_arm64"], {"sys_platform": "darwin", "platform_machine": "arm64"}, "tensorflow"),
    "macos-x86_64": (["macosx_13_0_x86_64"], {"sys_platform": "darwin", "platform_machine": "x86_64"}, "tensorflow"),
    "windows-x86_64": (["win_amd64"], {"sys_platform": "win32", "platform_machine": "AMD64"}, "tensorflow-cpu"),
}
SYSTEMS = {"linux": ("Linux", "posix"), "darwin": ("Darwin", "posix"), "win32": ("Windows", "nt")}


def requirements(environment: dict[str, str]) -> list[str]:
    """pyproject.toml's requirements, every extra's included, that apply on a machine, without their markers (an
    extra's own `cnnapp[...]` lines are in that list already)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    system, os_name = SYSTEMS[environment["sys_platform"]]
    environment = {**environment, "platform_system": system, "os_name": os_name, "python_version": "3.11"}
    kept = []
    lines = project["dependencies"] + [line for extra in project["optional-dependencies"].values() for line in extra]
    for line in lines:
        requirement = Requirement(line)
        if requirement.name == "cnnapp":
            continue
        if requirement.marker is None or requirement.marker.evaluate(environment):
            requirement.marker = None
            kept.append(str(requirement))
    return kept


def resolve(name: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """pip's dry run for one platform (the lock as constraints on Linux, as `make` installs); what it would install."""
    tags, environment, _ = PLATFORMS[name]
    report = tmp_path / f"{name}.json"
    platforms = [arg for tag in tags for arg in ("--platform", tag)]
    lock = ["--constraint", str(ROOT / "requirements.lock")] * (environment["sys_platform"] == "linux")
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--report", str(report)]
    command += ["--only-binary=:all:", *platforms, "--python-version", "3.11", "--implementation", "cp"]
    command += ["--target", str(tmp_path / name), "--ignore-installed", *lock, *requirements(environment)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        return done, {}
    installs = json.loads(report.read_text())["install"]
    return done, {canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"] for item in installs}


@pytest.fixture(scope="module")
def resolved(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("install")
    with ThreadPoolExecutor(len(PLATFORMS)) as pool:
        return dict(zip(PLATFORMS, pool.map(lambda name: resolve(name, tmp_path), PLATFORMS), strict=True))


@pytest.mark.parametrize("name", PLATFORMS)
def test_the_dependencies_resolve_to_wheels_with_the_platform_s_tensorflow(resolved, name):
    done, installs = resolved[name]
    assert done.returncode == 0, done.stderr[-3000:]
    _, environment, tensorflow = PLATFORMS[name]
    wanted = {canonicalize_name(Requirement(line).name) for line in requirements(environment)}
    assert wanted <= installs.keys(), wanted - installs.keys()
    other = "tensorflow" if tensorflow == "tensorflow-cpu" else "tensorflow-cpu"
    assert tensorflow in installs and other not in installs
    assert ("uvloop" in installs) == (environment["sys_platform"] != "win32")


def test_the_lock_pins_what_linux_resolves(resolved):
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().split():
        name, version = line.split("==")
        pins[canonicalize_name(name)] = version
    _, installs = resolved["linux-x86_64"]
    assert installs == pins
