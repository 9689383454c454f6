r"""Losses whose mean is taken over the whole batch of every process, not over one process's share.

With data-parallel training each of the :math:`W` processes (*ranks*) sees a share
:math:`B_r` of the global batch :math:`B`. The loss the model should minimise is the
mean over the whole batch,

.. math::

    L = \frac{\sum_r S_r}{\sum_r D_r}, \qquad S_r = \sum_{i \in B_r} w_i\,\ell_i, \qquad
    D_r = \sum_{i \in B_r} w_i,

where :math:`w_i` is what the loss's ``'mean'`` divides by: 1 for a plain mean, 0 for an
ignored target (``ignore_index``), the class weight :math:`w_{y_i}` for
``cross_entropy(weight=...)``, the target itself for a focal loss normalised by the number
of positives. A rank that computes its own ``reduction='mean'`` gets :math:`S_r / D_r`,
and :class:`~torch.nn.parallel.DistributedDataParallel` then *averages* the ranks'
gradients, which is the gradient of

.. math::

    \frac{1}{W} \sum_r \frac{S_r}{D_r} \;\ne\; L \quad\text{unless every } D_r \text{ is the same.}

:func:`global_mean` all-reduces :math:`S_r` and :math:`D_r` (one ``all_reduce`` of two
numbers per call) and returns :math:`L` on every rank, with the gradient that makes DDP's
average exact: see :func:`global_mean` for the formula and its limits.
:func:`global_cross_entropy`, :func:`global_sigmoid_focal_loss` and :func:`global_sce_loss`
apply it to the book's losses. Without a process group (one process) each is the ordinary
single-process loss.

:func:`run_torchrun` starts a script under ``torchrun`` on this machine (loopback only,
a free port, a time limit, every process cleaned up on failure): the book's chapter and the
tests use it to run small gloo jobs.
"""

from __future__ import annotations

import importlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.autograd.function import FunctionCtx

from ._checks import check_floating, check_int, check_number, require
from .losses import sce_loss, sigmoid_focal_loss
from .losses.sce import DEFAULT_A

__all__ = [
    "free_port",
    "global_cross_entropy",
    "global_mean",
    "global_sce_loss",
    "global_sigmoid_focal_loss",
    "is_distributed",
    "rank",
    "run_torchrun",
    "world_size",
]


# ---------------------------------------------------------------------------
# Where we are: one process, or one rank of a process group


def _launched_world_size() -> int:
    """``WORLD_SIZE`` as a launcher (torchrun, SLURM scripts, ...) sets it; 1 when unset or unreadable."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def is_distributed(group: dist.ProcessGroup | None = None) -> bool:
    """Whether a process group is initialised, so that collectives can run.

    Raises
    ------
    RuntimeError
        If no process group is initialised although one is needed: a ``group`` was passed,
        or the environment says this process is one of several (``WORLD_SIZE`` > 1, as set by
        ``torchrun``). Computing a per-rank loss there would silently train on a different
        objective; call :func:`torch.distributed.init_process_group` first.

    Examples
    --------
    >>> is_distributed()  # a plain Python process
    False
    """
    if dist.is_available() and dist.is_initialized():
        return True
    if group is not None:
        raise RuntimeError(
            "a process group was passed (group=...), but torch.distributed is not initialised: "
            "call torch.distributed.init_process_group first"
        )
    launched = _launched_world_size()
    if launched > 1:
        raise RuntimeError(
            f"this process was launched as one of WORLD_SIZE={launched} processes, but no process group "
            "is initialised: call torch.distributed.init_process_group (for example with backend='gloo' "
            "or 'nccl') before computing a global mean"
        )
    return False


def world_size(group: dist.ProcessGroup | None = None) -> int:
    """The number of ranks in ``group`` (default: the whole job); 1 without a process group.

    Examples
    --------
    >>> world_size()
    1
    """
    return dist.get_world_size(group) if is_distributed(group) else 1


def rank(group: dist.ProcessGroup | None = None) -> int:
    """This process's rank in ``group`` (default: the whole job); 0 without a process group.

    Examples
    --------
    >>> rank()
    0
    """
    return dist.get_rank(group) if is_distributed(group) else 0


# ---------------------------------------------------------------------------
# The global mean


class _GlobalMean(torch.autograd.Function):
    """Value ``total / count``; gradient ``world / count`` with respect to this rank's ``local`` sum."""

    @staticmethod
    def forward(local: torch.Tensor, total: torch.Tensor, count: torch.Tensor, world: int) -> torch.Tensor:
        return (total / count).to(local.dtype)

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple[Any, ...], output: torch.Tensor) -> None:
        local, _total, count, world = inputs
        ctx.save_for_backward(count)
        ctx.world = world  # type: ignore[attr-defined]
        ctx.dtype = local.dtype  # type: ignore[attr-defined]

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, None, None, None]:
        (count,) = ctx.saved_tensors
        # plain tensor arithmetic, so that the backward is itself differentiable
        return (grad * (ctx.world / count).to(ctx.dtype), None, None, None)


