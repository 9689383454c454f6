"""A small training loop: :func:`fit`, :func:`evaluate`, :func:`predict`, :class:`EarlyStopping`,
and :func:`batch_loader`, a faster ``DataLoader`` for data sets held in tensors.

One epoch of :func:`fit` does what every hand-written PyTorch loop does, in
this order, for each batch ``(inputs, targets)`` of the training loader:

1. ``outputs = model(inputs)`` and ``loss = loss_fn(outputs, targets)``, plus
   ``penalty(model)`` when a penalty is given (the regularization term of the
   objective, which is back-propagated but not reported as the data loss);
2. ``optimizer.zero_grad()``, ``loss.backward()``, optionally clipping the
   gradient norm, ``optimizer.step()``;
3. ``scheduler.step()`` if the scheduler is stepped per batch.

After the epoch it steps a per-epoch scheduler, evaluates on the validation
loader, records one row of history, and lets :class:`EarlyStopping` decide
whether to go on. The history is a ``pandas.DataFrame`` (``pandas`` is needed
by :func:`fit` only).

Metrics are functions ``metric(outputs, targets) -> float`` of the *whole*
epoch's outputs and targets (detached, on the CPU), not averages of per-batch
values: an AUC or an average precision cannot be averaged over batches.
Losses are averaged over samples, weighting each batch by its size, so the
reported loss is the mean loss over the data set whatever the batch sizes.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, Subset, TensorDataset

from ._checks import (
    check_bool,
    check_callable,
    check_choice,
    check_instance,
    check_int,
    check_number,
    check_tensor,
)
from .display import fmt
from .runtime import device as default_device

if TYPE_CHECKING:  # pragma: no cover
    from pandas import DataFrame
else:  # pandas is imported by fit() only, when it is called
    DataFrame = Any

__all__ = ["EarlyStopping", "Metric", "accuracy", "batch_loader", "evaluate", "fit", "predict"]

#: The type of a metric, a function of all outputs and all targets of a data set (CPU tensors) that returns a number.
Metric = Callable[[torch.Tensor, torch.Tensor], float]
#: The type of a callback of :func:`fit`, called with an epoch's history row and the model.
Callback = Callable[[dict[str, float], nn.Module], Any]

_SCHEDULER_STEPS = ("epoch", "batch")
_MODES = ("min", "max")


# ---------------------------------------------------------------------------
# metrics


def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of correct predictions, from logits.

    * Binary: ``outputs`` has the shape of ``targets`` (``(N,)`` or
      ``(N, 1)``), the prediction is ``outputs > 0`` (probability above 0.5)
      and ``targets`` holds 0 and 1.
    * Multi-class: ``outputs`` has shape ``(N, C)``, ``targets`` shape
      ``(N,)`` with class indices; the prediction is the arg-max.

    Examples
    --------
    >>> import torch
    >>> accuracy(torch.tensor([2.0, -1.0, 0.5]), torch.tensor([1.0, 0.0, 0.0]))
    0.6666666666666666
    >>> accuracy(torch.tensor([[2.0, 1.0], [0.0, 3.0]]), torch.tensor([0, 0]))
    0.5
    """
    check_tensor(outputs, "outputs")
    check_tensor(targets, "targets")
    if outputs.shape == targets.shape:
        predicted = (outputs > 0).to(targets.dtype)
    elif outputs.ndim == 2 and targets.ndim == 1 and outputs.shape[0] == targets.shape[0]:
        predicted = outputs.argmax(dim=1).to(targets.dtype)
    else:
        raise ValueError(
            "accuracy needs outputs of the targets' shape (binary) or outputs (N, C) with targets (N,) "
            f"(multi-class), got {tuple(outputs.shape)} and {tuple(targets.shape)}"
        )
    if targets.numel() == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return (predicted == targets).double().mean().item()


# ---------------------------------------------------------------------------
# early stopping


