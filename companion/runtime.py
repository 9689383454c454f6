"""Run-time settings shared by every notebook: seeds, determinism, device, quiet logs."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import random
import sys
import warnings
from collections.abc import Iterator

import numpy as np
import torch

from ._checks import check_bool, check_int

__all__ = ["DEVICE_ENV", "NONDETERMINISTIC_ON_CUDA", "Captured", "device", "quiet", "setup"]

#: Environment variable that overrides the device chosen by :func:`device`.
DEVICE_ENV = "COMPANION_DEVICE"

# Log noise that is never part of a lesson. The TensorFlow variables only take
# effect when set before ``import tensorflow``, which is why notebooks call
# :func:`setup` first.
_QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",  # TensorFlow C++ INFO/WARNING/ERROR lines
    # TensorFlow announces its oneDNN kernels on the process's stderr before its
    # log level applies, and a notebook kernel stores that text. The plain
    # kernels are also the deterministic ones.
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "TQDM_DISABLE": "1",  # tqdm reads TQDM_* once, when it is first imported
    "CUBLAS_WORKSPACE_CONFIG": ":4096:8",  # required by deterministic cuBLAS
}

#: The operations the book runs that torch documents as having no deterministic CUDA kernel
#: (``torch.use_deterministic_algorithms`` raises for them unless ``warn_only=True``), each with
#: where the book meets it and how it handles it. On a CPU every one of them is deterministic.
#: The README lists the same table; ``tests/test_gpu_readiness.py`` checks both against the
#: notebooks' code and torch's own list.
NONDETERMINISTIC_ON_CUDA: dict[str, tuple[str, str]] = {
    "torch.nn.CTCLoss": (
        "the backward pass of ctc_loss (loss catalogue I and II, companion.reference.ctc_loss)",
        "setup() keeps warn_only=True: the gradient is summed with atomic adds, so its last float32 "
        "bits may change from run to run, far below the 4 printed decimals; the value itself is deterministic",
    ),
    "torch.nn.NLLLoss": (
        "nll_loss and cross_entropy over inputs with extra dimensions (N, C, d1, ...) and reduction "
        "'mean' or 'sum' (the entropy chapter, loss catalogue I and the references' tests of every shape)",
        "setup() keeps warn_only=True: the reduction uses atomic adds, so the sum's last float32 bits "
        "may vary, far below the printed precision; (N, C) inputs, the book's common case, are deterministic",
    ),
}

# torch warns (once per op) when an op has no deterministic implementation and
# ``warn_only=True``; the warning says nothing about the lesson's numbers.
_NONDETERMINISTIC_WARNING = r".*does not have a deterministic implementation.*"


def setup(seed: int = 0, *, deterministic: bool = True) -> None:
    """Seed every random number generator and quiet framework logs.

    Seeds Python's :mod:`random`, NumPy's global generator, PyTorch (CPU and
    every CUDA device) and, when it has already been imported, TensorFlow.
    With ``deterministic=True`` PyTorch (and TensorFlow, if imported) use
    deterministic algorithms where they have them, and PyTorch computes in full
    float32 precision on a GPU (no TensorFloat-32 in matrix products and
    convolutions).

    Call it at the top of a notebook, before importing TensorFlow or
    torchkeras, so that the log settings take effect.

    Parameters
    ----------
    seed:
        A non-negative integer below ``2**32``.
    deterministic:
        Ask the frameworks for deterministic kernels.

    Examples
    --------
    >>> import torch
    >>> setup(0)
    >>> a = torch.rand(2)
    >>> setup(0)
    >>> bool(torch.equal(a, torch.rand(2)))
    True
    """
    seed = check_int(seed, "seed", low=0, high=2**32 - 1)
    deterministic = check_bool(deterministic, "deterministic")

    for name, value in _QUIET_ENV.items():
        os.environ.setdefault(name, value)
    for noisy in ("tensorflow", "absl", "h5py", "matplotlib.font_manager"):
        logging.getLogger(noisy).setLevel(logging.ERROR)

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device

    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    if torch.backends.cudnn.is_available():
        torch.backends.cudnn.benchmark = not deterministic
    if deterministic:
        # Full float32 precision on GPUs too: TensorFloat-32 (on by default for
        # cuDNN convolutions) keeps only 10 mantissa bits, which shows in the
        # fourth decimal of a printed result.
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    warnings.filterwarnings("ignore", message=_NONDETERMINISTIC_WARNING, category=UserWarning)

    tf = sys.modules.get("tensorflow")
    if tf is not None:
        tf.random.set_seed(seed)
        if deterministic:
            tf.config.experimental.enable_op_determinism()


def device() -> torch.device:
    """The device the book computes on.

    ``cuda`` when a CUDA device is available, otherwise ``cpu``. The
    environment variable ``COMPANION_DEVICE`` (for example ``cpu`` or
    ``cuda:1``) overrides the choice.

    Raises
    ------
    ValueError
        If ``COMPANION_DEVICE`` does not name a device torch knows, or names a
        CUDA device this machine does not have.

    Examples
    --------
    >>> import os
    >>> os.environ["COMPANION_DEVICE"] = "cpu"
    >>> device()
    device(type='cpu')
    >>> del os.environ["COMPANION_DEVICE"]
    """
    wanted = os.environ.get(DEVICE_ENV, "").strip()
    if not wanted:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(wanted)
    except RuntimeError as exc:
        raise ValueError(f"{DEVICE_ENV}={wanted!r} is not a device name torch knows ({exc})") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{DEVICE_ENV}={wanted!r} asks for CUDA, but torch sees no CUDA device")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"{DEVICE_ENV}={wanted!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return dev


class Captured:
    """What :func:`companion.quiet` captured: the text written to ``stdout`` and ``stderr``.

    Both attributes are filled in when the ``with`` block ends.
    """

    def __init__(self) -> None:
        self.stdout = ""
        self.stderr = ""
        self._buffers = (io.StringIO(), io.StringIO())

    def __repr__(self) -> str:
        return f"Captured(stdout={self.stdout!r}, stderr={self.stderr!r})"


@contextlib.contextmanager
def quiet() -> Iterator[Captured]:
    """Capture everything a noisy call prints (banners, progress bars).

    Use it around library calls that print per-epoch banners with timestamps
    or progress bars, such as torchkeras' ``KerasModel.fit``: the stored
    notebook output then holds only what the lesson shows. What was printed
    stays available on the yielded object.

    Examples
    --------
    >>> with quiet() as out:
    ...     print("epoch 1 of 3, 12:01:33")
    >>> out.stdout
    'epoch 1 of 3, 12:01:33\\n'
    """
    captured = Captured()
    out_buf, err_buf = captured._buffers
    previous = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"
    try:
        with contextlib.redirect_stdout(out_buf), contextlib.redirect_stderr(err_buf):
            yield captured
    finally:
        if previous is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = previous
        captured.stdout = out_buf.getvalue()
        captured.stderr = err_buf.getvalue()