def global_mean(
    numerator: torch.Tensor,
    denominator: torch.Tensor | float,
    *,
    group: dist.ProcessGroup | None = None,
    min_denominator: float | None = None,
) -> torch.Tensor:
    r"""The mean over all ranks, :math:`L = \sum_r S_r \,/\, \sum_r D_r`, with gradients exact under DDP.

    Each rank passes its own sum :math:`S_r` (``numerator``, with its autograd graph) and what
    its mean would divide by, :math:`D_r` (``denominator``: a count or a sum of weights). Both
    are all-reduced in one ``torch.distributed.all_reduce`` of a float64 pair (exact for counts
    beyond :math:`2^{24}`, where float32 is not), and every rank gets the same value
    :math:`L = S / D` with :math:`S = \sum_r S_r`, :math:`D = \sum_r D_r`.

    **The gradient.** Rank :math:`r` can differentiate only its own :math:`S_r`; the other
    ranks' terms live in other processes. The function gives this rank

    .. math::

        g_r = \frac{W}{D}\,\frac{\partial S_r}{\partial \theta},

    and DistributedDataParallel averages the ranks' gradients:

    .. math::

        \frac{1}{W}\sum_r g_r = \frac{1}{D}\sum_r \frac{\partial S_r}{\partial\theta}
        = \frac{\partial L}{\partial\theta},

    the gradient of the whole batch's loss in a single process, whatever the share of
    examples, ignored targets or weights on each rank. The factor :math:`W` undoes DDP's
    division by the world size.

    **Why not autograd through the all-reduce.** ``torch.distributed.nn.functional.all_reduce``
    is differentiable (its backward all-reduces the incoming gradients, which gives the same
    :math:`g_r`), but it is deprecated in torch 2.13, fails under ``torch.compile``, and adds a
    collective to every backward pass that every rank must reach. Here the all-reduced sums are
    detached, :math:`D` is a constant (a count or a weight sum has no gradient), and the factor
    :math:`W/D` is applied by a small ``autograd.Function``: no communication in the backward
    pass, and the value is bit-for-bit the same on every rank.

    **Limits.**

    * The gradients must be *averaged* over ranks, as DDP, FSDP and ``all_reduce(op=AVG)`` do.
      If you sum them yourself, divide the result by the world size.
    * The denominator must not need a gradient (``ValueError`` if it requires one): the
      formula treats it as a constant, which counts, class-weight sums and numbers of
      positives are.
    * Every rank of ``group`` must call it the same number of times (it is a collective), or the
      ranks wait for each other until the process group's time-out. ``DistributedSampler``
      keeps the numbers of batches equal (it pads); DDP's ``join()`` context does not help
      here, as it stands in only for DDP's own collectives. To average over uneven shards
      (an evaluation), add up each rank's sums and counts and call this once at the end.
    * :math:`D = 0` over all ranks gives NaN or infinity, as torch's mean of nothing does;
      ``min_denominator`` clamps :math:`D` *after* the reduction (RetinaNet's
      :math:`\max(1, \text{positives})`), which clamping each rank's :math:`D_r` would not equal.
    * The gradient with respect to this rank's inputs is its share :math:`g_r` above, not the
      derivative of the returned value; use it for training, and the value for logging.

    Without a process group (a single process) it returns :math:`S_r / D_r`, the ordinary mean,
    with the ordinary gradient.

    Parameters
    ----------
    numerator:
        This rank's sum of (weighted) loss terms, a 0-dimensional floating-point tensor.
    denominator:
        This rank's count or weight sum: a number or a 0-dimensional tensor, >= 0, without a
        gradient.
    group:
        The process group to average over (default: every rank).
    min_denominator:
        A lower bound for the global :math:`D`, or ``None``.

    Returns
    -------
    torch.Tensor
        The global mean, 0-dimensional, in the dtype of ``numerator``.

    Raises
    ------
    RuntimeError
        If a process group is needed but not initialised (see :func:`is_distributed`).

    Examples
    --------
    >>> x = torch.tensor([1.0, 2.0, 6.0], requires_grad=True)
    >>> loss = global_mean(x.sum(), 3)      # one process: the ordinary mean
    >>> loss
    tensor(3., grad_fn=<_GlobalMeanBackward>)
    >>> loss.backward()
    >>> x.grad
    tensor([0.3333, 0.3333, 0.3333])
    """
    check_floating(numerator, "numerator")
    if numerator.dim() != 0:
        raise ValueError(
            f"numerator must be a 0-dimensional tensor (this rank's sum of loss terms), got shape "
            f"{tuple(numerator.shape)}; sum it first"
        )
    if isinstance(denominator, torch.Tensor):
        if denominator.dim() != 0:
            raise ValueError(
                f"denominator must be a number or a 0-dimensional tensor, got shape {tuple(denominator.shape)}"
            )
        if denominator.requires_grad:
            raise ValueError(
                "denominator must not require grad: it is a count or a sum of weights, treated as a constant"
            )
        if denominator.is_complex() or denominator.dtype == torch.bool:
            raise TypeError(f"denominator must hold a real number, got dtype {denominator.dtype}")
        require(lambda d: d >= 0, denominator, "denominator must be >= 0 (a count or a sum of weights)")
    else:
        check_number(denominator, "denominator", low=0.0)
    if min_denominator is not None:
        min_denominator = check_number(min_denominator, "min_denominator", low=0.0)

    distributed = is_distributed(group)
    pair = torch.stack(
        [
            numerator.detach().to(torch.float64),
            torch.as_tensor(denominator, dtype=torch.float64, device=numerator.device),
        ]
    )
    if distributed:
        dist.all_reduce(pair, op=dist.ReduceOp.SUM, group=group)
        world = dist.get_world_size(group)
    else:
        world = 1
    total, count = pair[0], pair[1]
    if min_denominator is not None:
        count = count.clamp_min(min_denominator)
    out: torch.Tensor = _GlobalMean.apply(numerator, total, count, world)
    return out