@dataclass
class EarlyStopping:
    """Stop when a monitored column of the history stops improving, and restore the best weights.

    An epoch *improves* when its value is below ``best - min_delta``
    (``mode='min'``) or above ``best + min_delta`` (``mode='max'``); the
    first epoch with a finite value always improves. Training stops after
    ``patience`` epochs in a row without improvement. With ``restore_best``
    the model's weights (its ``state_dict``) are set back to those of the best
    epoch when :func:`fit` returns, whether it stopped early or not.

    Parameters
    ----------
    patience:
        Number of epochs without improvement to tolerate, ``>= 1``.
    monitor:
        A column of the history: ``'val_loss'``, ``'train_loss'``,
        ``'val_<metric>'``, ...
    mode:
        ``'min'`` or ``'max'``.
    min_delta:
        Smallest change that counts as an improvement, ``>= 0``.
    restore_best:
        Load the best epoch's weights at the end.

    Examples
    --------
    >>> EarlyStopping(patience=3, monitor="val_auc", mode="max")
    EarlyStopping(patience=3, monitor='val_auc', mode='max', min_delta=0.0, restore_best=True)
    """

    patience: int
    monitor: str = "val_loss"
    mode: str = "min"
    min_delta: float = 0.0
    restore_best: bool = True

    def __post_init__(self) -> None:
        self.patience = check_int(self.patience, "patience", low=1)
        check_instance(self.monitor, "monitor", str, "a column name (str)")
        check_choice(self.mode, "mode", _MODES)
        self.min_delta = check_number(self.min_delta, "min_delta", low=0.0)
        self.restore_best = check_bool(self.restore_best, "restore_best")

    def improves(self, value: float, best: float | None) -> bool:
        """Whether ``value`` improves on ``best`` (``None``: nothing seen yet)."""
        if math.isnan(value):
            return False
        if best is None:
            return True
        if self.mode == "min":
            return value < best - self.min_delta
        return value > best + self.min_delta


# ---------------------------------------------------------------------------
# helpers


def _check_optimizer_owns_model(optimizer: torch.optim.Optimizer, model: nn.Module) -> None:
    """``ValueError`` when the optimizer updates none of the model's trainable parameters (it would never train)."""
    mine = {id(p) for p in model.parameters() if p.requires_grad}
    held = [p for group in optimizer.param_groups for p in group["params"]]
    if mine and not any(id(p) in mine for p in held):
        raise ValueError(
            f"optimizer holds {len(held)} parameter(s), none of them the model's: build it from model.parameters() "
            "(a fresh model after the optimizer was made?)"
        )


def _resolve_device(dev: torch.device | str | None) -> torch.device:
    if dev is None:
        return default_device()
    try:
        return torch.device(dev)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must name a torch device, got {dev!r}") from None


def _split(batch: Any, where: str) -> tuple[Any, torch.Tensor]:
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise ValueError(f"{where} must yield (inputs, targets) pairs, got {type(batch).__name__}")
    inputs, targets = batch
    if not isinstance(targets, torch.Tensor):
        raise TypeError(f"{where} must yield tensor targets, got {type(targets).__name__}")
    return inputs, targets


def _to(value: Any, dev: torch.device) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(dev, non_blocking=True)
    if isinstance(value, (tuple, list)):
        return type(value)(_to(v, dev) for v in value)
    if isinstance(value, Mapping):
        return {k: _to(v, dev) for k, v in value.items()}
    return value


def _batch_size(targets: torch.Tensor) -> int:
    return int(targets.shape[0]) if targets.ndim else 1


def _check_metrics(metrics: Mapping[str, Metric] | None) -> dict[str, Metric]:
    if metrics is None:
        return {}
    if not isinstance(metrics, Mapping):
        raise TypeError(f"metrics must be a dict of name -> function, got {type(metrics).__name__}")
    for name, fn in metrics.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"metric names must be identifiers, got {name!r}")
        if name == "loss":
            raise ValueError("'loss' is reserved for the loss; choose another metric name")
        check_callable(fn, f"metrics[{name!r}]")
    return dict(metrics)


