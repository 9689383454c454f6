"""companion.training: the training loop, early stopping, scheduler stepping, metrics and argument checks."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, average_precision_score, roc_auc_score
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset, random_split

import companion
from companion.regularization import l2_penalty
from companion.training import EarlyStopping, accuracy, batch_loader, evaluate, fit, predict

LRS = torch.optim.lr_scheduler
CPU = "cpu"


def blobs(n: int = 200, seed: int = 0, flip: bool = False) -> TensorDataset:
    """Two Gaussian blobs in 2-D, linearly separable; `flip` swaps the labels."""
    g = torch.Generator().manual_seed(seed)
    y = (torch.arange(n) % 2).float().unsqueeze(1)
    x = torch.randn(n, 2, generator=g) * 0.5 + (2 * y - 1) * torch.tensor([1.5, 1.5])
    return TensorDataset(x, 1 - y if flip else y)


def loader(ds: TensorDataset, batch_size: int = 32, shuffle: bool = False, seed: int = 0) -> DataLoader:
    gen = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, generator=gen)


def mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))


def same_state(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# ---------------------------------------------------------------------------
# training works


def test_loss_decreases_on_a_separable_problem() -> None:
    net = mlp()
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    hist = fit(
        net,
        nn.BCEWithLogitsLoss(),
        opt,
        loader(blobs(), shuffle=True),
        epochs=15,
        metrics={"acc": accuracy},
        device=CPU,
    )
    assert list(hist.columns) == ["epoch", "lr", "train_loss", "train_acc"]
    assert hist["epoch"].tolist() == list(range(1, 16))
    assert hist["train_loss"].iloc[-1] < 0.2 * hist["train_loss"].iloc[0]
    assert hist["train_acc"].iloc[-1] == 1.0
    assert not net.training  # fit returns the model in evaluation mode


def test_fit_is_deterministic_after_setup() -> None:
    def run() -> tuple[list[float], nn.Module]:
        companion.setup(3)
        net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 1))
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        dl = DataLoader(blobs(), batch_size=16, shuffle=True)  # shuffles with torch's global generator
        hist = fit(net, nn.BCEWithLogitsLoss(), opt, dl, epochs=4, device=CPU)
        return hist["train_loss"].tolist(), net

    (h1, n1), (h2, n2) = run(), run()
    assert h1 == h2 and same_state(n1, n2)


def test_train_loss_is_the_sample_weighted_mean_and_penalty_is_reported_apart() -> None:
    """With lr=0 nothing moves, so the epoch's loss must equal the loss on the whole training set."""
    net = mlp()
    ds = blobs(50)  # batches of 16, 16, 16, 2
    opt = torch.optim.SGD(net.parameters(), lr=0.0)
    hist = fit(
        net, nn.BCEWithLogitsLoss(), opt, loader(ds, 16), epochs=1, penalty=lambda m: l2_penalty(m, 0.1), device=CPU
    )
    x, y = ds.tensors
    with torch.no_grad():
        full = nn.functional.binary_cross_entropy_with_logits(net(x), y).item()
    assert hist["train_loss"].iloc[0] == pytest.approx(full, rel=1e-6)
    assert hist["penalty"].iloc[0] == pytest.approx(l2_penalty(net, 0.1).item(), rel=1e-6)


def test_penalty_enters_the_gradient() -> None:
    """One SGD step with an L2 penalty equals one step on loss + penalty written by hand."""
    ds = blobs(32)
    a, b = mlp(), mlp()
    fit(
        a,
        nn.BCEWithLogitsLoss(),
        torch.optim.SGD(a.parameters(), lr=0.1),
        loader(ds, 32),
        epochs=1,
        penalty=lambda m: l2_penalty(m, 0.5),
        device=CPU,
    )
    x, y = ds.tensors
    opt = torch.optim.SGD(b.parameters(), lr=0.1)
    (nn.functional.binary_cross_entropy_with_logits(b(x), y) + l2_penalty(b, 0.5)).backward()
    opt.step()
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(pa, pb)


