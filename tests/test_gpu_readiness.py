"""What a first GPU run depends on, checked on any machine.

* The suite's device parametrization: the CPU always, and the device companion computes on
  when that is another one.
* The table of operations without a deterministic CUDA kernel (``companion.runtime.
  NONDETERMINISTIC_ON_CUDA``): every operation of torch's own list that the notebooks or the
  package call is in it, nothing else is, and the README shows it.
* ``make test-gpu``: the Makefile target exists and runs the same suite with ``COMPANION_DEVICE=cuda``
  from a separate environment with a CUDA build of the locked torch version.
"""

from __future__ import annotations

import json
import re

import pytest
import torch
from conftest import ROOT, devices_to_test

import companion
from companion.runtime import NONDETERMINISTIC_ON_CUDA

# How each operation of torch's "will throw a RuntimeError" list shows up in source code.
USAGE = {
    "torch.nn.AvgPool3d": r"\bAvgPool3d\b|\bavg_pool3d\b",
    "torch.nn.AdaptiveAvgPool2d": r"\bAdaptiveAvgPool2d\b|\badaptive_avg_pool2d\b",
    "torch.nn.AdaptiveAvgPool3d": r"\bAdaptiveAvgPool3d\b|\badaptive_avg_pool3d\b",
    "torch.nn.AdaptiveMaxPool2d": r"\bAdaptiveMaxPool2d\b|\badaptive_max_pool2d\b",
    "torch.nn.FractionalMaxPool2d": r"\bFractionalMaxPool2d\b|\bfractional_max_pool2d\b",
    "torch.nn.FractionalMaxPool3d": r"\bFractionalMaxPool3d\b|\bfractional_max_pool3d\b",
    "torch.nn.MaxUnpool1d": r"\bMaxUnpool1d\b|\bmax_unpool1d\b",
    "torch.nn.MaxUnpool2d": r"\bMaxUnpool2d\b|\bmax_unpool2d\b",
    "torch.nn.MaxUnpool3d": r"\bMaxUnpool3d\b|\bmax_unpool3d\b",
    "torch.nn.functional.interpolate": r"\binterpolate\(|\bUpsample\b",
    "torch.nn.ReflectionPad1d": r"\bReflectionPad1d\b|mode=.reflect",
    "torch.nn.ReflectionPad2d": r"\bReflectionPad2d\b",
    "torch.nn.ReflectionPad3d": r"\bReflectionPad3d\b",
    "torch.nn.NLLLoss": r"\bNLLLoss\b|\bnll_loss\(|\bCrossEntropyLoss\b|\bcross_entropy\(",
    "torch.nn.CTCLoss": r"\bCTCLoss\b|\bctc_loss\(",
    "torch.nn.EmbeddingBag": r"\bEmbeddingBag\(|\bembedding_bag\(",
    "torch.Tensor.put_": r"\.put_\(",
    "torch.histc": r"\bhistc\(",
    # nondeterministic on CUDA only with a weights tensor
    "torch.bincount": r"\bbincount\([^)]*weights",
    # nondeterministic on CUDA only with its indices output, i.e. along a dimension
    "torch.median": r"\bmedian\(\s*(dim\s*=\s*)?-?\d",
    "torch.nn.functional.grid_sample": r"\bgrid_sample\(",
    "torch.cumsum": r"\bcumsum\(",
    "torch.Tensor.scatter_reduce": r"\bscatter_reduce_?\(",
    "torch.Tensor.resize_": r"\.resize_\(",
}
# Calls the scan finds that cannot reach a CUDA kernel, each with the reason it is harmless.
ON_THE_CPU_ONLY = {
    # loss catalogue II sums the label counts of a CPU tensor to sort a data set
    "torch.cumsum": "book/loss-catalogue-2.ipynb",
}


def _throwing_ops() -> list[str]:
    """The operations torch 2.x's documentation says raise under deterministic mode."""
    doc = torch.use_deterministic_algorithms.__doc__ or ""
    start = doc.index("operations will throw a")
    section = doc[start : doc.index("In addition", start)]
    return sorted(set(re.findall(r":(?:class|func):`([\w.]+)`", section)) - {"RuntimeError"})


def _code_sources() -> dict[str, str]:
    """The code of every notebook in the book and every module of the package."""
    sources = {}
    for nb in sorted((ROOT / "book").glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        sources[str(nb.relative_to(ROOT))] = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    for module in sorted((ROOT / "companion").rglob("*.py")):
        if module.name != "runtime.py":  # the table itself names the operations
            sources[str(module.relative_to(ROOT))] = module.read_text()
    return sources


def test_usage_patterns_cover_torchs_list() -> None:
    ops = _throwing_ops()
    assert len(ops) >= 15, ops  # the list was read, not an empty match
    missing = [op for op in ops if op not in USAGE]
    assert not missing, f"torch lists operations this test cannot look for yet: {missing}"


def test_table_names_exactly_the_nondeterministic_operations_the_book_runs() -> None:
    ops = set(_throwing_ops())
    used: dict[str, list[str]] = {}
    for path, code in _code_sources().items():
        for op in ops:
            if re.search(USAGE[op], code) and ON_THE_CPU_ONLY.get(op) not in (path,):
                used.setdefault(op, []).append(path)
    assert set(NONDETERMINISTIC_ON_CUDA) <= ops, "the table names an operation torch does not list"
    unlisted = {op: paths for op, paths in used.items() if op not in NONDETERMINISTIC_ON_CUDA}
    assert not unlisted, f"used but not in companion.runtime.NONDETERMINISTIC_ON_CUDA: {unlisted}"
    stale = set(NONDETERMINISTIC_ON_CUDA) - set(used)
    assert not stale, f"in the table but used nowhere: {stale}"


def test_readme_lists_the_table() -> None:
    readme = (ROOT / "README.md").read_text()
    for op, (_where, how) in NONDETERMINISTIC_ON_CUDA.items():
        assert f"`{op}`" in readme, f"README does not list {op}"
        assert how.split(":")[0] in readme


def test_setup_asks_for_deterministic_kernels_and_warns_instead_of_failing() -> None:
    before = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
    try:
        companion.setup(0)
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])


def test_devices_under_test_follow_companion_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(companion, "device", lambda: torch.device("cpu"))
    assert devices_to_test() == [torch.device("cpu")]
    monkeypatch.setattr(companion, "device", lambda: torch.device("cuda", 0))
    assert devices_to_test() == [torch.device("cpu"), torch.device("cuda", 0)]


def test_a_cuda_device_this_machine_lacks_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # one index past the last device: no CUDA at all here, or one too many on a GPU machine
    monkeypatch.setenv(companion.runtime.DEVICE_ENV, f"cuda:{torch.cuda.device_count()}")
    with pytest.raises(ValueError, match="CUDA"):
        companion.device()


def test_make_test_gpu_runs_the_suite_on_cuda_from_its_own_environment() -> None:
    makefile = (ROOT / "Makefile").read_text()
    target = re.search(r"^test-gpu:.*?(?=^\S|\Z)", makefile, re.M | re.S)
    assert target, "the Makefile has no test-gpu target"
    body = target.group(0)
    assert "COMPANION_DEVICE=cuda" in body and "tools/run-tests.sh" in body
    assert "$(GPU_PY)" in body or "GPU_VENV" in body
    assert "make test-gpu" in (ROOT / "README.md").read_text()