def _compute_metrics(
    metrics: Mapping[str, Metric], outputs: list[torch.Tensor], targets: list[torch.Tensor]
) -> dict[str, float]:
    if not metrics:
        return {}
    out, tgt = torch.cat(outputs), torch.cat(targets)
    return {name: float(fn(out, tgt)) for name, fn in metrics.items()}


def _scalar_loss(loss: Any, where: str) -> torch.Tensor:
    if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
        shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise ValueError(f"{where} must return a scalar tensor (use reduction='mean'), got {shape}")
    return loss


# ---------------------------------------------------------------------------
# data


def _held_in_tensors(dataset: object) -> bool:
    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    return isinstance(dataset, TensorDataset)


def batch_loader(
    dataset: TensorDataset | Subset[Any],
    batch_size: int,
    *,
    shuffle: bool = False,
    drop_last: bool = False,
    generator: torch.Generator | None = None,
) -> DataLoader[Any]:
    """The batches of ``DataLoader(dataset, batch_size, shuffle=..., drop_last=..., generator=...)``, taken whole.

    A ``DataLoader`` calls ``dataset[i]`` once per example and stacks the results; for a
    :class:`~torch.utils.data.TensorDataset` of small examples (or a
    :class:`~torch.utils.data.Subset` of one, as :func:`~torch.utils.data.random_split` makes)
    that Python work is most of an epoch's time. This loader indexes the tensors once per
    batch, with the batch's list of indices, and yields the same thing: the same examples in
    the same order, as ``[inputs, targets]`` lists of the same values. It draws the same random
    numbers as the ``DataLoader`` (from ``generator``, or from torch's global generator when
    it is ``None``), so swapping one for the other changes no result.

    Raises ``TypeError`` for a data set that is not a ``TensorDataset`` or a ``Subset`` of one
    (indexing anything else by a list need not give a batch).

    Examples
    --------
    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> data = TensorDataset(torch.arange(10.0), torch.arange(10) % 2)
    >>> one = DataLoader(data, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(0))
    >>> two = batch_loader(data, 4, shuffle=True, generator=torch.Generator().manual_seed(0))
    >>> pairs = list(zip(one, two))  # one epoch of each
    >>> [len(x) for x, _ in two], len(two) == len(one) == 3
    ([4, 4, 2], True)
    >>> all(torch.equal(a, b) for batch, same in pairs for a, b in zip(batch, same))
    True
    """
    if not _held_in_tensors(dataset):
        raise TypeError(
            "dataset must be a TensorDataset or a Subset of one (batch_loader indexes it by lists), "
            f"got {type(dataset).__name__}: use torch.utils.data.DataLoader"
        )
    batch_size = check_int(batch_size, "batch_size", low=1)
    shuffle = check_bool(shuffle, "shuffle")
    drop_last = check_bool(drop_last, "drop_last")
    if generator is not None:
        check_instance(generator, "generator", torch.Generator, "a torch.Generator or None")
    # DataLoader(shuffle=True) builds exactly this sampler, and draws its base seed from the
    # loader's generator before the sampler draws the permutation: passing the generator to
    # both keeps every draw where the DataLoader makes it
    order = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
    batches = BatchSampler(order, batch_size, drop_last)
    # batch_size=None: each index the loader gets is a whole batch's list, given to dataset[...]
    # at once; list() makes the (inputs, targets) tuple the list a DataLoader's collation yields
    return DataLoader(dataset, batch_size=None, sampler=batches, collate_fn=list, generator=generator)


# ---------------------------------------------------------------------------
# evaluation


