"""Checks that need a real process group; tests/test_distributed.py runs this file under torchrun.

Every rank computes the same experiments on its share of one global batch (in float64, so
that "equal" can mean 1e-12); rank 0 prints one line of JSON with the measured differences,
which the tests assert on (a rank that fails here shows only as a crashed job, so the
comparisons are reported, not asserted).
"""

# (no ``from __future__ import annotations``: DDP checks a comm hook's annotations at run time)

import json
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from companion.distributed import (
    global_cross_entropy,
    global_mean,
    global_sce_loss,
    global_sigmoid_focal_loss,
    is_distributed,
    rank,
    world_size,
)
from companion.losses import sce_loss, sigmoid_focal_loss

DTYPE = torch.float64
LossFn = Callable[[torch.Tensor], torch.Tensor]


def gathered(value: Any) -> list[Any]:
    values: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(values, value)
    return values


def mine(tensor: torch.Tensor, sizes: list[int]) -> torch.Tensor:
    return tensor.split(sizes)[dist.get_rank()]


def flat_grad(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])


def max_diff(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    return max((p - q).abs().max().item() for p, q in zip(a, b, strict=True))


def compare(
    make: Callable[[], nn.Module], x_all: torch.Tensor, x: torch.Tensor, distributed: LossFn, whole: LossFn
) -> dict[str, float]:
    """DDP + ``distributed`` on this rank's ``x`` against one process + ``whole`` on ``x_all``."""
    reference = make()
    ref_loss = whole(reference(x_all))
    ref_loss.backward()
    ddp = DDP(make())
    loss = distributed(ddp(x))
    loss.backward()
    values = gathered(loss.item())
    return {
        "grad": (flat_grad(ddp) - flat_grad(reference)).abs().max().item(),
        "value": abs(values[0] - ref_loss.item()),
        "same value on every rank": float(len(set(values)) == 1),
    }


def gradient_checks() -> dict[str, Any]:
    gen = torch.Generator().manual_seed(0)
    n, c = 12, 4
    x_all = torch.randn(n, 6, generator=gen, dtype=DTYPE)
    t_all = torch.randint(0, c, (n,), generator=gen)
    t_all[[1, 9, 10]] = -100
    weight = torch.rand(c, generator=gen, dtype=DTYPE) + 0.5
    soft_all = torch.softmax(torch.randn(n, c, generator=gen, dtype=DTYPE), 1)
    labels_all = (torch.rand(n, c, generator=gen) < 0.2).to(DTYPE)
    sizes = [9, 3]
    x, t, soft, labels = (mine(v, sizes) for v in (x_all, t_all, soft_all, labels_all))
    # spatial targets (N, d): sequences of length 5 with padding at the end of rank 1's
    seq_all = torch.randint(0, c, (4, 5), generator=gen)
    seq_all[3, 2:] = -100
    seq_x_all = torch.randn(4, 6, 5, generator=gen, dtype=DTYPE)
    seq_x, seq = mine(seq_x_all, [3, 1]), mine(seq_all, [3, 1])

    def make() -> nn.Module:
        torch.manual_seed(1)
        return nn.Linear(6, c).to(DTYPE)

    def make_conv() -> nn.Module:
        torch.manual_seed(1)
        return nn.Conv1d(6, c, 1).to(DTYPE)

    no_pos = torch.zeros_like(labels_all)
    out: dict[str, Any] = {
        "ce weight+ignore": compare(
            make,
            x_all,
            x,
            lambda z: global_cross_entropy(z, t, weight=weight),
            lambda z: F.cross_entropy(z, t_all, weight=weight),
        ),
        "ce smoothing+weight": compare(
            make,
            x_all,
            x,
            lambda z: global_cross_entropy(z, t, weight=weight, label_smoothing=0.1),
            lambda z: F.cross_entropy(z, t_all, weight=weight, label_smoothing=0.1),
        ),
        "ce soft targets+weight": compare(
            make,
            x_all,
            x,
            lambda z: global_cross_entropy(z, soft, weight=weight),
            lambda z: F.cross_entropy(z, soft_all, weight=weight),
        ),
        "ce sequences+padding": compare(
            make_conv, seq_x_all, seq_x, lambda z: global_cross_entropy(z, seq), lambda z: F.cross_entropy(z, seq_all)
        ),
        "focal / positives": compare(
            make,
            x_all,
            x,
            lambda z: global_sigmoid_focal_loss(z, labels, alpha=0.25, gamma=2.0),
            lambda z: sigmoid_focal_loss(z, labels_all, reduction="sum") / labels_all.sum().clamp_min(1),
        ),
        "focal, no positives anywhere": compare(
            make,
            x_all,
            x,
            lambda z: global_sigmoid_focal_loss(z, mine(no_pos, sizes)),
            lambda z: sigmoid_focal_loss(z, no_pos, reduction="sum") / 1.0,
        ),
        "sce ignore": compare(make, x_all, x, lambda z: global_sce_loss(z, t), lambda z: sce_loss(z, t_all)),
        "empty share on rank 1": compare(
            make,
            x_all,
            mine(x_all, [n, 0]),
            lambda z: global_cross_entropy(z, mine(t_all, [n, 0])),
            lambda z: F.cross_entropy(z, t_all),
        ),
    }
    # the usual per-rank mean, to show that the comparison can fail
    out["ce per-rank mean (wrong)"] = compare(
        make,
        x_all,
        x,
        lambda z: F.cross_entropy(z, t, weight=weight),
        lambda z: F.cross_entropy(z, t_all, weight=weight),
    )

    # without DDP: gradients all-reduced by hand (gloo has no AVG, so SUM / W)
    reference, model = make(), make()
    F.cross_entropy(reference(x_all), t_all, weight=weight).backward()
    global_cross_entropy(model(x), t, weight=weight).backward()
    for p in model.parameters():
        assert p.grad is not None
        dist.all_reduce(p.grad)
        p.grad.div_(dist.get_world_size())
    out["manual all_reduce / W"] = {"grad": (flat_grad(model) - flat_grad(reference)).abs().max().item()}

    # global_mean's second derivative: of the loss of a quadratic model
    w = torch.tensor([0.5, -1.0], dtype=DTYPE, requires_grad=True)
    z_all = torch.randn(6, 2, generator=gen, dtype=DTYPE)
    z = mine(z_all, [4, 2])
    g = torch.autograd.grad(global_mean(((z @ w) ** 2).sum(), len(z)), w, create_graph=True)[0]
    h_local = torch.stack([torch.autograd.grad(g[i], w, retain_graph=True)[0] for i in range(2)])
    dist.all_reduce(h_local)
    h_ref = 2 * z_all.T @ z_all / len(z_all) * dist.get_world_size()
    out["hessian (summed over ranks, = W x one process)"] = {"grad": (h_local - h_ref).abs().max().item()}
    # rank 0: sum 3 over 2 positives, rank 1: sum 1 over none; the clamp at 3 applies to the global 2
    first = rank() == 0
    out["min_denominator after the reduction"] = {
        "value": global_mean(
            torch.tensor(3.0 if first else 1.0, dtype=DTYPE), 2.0 if first else 0.0, min_denominator=3.0
        ).item(),
    }
    return out


def accumulation_and_zero() -> dict[str, Any]:
    # imported here, not at the top: importing torch.distributed.optim raises torch.jit deprecation warnings
    from torch.distributed.optim import ZeroRedundancyOptimizer

    gen = torch.Generator().manual_seed(2)
    x_all = torch.randn(16, 6, generator=gen, dtype=DTYPE)
    t_all = torch.randint(0, 3, (16,), generator=gen)
    t_all[[3, 4, 13]] = -100  # uneven numbers of counted targets per micro-batch and per rank

    def make() -> nn.Module:
        torch.manual_seed(3)
        return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).to(DTYPE)

    reference = make()
    opt = torch.optim.SGD(reference.parameters(), lr=0.5)
    F.cross_entropy(reference(x_all), t_all).backward()
    opt.step()

    # accumulation over 2 micro-batches with no_sync: the global count of the whole step is
    # the denominator of each micro-batch's sum (all-reduced once, before the step)
    ddp = DDP(make())
    opt = torch.optim.SGD(ddp.parameters(), lr=0.5)
    x, t = mine(x_all, [8, 8]), mine(t_all, [8, 8])
    count = torch.tensor(float((t != -100).sum()), dtype=DTYPE)
    dist.all_reduce(count)
    pieces = list(zip(x.split(4), t.split(4), strict=True))
    for i, (xb, tb) in enumerate(pieces):
        loss = F.cross_entropy(ddp(xb), tb, reduction="sum") * dist.get_world_size() / count
        if i < len(pieces) - 1:
            with ddp.no_sync():
                loss.backward()
        else:
            loss.backward()
    opt.step()
    accumulated = max_diff(list(ddp.module.parameters()), list(reference.parameters()))

    results = {}
    for sharded in (False, True):
        ddp = DDP(make())
        opt2: torch.optim.Optimizer
        if sharded:
            opt2 = ZeroRedundancyOptimizer(ddp.parameters(), optimizer_class=torch.optim.AdamW, lr=1e-2)
        else:
            opt2 = torch.optim.AdamW(ddp.parameters(), lr=1e-2)
        for _ in range(3):
            opt2.zero_grad()
            global_cross_entropy(ddp(x), t).backward()
            opt2.step()
        local = opt2.optim if isinstance(opt2, ZeroRedundancyOptimizer) else opt2
        state = sum(v.numel() for s in local.state.values() for v in s.values() if torch.is_tensor(v))
        results[sharded] = (gathered(state), [p.detach().clone() for p in ddp.module.parameters()])
    return {
        "no_sync accumulation vs one big batch": accumulated,
        "zero vs adamw": max_diff(results[False][1], results[True][1]),
        "adamw state per rank": results[False][0],
        "zero state per rank": results[True][0],
        "parameters": sum(p.numel() for p in make().parameters()),
    }


def main() -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", timeout=timedelta(seconds=60))
    try:
        report = {
            "world_size": world_size(),
            "ranks": gathered(rank()),
            "is_distributed": is_distributed(),
            "gradients": gradient_checks(),
            "training": accumulation_and_zero(),
        }
        if dist.get_rank() == 0:
            print(json.dumps(report))
    finally:
        dist.destroy_process_group()


def fail_on_rank_1() -> None:
    """Rank 1 raises before a collective that rank 0 is already waiting in."""
    dist.init_process_group("gloo", timeout=timedelta(seconds=60))
    if dist.get_rank() == 1:
        raise ValueError("rank 1 fails on purpose")
    dist.barrier()


if __name__ == "__main__":
    {"main": main, "fail": fail_on_rank_1}[sys.argv[1] if len(sys.argv) > 1 else "main"]()
