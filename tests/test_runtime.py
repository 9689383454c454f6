from __future__ import annotations

import os
import random

import numpy as np
import pytest
import torch

import companion
from companion.runtime import DEVICE_ENV


def test_version_is_the_single_source() -> None:
    from importlib.metadata import version

    assert companion.__version__ == version("companion")


def test_setup_repeats_every_generator() -> None:
    def draw() -> tuple[float, float, torch.Tensor]:
        return random.random(), float(np.random.rand()), torch.randn(4)

    companion.setup(123)
    first = draw()
    companion.setup(123)
    second = draw()
    assert first[:2] == second[:2]
    assert torch.equal(first[2], second[2])
    companion.setup(124)
    assert not torch.equal(draw()[2], first[2])


def test_setup_switches_determinism_and_quiets_logs() -> None:
    companion.setup(0, deterministic=False)
    assert not torch.are_deterministic_algorithms_enabled()
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
    companion.setup(0)
    assert torch.are_deterministic_algorithms_enabled()
    assert not torch.backends.cudnn.allow_tf32 and not torch.backends.cuda.matmul.allow_tf32
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"
    assert os.environ["TQDM_DISABLE"] == "1"


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "0", True])
def test_setup_rejects_bad_seeds(seed: object) -> None:
    with pytest.raises((TypeError, ValueError), match="seed"):
        companion.setup(seed)  # type: ignore[arg-type]


def test_device_default_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert companion.device().type == expected
    monkeypatch.setenv(DEVICE_ENV, "cpu")
    assert companion.device() == torch.device("cpu")
    monkeypatch.setenv(DEVICE_ENV, "  ")
    assert companion.device().type == expected


def test_device_rejects_unknown_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEVICE_ENV, "gpu0")
    with pytest.raises(ValueError, match="COMPANION_DEVICE='gpu0'"):
        companion.device()


def test_device_rejects_missing_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv(DEVICE_ENV, "cuda")
    with pytest.raises(ValueError, match="no CUDA device"):
        companion.device()


def test_quiet_captures_prints_and_restores_environment(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    import sys

    with companion.quiet() as out:
        print("banner 12:00:01")
        print("bar", file=sys.stderr)
        assert os.environ["TQDM_DISABLE"] == "1"
    assert out.stdout == "banner 12:00:01\n"
    assert out.stderr == "bar\n"
    assert "TQDM_DISABLE" not in os.environ
    assert capsys.readouterr().out == ""