@torch.no_grad()
def predict(
    model: nn.Module, loader: Iterable[Any], *, device: torch.device | str | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """All outputs of ``model`` on ``loader`` and the matching targets, concatenated, on the CPU.

    The model is put in evaluation mode for the pass and back in the mode it
    was in afterwards.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> loader = DataLoader(TensorDataset(torch.ones(5, 2), torch.zeros(5)), batch_size=2)
    >>> out, y = predict(nn.Flatten(0), loader, device="cpu")
    >>> out.shape, y.shape
    (torch.Size([10]), torch.Size([5]))
    """
    dev = _resolve_device(device)
    was_training = model.training
    model.eval()
    outputs, targets = [], []
    try:
        for batch in loader:
            inputs, target = _split(batch, "loader")
            outputs.append(model(_to(inputs, dev)).detach().cpu())
            targets.append(target.cpu())
    finally:
        model.train(was_training)
    if not outputs:
        raise ValueError("loader yielded no batches")
    return torch.cat(outputs), torch.cat(targets)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable[Any],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    metrics: Mapping[str, Metric] | None = None,
    *,
    device: torch.device | str | None = None,
) -> dict[str, float]:
    """The mean loss and the metrics of ``model`` on ``loader``.

    ``loss`` is the mean of ``loss_fn`` over samples: each batch's (mean)
    loss weighted by its size. Each metric is computed once, on all outputs
    and targets of the loader. The model is evaluated in evaluation mode, with
    gradients off, and returned to its previous mode.

    Returns
    -------
    dict
        ``{'loss': ..., '<metric>': ...}`` (``loss`` only when ``loss_fn`` is given).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> x = torch.tensor([[1.0], [-2.0], [3.0]])
    >>> y = torch.tensor([[1.0], [1.0], [0.0]])
    >>> loader = DataLoader(TensorDataset(x, y), batch_size=2)
    >>> evaluate(nn.Identity(), loader, nn.MSELoss(), {"acc": accuracy}, device="cpu")  # errors 0, 9, 9
    {'loss': 6.0, 'acc': 0.3333333333333333}
    """
    metrics = _check_metrics(metrics)
    dev = _resolve_device(device)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    outputs, targets = [], []
    try:
        for batch in loader:
            inputs, target = _split(batch, "loader")
            out = model(_to(inputs, dev))
            n = _batch_size(target)
            if loss_fn is not None:
                loss = _scalar_loss(loss_fn(out, _to(target, dev)), "loss_fn")
                total += loss.item() * n
            count += n
            if metrics:
                outputs.append(out.detach().cpu())
                targets.append(target.cpu())
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("loader yielded no batches")
    result = {"loss": total / count} if loss_fn is not None else {}
    result.update(_compute_metrics(metrics, outputs, targets))
    return result


# ---------------------------------------------------------------------------
# training


