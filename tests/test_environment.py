"""pyproject.toml (ranges), requirements/lock.txt (exact) and environment.yml (conda) agree."""

from __future__ import annotations

import re

import tomllib
import yaml
from conftest import ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def _pyproject_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs.extend(extra)
    parsed = [Requirement(r) for r in reqs]
    return {canonicalize_name(r.name): r for r in parsed}


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"lock line {line!r} is not an exact pin"
            pins[canonicalize_name(name)] = version
    return pins


def _environment_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    pins = {}
    for item in pip_section:
        if item.startswith("-e"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", item)
        assert match, f"environment.yml pins {item!r} loosely"
        pins[canonicalize_name(match[1])] = match[2]
    return pins


def test_environment_yml_names_the_same_packages_as_pyproject() -> None:
    assert set(_environment_pins()) == set(_pyproject_requirements())


def test_environment_yml_pins_the_locked_versions() -> None:
    lock = _lock()
    for name, version in _environment_pins().items():
        assert lock.get(name) == version, f"{name}: environment.yml {version}, lock {lock.get(name)}"


def test_locked_versions_satisfy_the_pyproject_ranges() -> None:
    lock = _lock()
    for name, req in _pyproject_requirements().items():
        assert name in lock, f"{name} is not in the lock"
        assert req.specifier.contains(lock[name], prereleases=True), f"{name}=={lock[name]} violates {req}"


def test_lock_pins_the_cpu_torch_and_the_book_toolchain() -> None:
    lock = _lock()
    assert lock["torch"] == "2.13.0"
    assert lock["jupyter-book"].startswith("1.")
    assert lock["sphinx"].startswith("7.")
    for needed_by_torchkeras in ("pandas", "tqdm", "accelerate"):
        assert needed_by_torchkeras in lock


def test_installed_environment_matches_the_lock() -> None:
    from importlib.metadata import PackageNotFoundError, version

    for name, pinned in _lock().items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            raise AssertionError(f"{name}=={pinned} is locked but not installed") from None
        assert installed.split("+")[0] == pinned, f"{name}: installed {installed}, locked {pinned}"
