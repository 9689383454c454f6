"""companion.keras: Keras losses checked against float64 torch references, Keras itself, and a save/load cycle."""

from __future__ import annotations

import math
from pathlib import Path

import keras  # noqa: E402  (after companion.keras, which sets the log level)
import numpy as np
import pytest
import tensorflow as tf  # noqa: E402
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from companion.keras import (  # imports keras with TensorFlow's logs quiet
    DEFAULT_A,
    BinaryFocalLoss,
    SymmetricCrossEntropy,
    binary_focal_loss,
    symmetric_cross_entropy,
)

EPS = 1e-7  # keras.config.epsilon()


def _np(x) -> np.ndarray:
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


# --- float64 references written from the formulas, in torch ----------------------------


def _clip_bounds(dtype: str) -> tuple[float, float]:
    """Keras' clip bounds [eps, 1 - eps] as the given float type rounds them."""
    t = np.dtype(dtype).type
    return float(t(EPS)), float(t(1.0) - t(EPS))


def ref_focal(y, pred, alpha, gamma, from_logits, dtype="float32") -> np.ndarray:
    y = torch.as_tensor(np.asarray(y, dtype=np.float64))
    v = torch.as_tensor(np.asarray(pred, dtype=np.float64))
    if from_logits:
        log_p, log_q = F.logsigmoid(v), F.logsigmoid(-v)
    else:
        lo, hi = _clip_bounds(dtype)
        p = v.clamp(lo, hi)
        log_p, log_q = torch.log(p), torch.log1p(-p)
    ce = -(y * log_p + (1 - y) * log_q)
    wrong = y * torch.exp(log_q) + (1 - y) * torch.exp(log_p)  # 1 - p_t
    loss = wrong**gamma * ce
    if alpha is not None:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss.mean(-1).numpy()


def ref_sce(y, pred, alpha, beta, A, from_logits, dtype="float32") -> np.ndarray:
    t = torch.as_tensor(np.asarray(y)).long().reshape(-1)
    v = torch.as_tensor(np.asarray(pred, dtype=np.float64))
    if from_logits:
        log_p = F.log_softmax(v, dim=-1)
    else:
        lo, hi = _clip_bounds(dtype)
        p = v.clamp(lo, hi)
        log_p = torch.log(p / p.sum(-1, keepdim=True))
    log_py = log_p.gather(-1, t[:, None]).squeeze(-1)
    return (alpha * -log_py + beta * -A * -torch.expm1(log_py)).numpy()


# inputs: moderate and extreme logits, hard and soft labels
LOGITS = np.array([0.0, 1e-4, -1e-4, 1.0, -1.0, 6.0, -6.0, 20.0, -20.0, 100.0, -100.0], dtype=np.float32)
X_BIN = np.concatenate([LOGITS, LOGITS, LOGITS]).reshape(-1, 1)
Y_BIN = np.repeat([1.0, 0.0, 0.3], len(LOGITS)).astype(np.float32).reshape(-1, 1)
PROBS = np.array([0.0, 1e-9, 1e-4, 0.2, 0.5, 0.9, 1 - 1e-6, 1.0], dtype=np.float32)
P_BIN = np.concatenate([PROBS, PROBS, PROBS]).reshape(-1, 1)
Y_PBIN = np.repeat([1.0, 0.0, 0.3], len(PROBS)).astype(np.float32).reshape(-1, 1)


# --- binary focal loss ------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [None, 0.25, 0.75])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 5.0])
def test_focal_from_logits_matches_float64_reference(alpha, gamma) -> None:
    got32 = _np(binary_focal_loss(Y_BIN, X_BIN, alpha=alpha, gamma=gamma, from_logits=True))
    got64 = _np(binary_focal_loss(Y_BIN.astype(np.float64), X_BIN.astype(np.float64), alpha, gamma, True))
    want = ref_focal(Y_BIN, X_BIN, alpha, gamma, from_logits=True)
    assert got32.dtype == np.float32 and got32.shape == (len(X_BIN),)
    assert np.isfinite(got32).all()
    np.testing.assert_allclose(got32, want, rtol=2e-6, atol=1e-30)
    np.testing.assert_allclose(got64, want, rtol=1e-12, atol=1e-300)


