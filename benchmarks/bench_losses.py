"""Benchmark: companion's losses against the formulas people write and the libraries they use.

For every loss family, input size and dtype, the script

1. checks that all versions compute the same loss and gradient on the benchmark's own data
   (a benchmark of versions that disagree measures nothing);
2. measures what each version keeps for backward (bytes per input element, beyond the inputs,
   recorded with ``saved_tensors_hooks``) and how many full-size tensors one forward and
   backward pass creates in new memory (``companion.measure.new_tensors``: views and in-place
   results are not new tensors);
3. times one forward and backward pass of every version, eager and under ``torch.compile``,
   **interleaved**: each round runs every version once (a block of calls long enough to time),
   and the reported time is the median over rounds, so a slow minute of a shared machine
   lands on all versions alike. Ratios are taken against the peer named first.

Peers: torchvision's ``sigmoid_focal_loss`` written from its documented formula (torchvision
does not import beside the CPU build of torch used here), kornia's ``binary_focal_loss_with_logits``
and ``focal_loss`` (when kornia is importable: ``make bench`` installs it into
``_build/bench-deps``, outside the book's environment), the common ``F.cross_entropy``-based
multi-class focal loss, the paper's clamped one-hot SCE, the naive ``log(cosh(r))`` and the softplus
form of log-cosh; and torch's fused ``binary_cross_entropy_with_logits`` and ``cross_entropy`` as
floors (they compute less: no focusing term).

``make bench`` runs it and writes ``book/bench/results.json`` and ``book/bench/speed.png``, which the
appendix page "How fast are these losses?" shows. ``--quick`` runs small sizes, no compilation and
few rounds (what the tests use). Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch._dynamo
import torch.nn.functional as F
from torch.multiprocessing.reductions import StorageWeakRef
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "_build" / "bench-deps"))

import companion  # noqa: E402 - after the path is set
from companion.losses import log_cosh_loss, sce_loss, sigmoid_focal_loss, softmax_focal_loss  # noqa: E402
from companion.measure import new_tensors  # noqa: E402

try:  # a real peer, when installed (make bench puts it in _build/bench-deps)
    import kornia.losses as kornia_losses  # noqa: E402
except ImportError:  # pragma: no cover - depends on the machine
    kornia_losses = None

LossFn = Callable[[torch.Tensor], torch.Tensor]
OUT = ROOT / "book" / "bench"


# ---------------------------------------------------------------------------
# The peers, each as its authors document it


def torchvision_focal(x: torch.Tensor, y: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0) -> torch.Tensor:
    """``torchvision.ops.sigmoid_focal_loss`` as documented: via p = sigmoid(x) and 1 - p_t, then the mean."""
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * ((1 - p_t) ** gamma)
    loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss.mean()


def ce_based_focal(x: torch.Tensor, t: torch.Tensor, gamma: float = 2.0) -> torch.Tensor:
    """The usual multi-class focal loss: p_t = exp(-CE), then (1 - p_t)^gamma CE."""
    ce = F.cross_entropy(x, t, reduction="none")
    p_t = torch.exp(-ce)
    return ((1 - p_t) ** gamma * ce).mean()


def clamped_sce(x: torch.Tensor, t: torch.Tensor, alpha: float = 0.1, beta: float = 1.0) -> torch.Tensor:
    """Symmetric cross entropy as the paper's code computes it: clamped softmax and one-hot labels."""
    ce = F.cross_entropy(x, t)
    p = F.softmax(x, dim=1).clamp(min=1e-7, max=1.0)
    label = F.one_hot(t, x.shape[1]).to(x.dtype).clamp(min=1e-4, max=1.0)
    rce = -(p * torch.log(label)).sum(1)
    return alpha * ce + beta * rce.mean()