def test_clip_grad_norm_limits_the_step() -> None:
    net = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(net.weight)
    ds = TensorDataset(torch.tensor([[1.0]]), torch.tensor([[100.0]]))
    fit(
        net,
        nn.MSELoss(),
        torch.optim.SGD(net.parameters(), lr=1.0),
        loader(ds),
        epochs=1,
        clip_grad_norm=0.5,
        device=CPU,
    )
    # the gradient is 2 * (0 - 100) = -200; clipped to norm 0.5, the step is +0.5
    assert net.weight.item() == pytest.approx(0.5, rel=1e-5)


# ---------------------------------------------------------------------------
# early stopping


def _overfit(epochs: int, stopping: EarlyStopping | None = None):
    """Training on one labelling and validating on the flipped one: val_loss only gets worse."""
    net = mlp()
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    hist = fit(
        net,
        nn.BCEWithLogitsLoss(),
        opt,
        loader(blobs(), shuffle=True),
        epochs=epochs,
        val_loader=loader(blobs(flip=True)),
        early_stopping=stopping,
        device=CPU,
    )
    return hist, net


def test_early_stopping_stops_and_restores_the_best_weights() -> None:
    hist, net = _overfit(20, EarlyStopping(patience=3))
    assert len(hist) == 4  # best epoch 1, then 3 epochs without improvement
    assert hist.attrs == {"best_epoch": 1, "stopped_early": True}
    assert hist["val_loss"].is_monotonic_increasing
    _, after_one = _overfit(1)  # an independent run of exactly one epoch
    assert same_state(net, after_one)


def test_early_stopping_without_restore_keeps_the_last_weights() -> None:
    hist, net = _overfit(20, EarlyStopping(patience=2, restore_best=False))
    assert len(hist) == 3
    _, after_three = _overfit(3)
    assert same_state(net, after_three)


def test_early_stopping_max_mode_and_min_delta() -> None:
    rule = EarlyStopping(patience=2, monitor="val_auc", mode="max", min_delta=0.01)
    assert rule.improves(0.5, None) and not rule.improves(float("nan"), None)
    assert rule.improves(0.52, 0.5) and not rule.improves(0.505, 0.5)
    rule_min = EarlyStopping(patience=1)
    assert rule_min.improves(0.9, 1.0) and not rule_min.improves(1.0, 1.0)


def test_early_stopping_never_triggered_still_restores_the_best_epoch() -> None:
    net = mlp()
    seen = []

    def spy(row: dict, model: nn.Module) -> None:
        seen.append((row["val_loss"], copy.deepcopy(model.state_dict())))

    hist = fit(
        net,
        nn.BCEWithLogitsLoss(),
        torch.optim.SGD(net.parameters(), lr=0.5),
        loader(blobs(), shuffle=True),
        epochs=5,
        val_loader=loader(blobs(seed=1)),
        early_stopping=EarlyStopping(patience=10),
        callbacks=[spy],
        device=CPU,
    )
    best = int(np.argmin([v for v, _ in seen]))
    assert hist.attrs == {"best_epoch": best + 1, "stopped_early": False}
    for k, v in net.state_dict().items():
        assert torch.equal(v, seen[best][1][k])


def test_a_callback_can_stop_training() -> None:
    net = mlp()
    hist = fit(
        net,
        nn.BCEWithLogitsLoss(),
        torch.optim.SGD(net.parameters(), lr=0.1),
        loader(blobs()),
        epochs=10,
        callbacks=[lambda row, model: row["epoch"] == 2],
        device=CPU,
    )
    assert len(hist) == 2 and hist.attrs["stopped_early"] is True


# ---------------------------------------------------------------------------
# schedulers