def fit(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    train_loader: Iterable[Any],
    *,
    epochs: int,
    val_loader: Iterable[Any] | None = None,
    scheduler: Any = None,
    scheduler_step: str = "epoch",
    scheduler_monitor: str | None = None,
    metrics: Mapping[str, Metric] | None = None,
    penalty: Callable[[nn.Module], torch.Tensor] | None = None,
    device: torch.device | str | None = None,
    clip_grad_norm: float | None = None,
    early_stopping: EarlyStopping | None = None,
    callbacks: Sequence[Callback] = (),
    progress: bool = False,
) -> DataFrame:
    """Train ``model`` and return its history, one row per epoch.

    Parameters
    ----------
    model, loss_fn, optimizer:
        The network, a loss ``loss_fn(outputs, targets)`` that returns the
        mean loss of a batch, and an optimizer over the model's parameters.
    train_loader:
        Yields ``(inputs, targets)`` batches; iterated once per epoch.
    epochs:
        Maximum number of epochs, ``>= 1``.
    val_loader:
        Evaluated after each epoch (see :func:`evaluate`).
    scheduler:
        A ``torch.optim.lr_scheduler`` scheduler of ``optimizer``.
    scheduler_step:
        ``'epoch'``: ``scheduler.step()`` after each epoch; ``'batch'``: after
        each optimizer step. ``ReduceLROnPlateau`` is stepped per epoch with
        the value of ``scheduler_monitor``.
    scheduler_monitor:
        History column passed to ``ReduceLROnPlateau.step``; by default
        ``'val_loss'`` when there is a validation loader, else ``'train_loss'``.
    metrics:
        ``{name: metric(outputs, targets)}``, computed on all of an epoch's
        training outputs (``train_<name>``, outputs as they were during the
        epoch) and on the validation set (``val_<name>``).
    penalty:
        ``penalty(model)``, a scalar added to the loss that is back-propagated,
        for example an L1 or L2 penalty from :mod:`companion.regularization`.
        Its mean per batch is reported in the column ``penalty``;
        ``train_loss`` is the data loss alone.
    device:
        Where to train; by default :func:`companion.device`. The model is moved
        there, and every batch.
    clip_grad_norm:
        If given, clip the gradients' global L2 norm to this value before
        each optimizer step.
    early_stopping:
        An :class:`EarlyStopping` rule.
    callbacks:
        Functions ``callback(row, model)`` called after each epoch with that
        epoch's history row; a callback that returns ``True`` stops training.
    progress:
        Print one line per epoch.

    Returns
    -------
    ``pandas.DataFrame``
        Columns ``epoch`` (from 1), ``lr`` (of the first parameter group, at
        the start of the epoch), ``train_loss``, ``penalty`` (with a
        penalty), ``train_<metric>``, ``val_loss`` and ``val_<metric>`` (with
        a validation loader). ``attrs['best_epoch']`` is the best epoch under
        ``early_stopping`` (else ``None``) and ``attrs['stopped_early']``
        whether training stopped before ``epochs``. The model is returned in
        evaluation mode.

    Raises
    ------
    ValueError
        On bad arguments (a scheduler of another optimizer, an unknown
        ``scheduler_step`` or monitored column, ...), on a loader without
        batches, or on a loss that is not a scalar.
    FloatingPointError
        When the training loss becomes NaN or infinite.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> _ = torch.manual_seed(0)
    >>> x = torch.linspace(-1, 1, 32).unsqueeze(1)
    >>> loader = DataLoader(TensorDataset(x, 3 * x), batch_size=8)
    >>> net = nn.Linear(1, 1)
    >>> opt = torch.optim.SGD(net.parameters(), lr=0.3)
    >>> history = fit(net, nn.MSELoss(), opt, loader, epochs=30, device="cpu")
    >>> list(history.columns), round(net.weight.item(), 2)
    (['epoch', 'lr', 'train_loss'], 3.0)
    """
    import pandas as pd

    # ---- checks -----------------------------------------------------------
    check_instance(model, "model", nn.Module, "an nn.Module")
    check_callable(loss_fn, "loss_fn")
    check_instance(optimizer, "optimizer", torch.optim.Optimizer, "a torch.optim.Optimizer")
    _check_optimizer_owns_model(optimizer, model)
    epochs = check_int(epochs, "epochs", low=1)
    progress = check_bool(progress, "progress")
    check_choice(scheduler_step, "scheduler_step", _SCHEDULER_STEPS)
    plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    if scheduler is not None:
        if not callable(getattr(scheduler, "step", None)):
            raise TypeError(f"scheduler must have a step() method, got {type(scheduler).__name__}")
        if getattr(scheduler, "optimizer", None) is not optimizer:
            raise ValueError("scheduler must be a scheduler of the optimizer passed to fit")
        if plateau and scheduler_step != "epoch":
            raise ValueError("ReduceLROnPlateau reads a per-epoch value: use scheduler_step='epoch'")
    if clip_grad_norm is not None:
        clip_grad_norm = check_number(clip_grad_norm, "clip_grad_norm", above=0.0)
    if early_stopping is not None:
        check_instance(early_stopping, "early_stopping", EarlyStopping, "an EarlyStopping or None")
    if penalty is not None:
        check_callable(penalty, "penalty")
    callbacks = list(callbacks)
    for i, cb in enumerate(callbacks):
        check_callable(cb, f"callbacks[{i}]")
    metrics = _check_metrics(metrics)

    columns = ["train_loss"] + (["penalty"] if penalty is not None else []) + [f"train_{m}" for m in metrics]
    if val_loader is not None:
        columns += ["val_loss"] + [f"val_{m}" for m in metrics]
    if early_stopping is not None and early_stopping.monitor not in columns:
        raise ValueError(f"early_stopping.monitor must be one of {columns}, got {early_stopping.monitor!r}")
    if plateau:
        scheduler_monitor = scheduler_monitor or ("val_loss" if val_loader is not None else "train_loss")
        if scheduler_monitor not in columns:
            raise ValueError(f"scheduler_monitor must be one of {columns}, got {scheduler_monitor!r}")
    elif scheduler_monitor is not None:
        raise ValueError("scheduler_monitor is only used with ReduceLROnPlateau")

    dev = _resolve_device(device)
    model.to(dev)

    # ---- the loop ---------------------------------------------------------
    rows: list[dict[str, float]] = []
    best: float | None = None
    best_epoch: int | None = None
    best_state: dict[str, torch.Tensor] | None = None
    waited = 0
    stopped_early = False

    for epoch in range(1, epochs + 1):
        row: dict[str, float] = {"epoch": epoch, "lr": float(optimizer.param_groups[0]["lr"])}
        model.train()
        total = total_penalty = 0.0
        count = batches = 0
        outputs, targets = [], []
        for batch in train_loader:
            inputs, target = _split(batch, "train_loader")
            inputs, target_dev = _to(inputs, dev), _to(target, dev)
            out = model(inputs)
            data_loss = _scalar_loss(loss_fn(out, target_dev), "loss_fn")
            loss = data_loss
            if penalty is not None:
                pen = _scalar_loss(penalty(model), "penalty")
                loss = data_loss + pen
                total_penalty += pen.item()
            value = data_loss.item()
            if not math.isfinite(value) or not math.isfinite(loss.item()):
                raise FloatingPointError(f"the training loss is {loss.item()} in epoch {epoch}, batch {batches + 1}")
            optimizer.zero_grad()
            loss.backward()
            if clip_grad_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
            optimizer.step()
            if scheduler is not None and scheduler_step == "batch":
                scheduler.step()
            n = _batch_size(target)
            total += value * n
            count += n
            batches += 1
            if metrics:
                outputs.append(out.detach().cpu())
                targets.append(target.cpu())
        if batches == 0:
            raise ValueError("train_loader yielded no batches")
        row["train_loss"] = total / count
        if penalty is not None:
            row["penalty"] = total_penalty / batches
        row.update({f"train_{k}": v for k, v in _compute_metrics(metrics, outputs, targets).items()})
        if val_loader is not None:
            scores = evaluate(model, val_loader, loss_fn, metrics, device=dev)
            row.update({f"val_{k}": v for k, v in scores.items()})

        if scheduler is not None and scheduler_step == "epoch":
            if plateau:
                scheduler.step(row[scheduler_monitor])  # type: ignore[index]
            else:
                scheduler.step()
        rows.append(row)
        if progress:
            print("  ".join(f"{k} {fmt(v)}" if k != "epoch" else f"epoch {v}/{epochs}" for k, v in row.items()))

        stop = False
        if early_stopping is not None:
            value = row[early_stopping.monitor]
            if early_stopping.improves(value, best):
                best, best_epoch, waited = value, epoch, 0
                if early_stopping.restore_best:
                    best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
                stop = waited >= early_stopping.patience
        for cb in callbacks:
            stop = bool(cb(dict(row), model)) or stop
        if stop:
            stopped_early = epoch < epochs
            break

    if early_stopping is not None and early_stopping.restore_best and best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    history = pd.DataFrame(rows)
    history.attrs["best_epoch"] = best_epoch
    history.attrs["stopped_early"] = stopped_early
    return history
