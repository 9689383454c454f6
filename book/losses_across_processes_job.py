"""The distributed job of the chapter "Losses across processes": run it with torchrun.

    torchrun --nproc-per-node 2 book/losses_across_processes_job.py

Every rank runs the same experiments on its share of the data; rank 0 prints one line of
JSON with the results, which the chapter reads and prints. Everything runs on the CPU
with the gloo backend and float32, so the printed results do not depend on the machine.
"""

# No ``from __future__ import annotations``: DDP checks a comm hook's annotations
# when it is registered.

import copy
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.distributed.algorithms.ddp_comm_hooks import default_hooks
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DistributedSampler, Subset, TensorDataset

import companion
from companion.distributed import (
    global_cross_entropy,
    global_mean,
    global_sce_loss,
    global_sigmoid_focal_loss,
)
from companion.losses import sce_loss, sigmoid_focal_loss

Result = dict[str, Any]
LossFn = Callable[[torch.Tensor], torch.Tensor]


def everyone(value: Any) -> list[Any]:
    """``value`` from every rank, in rank order (for reporting only)."""
    values: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(values, value)
    return values


def share(tensor: torch.Tensor, sizes: list[int]) -> torch.Tensor:
    """This rank's rows of a global batch cut into consecutive pieces of these sizes."""
    return tensor.split(sizes)[dist.get_rank()]


def grads(model: nn.Module) -> torch.Tensor:
    """Every parameter's gradient, in one vector."""
    return torch.cat(
        [p.grad.flatten() for p in model.parameters() if p.grad is not None]
    )


def max_diff(a: nn.Module, b: nn.Module) -> float:
    """The largest difference between the weights of two models of the same shape."""
    return max(
        (p - q).abs().max().item()
        for p, q in zip(a.parameters(), b.parameters(), strict=True)
    )


def batch(
    n: int, classes: int = 3, features: int = 5, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """The same global batch on every rank: inputs and class indices, seeded."""
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, features, generator=gen)
    return inputs, torch.randint(0, classes, (n,), generator=gen)


# --- 1. The mean of per-rank means is not the mean of the batch ----------------------


def per_rank_means() -> Result:
    logits, target = batch(8)
    logits = logits[:, :3] * 2
    weight = torch.tensor([1.0, 2.0, 5.0])
    ignored = target.clone()
    ignored[5:] = -100  # three of rank 1's four targets are padding
    cases = {
        "uneven batches (6 + 2)": ([6, 2], target, None),
        "class weights (4 + 4)": ([4, 4], target, weight),
        "ignore_index (4 + 4)": ([4, 4], ignored, None),
    }
    out: Result = {}
    for name, (sizes, t, w) in cases.items():
        x, y = share(logits, sizes), share(t, sizes)
        means = everyone(F.cross_entropy(x, y, weight=w).item())  # each rank's own mean
        global_ = everyone(global_cross_entropy(x, y, weight=w).item())
        out[name] = {
            "rank means": means,
            "mean of rank means": sum(means) / len(means),
            "global_cross_entropy": global_[0],
            "the same on every rank": len(set(global_)) == 1,
            "one process": F.cross_entropy(logits, t, weight=w).item(),
        }
    return out


# --- 2. DDP's gradients: per-rank mean, global mean, one process ---------------------


def ddp_gradients() -> Result:
    x_all, t_all = batch(10)
    weight = torch.tensor([1.0, 2.0, 5.0])
    t_all[8:] = -100  # rank 1's last two targets are ignored
    multi_label = (
        torch.rand(10, 3, generator=torch.Generator().manual_seed(1)) < 0.25
    ).float()
    sizes = [7, 3]  # an uneven split
    x, t, m = share(x_all, sizes), share(t_all, sizes), share(multi_label, sizes)

    # (the per-rank loss as usually written, the global mean, the whole batch's loss)
    losses: dict[str, tuple[LossFn, LossFn, LossFn]] = {
        "cross entropy, weight + ignore_index": (
            lambda z: F.cross_entropy(z, t, weight=weight),
            lambda z: global_cross_entropy(z, t, weight=weight),
            lambda z: F.cross_entropy(z, t_all, weight=weight),
        ),
        "focal / positives": (
            lambda z: sigmoid_focal_loss(z, m, reduction="sum") / m.sum().clamp_min(1),
            lambda z: global_sigmoid_focal_loss(z, m),
            lambda z: (
                sigmoid_focal_loss(z, multi_label, reduction="sum")
                / multi_label.sum().clamp_min(1)
            ),
        ),
        "SCE + ignore_index": (
            lambda z: sce_loss(z, t),
            lambda z: global_sce_loss(z, t),
            lambda z: sce_loss(z, t_all),
        ),
    }
    out: Result = {}
    for name, (per_rank, global_, whole) in losses.items():
        torch.manual_seed(0)
        model = nn.Linear(5, 3)
        reference = copy.deepcopy(model)
        whole(reference(x_all)).backward()
        ref = grads(reference)

        got = {}
        for kind, loss_fn in (("per-rank mean", per_rank), ("global mean", global_)):
            ddp = DDP(copy.deepcopy(model))
            loss_fn(ddp(x)).backward()
            got[kind] = grads(ddp)
        out[name] = {
            "per-rank mean": (got["per-rank mean"] - ref).abs().max().item(),
            "global mean": (got["global mean"] - ref).abs().max().item(),
            "largest gradient": ref.abs().max().item(),
        }
    return out


# --- 3. Gradient accumulation with no_sync() ------------------------------------------