def _lr_column(scheduler_step: str) -> tuple[list[float], int]:
    net = mlp()
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    sched = LRS.StepLR(opt, step_size=2, gamma=0.5)
    ds = blobs(36)  # 3 batches of 12
    hist = fit(
        net,
        nn.BCEWithLogitsLoss(),
        opt,
        loader(ds, 12),
        epochs=5,
        scheduler=sched,
        scheduler_step=scheduler_step,
        device=CPU,
    )
    return hist["lr"].tolist(), sched.last_epoch


def test_scheduler_stepped_per_epoch() -> None:
    lrs, steps = _lr_column("epoch")
    assert steps == 5
    assert lrs == pytest.approx([0.5 ** (e // 2) for e in range(5)])  # 1, 1, .5, .5, .25


def test_scheduler_stepped_per_batch() -> None:
    lrs, steps = _lr_column("batch")
    assert steps == 15
    # epoch e (from 0) starts after 3e scheduler steps
    assert lrs == pytest.approx([0.5 ** ((3 * e) // 2) for e in range(5)])  # 1, .5, .125, .0625, 1/64


def test_reduce_lr_on_plateau_is_stepped_with_the_monitored_value() -> None:
    net = mlp()
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    sched = LRS.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    constant = lambda out, y: 0.0 * out.sum() + 1.0  # noqa: E731 - a loss that never improves
    hist = fit(net, constant, opt, loader(blobs()), epochs=6, scheduler=sched, device=CPU)
    # epochs 2 and 3 are bad -> reduce after epoch 3; epochs 4 and 5 bad -> reduce after epoch 5
    assert hist["lr"].tolist() == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25]


# ---------------------------------------------------------------------------
# metrics and evaluation


def test_metrics_equal_sklearn_on_the_same_predictions() -> None:
    metrics = {
        "acc": accuracy,
        "auc": lambda out, y: roc_auc_score(y.numpy(), out.numpy()),
        "ap": lambda out, y: average_precision_score(y.numpy(), out.numpy()),
    }
    net = mlp()
    val = loader(blobs(90, seed=5), batch_size=25)  # uneven last batch
    noisy = blobs(200, seed=2)
    noisy.tensors[1][::7] = 1 - noisy.tensors[1][::7]  # some label noise, so the metrics are not all 1
    hist = fit(
        net,
        nn.BCEWithLogitsLoss(),
        torch.optim.SGD(net.parameters(), lr=0.05),
        loader(noisy),
        epochs=2,
        val_loader=val,
        metrics=metrics,
        device=CPU,
    )
    out, y = predict(net, val, device=CPU)
    y_np, score = y.numpy().ravel(), out.numpy().ravel()
    last = hist.iloc[-1]
    assert last["val_acc"] == pytest.approx(accuracy_score(y_np, score > 0))
    assert last["val_auc"] == pytest.approx(roc_auc_score(y_np, score))
    assert last["val_ap"] == pytest.approx(average_precision_score(y_np, score))
    assert 0.5 < last["train_acc"] < 1.0


def test_evaluate_loss_is_the_loss_on_the_whole_set() -> None:
    net = mlp()
    ds = blobs(47)
    res = evaluate(net, loader(ds, 10), nn.BCEWithLogitsLoss(), {"acc": accuracy}, device=CPU)
    x, y = ds.tensors
    with torch.no_grad():
        logits = net(x)
    assert res["loss"] == pytest.approx(nn.functional.binary_cross_entropy_with_logits(logits, y).item(), rel=1e-6)
    assert res["acc"] == pytest.approx(accuracy_score(y.numpy().ravel(), logits.numpy().ravel() > 0))
    assert set(evaluate(net, loader(ds), metrics={"acc": accuracy}, device=CPU)) == {"acc"}


def test_evaluate_and_predict_restore_the_training_mode() -> None:
    net = nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.5), nn.Linear(4, 1))
    net.train()
    a = predict(net, loader(blobs(20)), device=CPU)[0]
    b = predict(net, loader(blobs(20)), device=CPU)[0]
    assert torch.equal(a, b)  # dropout off while predicting
    evaluate(net, loader(blobs(20)), nn.BCEWithLogitsLoss(), device=CPU)
    assert net.training


def test_accuracy_multiclass_and_binary_match_sklearn() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(50, 4, generator=g)
    labels = torch.randint(0, 4, (50,), generator=g)
    assert accuracy(logits, labels) == pytest.approx(accuracy_score(labels, logits.argmax(1)))
    scores = torch.randn(50, generator=g)
    y = (torch.rand(50, generator=g) > 0.5).float()
    assert accuracy(scores, y) == pytest.approx(accuracy_score(y, scores > 0))


# ---------------------------------------------------------------------------
# bad arguments


def _args(**override):
    net = mlp()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    kw = dict(
        model=net, loss_fn=nn.BCEWithLogitsLoss(), optimizer=opt, train_loader=loader(blobs(20)), epochs=1, device=CPU
    )
    kw.update({k: (v(opt) if callable(v) and k == "scheduler" else v) for k, v in override.items()})
    return kw


@pytest.mark.parametrize(
    "override, match",
    [
        ({"epochs": 0}, "epochs must be >= 1"),
        ({"scheduler_step": "iteration"}, "scheduler_step must be one of"),
        (
            {"scheduler": lambda opt: LRS.StepLR(torch.optim.SGD(mlp().parameters(), lr=1.0), 2)},
            "scheduler of the optimizer passed to fit",
        ),
        (
            {"scheduler": lambda opt: LRS.ReduceLROnPlateau(opt), "scheduler_step": "batch"},
            "use scheduler_step='epoch'",
        ),
        (
            {"scheduler": lambda opt: LRS.ReduceLROnPlateau(opt), "scheduler_monitor": "val_loss"},
            "scheduler_monitor must be one of",
        ),
        ({"scheduler_monitor": "train_loss"}, "only used with ReduceLROnPlateau"),
        ({"early_stopping": EarlyStopping(patience=2)}, "early_stopping.monitor must be one of"),
        (
            {"early_stopping": EarlyStopping(patience=2, monitor="val_acc"), "val_loader": loader(blobs(20))},
            "early_stopping.monitor must be one of",
        ),
        ({"clip_grad_norm": 0.0}, "clip_grad_norm must be > 0"),
        ({"metrics": {"loss": accuracy}}, "'loss' is reserved"),
        ({"metrics": {"my acc": accuracy}}, "metric names must be identifiers"),
        ({"train_loader": []}, "train_loader yielded no batches"),
        ({"train_loader": [torch.zeros(3, 2)]}, r"must yield \(inputs, targets\) pairs"),
        ({"loss_fn": nn.BCEWithLogitsLoss(reduction="none")}, "must return a scalar tensor"),
        ({"device": "no-such-device"}, "device must name a torch device"),
    ],
)
def test_bad_arguments_raise_value_error(override: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fit(**_args(**override))


@pytest.mark.parametrize(
    "override",
    [
        {"epochs": 2.0},
        {"epochs": True},
        {"model": "net"},
        {"optimizer": "adam"},
        {"early_stopping": 3},
        {"clip_grad_norm": "1"},
        {"callbacks": [3]},
        {"metrics": {"acc": 3}},
        {"penalty": 0.1},
    ],
)
def test_wrong_types_raise_type_error(override: dict) -> None:
    with pytest.raises(TypeError):
        fit(**_args(**override))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"patience": 0}, "patience must be >= 1"),
        ({"patience": 2, "mode": "maximum"}, "mode must be one of"),
        ({"patience": 2, "min_delta": -0.1}, "min_delta must be >= 0"),
    ],
)
def test_bad_early_stopping_raises_value_error(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        EarlyStopping(**kwargs)


def test_non_finite_loss_raises() -> None:
    with pytest.raises(FloatingPointError, match="epoch 1, batch 1"):
        fit(**_args(loss_fn=lambda out, y: out.sum() * float("nan")))


def test_accuracy_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="accuracy needs"):
        accuracy(torch.zeros(4, 3), torch.zeros(5))


