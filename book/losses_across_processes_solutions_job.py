"""The worked solutions to the exercises of "Losses across processes": run it with torchrun.

    torchrun --nproc-per-node 4 book/losses_across_processes_solutions_job.py

One job on four ranks answers all four exercises, so that they cost one process-group
start-up. Like the chapter's job (``losses_across_processes_job.py``, whose helpers and
experiments it imports), it runs on the CPU with gloo and float32, and rank 0 prints one
line of JSON with the results.
"""

import copy
from collections.abc import Callable

import losses_across_processes_job as job
import torch
import torch.distributed as dist
import torch.nn.functional as F
from losses_across_processes_job import Result, batch, everyone, grads, max_diff, share
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DistributedSampler, TensorDataset

from companion.distributed import global_mean
from companion.losses import softmax_focal_loss

# --- Exercise 1: the chapter's experiments on four ranks -------------------------------


def split_for(sizes: list[int], world: int) -> list[int]:
    """A split of the same rows over ``world`` ranks: each piece cut in near-equal parts."""
    parts = world // len(sizes)
    return [s // parts + (k < s % parts) for s in sizes for k in range(parts)]


def four_ranks() -> Result:
    world = dist.get_world_size()
    try:  # a split for two ranks has no piece for ranks 2 and 3
        share(torch.arange(8), [6, 2])
        error = "ok"
    except IndexError as e:
        error = f"IndexError: {e}"
    told: set[str] = set()
    current = [""]

    def share_any(tensor: torch.Tensor, sizes: list[int]) -> torch.Tensor:
        if len(sizes) != world:  # written for two ranks: this experiment must be told
            told.add(current[0])
            sizes = split_for(sizes, world)
        return share(tensor, sizes)

    job.share = share_any  # the experiments look `share` up in their module
    results: Result = {}
    try:
        for name, run in job.EXPERIMENTS.items():
            current[0] = name
            results[name] = run()
    finally:
        job.share = share
    return {
        "share([6, 2]) per rank": everyone(error),
        "told how to split": sorted(told),
        "results": results,
    }


# --- Exercise 2: accumulation with uneven numbers of ignored targets -------------------


def uneven_accumulation() -> Result:
    world = dist.get_world_size()
    x_all, t_all = batch(8 * world, seed=2)  # W ranks x 2 micro-batches x 4 examples
    for r in range(world):  # second micro-batch: 3 ignored on even ranks, 1 on odd ones
        t_all[8 * r + 4 : 8 * r + 4 + (3 if r % 2 == 0 else 1)] = -100
    torch.manual_seed(0)
    model = nn.Linear(5, 3)
    reference = copy.deepcopy(model)
    opt = torch.optim.SGD(reference.parameters(), lr=0.5)
    F.cross_entropy(reference(x_all), t_all).backward()
    opt.step()

    x, t = share(x_all, [8] * world), share(t_all, [8] * world)
    micro = list(zip(x.split(4), t.split(4), strict=True))
    count = (t != -100).sum().double()  # this rank's targets in the whole step
    dist.all_reduce(count)  # once per step, before the first micro-batch
    losses: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
        "mean / 2": lambda z, y: F.cross_entropy(z, y) / len(micro),
        "sum x W / step count": lambda z, y: (
            F.cross_entropy(z, y, reduction="sum") * world / count.float()
        ),
    }
    counted = [int((y != -100).sum()) for _, y in micro]
    out: Result = {"counted per micro-batch": everyone(counted)}
    for name, loss_fn in losses.items():
        ddp = DDP(copy.deepcopy(model))
        opt = torch.optim.SGD(ddp.parameters(), lr=0.5)
        with ddp.no_sync():
            loss_fn(ddp(micro[0][0]), micro[0][1]).backward()
        loss_fn(ddp(micro[1][0]), micro[1][1]).backward()  # the one all-reduce
        opt.step()
        out[name] = max_diff(ddp.module, reference)
    out["step count"] = int(count)
    out["largest weight change"] = max_diff(reference, model)
    return out


# --- Exercise 3: a global softmax focal loss --------------------------------------------