def accumulation() -> Result:
    x_all, t_all = batch(16, seed=2)  # 2 ranks x 2 micro-batches x 4 examples
    torch.manual_seed(0)
    model = nn.Linear(5, 3)

    reference = copy.deepcopy(model)
    opt = torch.optim.SGD(reference.parameters(), lr=0.5)
    F.cross_entropy(reference(x_all), t_all).backward()
    opt.step()

    out: Result = {}
    for use_no_sync in (True, False):
        ddp = DDP(copy.deepcopy(model))
        calls = [0]

        def counting_allreduce(
            state: list[int], bucket: dist.GradBucket
        ) -> torch.futures.Future[torch.Tensor]:
            state[0] += 1
            group = dist.group.WORLD  # the default process group
            return default_hooks.allreduce_hook(group, bucket)  # type: ignore[arg-type]

        ddp.register_comm_hook(calls, counting_allreduce)
        opt = torch.optim.SGD(ddp.parameters(), lr=0.5)
        mine = share(x_all, [8, 8]), share(t_all, [8, 8])
        micro = list(zip(mine[0].split(4), mine[1].split(4), strict=True))
        for i, (xb, tb) in enumerate(micro):
            last = i == len(micro) - 1
            if use_no_sync and not last:
                with ddp.no_sync():  # gradients stay local, nothing is sent
                    (F.cross_entropy(ddp(xb), tb) / len(micro)).backward()
            else:
                (F.cross_entropy(ddp(xb), tb) / len(micro)).backward()
        opt.step()
        diff = max_diff(ddp.module, reference)
        out["no_sync" if use_no_sync else "sync every micro-batch"] = {
            "all-reduces per step": calls[0],
            "max |weights - one process, batch of 16|": diff,
        }
    return out


# --- 4. DistributedSampler: padding, drop_last, and an exact evaluation mean ---------


def sampler() -> Result:
    n = 7
    data = TensorDataset(torch.arange(n))
    # a per-example loss of some model, ordered by index
    losses = torch.linspace(0.5, 3.5, n)
    out: Result = {}
    for drop_last in (False, True):
        s: DistributedSampler[int] = DistributedSampler(
            data, shuffle=False, drop_last=drop_last
        )
        mine = list(s)
        mean = global_mean(losses[mine].sum(), len(mine)).item()
        out[f"drop_last={drop_last}"] = {
            "indices per rank": everyone(mine),
            "evaluation mean": mean,
        }
    shuffled: DistributedSampler[int] = DistributedSampler(data, shuffle=True, seed=0)
    epochs = []
    for epoch in (0, 1):
        shuffled.set_epoch(epoch)  # without it every epoch repeats epoch 0's order
        epochs.append(everyone(list(shuffled)))
    out["shuffle=True, epochs 0 and 1"] = epochs
    # no padding: uneven shards of the evaluation set, and a global mean over them
    shard = Subset(data, range(dist.get_rank(), n, dist.get_world_size()))
    mine = [int(shard[k][0]) for k in range(len(shard))]
    out["unpadded shards"] = {
        "indices per rank": everyone(mine),
        "evaluation mean": global_mean(losses[mine].sum(), len(mine)).item(),
    }
    out["data set mean"] = losses.mean().item()
    return out


# --- 5. ZeroRedundancyOptimizer: the state is sharded, the update is not -------------


def zero() -> Result:
    # imported here, not at the top: importing torch.distributed.optim raises
    # deprecation warnings about torch.jit
    from torch.distributed.optim import ZeroRedundancyOptimizer

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 4)
    )
    x_all, t_all = batch(16, classes=4, features=8, seed=3)
    x, t = share(x_all, [8, 8]), share(t_all, [8, 8])

    runs: dict[bool, tuple[list[int], nn.Module]] = {}
    for sharded in (False, True):
        ddp = DDP(copy.deepcopy(model))
        if sharded:
            opt: torch.optim.Optimizer = ZeroRedundancyOptimizer(
                ddp.parameters(), optimizer_class=torch.optim.Adam, lr=1e-2
            )
        else:
            opt = torch.optim.Adam(ddp.parameters(), lr=1e-2)
        for _ in range(3):
            opt.zero_grad()
            F.cross_entropy(ddp(x), t).backward()
            opt.step()
        local = opt.optim if isinstance(opt, ZeroRedundancyOptimizer) else opt
        state = sum(
            v.numel()
            for s in local.state.values()
            for v in s.values()
            if torch.is_tensor(v)
        )
        runs[sharded] = (everyone(state), ddp.module)
    diff = max_diff(runs[False][1], runs[True][1])
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "Adam state per rank (numbers)": runs[False][0],
        "ZeroRedundancyOptimizer state per rank (numbers)": runs[True][0],
        "max |weights Adam - weights ZeRO| after 3 steps": diff,
    }


EXPERIMENTS: dict[str, Callable[[], Result]] = {
    "per_rank_means": per_rank_means,
    "ddp_gradients": ddp_gradients,
    "accumulation": accumulation,
    "sampler": sampler,
    "zero": zero,
}


def main(
    experiments: dict[str, Callable[[], Result]] = EXPERIMENTS,
    world_size: int | None = None,
) -> None:
    companion.setup(0)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", timeout=timedelta(seconds=60))
    try:
        if world_size is not None and dist.get_world_size() != world_size:
            raise RuntimeError(
                f"run this job on {world_size} ranks: --nproc-per-node {world_size}"
            )
        results: Result = {name: run() for name, run in experiments.items()}
        results["world size"] = dist.get_world_size()
        if dist.get_rank() == 0:
            print(json.dumps(results))
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