def test_focal_from_logits_is_exact_where_probabilities_round_to_one() -> None:
    # y = 0 with logit 100: p rounds to 1 in float32, the loss is the logit itself (times 1 - alpha)
    got = _np(binary_focal_loss(np.array([[0.0], [1.0]]), np.array([[100.0], [-100.0]], "float32"), 0.25, 2.0, True))
    np.testing.assert_allclose(got, [0.75 * 100.0, 0.25 * 100.0], rtol=1e-6)


@pytest.mark.parametrize("alpha", [None, 0.25])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_focal_from_probabilities_is_clipped_and_finite(alpha, gamma, dtype) -> None:
    got = _np(binary_focal_loss(Y_PBIN.astype(dtype), P_BIN.astype(dtype), alpha=alpha, gamma=gamma))
    want = ref_focal(Y_PBIN, P_BIN.astype(dtype), alpha, gamma, from_logits=False, dtype=dtype)
    assert np.isfinite(got).all()
    # Keras computes log(1 - p), not log1p(-p): in float32 1 - p rounds, an absolute error below 1e-7
    tol = {"rtol": 1e-5, "atol": 1e-7} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-15}
    np.testing.assert_allclose(got, want, **tol)
    # the clip caps a confidently wrong probability at -log(eps) (1 - eps rounds in float32)
    lo, hi = _clip_bounds(dtype)
    wrong = binary_focal_loss(np.array([[1.0], [0.0]], dtype), np.array([[0.0], [1.0]], dtype), None, 0.0)
    np.testing.assert_allclose(_np(wrong), [-math.log(lo), -math.log1p(-hi)], rtol=1e-6)


@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", None])
def test_gamma_zero_is_keras_binary_crossentropy_exactly(from_logits, reduction) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 4, size=(16, 3)).astype("float32")
    pred = x if from_logits else 1 / (1 + np.exp(-x))
    y = rng.integers(0, 2, size=(16, 3)).astype("float32")
    ours = BinaryFocalLoss(alpha=None, gamma=0.0, from_logits=from_logits, reduction=reduction)(y, pred)
    theirs = keras.losses.BinaryCrossentropy(from_logits=from_logits, reduction=reduction)(y, pred)
    np.testing.assert_array_equal(_np(ours), _np(theirs))


@pytest.mark.parametrize("alpha", [None, 0.25, 0.6])
@pytest.mark.parametrize("gamma", [0.5, 2.0, 3.0])
@pytest.mark.parametrize("from_logits", [True, False])
def test_agrees_with_keras_binary_focal_crossentropy(alpha, gamma, from_logits) -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(-5, 5, size=(32, 4))
    pred = x if from_logits else 1 / (1 + np.exp(-x))
    y = rng.integers(0, 2, size=(32, 4)).astype(float)
    # alpha=None is Keras' default apply_class_balancing=False; alpha=a is apply_class_balancing=True, alpha=a
    balancing = {"apply_class_balancing": alpha is not None, "alpha": 0.25 if alpha is None else alpha}
    for dtype, rtol in (("float32", 1e-5), ("float64", 1e-12)):
        ours = BinaryFocalLoss(alpha, gamma, from_logits, reduction=None, dtype=dtype)(y, pred)
        theirs = keras.losses.BinaryFocalCrossentropy(
            gamma=gamma, from_logits=from_logits, reduction=None, dtype=dtype, **balancing
        )(y, pred)
        np.testing.assert_allclose(_np(ours), _np(theirs), rtol=rtol)


def test_keras_alpha_does_nothing_without_class_balancing() -> None:
    y, x = np.array([[1.0, 0.0, 1.0]]), np.array([[0.3, -2.0, 1.5]])
    plain = keras.losses.BinaryFocalCrossentropy(alpha=0.25, from_logits=True)(y, x)
    other = keras.losses.BinaryFocalCrossentropy(alpha=0.9, from_logits=True)(y, x)
    ours = BinaryFocalLoss(alpha=None, from_logits=True)(y, x)
    assert float(plain) == float(other)
    np.testing.assert_allclose(float(ours), float(plain), rtol=1e-6)


def test_keras_label_smoothing_is_our_loss_on_smoothed_labels() -> None:
    rng = np.random.default_rng(2)
    x = rng.uniform(-4, 4, size=(20, 2))
    y = rng.integers(0, 2, size=(20, 2)).astype(float)
    s = 0.2
    theirs = keras.losses.BinaryFocalCrossentropy(gamma=2.0, from_logits=True, label_smoothing=s, dtype="float64")
    ours = BinaryFocalLoss(alpha=None, gamma=2.0, from_logits=True, dtype="float64")
    np.testing.assert_allclose(float(ours(y * (1 - s) + s / 2, x)), float(theirs(y, x)), rtol=1e-12)


