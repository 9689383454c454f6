"""Shared test set-up: the repository root, the book tools, the devices, the published site."""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from hypothesis import settings

import companion

#: The repository root; every test finds the book's files from here.
ROOT = Path(__file__).resolve().parent.parent
# The book tools (tools/booktools/) are not part of the installed package.
sys.path.insert(0, str(ROOT / "tools"))

import booktools  # noqa: E402 - after the path is set

# A repository address for building the site as it is published (never published itself).
EXAMPLE_REPOSITORY = "https://github.com/example-owner/loss-book"
PUBLISHED = ROOT / "_build" / "published"

# One thread per process. The suite runs a process per core (xdist workers, the notebook kernels
# they start, which inherit this environment, and the AVX2 pass beside them); with torch's default
# of a thread per core in each, the processes' OpenMP threads wait on each other: on 2 busy cores a
# 61-parameter network's training steps ran 20 times slower than on one thread. Stored outputs must
# not depend on the thread count anyway (they are made with the default). OMP_NUM_THREADS=N overrides.
for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
    os.environ.setdefault(_variable, "1")
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

# The machine that runs the suite may be busy: judge property tests by their
# results, not by how long one example took.
settings.register_profile("book", deadline=None)
settings.load_profile("book")


def devices_to_test() -> list[torch.device]:
    """The CPU, and the device the book computes on when that is another one.

    :func:`companion.device` decides: CUDA when present, unless ``COMPANION_DEVICE``
    names another device (``COMPANION_DEVICE=cpu`` tests the CPU alone; a device this
    machine lacks is an error, not a silent skip).
    """
    chosen = companion.device()
    return [torch.device("cpu")] if chosen.type == "cpu" else [torch.device("cpu"), chosen]


DEVICES = devices_to_test()


@pytest.fixture(params=DEVICES, ids=str)
def device(request: pytest.FixtureRequest) -> torch.device:
    """Each device under test in turn: a test that takes it runs once per device."""
    dev: torch.device = request.param
    return dev


@pytest.fixture(scope="session")
def repository_site() -> Iterator[Path]:
    """The book built as it would be published from a GitHub repository.

    Built once into ``_build/published`` and rebuilt only when its sources change;
    test processes running side by side take turns, so it is never built twice at once.
    """
    PUBLISHED.mkdir(parents=True, exist_ok=True)
    config = PUBLISHED / "site-config.yml"
    with open(PUBLISHED.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            booktools.write_if_changed(config, booktools.config_text(booktools.site_config(EXAMPLE_REPOSITORY)))
            try:
                booktools.build_site(
                    config, PUBLISHED, quiet=True, jupyter_book=ROOT / ".venv" / "bin" / "jupyter-book"
                )
            except RuntimeError as exc:
                pytest.fail(str(exc))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    yield PUBLISHED / "_build" / "html"