# ---------------------------------------------------------------------------
# The book's losses, averaged over every rank


def global_cross_entropy(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    *,
    group: dist.ProcessGroup | None = None,
) -> torch.Tensor:
    r"""``F.cross_entropy(..., reduction='mean')`` of the whole batch of every rank.

    The numerator is ``F.cross_entropy(..., reduction='sum')`` of this rank's examples; the
    denominator is what torch's ``'mean'`` divides by: with class-index targets the number of
    targets that are not ``ignore_index``, or with ``weight`` the sum of :math:`w_{y_i}` over
    them (label smoothing included); with class-probability targets the number of positions
    :math:`N \cdot d_1 \cdots d_K`. See :func:`global_mean` for the gradient under DDP.

    Examples
    --------
    >>> x = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> t = torch.tensor([0, 1, -100])
    >>> w = torch.tensor([1.0, 3.0])
    >>> global_cross_entropy(x, t, weight=w)  # one process: F.cross_entropy
    tensor(0.2667)
    >>> F.cross_entropy(x, t, weight=w)
    tensor(0.2667)
    """
    check_floating(input, "input")
    label_smoothing = check_number(label_smoothing, "label_smoothing", low=0.0, high=1.0)
    total = F.cross_entropy(
        input, target, weight=weight, ignore_index=ignore_index, reduction="sum", label_smoothing=label_smoothing
    )
    with torch.no_grad():
        if target.is_floating_point():
            class_dim = 0 if input.dim() == 1 else 1
            count = torch.tensor(float(input.numel() // input.shape[class_dim]), device=input.device)
        else:
            keep = target != ignore_index
            if weight is None:
                count = keep.sum()
            else:
                count = weight.detach()[target[keep]].sum()
    return global_mean(total, count, group=group)


def global_sigmoid_focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    *,
    min_positives: float = 1.0,
    group: dist.ProcessGroup | None = None,
) -> torch.Tensor:
    r"""The focal loss summed over every rank and divided by the number of positives of every rank.

    .. math::

        L = \frac{\sum_r \sum_{i \in B_r} \mathrm{FL}(x_i, y_i)}{\max\bigl(m, \sum_r \sum_{i \in B_r} y_i\bigr)}

    with :math:`\mathrm{FL}` from :func:`~companion.losses.focal.sigmoid_focal_loss` and :math:`m`
    ``min_positives``, as object detectors normalise it (RetinaNet divides by the number of
    anchors assigned to an object, at least 1). For hard labels :math:`\sum y_i` is the number
    of positives. A rank with few objects or none contributes its negatives' loss without
    its own tiny normaliser blowing it up: the normaliser is global, and so is the clamp.

    Examples
    --------
    >>> x = torch.tensor([3.0, -2.0, 0.5, -4.0])
    >>> y = torch.tensor([1.0, 0.0, 1.0, 0.0])
    >>> global_sigmoid_focal_loss(x, y)  # one process: sum / number of positives
    tensor(0.0091)
    >>> sigmoid_focal_loss(x, y, reduction="sum") / y.sum()
    tensor(0.0091)
    """
    total = sigmoid_focal_loss(input, target, alpha=alpha, gamma=gamma, reduction="sum")
    min_positives = check_number(min_positives, "min_positives", low=0.0)
    return global_mean(total, target.detach().sum(), group=group, min_denominator=min_positives)


def global_sce_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    alpha: float = 0.1,
    beta: float = 1.0,
    A: float = DEFAULT_A,
    ignore_index: int = -100,
    *,
    group: dist.ProcessGroup | None = None,
) -> torch.Tensor:
    r"""Symmetric cross entropy (:func:`~companion.losses.sce.sce_loss`) averaged over the targets of every rank.

    The numerator is this rank's ``sce_loss(..., reduction='sum')``, the denominator its number
    of targets that are not ``ignore_index``.

    Examples
    --------
    >>> x = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 3.0]])
    >>> t = torch.tensor([0, 1])
    >>> global_sce_loss(x, t)  # one process: sce_loss
    tensor(5.1807)
    >>> sce_loss(x, t)
    tensor(5.1807)
    """
    total = sce_loss(input, target, alpha=alpha, beta=beta, A=A, ignore_index=ignore_index, reduction="sum")
    return global_mean(total, (target.detach() != ignore_index).sum(), group=group)