def test_keras_focal_gradient_is_nan_where_the_probability_rounds_to_one() -> None:
    # Keras forms 1 - p_t from sigmoid(x), which is 1.0 in float32 for x >= 17: the factor is 0 and,
    # for gamma < 1, its gradient NaN. Ours keeps log(1 - p_t) = log_sigmoid(-x).
    y, x = np.array([[1.0]], "float32"), tf.constant([[20.0]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        theirs = keras.losses.BinaryFocalCrossentropy(gamma=0.5, from_logits=True)(y, x)
        ours = BinaryFocalLoss(alpha=None, gamma=0.5, from_logits=True)(y, x)
    assert float(theirs) == 0.0 and np.isnan(tape.gradient(theirs, x).numpy()).all()
    np.testing.assert_allclose(float(ours), ref_focal(y, [[20.0]], None, 0.5, True)[0], rtol=1e-5)
    assert float(ours) > 0 and np.isfinite(tape.gradient(ours, x).numpy()).all()


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_focal_gradients_are_finite_and_match_float64_autograd(gamma) -> None:
    x = tf.constant(X_BIN)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(binary_focal_loss(Y_BIN, x, alpha=0.25, gamma=gamma, from_logits=True))
    got = tape.gradient(loss, x).numpy()
    xt = torch.tensor(X_BIN, dtype=torch.float64, requires_grad=True)
    yt = torch.tensor(Y_BIN, dtype=torch.float64)
    log_p, log_q = F.logsigmoid(xt), F.logsigmoid(-xt)
    wrong = torch.exp(torch.logaddexp(torch.log(yt) + log_q, torch.log1p(-yt) + log_p))
    ref = ((0.25 * yt + 0.75 * (1 - yt)) * wrong**gamma * -(yt * log_p + (1 - yt) * log_q)).sum()
    (want,) = torch.autograd.grad(ref, xt)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-4, atol=1e-6)


def test_sample_weight_and_reductions_follow_keras() -> None:
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    x = np.array([[0.5], [2.0], [-1.0], [-3.0]])
    w = np.array([1.0, 0.0, 2.0, 0.5])
    per_sample = _np(BinaryFocalLoss(from_logits=True, reduction="none")(y, x))
    np.testing.assert_allclose(per_sample, ref_focal(y, x, 0.25, 2.0, True), rtol=1e-6)
    total = float(BinaryFocalLoss(from_logits=True, reduction="sum")(y, x, sample_weight=w))
    mean = float(BinaryFocalLoss(from_logits=True)(y, x, sample_weight=w))
    assert math.isclose(total, float((w * per_sample).sum()), rel_tol=1e-6)
    assert math.isclose(mean, float((w * per_sample).mean()), rel_tol=1e-6)


def test_labels_of_shape_n_and_predictions_of_shape_n_by_1_agree() -> None:
    y, x = np.array([1.0, 0.0, 1.0]), np.array([[0.2], [0.4], [-2.0]])
    np.testing.assert_array_equal(
        _np(binary_focal_loss(y, x, from_logits=True)), _np(binary_focal_loss(y[:, None], x, from_logits=True))
    )


def test_values_in_a_compiled_function_equal_eager_values() -> None:
    step = tf.function(lambda y, x: binary_focal_loss(y, x, alpha=0.25, gamma=2.0, from_logits=True))
    np.testing.assert_array_equal(
        step(tf.constant(Y_BIN), tf.constant(X_BIN)).numpy(), _np(binary_focal_loss(Y_BIN, X_BIN, 0.25, 2.0, True))
    )


@settings(max_examples=30, deadline=None)
@given(
    x=hnp.arrays(np.float64, (6, 2), elements=st.floats(-60, 60)),
    y=hnp.arrays(np.float64, (6, 2), elements=st.sampled_from([0.0, 1.0, 0.25])),
    alpha=st.one_of(st.none(), st.floats(0, 1)),
    gamma=st.floats(0, 4),
)
def test_focal_property_any_logits_match_reference(x, y, alpha, gamma) -> None:
    got = _np(binary_focal_loss(y, x, alpha=alpha, gamma=gamma, from_logits=True))
    np.testing.assert_allclose(got, ref_focal(y, x, alpha, gamma, True), rtol=1e-10, atol=1e-300)


# --- symmetric cross entropy -----------------------------------------------------------

X_SCE = np.array(
    [[2.0, 0.0, 0.0], [0.0, 1.0, 3.0], [100.0, -100.0, 0.0], [100.0, -100.0, 0.0], [-100.0, 100.0, 50.0], [0, 0, 0]],
    dtype=np.float32,
)
Y_SCE = np.array([0, 1, 0, 1, 1, 2])


@pytest.mark.parametrize(
    "alpha, beta, A", [(0.1, 1.0, DEFAULT_A), (1.0, 0.0, DEFAULT_A), (0.0, 1.0, -4.0), (0.5, 2.0, -1.0)]
)
def test_sce_from_logits_matches_float64_reference(alpha, beta, A) -> None:
    got32 = _np(symmetric_cross_entropy(Y_SCE, X_SCE, alpha, beta, A, from_logits=True))
    got64 = _np(symmetric_cross_entropy(Y_SCE, X_SCE.astype(np.float64), alpha, beta, A, from_logits=True))
    want = ref_sce(Y_SCE, X_SCE, alpha, beta, A, from_logits=True)
    assert np.isfinite(got32).all() and got32.shape == (len(Y_SCE),)
    np.testing.assert_allclose(got32, want, rtol=2e-6, atol=1e-30)
    np.testing.assert_allclose(got64, want, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sce_from_probabilities_is_clipped_renormalized_and_finite(dtype) -> None:
    p = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.2, 0.3, 0.5], [0.0, 0.5, 0.5]], dtype=dtype)
    y = np.array([0, 1, 2, 0])
    got = _np(symmetric_cross_entropy(y, p, 0.1, 1.0, DEFAULT_A, from_logits=False))
    want = ref_sce(y, p, 0.1, 1.0, DEFAULT_A, from_logits=False, dtype=dtype)
    assert np.isfinite(got).all()
    # the clipped probabilities are renormalized in the working precision: absolute rounding errors
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-14}
    np.testing.assert_allclose(got, want, **tol)


