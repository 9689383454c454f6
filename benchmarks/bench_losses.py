"""Benchmark: companion's losses against the formula written the direct way, and torch's nearest loss.

For every loss the script first checks that the compared versions compute the
same value, then measures one forward and backward pass on the device of
``companion.device()``:

* **time**: the median of ``torch.utils.benchmark.Timer.blocked_autorange``;
* **largest tensor**: the biggest tensor any operation of the pass creates
  (recorded with a ``TorchDispatchMode``), the quantity that sets the memory
  of a version that materializes an ``N x C`` one-hot or probability matrix.

Run it with ``make bench`` (or ``.venv/bin/python benchmarks/bench_losses.py``;
``--small`` for a quick run). The numbers depend on the machine; the script
prints them, it asserts nothing about them.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.benchmark import Timer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import companion  # noqa: E402 - after the path is set
from companion.losses import log_cosh_loss, sce_loss, sigmoid_focal_loss, softmax_focal_loss  # noqa: E402

Step = Callable[[], torch.Tensor]


class _LargestTensor(TorchDispatchMode):
    """Records the size in bytes of the largest tensor that any operation returns."""

    def __init__(self) -> None:
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        out = func(*args, **(kwargs or {}))
        for leaf in tree_leaves(out):
            if isinstance(leaf, torch.Tensor):
                self.largest = max(self.largest, leaf.numel() * leaf.element_size())
        return out


def largest_tensor_bytes(step: Step) -> int:
    """The largest tensor created while ``step()`` runs (inputs that already exist do not count)."""
    with _LargestTensor() as mode:
        step()
    return mode.largest


def seconds_per_call(step: Step, min_run_time: float) -> float:
    """Median seconds of one call of ``step``, synchronizing a GPU around each block of calls."""
    timer = Timer(stmt="step()", globals={"step": step})
    return timer.blocked_autorange(min_run_time=min_run_time).median


def forward_backward(loss_fn: Callable[[torch.Tensor], torch.Tensor], logits: torch.Tensor) -> Step:
    """A step that computes the loss of fresh leaf logits and its gradient."""

    def step() -> torch.Tensor:
        x = logits.detach().requires_grad_()
        loss = loss_fn(x)
        loss.backward()
        return loss.detach()

    return step


# ---------------------------------------------------------------------------
# The direct versions: each formula as it is usually first written


def focal_from_probabilities(x: torch.Tensor, y: torch.Tensor, alpha: float, gamma: float) -> torch.Tensor:
    """Sigmoid focal loss through p = sigmoid(x) and 1 - p_t (NaN gradients when 1 - p_t rounds to 0)."""
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    alpha_t = alpha * y + (1 - alpha) * (1 - y)
    return (alpha_t * (1 - p_t) ** gamma * ce).mean()


def softmax_focal_one_hot(x: torch.Tensor, t: torch.Tensor, gamma: float) -> torch.Tensor:
    """Multi-class focal loss through the full probability matrix and a one-hot mask."""
    log_p = F.log_softmax(x, dim=1)
    one_hot = F.one_hot(t, x.shape[1]).to(x.dtype)
    log_pt = (log_p * one_hot).sum(1)
    return (-((1 - log_pt.exp()) ** gamma) * log_pt).mean()


def sce_one_hot(x: torch.Tensor, t: torch.Tensor, alpha: float, beta: float) -> torch.Tensor:
    """Symmetric cross entropy with a clamped one-hot label matrix, as the paper's code builds it."""
    p = F.softmax(x, dim=1)
    label = F.one_hot(t, x.shape[1]).to(x.dtype).clamp(1e-4, 1.0)
    rce = -(p * label.log()).sum(1)
    return alpha * F.cross_entropy(x, t) + beta * rce.mean()