def focal_count(
    input: torch.Tensor, target: torch.Tensor, ignore_index: int = -100
) -> torch.Tensor:
    """What ``softmax_focal_loss``'s ``'mean'`` divides by, for this rank's examples."""
    if target.is_floating_point():  # class probabilities: every position, N x d1 x ...
        return torch.tensor(input.numel() // input.shape[1])
    # class indices: the targets that are not ignored (a count, not a sum of alphas)
    return (target != ignore_index).sum()


def global_softmax_focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    alpha: float | torch.Tensor | None = None,
    gamma: float = 2.0,
    ignore_index: int = -100,
) -> torch.Tensor:
    """``softmax_focal_loss(..., reduction='mean')`` of the whole batch of every rank."""
    total = softmax_focal_loss(
        input, target, alpha, gamma, ignore_index=ignore_index, reduction="sum"
    )
    return global_mean(total, focal_count(input, target.detach(), ignore_index))


def focal() -> Result:
    gen = torch.Generator().manual_seed(4)
    x_all = torch.randn(10, 5, generator=gen)
    indices = torch.randint(0, 4, (10,), generator=gen)
    indices[[2, 3, 8]] = -100  # ignored: two on rank 0, one on rank 2
    alpha = torch.tensor([1.0, 2.0, 0.5, 4.0])
    cases = {  # (model, targets of the whole batch, alpha)
        "class indices, alpha, ignore_index": (nn.Linear(5, 4), indices, alpha),
        "class probabilities (N, C)": (
            nn.Linear(5, 4),
            torch.rand(10, 4, generator=gen).softmax(1),
            None,
        ),
        "class probabilities (N, C, 3)": (
            nn.Sequential(nn.Linear(5, 12), nn.Unflatten(1, (4, 3))),
            torch.rand(10, 4, 3, generator=gen).softmax(1),
            alpha,
        ),
    }
    sizes = [4, 3, 2, 1]  # an uneven split over four ranks
    x = share(x_all, sizes)
    out: Result = {}
    for name, (model, target_all, a) in cases.items():
        target = share(target_all, sizes)
        reference = copy.deepcopy(model)
        whole = softmax_focal_loss(reference(x_all), target_all, a)
        whole.backward()
        ddp = DDP(copy.deepcopy(model))
        softmax_focal_loss(ddp(x), target, a).backward()  # each rank's own mean
        per_rank = (grads(ddp) - grads(reference)).abs().max().item()
        ddp = DDP(copy.deepcopy(model))
        logits = ddp(x)
        loss = global_softmax_focal_loss(logits, target, a)
        loss.backward()
        out[name] = {
            "per-rank mean": per_rank,
            "global mean": (grads(ddp) - grads(reference)).abs().max().item(),
            "largest gradient": grads(reference).abs().max().item(),
            "value - one process": max(
                abs(value - whole.item()) for value in everyone(loss.item())
            ),
            "counts per rank": everyone(int(focal_count(logits, target))),
        }
    return out


# --- Exercise 4: an exact evaluation over a padded DistributedSampler -----------------


def padded_evaluation() -> Result:
    n = 7
    data = TensorDataset(torch.arange(n))
    losses = torch.linspace(0.5, 3.5, n)  # as in the chapter: mean 2
    out: Result = {}
    for shuffle in (False, True):
        s: DistributedSampler[int] = DistributedSampler(data, shuffle=shuffle, seed=0)
        mine = torch.tensor(list(s))
        # the padded list has total_size entries, of which rank r takes r, r + W, ...;
        # the entries from len(data) on repeat the first ones
        position = s.rank + s.num_replicas * torch.arange(s.num_samples)
        real = position < len(data)
        out[f"shuffle={shuffle}"] = {
            "indices per rank": everyone(mine.tolist()),
            "repeats per rank": everyone(mine[~real].tolist()),
            "padded mean": global_mean(losses[mine].sum(), len(mine)).item(),
            "mean without repeats": global_mean(
                losses[mine][real].sum(), real.sum()
            ).item(),
        }
    out["total_size"] = s.total_size
    return out


SOLUTIONS: dict[str, Callable[[], Result]] = {
    "four_ranks": four_ranks,
    "uneven_accumulation": uneven_accumulation,
    "focal": focal,
    "padded_evaluation": padded_evaluation,
}


def main() -> None:
    # the chapter's job, with the solutions' experiments
    job.main(SOLUTIONS, world_size=4)


if __name__ == "__main__":
    main()