def test_progress_prints_one_line_per_epoch(capsys: pytest.CaptureFixture[str]) -> None:
    fit(**_args(epochs=3, progress=True))
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [["epoch", "1/3"], ["epoch", "2/3"], ["epoch", "3/3"]]


# ---------------------------------------------------------------------------
# batch_loader: DataLoader's batches, taken whole


def _epochs(make, n: int = 2) -> list[list[list[torch.Tensor]]]:
    loader = make()
    return [list(loader) for _ in range(n)]


def _tensor_data(n: int = 23) -> TensorDataset:
    g = torch.Generator().manual_seed(3)
    return TensorDataset(torch.randn(n, 3, generator=g), torch.randint(0, 5, (n,), generator=g))


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("kind", ["tensors", "split", "subset of a subset"])
def test_batch_loader_yields_the_dataloaders_batches_and_draws_the_same_random_numbers(shuffle, drop_last, kind):
    data: Dataset = _tensor_data()
    if kind == "split":
        data = random_split(data, [17, 6], generator=torch.Generator().manual_seed(1))[0]
    elif kind == "subset of a subset":
        data = Subset(Subset(data, list(range(22, 0, -1))), [0, 5, 2, 7, 9, 11, 3, 1, 4, 13])
    for seeded in (True, False):  # the loader's own generator, or torch's global one
        runs = []
        for make in (DataLoader, lambda d, b, **kw: batch_loader(d, b, **kw)):
            torch.manual_seed(11)
            gen = torch.Generator().manual_seed(5) if seeded else None
            epochs = _epochs(
                lambda make=make, gen=gen: make(data, 4, shuffle=shuffle, drop_last=drop_last, generator=gen)
            )
            after = (gen.get_state() if seeded else torch.get_rng_state(), torch.rand(1))
            runs.append((epochs, after))
        (want, want_after), (got, got_after) = runs
        assert [len(e) for e in got] == [len(e) for e in want]
        for epoch_want, epoch_got in zip(want, got, strict=True):
            for batch_want, batch_got in zip(epoch_want, epoch_got, strict=True):
                assert type(batch_got) is type(batch_want) is list
                assert len(batch_got) == len(batch_want) == 2
                for a, b in zip(batch_want, batch_got, strict=True):
                    assert a.dtype == b.dtype
                    assert torch.equal(a, b)
        assert torch.equal(want_after[0], got_after[0]) and torch.equal(want_after[1], got_after[1])
        if shuffle:  # the check compares something: two epochs differ
            assert not torch.equal(want[0][0][0], want[1][0][0])