def log_cosh_direct(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """log(cosh(r)) as written: cosh overflows in float32 for |r| above about 89."""
    return torch.log(torch.cosh(x - y)).mean()


@dataclass
class Row:
    loss: str
    version: str
    ms: float
    largest_mb: float


def _compare(name: str, versions: dict[str, Step], min_run_time: float, rtol: float = 1e-4) -> list[Row]:
    values = {label: step() for label, step in versions.items()}
    reference = next(iter(values.values()))
    for label, value in values.items():
        if not torch.allclose(value, reference, rtol=rtol, atol=1e-6):
            raise AssertionError(f"{name}: {label} computes {value.item()}, not {reference.item()}")
    return [
        Row(name, label, 1e3 * seconds_per_call(step, min_run_time), largest_tensor_bytes(step) / 2**20)
        for label, step in versions.items()
    ]


def run(small: bool = False, min_run_time: float = 0.5) -> list[Row]:
    """Measure every comparison; sizes are smaller with ``small=True`` (for a quick check)."""
    companion.setup(0)
    dev = companion.device()
    n_binary = 2**14 if small else 2**20
    n, c = (256, 100) if small else (4096, 1000)
    gen = torch.Generator().manual_seed(0)

    x_bin = (3 * torch.randn(n_binary, generator=gen)).to(dev)
    y_bin = (torch.rand(n_binary, generator=gen) < 0.1).float().to(dev)
    x_cls = (3 * torch.randn(n, c, generator=gen)).to(dev)
    t_cls = torch.randint(0, c, (n,), generator=gen).to(dev)
    x_reg = torch.randn(n_binary, generator=gen).to(dev)
    y_reg = torch.randn(n_binary, generator=gen).to(dev)

    rows: list[Row] = []
    rows += _compare("sigmoid focal, N = %d" % n_binary, {
        "companion.losses.sigmoid_focal_loss": forward_backward(
            lambda x: sigmoid_focal_loss(x, y_bin, alpha=0.25, gamma=2.0), x_bin),
        "via sigmoid and 1 - p_t": forward_backward(lambda x: focal_from_probabilities(x, y_bin, 0.25, 2.0), x_bin),
    }, min_run_time)
    rows += _compare("softmax focal, N = %d, C = %d" % (n, c), {
        "companion.losses.softmax_focal_loss": forward_backward(
            lambda x: softmax_focal_loss(x, t_cls, gamma=2.0), x_cls),
        "via one-hot and p_t": forward_backward(lambda x: softmax_focal_one_hot(x, t_cls, 2.0), x_cls),
    }, min_run_time)
    rows += _compare("symmetric CE, N = %d, C = %d" % (n, c), {
        "companion.losses.sce_loss (A = ln 1e-4)": forward_backward(
            lambda x: sce_loss(x, t_cls, alpha=0.1, beta=1.0), x_cls),
        "via clamped one-hot labels": forward_backward(lambda x: sce_one_hot(x, t_cls, 0.1, 1.0), x_cls),
    }, min_run_time)
    rows += _compare("log-cosh, N = %d" % n_binary, {
        "companion.losses.log_cosh_loss": forward_backward(lambda x: log_cosh_loss(x, y_reg), x_reg),
        "log(cosh(r))": forward_backward(lambda x: log_cosh_direct(x, y_reg), x_reg),
    }, min_run_time)
    # The cost floor: torch's fused losses, which compute less (no focusing, no reverse term).
    floors = {
        "torch F.binary_cross_entropy_with_logits, N = %d" % n_binary: forward_backward(
            lambda x: F.binary_cross_entropy_with_logits(x, y_bin), x_bin),
        "torch F.cross_entropy, N = %d, C = %d" % (n, c): forward_backward(lambda x: F.cross_entropy(x, t_cls), x_cls),
    }
    rows += [
        Row("floor: torch's fused cross entropies", label, 1e3 * seconds_per_call(step, min_run_time),
            largest_tensor_bytes(step) / 2**20)
        for label, step in floors.items()
    ]
    return rows


def format_rows(rows: list[Row]) -> str:
    width = max(len(r.version) for r in rows)
    lines = [f"{'version':{width}}  {'ms / fwd+bwd':>12}  {'largest tensor MB':>17}"]
    current = None
    for r in rows:
        if r.loss != current:
            lines.append(f"-- {r.loss}")
            current = r.loss
        lines.append(f"{r.version:{width}}  {r.ms:12.3f}  {r.largest_mb:17.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="small inputs and short timing runs")
    args = parser.parse_args(argv)
    dev = companion.device()
    print(f"torch {torch.__version__}, device {dev.type}, {torch.get_num_threads()} threads")
    rows = run(small=args.small, min_run_time=0.05 if args.small else 0.5)
    print(format_rows(rows))
    return 0 if all(math.isfinite(r.ms) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