# ---------------------------------------------------------------------------
# Starting a small job on this machine


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now (the OS picks it).

    Another program may take it before the job binds it; :func:`run_torchrun` then fails
    with the launcher's error rather than joining someone else's job.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _descendants(pid: int) -> list[int]:
    """The processes below ``pid``: through psutil where it is installed, else Linux's /proc; [] if neither."""
    try:
        # not a dependency of companion (it comes with the book's environment), and untyped
        psutil = importlib.import_module("psutil")
    except ImportError:  # pragma: no cover
        return _proc_descendants(pid)
    try:
        return [int(p.pid) for p in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def _proc_descendants(pid: int) -> list[int]:  # pragma: no cover - used without psutil only
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found.extend(children)
        frontier = children
    return found


def _kill_tree(proc: subprocess.Popen[str]) -> None:
    """SIGKILL a launcher and every process it started (torchrun puts its workers in new sessions)."""
    victims = _descendants(proc.pid)
    for pid in [proc.pid, *victims]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def _failure_tail(output: str, lines: int = 30) -> str:
    """The end of the first failing rank's own output (torchrun prefixes it ``[rankN]:``), else of everything."""
    text = output.strip().splitlines()
    prefix = re.compile(r"^\[rank(\d+)\]:")
    ranks = [m.group(1) for m in map(prefix.match, text) if m]
    if ranks:
        text = [line for line in text if line.startswith(f"[rank{ranks[0]}]:")]
    return "\n".join(text[-lines:])


def run_torchrun(
    script: str | os.PathLike[str],
    args: Sequence[str] = (),
    *,
    nproc_per_node: int = 2,
    timeout: float = 60.0,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``torchrun --nproc-per-node N script args...`` on this machine, on loopback only.

    The job's rendezvous is at ``127.0.0.1`` on a free port (``--master-addr``,
    ``--master-port``; another free port is tried, twice at most, if something else takes it
    first), gloo is told to use the loopback interface (``GLOO_SOCKET_IFNAME=lo``, ``lo0`` on
    macOS), and each worker gets one thread (``OMP_NUM_THREADS=1``, which also keeps torchrun
    from printing a warning about it). ``torchrun`` is run as ``python -m torch.distributed.run``
    with the running Python, the same program as the ``torchrun`` command.

    Parameters
    ----------
    script:
        The Python script every rank runs.
    args:
        Its command-line arguments.
    nproc_per_node:
        The number of processes (ranks), >= 1.
    timeout:
        Seconds before the job and all of its processes are killed (per attempt).
    env:
        Extra environment variables for the job.
    cwd:
        The job's working directory.

    Returns
    -------
    subprocess.CompletedProcess
        With the job's ``stdout`` and ``stderr`` as text.

    Raises
    ------
    TimeoutError
        If the job ran longer than ``timeout``; the launcher and every worker are killed first.
    RuntimeError
        If the job failed; the message ends with the last lines of its output.
    """
    nproc_per_node = check_int(nproc_per_node, "nproc_per_node", low=1)
    timeout = check_number(timeout, "timeout", low=0.0)
    path = Path(script)
    if cwd is not None and not path.is_absolute():
        path = Path(cwd) / path
    if not path.is_file():
        raise FileNotFoundError(f"script {str(script)!r} does not exist")
    job_env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if sys.platform.startswith("linux") or sys.platform == "darwin":
        job_env["GLOO_SOCKET_IFNAME"] = "lo0" if sys.platform == "darwin" else "lo"
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):  # of a job we may run in
        job_env.pop(name, None)
    job_env.update(env or {})
    start = time.monotonic()
    for attempt in range(_PORT_ATTEMPTS):
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc-per-node",
            str(nproc_per_node),
            "--master-addr",
            "127.0.0.1",
            "--master-port",
            str(free_port()),
            str(path),
            *[str(a) for a in args],
        ]
        returncode, stdout, stderr = _run_job(command, job_env, cwd, timeout, path.name)
        # another program took the free port between free_port() and the launcher's bind: try another
        if returncode == 0 or "EADDRINUSE" not in stderr or attempt == _PORT_ATTEMPTS - 1:
            break
    if returncode != 0:
        raise RuntimeError(
            f"torchrun {path.name} failed with exit status {returncode} after "
            f"{time.monotonic() - start:.1f} s:\n{_failure_tail(stdout + stderr)}"
        )
    return subprocess.CompletedProcess(command, returncode, stdout, stderr)


_PORT_ATTEMPTS = 3


def _run_job(
    command: list[str], env: dict[str, str], cwd: str | os.PathLike[str] | None, timeout: float, name: str
) -> tuple[int, str, str]:
    """Run the launcher once: its exit status and output; every process killed on time-out or interrupt."""
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(proc)
        proc.communicate()
        raise TimeoutError(f"torchrun {name} ran longer than {timeout:g} s; its processes were killed") from None
    except BaseException:  # KeyboardInterrupt in a notebook: leave nothing running
        _kill_tree(proc)
        raise
    finally:
        # workers whose launcher is gone (killed from outside) must not outlive the call
        for pid in _descendants(proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return proc.returncode, stdout, stderr