@pytest.mark.parametrize("from_logits", [True, False])
def test_sce_with_alpha_1_beta_0_is_keras_sparse_categorical_crossentropy(from_logits) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0, 3, size=(12, 5)).astype("float32")
    pred = x if from_logits else np.exp(x) / np.exp(x).sum(-1, keepdims=True)
    y = rng.integers(0, 5, size=12)
    ours = SymmetricCrossEntropy(alpha=1.0, beta=0.0, from_logits=from_logits, reduction=None)(y, pred)
    theirs = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, reduction=None)(y, pred)
    np.testing.assert_array_equal(_np(ours), _np(theirs))


def test_reverse_term_is_bounded_by_minus_A() -> None:
    x = np.array([[-100.0, 100.0, 0.0]], "float32")  # confidently wrong for label 0
    rce = float(SymmetricCrossEntropy(alpha=0.0, beta=1.0, from_logits=True)(np.array([0]), x))
    ce = float(SymmetricCrossEntropy(alpha=1.0, beta=0.0, from_logits=True)(np.array([0]), x))
    assert math.isclose(rce, -DEFAULT_A, rel_tol=1e-6) and math.isclose(ce, 200.0, rel_tol=1e-6)


def test_sce_accepts_labels_with_a_trailing_axis() -> None:
    np.testing.assert_array_equal(
        _np(symmetric_cross_entropy(Y_SCE[:, None], X_SCE, from_logits=True)),
        _np(symmetric_cross_entropy(Y_SCE, X_SCE, from_logits=True)),
    )


# --- configuration, serialization, saving -------------------------------------------------


@pytest.mark.parametrize(
    "loss",
    [
        BinaryFocalLoss(alpha=0.4, gamma=1.5, from_logits=True, reduction="sum", name="fl"),
        BinaryFocalLoss(alpha=None),
        SymmetricCrossEntropy(alpha=0.3, beta=0.7, A=-2.0, from_logits=True, reduction=None),
    ],
    ids=["focal", "focal-no-alpha", "sce"],
)
def test_config_round_trip(loss) -> None:
    config = loss.get_config()
    again = type(loss).from_config(config)
    assert again.get_config() == config
    revived = keras.losses.deserialize(keras.losses.serialize(loss))  # no custom_objects: registered
    assert type(revived) is type(loss) and revived.get_config() == config
    assert keras.saving.get_registered_name(type(loss)) == f"companion>{type(loss).__name__}"