def naive_log_cosh(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """log(cosh(r)) as written: inf beyond |r| = 89 in float32, 0 below |r| = 3e-4."""
    return torch.log(torch.cosh(x - y)).mean()


def softplus_log_cosh(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """|r| + softplus(-2|r|) - log 2: finite everywhere, but it cancels to noise near r = 0."""
    r = (x - y).abs()
    return (r + F.softplus(-2 * r) - math.log(2.0)).mean()


# ---------------------------------------------------------------------------
# Measurements


class _Kept(TorchDispatchMode):
    """Remembers a weak reference to the storage of every tensor an operation creates."""

    def __init__(self) -> None:
        super().__init__()
        self.created: list[tuple[StorageWeakRef, int, int]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        out = func(*args, **(kwargs or {}))
        for leaf in tree_leaves(out):
            if isinstance(leaf, torch.Tensor):
                storage = leaf.untyped_storage()
                self.created.append((StorageWeakRef(storage), storage.data_ptr(), storage.nbytes()))
        return out


def kept_for_backward(fn: LossFn, x: torch.Tensor, others: tuple[torch.Tensor, ...] = ()) -> int:
    """Bytes the forward pass of ``fn`` leaves for backward, beside the loss and the inputs.

    The union of what autograd saves (``saved_tensors_hooks``) and of the tensors the forward
    pass created that are still alive when it returns (a custom function may hold its gradient
    on its context): storages counted once, the input's own storage never.
    """
    leaf = x.detach().requires_grad_()
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        saved[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), _Kept() as mode:
        loss = fn(leaf)
    gc.collect()
    alive = {ptr: nbytes for ref, ptr, nbytes in mode.created if not ref.expired()}
    kept = saved | alive
    for t in (loss, leaf, x, *others):
        kept.pop(t.untyped_storage().data_ptr(), None)
    loss.backward()
    return sum(kept.values())


def saved_bytes_per_element(fn: LossFn, x: torch.Tensor, others: tuple[torch.Tensor, ...] = ()) -> float:
    """Bytes kept for backward beyond the inputs, per element of ``x``."""
    return kept_for_backward(fn, x, others) / x.numel()


def forward_backward(fn: LossFn, x: torch.Tensor) -> Callable[[], torch.Tensor]:
    def step() -> torch.Tensor:
        leaf = x.detach().requires_grad_()
        loss = fn(leaf)
        loss.backward()
        return leaf.grad  # type: ignore[return-value]

    return step


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def interleaved_medians(
    steps: dict[str, Callable[[], object]], device: torch.device, rounds: int, block_s: float
) -> dict[str, float]:
    """Median seconds per call of each step, measured in rounds that visit every step in turn."""
    calls: dict[str, int] = {}
    for label, step in steps.items():  # warm up, and size a block of calls to about block_s
        step()
        _sync(device)
        start = time.perf_counter()
        step()
        _sync(device)
        once = max(time.perf_counter() - start, 1e-7)
        calls[label] = max(1, int(block_s / once))
    samples: dict[str, list[float]] = {label: [] for label in steps}
    for _ in range(rounds):
        for label, step in steps.items():
            _sync(device)
            start = time.perf_counter()
            for _ in range(calls[label]):
                step()
            _sync(device)
            samples[label].append((time.perf_counter() - start) / calls[label])
    return {label: statistics.median(s) for label, s in samples.items()}


# ---------------------------------------------------------------------------
# The comparisons


@dataclass
class Result:
    family: str
    shape: list[int]
    dtype: str
    version: str
    role: str  # "companion", "peer" or "floor"
    eager_ms: float
    compiled_ms: float | None
    saved_bytes_per_element: float
    full_size_temporaries: int
    eager_vs_first_peer: float = field(default=float("nan"))  # peer time / this time (> 1: faster)
    compiled_vs_first_peer: float = field(default=float("nan"))


@dataclass
class Case:
    family: str
    x: torch.Tensor
    others: tuple[torch.Tensor, ...]
    versions: dict[str, tuple[str, LossFn]]  # label -> (role, loss of x)
    compare_grad: set[str] = field(default_factory=set)


def _check_agreement(case: Case) -> None:
    """Every version computes the same loss (and, where the formula is stable there, gradient)."""
    tol = 2e-2 if case.x.dtype in (torch.float16, torch.bfloat16) else 2e-4
    values, grads = {}, {}
    for label, (role, fn) in case.versions.items():
        if role == "floor":
            continue
        leaf = case.x.detach().requires_grad_()
        loss = fn(leaf)
        loss.backward()
        values[label], grads[label] = loss.detach().double(), leaf.grad.double()  # type: ignore[union-attr]
    first = next(iter(values))
    for label in values:
        if not torch.allclose(values[label], values[first], rtol=tol, atol=1e-6):
            raise AssertionError(
                f"{case.family}: {label} computes {float(values[label])}, {first} {float(values[first])}"
            )
        scale = float(grads[first].abs().max())
        if label in case.compare_grad and not torch.allclose(grads[label], grads[first], rtol=tol, atol=tol * scale):
            raise AssertionError(f"{case.family}: {label} and {first} differ in their gradients")


def _cases(
    sizes: list[int], class_shapes: list[tuple[int, int]], dtypes: list[torch.dtype], device: torch.device
) -> list[Case]:
    cases: list[Case] = []
    for dtype in dtypes:
        for n in sizes:
            g = torch.Generator().manual_seed(n)
            x = (3 * torch.randn(n, generator=g)).to(device, dtype)
            y = (torch.rand(n, generator=g) < 0.1).to(device, dtype)
            versions: dict[str, tuple[str, LossFn]] = {
                "torchvision formula": ("peer", lambda a, y=y: torchvision_focal(a, y)),
            }
            if kornia_losses is not None:
                yk = y.view(-1, 16) if n % 16 == 0 else y.view(-1, 1)
                versions["kornia"] = (
                    "peer",
                    lambda a, yk=yk: kornia_losses.binary_focal_loss_with_logits(
                        a.view(yk.shape), yk, alpha=0.25, gamma=2.0, reduction="mean"
                    ),
                )
            versions["companion"] = ("companion", lambda a, y=y: sigmoid_focal_loss(a, y, alpha=0.25, gamma=2.0))
            versions["F.binary_cross_entropy_with_logits"] = (
                "floor",
                lambda a, y=y: F.binary_cross_entropy_with_logits(a, y),
            )
            cases.append(Case("sigmoid focal", x, (y,), versions, {"torchvision formula", "kornia"}))

            r = torch.randn(n, generator=g).to(device, dtype)
            target = torch.randn(n, generator=g).to(device, dtype)
            cases.append(
                Case(
                    "log-cosh",
                    r,
                    (target,),
                    {
                        "log(cosh(r))": ("peer", lambda a, t=target: naive_log_cosh(a, t)),
                        "softplus form": ("peer", lambda a, t=target: softplus_log_cosh(a, t)),
                        "companion": ("companion", lambda a, t=target: log_cosh_loss(a, t)),
                    },
                    {"log(cosh(r))"},
                )
            )
        for n, c in class_shapes:
            g = torch.Generator().manual_seed(n * c)
            x = (3 * torch.randn(n, c, generator=g)).to(device, dtype)
            t = torch.randint(0, c, (n,), generator=g).to(device)
            versions = {"F.cross_entropy-based formula": ("peer", lambda a, t=t: ce_based_focal(a, t))}
            if kornia_losses is not None:
                # kornia's "mean" averages over N x C entries; its sum over N is the usual mean
                versions["kornia"] = (
                    "peer",
                    lambda a, t=t: kornia_losses.focal_loss(a, t, alpha=None, gamma=2.0, reduction="sum") / a.shape[0],
                )
            versions["companion"] = ("companion", lambda a, t=t: softmax_focal_loss(a, t, gamma=2.0))
            versions["F.cross_entropy"] = ("floor", lambda a, t=t: F.cross_entropy(a, t))
            cases.append(Case("softmax focal", x, (t,), versions, {"F.cross_entropy-based formula", "kornia"}))
            cases.append(
                Case(
                    "symmetric CE",
                    x,
                    (t,),
                    {
                        "paper's clamped one-hot": ("peer", lambda a, t=t: clamped_sce(a, t)),
                        "companion": ("companion", lambda a, t=t: sce_loss(a, t, alpha=0.1, beta=1.0)),
                        "F.cross_entropy": ("floor", lambda a, t=t: F.cross_entropy(a, t)),
                    },
                )
            )
    return cases


def _timing_key(case: Case, label: str, role: str) -> str:
    """One timing per distinct call: a floor (the same torch call on the same input) is shared by cases."""
    return f"{label} on {id(case.x)}" if role == "floor" else f"{case.family}: {label}"


def run_cases(group: list[Case], compile_: bool, rounds: int, block_s: float, device: torch.device) -> list[Result]:
    """Check, time and measure every version of every case in ``group``, all in the same rounds.

    The class losses share their input and their floor (``F.cross_entropy``): timed in one rotation,
    the floor is measured once for both, so "time relative to ``F.cross_entropy``" compares calls
    that ran side by side.
    """
    torch._dynamo.reset()  # each group compiles afresh: no recompile limit shared across sizes
    eager: dict[str, Callable[[], object]] = {}
    compiled: dict[str, Callable[[], object]] = {}
    for case in group:
        _check_agreement(case)
        for label, (role, fn) in case.versions.items():
            key = _timing_key(case, label, role)
            if key in eager:
                continue
            eager[key] = forward_backward(fn, case.x)
            if compile_:
                # companion must compile to one graph; peers get the default (graph breaks allowed)
                compiled[key] = forward_backward(torch.compile(fn, fullgraph=(role == "companion")), case.x)
    steps = {f"eager|{k}": v for k, v in eager.items()} | {f"compiled|{k}": v for k, v in compiled.items()}
    times = interleaved_medians(steps, device, rounds, block_s)
    results = []
    for case in group:
        rows = []
        for label, (role, fn) in case.versions.items():
            key = _timing_key(case, label, role)
            rows.append(
                Result(
                    family=case.family,
                    shape=list(case.x.shape),
                    dtype=str(case.x.dtype).replace("torch.", ""),
                    version=label,
                    role=role,
                    eager_ms=1e3 * times[f"eager|{key}"],
                    compiled_ms=1e3 * times[f"compiled|{key}"] if compile_ else None,
                    saved_bytes_per_element=saved_bytes_per_element(fn, case.x, case.others),
                    full_size_temporaries=new_tensors(eager[key], case.x.numel()),
                )
            )
        first = next(r for r in rows if r.role == "peer")
        for r in rows:
            r.eager_vs_first_peer = first.eager_ms / r.eager_ms
            if r.compiled_ms is not None and first.compiled_ms is not None:
                r.compiled_vs_first_peer = first.compiled_ms / r.compiled_ms
        results += rows
    return results


def groups(cases: list[Case]) -> list[list[Case]]:
    """Consecutive cases on the same input tensor (the two class losses), to be timed in one rotation."""
    out: list[list[Case]] = []
    for case in cases:
        if out and out[-1][0].x is case.x:
            out[-1].append(case)
        else:
            out.append([case])
    return out


def fix_allocator() -> dict[str, int] | None:
    """Fixed thresholds for glibc's ``malloc``, so that every version meets the same allocator.

    By default glibc raises its mmap threshold (up to 32 MiB) each time a large mapped block is
    freed, so whether a 16 or 26 MB temporary is fresh memory that page-faults, or heap memory
    already touched, depends on what the process freed before: the same ``F.cross_entropy`` call
    took 40.7 ms in one table and 26.6 ms in the next. Fixed, every block up to 32 MiB comes from the
    heap (which is not trimmed below 1 GiB), as in a long training loop, and larger ones (10^7
    float32 elements: 40 MB) are always fresh mappings. ``None`` where the C library is not glibc.
    """
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return None
    settings = {"mmap_threshold": 32 * 2**20, "trim_threshold": 2**30}
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    if (
        mallopt(m_mmap_threshold, settings["mmap_threshold"]) != 1
        or mallopt(m_trim_threshold, settings["trim_threshold"]) != 1
    ):  # pragma: no cover - refused
        return None
    return settings


def machine() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:  # pragma: no cover - not Linux
        pass
    return {
        "date": _dt.date.today().isoformat(),
        "torch": torch.__version__,
        "kornia": getattr(sys.modules.get("kornia"), "__version__", None),
        "device": str(companion.device()),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
    }


def format_results(results: list[Result]) -> str:
    lines = []
    current = None
    width = max(len(r.version) for r in results)
    for r in results:
        key = (r.family, tuple(r.shape), r.dtype)
        if key != current:
            shape = " x ".join(str(s) for s in r.shape)
            lines.append(f"\n-- {r.family}, {shape}, {r.dtype}   (x: speed of the first peer / speed of this version)")
            lines.append(
                f"{'version':{width}}  {'eager ms':>9} {'x':>6}  {'compiled ms':>11} {'x':>6}  "
                f"{'saved B/elem':>12}  {'full-size temps':>15}"
            )
            current = key
        comp = "-" if r.compiled_ms is None else f"{r.compiled_ms:11.3f} {r.compiled_vs_first_peer:6.2f}"
        if r.compiled_ms is None:
            comp = f"{'-':>11} {'':>6}"
        lines.append(
            f"{r.version:{width}}  {r.eager_ms:9.3f} {r.eager_vs_first_peer:6.2f}  {comp}  "
            f"{r.saved_bytes_per_element:12.1f}  {r.full_size_temporaries:15d}"
        )
    return "\n".join(lines)


def plot(results: list[Result], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, family in zip(axes, ("sigmoid focal", "log-cosh"), strict=True):
        for version in dict.fromkeys(r.version for r in results if r.family == family):
            for mode, style in (("eager", "-"), ("compiled", "--")):
                rows = [r for r in results if r.family == family and r.version == version and r.dtype == "float32"]
                pts = [
                    (r.shape[0], (r.eager_ms if mode == "eager" else r.compiled_ms) / r.shape[0] * 1e6)
                    for r in rows
                    if (r.eager_ms if mode == "eager" else r.compiled_ms) is not None
                ]
                if pts:
                    ax.plot(*zip(*pts, strict=True), style, marker="o", label=f"{version} ({mode})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("elements N")
        ax.set_title(f"{family}, float32, forward + backward")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("ns per element")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def run(quick: bool = False, threads: int | None = None, compile_: bool | None = None) -> tuple[dict, list[Result]]:
    """Run every comparison; ``quick`` uses small inputs, few rounds and (by default) no compilation."""
    companion.setup(0)
    torch.set_num_threads(threads or os.cpu_count() or 1)
    device = companion.device()
    if quick:
        sizes, shapes, rounds, block = [4096], [(64, 100)], 3, 0.002
    else:
        sizes, shapes, rounds, block = [10**4, 10**5, 10**6, 10**7], [(4096, 1000), (65536, 100)], 7, 0.05
    compile_ = (not quick) if compile_ is None else compile_
    cases = _cases(sizes, shapes, [torch.float32], device)
    if quick:
        cases += _cases(sizes, shapes, [torch.bfloat16], device)
    else:  # bfloat16 at the sizes where memory traffic matters
        cases += _cases([10**6, 10**7], shapes[:1], [torch.bfloat16], device)
    results: list[Result] = []
    for group in groups(cases):
        names = " + ".join(case.family for case in group)
        print(f"  {names}, {tuple(group[0].x.shape)}, {group[0].x.dtype}", file=sys.stderr, flush=True)
        results += run_cases(group, compile_, rounds, block, device)
    return machine(), results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small inputs, no compilation, few rounds")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: every core)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for results.json and speed.png")
    args = parser.parse_args(argv)
    allocator = fix_allocator()
    info, results = run(quick=args.quick, threads=args.threads)
    info["malloc"] = "glibc, fixed thresholds " + json.dumps(allocator) if allocator else "default"
    print(", ".join(f"{k} {v}" for k, v in info.items()))
    print(format_results(results))
    if not args.quick:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(
            json.dumps({"machine": info, "results": [asdict(r) for r in results]}, indent=1) + "\n"
        )
        plot(results, args.out / "speed.png")
        print(f"\nwrote {args.out / 'results.json'} and {args.out / 'speed.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