def test_batch_loader_trains_as_the_dataloader_does():
    data = blobs(64)
    nets = []
    for make in (DataLoader, batch_loader):
        net = mlp(1)
        opt = torch.optim.SGD(net.parameters(), lr=0.2)
        train = make(data, 8, shuffle=True, generator=torch.Generator().manual_seed(2))
        hist = fit(net, nn.BCEWithLogitsLoss(), opt, train, epochs=3, device=CPU)
        nets.append((net, hist))
    assert same_state(nets[0][0], nets[1][0])
    assert nets[0][1]["train_loss"].tolist() == nets[1][1]["train_loss"].tolist()


def test_batch_loader_rejects_what_it_cannot_index_by_lists():
    class Items(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return torch.tensor(float(i)), torch.tensor(0)

    with pytest.raises(TypeError, match="dataset must be a TensorDataset or a Subset of one"):
        batch_loader(Items(), 2)
    with pytest.raises(TypeError, match="dataset must be a TensorDataset"):
        batch_loader([(torch.zeros(1), torch.zeros(1))], 2)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        batch_loader(_tensor_data(), 0)
    with pytest.raises(TypeError, match="shuffle must be True or False"):
        batch_loader(_tensor_data(), 2, shuffle="yes")
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        batch_loader(_tensor_data(), 2, generator=0)