def test_functions_are_registered_too() -> None:
    for fn in (binary_focal_loss, symmetric_cross_entropy):
        assert keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(fn)) is fn


def _save_and_reload(model: keras.Model, x: np.ndarray, y: np.ndarray, tmp_path: Path, name: str) -> None:
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # no custom_objects
    assert type(loaded.loss) is type(model.loss)
    assert loaded.loss.get_config() == model.loss.get_config()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # inside Keras' predict
def test_model_with_focal_loss_saves_and_loads(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype("float32")
    y = (x[:, :1] + 0.5 * x[:, 1:2] > 0).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss=BinaryFocalLoss(alpha=0.3, gamma=2.0, from_logits=True))
    _save_and_reload(model, x, y, tmp_path, "focal")


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # inside Keras' predict
def test_model_with_sce_saves_and_loads(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(48, 4)).astype("float32")
    y = np.argmax(x[:, :3], axis=1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(optimizer="adam", loss=SymmetricCrossEntropy(from_logits=True))
    _save_and_reload(model, x, y, tmp_path, "sce")


# --- bad arguments and inputs ---------------------------------------------------------------


@pytest.mark.parametrize(
    "make, error, name",
    [
        (lambda: BinaryFocalLoss(alpha=1.5), ValueError, "alpha"),
        (lambda: BinaryFocalLoss(alpha=-0.1), ValueError, "alpha"),
        (lambda: BinaryFocalLoss(alpha=float("nan")), ValueError, "alpha"),
        (lambda: BinaryFocalLoss(alpha="0.25"), TypeError, "alpha"),
        (lambda: BinaryFocalLoss(gamma=-1.0), ValueError, "gamma"),
        (lambda: BinaryFocalLoss(gamma=float("inf")), ValueError, "gamma"),
        (lambda: BinaryFocalLoss(from_logits="False"), TypeError, "from_logits"),
        (lambda: BinaryFocalLoss(reduction="mean_of_everything"), ValueError, "reduction"),
        (lambda: SymmetricCrossEntropy(alpha=-1.0), ValueError, "alpha"),
        (lambda: SymmetricCrossEntropy(beta=-0.5), ValueError, "beta"),
        (lambda: SymmetricCrossEntropy(A=4.0), ValueError, "A"),
        (lambda: SymmetricCrossEntropy(A=True), TypeError, "A"),
        (lambda: SymmetricCrossEntropy(from_logits=1), TypeError, "from_logits"),
        (lambda: binary_focal_loss([[1.0]], [[0.5]], gamma=-2.0), ValueError, "gamma"),
        (lambda: symmetric_cross_entropy([0], [[0.5, 0.5]], beta=-1.0), ValueError, "beta"),
    ],
)
def test_bad_arguments_name_the_argument(make, error, name) -> None:
    with pytest.raises(error, match=rf"\b{name}\b"):
        make()


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: binary_focal_loss(np.ones((4, 2)), np.zeros((4, 3)), from_logits=True), "y_true"),
        (lambda: binary_focal_loss(np.array([[2.0]]), np.array([[0.5]])), "y_true"),
        (lambda: binary_focal_loss(np.array([[1.0]]), np.array([[1.5]])), "y_pred"),
        (lambda: binary_focal_loss(np.array(1.0), np.array(0.5)), "y_pred"),
        (lambda: symmetric_cross_entropy(np.array([0, 3]), np.zeros((2, 3)), from_logits=True), "y_true"),
        (lambda: symmetric_cross_entropy(np.array([0.5, 1.0]), np.zeros((2, 3)), from_logits=True), "y_true"),
        (lambda: symmetric_cross_entropy(np.array([0, 1, 2]), np.zeros((2, 3)), from_logits=True), "y_true"),
        (lambda: symmetric_cross_entropy(np.array([0, 1]), np.full((2, 3), 2.0)), "y_pred"),
        (lambda: symmetric_cross_entropy(np.array([0]), np.zeros((1, 1)), from_logits=True), "y_pred"),
        (lambda: symmetric_cross_entropy(np.array([0, 1]), np.zeros(2), from_logits=True), "y_pred"),
    ],
)
def test_bad_inputs_name_the_input(call, name) -> None:
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()
