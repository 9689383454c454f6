r"""By-hand update rules of ``torch.optim``'s optimizers, one function per algorithm.

Teaching code, written from the algorithm boxes of the PyTorch documentation,
with plain tensor arithmetic in the order the formulas are written: readable
first, and identical to ``torch.optim`` to rounding error in float64 (the
tests run both side by side for 50 steps and compare every iterate).

Every function has the same shape::

    rule(param, grad, state, *, lr, ...hyperparameters) -> None

It updates ``param`` in place from its gradient ``grad`` and the
per-parameter ``state`` dict, which it also updates (it starts empty and
holds ``step`` and the running buffers, named as in ``torch.optim``). The
gradient is :math:`g_t = \nabla f(\theta_{t-1})`, or its negative with
``maximize=True``; "coupled" weight decay adds :math:`\lambda\theta_{t-1}` to it,
which is the gradient of the penalty :math:`\frac\lambda2\lVert\theta\rVert^2`.

:mod:`companion.optim.reference` wraps each rule in a
``torch.optim.Optimizer`` subclass.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import torch

from .._checks import check_bool, check_floating, check_int, check_number

__all__ = [
    "MUON_NS_COEFFICIENTS",
    "adadelta_step",
    "adafactor_step",
    "adagrad_step",
    "adam_step",
    "adamax_step",
    "asgd_step",
    "lbfgs_step",
    "muon_step",
    "nadam_step",
    "newton_schulz",
    "radam_step",
    "rmsprop_step",
    "rprop_step",
    "sgd_step",
    "sparse_adam_step",
]

State = dict[str, Any]


# ---------------------------------------------------------------------------
# argument checks


def _nonneg(value: Any, name: str) -> float:
    return check_number(value, name, low=0.0)


def _unit(value: Any, name: str) -> float:
    """A decay rate in [0, 1)."""
    return check_number(value, name, low=0.0, below=1.0)


def _pair(value: Any, name: str) -> tuple[Any, Any]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair of numbers, got {value!r}")
    return value[0], value[1]


def _betas(betas: Any) -> tuple[float, float]:
    b1, b2 = _pair(betas, "betas")
    return _unit(b1, "betas[0]"), _unit(b2, "betas[1]")


def _flag(value: Any, name: str) -> bool:
    return check_bool(value, name)


def _tensors(param: Any, grad: Any, state: Any) -> None:
    check_floating(param, "param")
    check_floating(grad, "grad")
    if grad.shape != param.shape:
        raise ValueError(f"grad must have the shape of param, {tuple(param.shape)}, got {tuple(grad.shape)}")
    if grad.is_sparse:
        raise ValueError("grad must be dense; SparseAdam is the torch optimizer for sparse gradients")
    if not isinstance(state, dict):
        raise TypeError(f"state must be a dict, got {type(state).__name__}")


def _direction(grad: torch.Tensor, maximize: bool) -> torch.Tensor:
    """:math:`g_t`: the gradient, or its negative when maximizing (a new tensor)."""
    return -grad.detach() if maximize else grad.detach().clone()


def _next_step(state: State) -> int:
    step = int(state.get("step", 0)) + 1
    state["step"] = step
    return step


# ---------------------------------------------------------------------------
# the rules


@torch.no_grad()
def sgd_step(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: State,
    *,
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
    maximize: bool = False,
) -> None:
    r"""One step of ``torch.optim.SGD``: gradient descent with optional (Nesterov) momentum.

    .. math::

        g_t &\leftarrow g_t + \lambda\theta_{t-1} \\
        b_t &= \begin{cases} g_t & t = 1 \\ \mu b_{t-1} + (1-\tau) g_t & t > 1 \end{cases} \\
        d_t &= \begin{cases} g_t + \mu b_t & \text{nesterov} \\ b_t & \text{otherwise} \end{cases} \\
        \theta_t &= \theta_{t-1} - \gamma d_t

    with learning rate :math:`\gamma`, momentum :math:`\mu`, dampening
    :math:`\tau` and weight decay :math:`\lambda`. The buffer :math:`b` holds
    gradients, not steps: the learning rate multiplies it when the step is
    taken, so changing the learning rate rescales the whole accumulated
    velocity at once. Without momentum the update is :math:`\theta - \gamma g`.

    Examples
    --------
    >>> import torch
    >>> w, state = torch.tensor([1.0]), {}
    >>> for _ in range(3):
    ...     sgd_step(w, torch.tensor([1.0]), state, lr=0.1, momentum=0.5)
    >>> state["momentum_buffer"], w  # b = 1, 1.5, 1.75; w = 1 - 0.1 * (1 + 1.5 + 1.75)
    (tensor([1.7500]), tensor([0.5750]))
    """
    _tensors(param, grad, state)
    lr, momentum = _nonneg(lr, "lr"), _nonneg(momentum, "momentum")
    dampening, weight_decay = check_number(dampening, "dampening"), _nonneg(weight_decay, "weight_decay")
    nesterov, maximize = _flag(nesterov, "nesterov"), _flag(maximize, "maximize")
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("nesterov=True requires momentum > 0 and dampening = 0")

    g = _direction(grad, maximize)
    if weight_decay != 0:
        g = g + weight_decay * param
    if momentum != 0:
        if "momentum_buffer" not in state:
            buf = g.clone()
        else:
            buf = momentum * state["momentum_buffer"] + (1 - dampening) * g
        state["momentum_buffer"] = buf
        g = g + momentum * buf if nesterov else buf
    param.copy_(param - lr * g)


@torch.no_grad()
def adam_step(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: State,
    *,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    maximize: bool = False,
    decoupled_weight_decay: bool = False,
) -> None:
    r"""One step of ``torch.optim.Adam`` (with ``decoupled_weight_decay=True``: of ``AdamW``).

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \hat m_t &= \frac{m_t}{1-\beta_1^t}, \qquad
        \hat v_t = \frac{v_t^{\max}}{1-\beta_2^t}
            \text{ with } v_t^{\max} = \max(v_{t-1}^{\max}, v_t) \text{ (amsgrad) or } v_t \\
        \theta_t &= \theta_{t-1} - \gamma \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    Weight decay :math:`\lambda` is either coupled, :math:`g_t \leftarrow g_t +
    \lambda\theta_{t-1}` (Adam: an L2 penalty, which then goes through the
    adaptive scaling), or decoupled, :math:`\theta \leftarrow (1 - \gamma\lambda)\theta`
    before the step (AdamW, Loshchilov and Hutter). AMSGrad divides by the
    largest second moment seen so far, so that the per-coordinate step size
    :math:`\gamma/(\sqrt{\hat v_t}+\epsilon)` can never grow back
    (up to the bias correction).

    Examples
    --------
    >>> import torch
    >>> w, state = torch.tensor([1.0, -1.0]), {}
    >>> adam_step(w, torch.tensor([3.0, -0.01]), state, lr=0.1)
    >>> w  # the first step has size lr in every coordinate, whatever the gradient's size
    tensor([ 0.9000, -0.9000])
    """
    _tensors(param, grad, state)
    lr, eps, weight_decay = _nonneg(lr, "lr"), _nonneg(eps, "eps"), _nonneg(weight_decay, "weight_decay")
    beta1, beta2 = _betas(betas)
    amsgrad, maximize = _flag(amsgrad, "amsgrad"), _flag(maximize, "maximize")
    decoupled = _flag(decoupled_weight_decay, "decoupled_weight_decay")

    g = _direction(grad, maximize)
    t = _next_step(state)
    if weight_decay != 0:
        if decoupled:
            param.copy_(param - lr * weight_decay * param)
        else:
            g = g + weight_decay * param
    m = beta1 * state.get("exp_avg", torch.zeros_like(param)) + (1 - beta1) * g
    v = beta2 * state.get("exp_avg_sq", torch.zeros_like(param)) + (1 - beta2) * g * g
    state["exp_avg"], state["exp_avg_sq"] = m, v
    if amsgrad:
        v = torch.maximum(state.get("max_exp_avg_sq", torch.zeros_like(param)), v)
        state["max_exp_avg_sq"] = v
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    param.copy_(param - lr * m_hat / (v_hat.sqrt() + eps))


@torch.no_grad()
def adamax_step(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: State,
    *,
    lr: float = 2e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> None:
    r"""One step of ``torch.optim.Adamax``: Adam with an infinity norm in place of the RMS.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        u_t = \max(\beta_2 u_{t-1},\; |g_t| + \epsilon) \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1-\beta_1^t} \frac{m_t}{u_t}

    :math:`u_t` is the limit :math:`p \to \infty` of an exponentially weighted
    :math:`L^p` norm of past gradients: the "max" in the name is that norm. It
    also keeps every coordinate's step at most about :math:`\gamma` in size
    (Kingma and Ba), but it does not cap or change the learning rate.

    Examples
    --------
    >>> import torch
    >>> w, state = torch.tensor([0.0]), {}
    >>> adamax_step(w, torch.tensor([-5.0]), state, lr=0.1, eps=0.0)
    >>> w  # m = -0.5, u = 5, step = 0.1 / 0.1 * 0.5 / 5
    tensor([0.1000])
    """
    _tensors(param, grad, state)
    lr, eps, weight_decay = _nonneg(lr, "lr"), _nonneg(eps, "eps"), _nonneg(weight_decay, "weight_decay")
    beta1, beta2 = _betas(betas)
    maximize = _flag(maximize, "maximize")

    g = _direction(grad, maximize)
    t = _next_step(state)
    if weight_decay != 0:
        g = g + weight_decay * param
    m = beta1 * state.get("exp_avg", torch.zeros_like(param)) + (1 - beta1) * g
    u = torch.maximum(beta2 * state.get("exp_inf", torch.zeros_like(param)), g.abs() + eps)
    state["exp_avg"], state["exp_inf"] = m, u
    param.copy_(param - lr / (1 - beta1**t) * m / u)


@torch.no_grad()
def nadam_step(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: State,
    *,
    lr: float = 2e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum_decay: float = 4e-3,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> None:
    r"""One step of ``torch.optim.NAdam``: Adam with Nesterov momentum (Dozat, 2016).

    With the momentum schedule :math:`\mu_t = \beta_1\,(1 - \tfrac12\, 0.96^{t\psi})`
    (:math:`\psi` = ``momentum_decay``) and :math:`\Pi_t = \prod_{i \le t} \mu_i`,

    .. math::

        \hat m_t &= \frac{\mu_{t+1}\, m_t}{1 - \Pi_t\,\mu_{t+1}}
                  + \frac{(1-\mu_t)\, g_t}{1 - \Pi_t}, \qquad
        \hat v_t = \frac{v_t}{1-\beta_2^t} \\
        \theta_t &= \theta_{t-1} - \gamma \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    where :math:`m_t, v_t` are Adam's moments. The first term looks one step
    ahead with the next momentum coefficient, the Nesterov idea.

    Examples
    --------
    >>> import torch
    >>> w, state = torch.tensor([1.0]), {}
    >>> nadam_step(w, torch.tensor([2.0]), state, lr=0.1)
    >>> round(state["mu_product"], 6)  # mu_1 = 0.9 * (1 - 0.5 * 0.96 ** 0.004)
    0.450073
    """
    _tensors(param, grad, state)
    lr, eps, weight_decay = _nonneg(lr, "lr"), _nonneg(eps, "eps"), _nonneg(weight_decay, "weight_decay")
    momentum_decay = _nonneg(momentum_decay, "momentum_decay")
    beta1, beta2 = _betas(betas)
    decoupled, maximize = _flag(decoupled_weight_decay, "decoupled_weight_decay"), _flag(maximize, "maximize")

    g = _direction(grad, maximize)
    t = _next_step(state)
    if weight_decay != 0:
        if decoupled:
            param.copy_(param - lr * weight_decay * param)
        else:
            g = g + weight_decay * param
    mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    prod = state.get("mu_product", 1.0) * mu_t
    state["mu_product"] = prod
    m = beta1 * state.get("exp_avg", torch.zeros_like(param)) + (1 - beta1) * g
    v = beta2 * state.get("exp_avg_sq", torch.zeros_like(param)) + (1 - beta2) * g * g
    state["exp_avg"], state["exp_avg_sq"] = m, v
    m_hat = mu_next * m / (1 - prod * mu_next) + (1 - mu_t) * g / (1 - prod)
    v_hat = v / (1 - beta2**t)
    param.copy_(param - lr * m_hat / (v_hat.sqrt() + eps))


@torch.no_grad()
def radam_step(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: State,
    *,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> None:
    r"""One step of ``torch.optim.RAdam``: Adam whose adaptive step is switched on gradually.

    With :math:`\rho_\infty = 2/(1-\beta_2) - 1` and
    :math:`\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)`, the length of the
    approximated simple moving average,

    .. math::

        \theta_t = \theta_{t-1} - \gamma\, \hat m_t \cdot \begin{cases}
            r_t \dfrac{\sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon} & \rho_t > 5 \\
            1 & \text{otherwise (plain momentum SGD)}
        \end{cases}, \qquad
        r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}

    The first steps, where the second-moment estimate has too few samples to be
    trusted, use no adaptive scaling at all (Liu et al., 2020).

    Examples
    --------
    >>> import torch
    >>> w, state = torch.tensor([1.0]), {}
    >>> radam_step(w, torch.tensor([2.0]), state, lr=0.1)
    >>> w  # rho_1 = 1 <= 5: an un-normalized step 0.1 * m_hat = 0.1 * 2
    tensor([0.8000])
    """
    _tensors(param, grad, state)
    lr, eps, weight_decay = _nonneg(lr, "lr"), _nonneg(eps, "eps"), _nonneg(weight_decay, "weight_decay")
    beta1, beta2 = _betas(betas)
    decoupled, maximize = _flag(decoupled_weight_decay, "decoupled_weight_decay"), _flag(maximize, "maximize")

    g = _direction(grad, maximize)
    t = _next_step(state)
    if weight_decay != 0:
        if decoupled:
            param.copy_(param - lr * weight_decay * param)
        else:
            g = g + weight_decay * param
    m = beta1 * state.get("exp_avg", torch.zeros_like(param)) + (1 - beta1) * g
    v = beta2 * state.get("exp_avg_sq", torch.zeros_like(param)) + (1 - beta2) * g * g
    state["exp_avg"], state["exp_avg_sq"] = m, v
    m_hat = m / (1 - beta1**t)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
    if rho_t > 5:
        r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        adaptive = math.sqrt(1 - beta2**t) / (v.sqrt() + eps)
        param.copy_(param - lr * m_hat * r * adaptive)
    else:
        param.copy_(param - lr * m_hat)


@torch.no_grad()
def rmsprop_step(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: State,
    *,
    lr: float = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
    maximize: bool = False,
) -> None:
    r"""One step of ``torch.optim.RMSprop``: divide the gradient by a running RMS of past gradients.

    .. math::

        v_t &= \alpha v_{t-1} + (1-\alpha) g_t^2, \qquad
        \tilde v_t = v_t - \bar g_t^2 \text{ (centered, }
            \bar g_t = \alpha\bar g_{t-1} + (1-\alpha) g_t\text{) or } v_t \\
        d_t &= \frac{g_t}{\sqrt{\tilde v_t} + \epsilon}, \qquad
        b_t = \mu b_{t-1} + d_t \text{ (momentum } \mu > 0\text{)} \\
        \theta_t &= \theta_{t-1} - \gamma\, b_t \text{ (or } \gamma\, d_t\text{)}

    No bias correction: with :math:`v_0 = 0` the first steps divide by a
    too-small RMS and are large (:math:`\approx \gamma/\sqrt{1-\alpha} = 10\gamma`
    at the default :math:`\alpha = 0.99`). The centered form divides by an
    estimate of the standard deviation instead of the RMS.

    Examples
    --------
    >>> import torch
    >>> w, state = torch.tensor([0.0]), {}
    >>> rmsprop_step(w, torch.tensor([4.0]), state, lr=0.01, alpha=0.99, eps=0.0)
    >>> w  # v = 0.01 * 16, step = 0.01 * 4 / 0.4
    tensor([-0.1000])
    """
    _tensors(param, grad, state)
    lr, eps, weight_decay = _nonneg(lr, "lr"), _nonneg(eps, "eps"), _nonneg(weight_decay, "weight_decay")
    alpha, momentum = _nonneg(alpha, "alpha"), _nonneg(momentum, "momentum")
    centered, maximize = _flag(centered, "centered"), _flag(maximize, "maximize")

    g = _direction(grad, maximize)
    _next_step(state)
    if weight_decay != 0:
        g = g + weight_decay * param
    v = alpha * state.get("square_avg", torch.zeros_like(param)) + (1 - alpha) * g * g
    state["square_avg"] = v
    if centered:
        g_avg = alpha * state.get("grad_avg", torch.zeros_like(param)) + (1 - alpha) * g
        state["grad_avg"] = g_avg
        v = v - g_avg * g_avg
    d = g / (v.sqrt() + eps)
    if momentum > 0:
        d = momentum * state.get("momentum_buffer", torch.zeros_like(param)) + d
        state["momentum_buffer"] = d
    param.copy_(param - lr * d)


@torch.no_grad()
def adagrad_step(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: State,
    *,
    lr: float = 1e-2,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
    maximize: bool = False,
) -> None:
    r"""One step of ``torch.optim.Adagrad``: divide by the root of the *sum* of all squared gradients.

    .. math::

        s_t &= s_{t-1} + g_t^2, \qquad s_0 = \text{initial\_accumulator\_value} \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1 + (t-1)\eta}\,\frac{g_t}{\sqrt{s_t} + \epsilon}

    with learning-rate decay :math:`\eta`. The sum only grows, so the step size
    of every coordinate shrinks for ever, fastest where gradients are large
    (Duchi, Hazan and Singer, 2011).

    Examples
    --------
    >>> import torch
    >>> w, state = torch.tensor([0.0]), {}
    >>> for g in (3.0, 4.0):
    ...     adagrad_step(w, torch.tensor([g]), state, lr=1.0, eps=0.0)
    >>> state["sum"], w  # s = 9, 25; w = -3/3 - 4/5
    (tensor([25.]), tensor([-1.8000]))
    """
    _tensors(param, grad, state)
    lr, lr_decay, eps = _nonneg(lr, "lr"), _nonneg(lr_decay, "lr_decay"), _nonneg(eps, "eps")
    weight_decay = _nonneg(weight_decay, "weight_decay")
    initial = _nonneg(initial_accumulator_value, "initial_accumulator_value")
    maximize = _flag(maximize, "maximize")

    g = _direction(grad, maximize)
    t = _next_step(state)
    if weight_decay != 0:
        g = g + weight_decay * param
    s = state.get("sum", torch.full_like(param, initial)) + g * g
    state["sum"] = s
    clr = lr / (1 + (t - 1) * lr_decay)
    param.copy_(param - clr * g / (s.sqrt() + eps))


@torch.no_grad()
def adadelta_step(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: State,
    *,
    lr: float = 1.0,
    rho: float = 0.9,
    eps: float = 1e-6,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> None:
    r"""One step of ``torch.optim.Adadelta``: steps in units of the parameter, from two running averages.

    .. math::

        v_t &= \rho v_{t-1} + (1-\rho) g_t^2 \\
        \Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t, \qquad
        u_t = \rho u_{t-1} + (1-\rho) \Delta_t^2 \\
        \theta_t &= \theta_{t-1} - \gamma \Delta_t

    The ratio of the RMS of past *updates* to the RMS of gradients gives the
    step the units of the parameter, so the method needs no learning rate in
    Zeiler's paper; torch keeps a multiplier :math:`\gamma` (default 1).

    Examples
    --------
    >>> import torch
    >>> w, state = torch.tensor([0.0]), {}
    >>> adadelta_step(w, torch.tensor([1.0]), state, rho=0.0, eps=1e-4)
    >>> round(-w.item(), 4)  # sqrt(1e-4) / sqrt(1 + 1e-4): tiny first steps
    0.01
    """
    _tensors(param, grad, state)
    lr, rho, eps = _nonneg(lr, "lr"), _unit(rho, "rho"), _nonneg(eps, "eps")
    weight_decay, maximize = _nonneg(weight_decay, "weight_decay"), _flag(maximize, "maximize")

    g = _direction(grad, maximize)
    _next_step(state)
    if weight_decay != 0:
        g = g + weight_decay * param
    v = rho * state.get("square_avg", torch.zeros_like(param)) + (1 - rho) * g * g
    u = state.get("acc_delta", torch.zeros_like(param))
    delta = (u + eps).sqrt() / (v + eps).sqrt() * g
    state["square_avg"] = v
    state["acc_delta"] = rho * u + (1 - rho) * delta * delta
    param.copy_(param - lr * delta)


@torch.no_grad()
def rprop_step(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: State,
    *,
    lr: float = 1e-2,
    etas: tuple[float, float] = (0.5, 1.2),
    step_sizes: tuple[float, float] = (1e-6, 50.0),
    maximize: bool = False,
) -> None:
    r"""One step of ``torch.optim.Rprop``: move by a per-coordinate step size, using only the gradient's sign.

    Each coordinate keeps its own step size :math:`\eta^i`, starting at ``lr``.
    Where the gradient kept its sign the step size grows by :math:`\eta_+`
    (up to :math:`\Gamma_{\max}`); where it flipped, the last step jumped over
    a minimum, so the step size shrinks by :math:`\eta_-` (down to
    :math:`\Gamma_{\min}`) and this coordinate does not move:

    .. math::

        \eta^i_t = \begin{cases}
            \min(\eta_+ \eta^i_{t-1}, \Gamma_{\max}) & g^i_{t-1} g^i_t > 0 \\
            \max(\eta_- \eta^i_{t-1}, \Gamma_{\min}),\ g^i_t \leftarrow 0 & g^i_{t-1} g^i_t < 0 \\
            \eta^i_{t-1} & \text{otherwise}
        \end{cases}, \qquad
        \theta_t = \theta_{t-1} - \eta_t \operatorname{sign}(g_t)

    The size of the gradient is ignored, which is why Rprop needs full-batch
    gradients: mini-batch noise flips signs at random (Riedmiller and Braun).

    Examples
    --------
    >>> import torch
    >>> w, state = torch.tensor([0.0, 0.0]), {}
    >>> for g in ([1.0, 1.0], [1.0, -1.0]):
    ...     rprop_step(w, torch.tensor(g), state, lr=0.1)
    >>> state["step_size"], w  # kept sign: 0.1 * 1.2; flipped: 0.1 * 0.5 and no move
    (tensor([0.1200, 0.0500]), tensor([-0.2200, -0.1000]))
    """
    _tensors(param, grad, state)
    lr = _nonneg(lr, "lr")
    eta_minus, eta_plus = (check_number(e, f"etas[{i}]") for i, e in enumerate(_pair(etas, "etas")))
    if not 0 < eta_minus < 1 < eta_plus:
        raise ValueError(f"etas must satisfy 0 < etas[0] < 1 < etas[1], got {tuple(etas)}")
    step_min, step_max = (_nonneg(s, f"step_sizes[{i}]") for i, s in enumerate(_pair(step_sizes, "step_sizes")))
    if step_min > step_max:
        raise ValueError(f"step_sizes must be (min, max) with min <= max, got {tuple(step_sizes)}")
    maximize = _flag(maximize, "maximize")

    g = _direction(grad, maximize)
    _next_step(state)
    prev = state.get("prev", torch.zeros_like(param))
    size = state.get("step_size", torch.full_like(param, lr))
    agree = prev * g
    size = torch.where(agree > 0, (size * eta_plus).clamp(max=step_max), size)
    size = torch.where(agree < 0, (size * eta_minus).clamp(min=step_min), size)
    g = torch.where(agree < 0, torch.zeros_like(g), g)
    state["prev"], state["step_size"] = g, size
    param.copy_(param - size * g.sign())


@torch.no_grad()
def asgd_step(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: State,
    *,
    lr: float = 1e-2,
    lambd: float = 1e-4,
    alpha: float = 0.75,
    t0: float = 1e6,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> None:
    r"""One step of ``torch.optim.ASGD``: SGD with a decaying step size and a running average of the iterates.

    With step size :math:`\eta_{t-1}` (:math:`\eta_0 = \gamma`) and averaging
    weight :math:`\mu_{t-1}` (:math:`\mu_0 = 1`),

    .. math::

        \theta_t &= (1 - \lambda\eta_{t-1})\,\theta_{t-1} - \eta_{t-1} g_t \\
        \bar\theta_t &= \bar\theta_{t-1} + \mu_{t-1} (\theta_t - \bar\theta_{t-1}) \\
        \eta_t &= \frac{\gamma}{(1 + \lambda\gamma t)^{\alpha}}, \qquad
        \mu_t = \frac{1}{\max(1, t - t_0)}

    The optimizer moves :math:`\theta`; the average :math:`\bar\theta` (state
    ``ax``) is what Polyak and Juditsky's averaging returns, and it is the
    caller's job to copy it into the model at the end. Until step :math:`t_0`
    (default a million) :math:`\mu = 1` and ``ax`` is just a copy of the
    iterate; afterwards it is the mean of the iterates from step
    :math:`t_0 + 2` on (the weight is one step behind). The
    term :math:`\lambda\eta\theta` shrinks the weights like weight decay whose
    strength follows the step size (Bottou's "lambd").

    Examples
    --------
    >>> import torch
    >>> w, state = torch.tensor([1.0]), {}
    >>> for _ in range(4):
    ...     asgd_step(w, torch.tensor([1.0]), state, lr=0.1, t0=1)
    >>> w, state["ax"], round(float(state["mu"]), 6)  # ax: the mean of iterates 3 and 4 (0.7 and 0.6)
    (tensor([0.6000]), tensor([0.6500]), 0.333333)
    """
    _tensors(param, grad, state)
    lr, lambd, alpha = _nonneg(lr, "lr"), _nonneg(lambd, "lambd"), _nonneg(alpha, "alpha")
    t0, weight_decay = _nonneg(t0, "t0"), _nonneg(weight_decay, "weight_decay")
    maximize = _flag(maximize, "maximize")

    g = _direction(grad, maximize)
    t = int(state.get("step", 0)) + 1
    if weight_decay != 0:
        g = g + weight_decay * param
    eta, mu = float(state.get("eta", lr)), float(state.get("mu", 1.0))
    param.copy_(param * (1 - lambd * eta) - eta * g)
    ax = state.get("ax", torch.zeros_like(param))
    state["ax"] = ax + mu * (param - ax) if mu != 1 else param.clone()
    state["step"], state["eta"], state["mu"] = t, lr / (1 + lambd * lr * t) ** alpha, 1 / max(1.0, t - t0)


@torch.no_grad()
def sparse_adam_step(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: State,
    *,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    maximize: bool = False,
) -> None:
    r"""One step of ``torch.optim.SparseAdam``: Adam on the rows a sparse gradient touches, and nowhere else.

    ``grad`` is a sparse COO tensor (what ``nn.Embedding(sparse=True)`` produces);
    :math:`R` is the set of entries it stores. On :math:`R` only,

    .. math::

        m_R &\leftarrow \beta_1 m_R + (1-\beta_1) g_R, \qquad
        v_R \leftarrow \beta_2 v_R + (1-\beta_2) g_R^2 \\
        \theta_R &\leftarrow \theta_R - \gamma\,\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}\,
            \frac{m_R}{\sqrt{v_R} + \epsilon}

    Rows that the batch did not touch keep their parameters *and their
    moments*: they do not decay, unlike dense Adam, where a zero gradient still
    shrinks :math:`m` and :math:`v`. The step count :math:`t` is one counter per
    parameter tensor (every call), not per row. :math:`\epsilon` is added to
    the uncorrected :math:`\sqrt{v}` (Adam adds it to :math:`\sqrt{\hat v}`).

    Examples
    --------
    >>> import torch
    >>> table, state = torch.zeros(3, 2), {}
    >>> g = torch.sparse_coo_tensor([[1]], [[2.0, -2.0]], (3, 2), check_invariants=True)
    >>> sparse_adam_step(table, g, state, lr=0.1)
    >>> table  # only row 1 moved, by lr in each coordinate
    tensor([[ 0.0000,  0.0000],
            [-0.1000,  0.1000],
            [ 0.0000,  0.0000]])
    """
    check_floating(param, "param")
    check_floating(grad, "grad")
    if not grad.is_sparse:
        raise ValueError("grad must be a sparse COO tensor; Adam is the optimizer for dense gradients")
    if grad.shape != param.shape:
        raise ValueError(f"grad must have the shape of param, {tuple(param.shape)}, got {tuple(grad.shape)}")
    if not isinstance(state, dict):
        raise TypeError(f"state must be a dict, got {type(state).__name__}")
    lr, eps = _nonneg(lr, "lr"), _nonneg(eps, "eps")
    beta1, beta2 = _betas(betas)
    maximize = _flag(maximize, "maximize")

    t = int(state.get("step", 0)) + 1
    state["step"] = t
    m = state.get("exp_avg", torch.zeros_like(param))
    v = state.get("exp_avg_sq", torch.zeros_like(param))
    state["exp_avg"], state["exp_avg_sq"] = m, v
    g = grad.coalesce()  # one value per entry: the update is not linear in the gradient
    values = -g.values() if maximize else g.values()
    if values.numel() == 0:
        return
    where = tuple(g.indices())
    m_r = beta1 * m[where] + (1 - beta1) * values
    v_r = beta2 * v[where] + (1 - beta2) * values * values
    state["exp_avg"], state["exp_avg_sq"] = m.index_put(where, m_r), v.index_put(where, v_r)
    step_size = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)
    param.index_put_(where, param[where] - step_size * m_r / (v_r.sqrt() + eps))


@torch.no_grad()
def adafactor_step(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: State,
    *,
    lr: float = 1e-2,
    beta2_decay: float = -0.8,
    eps: tuple[float | None, float] = (None, 1e-3),
    d: float = 1.0,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> None:
    r"""One step of ``torch.optim.Adafactor``: RMS scaling from a factored second moment, relative step sizes.

    For a matrix (the last two axes of a tensor with two or more), the second
    moment is kept as its row means :math:`r` and column means :math:`c` only,

    .. math::

        \hat\beta_t &= 1 - t^{\,c}, \qquad
        r_t = \hat\beta_t r_{t-1} + (1-\hat\beta_t)\operatorname{mean}_j g_{ij}^2, \qquad
        c_t = \hat\beta_t c_{t-1} + (1-\hat\beta_t)\operatorname{mean}_i g_{ij}^2 \\
        \hat v_t &= \frac{r_t c_t^\top}{\max(\operatorname{mean}_i r_{t,i},\ \epsilon_1)}
        \qquad\text{(a rank-one estimate of } \mathbb E[g^2]\text{)} \\
        u_t &= \frac{g_t}{\sqrt{\max(\hat v_t, \epsilon_1^2)}}, \qquad
        \theta_t = (1 - \gamma\lambda)\theta_{t-1}
            - \alpha_t \frac{u_t}{\max(1, \operatorname{RMS}(u_t)/d)} \\
        \alpha_t &= \max\big(\epsilon_2, \operatorname{RMS}(\theta_{t-1})\big)\,\min\big(\gamma, 1/\sqrt t\big)

    with :math:`c` = ``beta2_decay`` (the decay rate rises towards 1 as
    :math:`1 - t^{-0.8}`, so no bias correction is needed) and
    :math:`(\epsilon_1, \epsilon_2)` = ``eps`` (:math:`\epsilon_1` = ``None``
    means the dtype's machine epsilon). A vector keeps the full
    :math:`v_t = \hat\beta_t v_{t-1} + (1-\hat\beta_t) g_t^2`. An
    :math:`m \times n` weight costs :math:`m + n` numbers of state instead of
    Adam's :math:`2mn`; there is no first moment (torch's version has no
    ``beta1``). The step is relative: :math:`\alpha_t` is a fraction of the
    parameter's own RMS, and the update is clipped to RMS :math:`d` (Shazeer and
    Stern, 2018).

    Examples
    --------
    >>> import torch
    >>> w, state = torch.ones(3, 4), {}
    >>> adafactor_step(w, torch.ones(3, 4), state)
    >>> state["row_var"].shape, state["col_var"].shape, round(w[0, 0].item(), 6)  # RMS 1 * lr, clipped u
    (torch.Size([3, 1]), torch.Size([1, 4]), 0.99)
    """
    _tensors(param, grad, state)
    lr, d = _nonneg(lr, "lr"), check_number(d, "d", low=1.0)
    beta2_decay = check_number(beta2_decay, "beta2_decay", high=0.0)
    eps1_value, eps2_value = _pair(eps, "eps")
    eps1 = torch.finfo(param.dtype).eps if eps1_value is None else _nonneg(eps1_value, "eps[0]")
    eps2, weight_decay = _nonneg(eps2_value, "eps[1]"), _nonneg(weight_decay, "weight_decay")
    maximize = _flag(maximize, "maximize")

    g = _direction(grad, maximize)
    t = int(state.get("step", 0)) + 1
    state["step"] = t
    decay = t**beta2_decay  # 1 - beta2_hat: the weight of the new sample
    alpha = max(eps2, param.norm().item() / math.sqrt(param.numel())) * min(lr, 1 / math.sqrt(t))
    if weight_decay != 0:
        param.copy_(param * (1 - lr * weight_decay))
    if g.ndim > 1:
        row = state.get("row_var", torch.zeros_like(g[..., :1]))
        col = state.get("col_var", torch.zeros_like(g[..., :1, :]))
        row = row + decay * ((g * g).mean(-1, keepdim=True) - row)
        col = col + decay * ((g * g).mean(-2, keepdim=True) - col)
        state["row_var"], state["col_var"] = row, col
        v_hat = row @ col / row.mean(-2, keepdim=True).clamp(min=eps1)
    else:
        v = state.get("variance", torch.zeros_like(g))
        v_hat = v + decay * (g * g - v)
        state["variance"] = v_hat
    u = g / v_hat.clamp(min=eps1 * eps1).sqrt()
    clip = max(1.0, u.norm().item() / (math.sqrt(u.numel()) * d))
    param.copy_(param - alpha / clip * u)


#: Keller Jordan's quintic Newton–Schulz coefficients, torch.optim.Muon's default.
MUON_NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def newton_schulz(
    matrix: torch.Tensor,
    steps: int = 5,
    coefficients: tuple[float, float, float] = MUON_NS_COEFFICIENTS,
    eps: float = 1e-7,
    dtype: torch.dtype = torch.bfloat16,
) -> torch.Tensor:
    r"""Approximately orthogonalize a matrix, :math:`G = USV^\top \mapsto \approx UV^\top`, with no SVD.

    Scale to Frobenius norm 1 (so every singular value is at most 1), then
    iterate the odd matrix polynomial

    .. math:: X \leftarrow aX + (bA + cA^2)X, \qquad A = XX^\top,

    which maps each singular value :math:`\sigma` to
    :math:`a\sigma + b\sigma^3 + c\sigma^5` and leaves the singular vectors
    alone. The default coefficients make this map steep at 0 rather than
    convergent: after 5 steps the singular values lie roughly in [0.7, 1.2],
    not at 1, which is good enough for an update direction. The wide side is
    kept as the second axis, so :math:`A` is the smaller Gram matrix.

    The iteration runs in ``dtype``, bfloat16 by default as in
    ``torch.optim.Muon``, where every matrix product rounds to 8 significant
    bits; each product that torch fuses into one ``addmm`` (one rounding) is
    one ``addmm`` here too, so the two agree bit for bit.

    Examples
    --------
    >>> import torch
    >>> g = torch.tensor([[3.0, 0.0], [0.0, 0.1]], dtype=torch.float64)
    >>> newton_schulz(g, dtype=torch.float64).diagonal().round(decimals=2)  # 3 and 0.1 both map near 1
    tensor([0.7000, 1.1300], dtype=torch.float64)
    """
    if matrix.ndim != 2:
        raise ValueError(f"matrix must be two-dimensional, got shape {tuple(matrix.shape)}")
    steps = check_int(steps, "steps", low=0)
    if not isinstance(coefficients, (tuple, list)) or len(coefficients) != 3:
        raise TypeError(f"coefficients must be three numbers (a, b, c), got {coefficients!r}")
    a, b, c = (check_number(x, f"coefficients[{i}]") for i, x in enumerate(coefficients))
    eps = _nonneg(eps, "eps")
    tall = matrix.size(0) > matrix.size(1)
    x = matrix.to(dtype)
    if tall:
        x = x.T
    x = x / x.norm().clamp(min=eps)
    for _ in range(steps):
        gram = x @ x.T
        poly = torch.addmm(gram, gram, gram, beta=b, alpha=c)  # b A + c A^2, one rounding
        x = torch.addmm(x, poly, x, beta=a)  # a X + (b A + c A^2) X
    return x.T if tall else x


_MUON_LR_ADJUST = (None, "original", "match_rms_adamw")


@torch.no_grad()
def muon_step(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: State,
    *,
    lr: float = 1e-3,
    weight_decay: float = 0.1,
    momentum: float = 0.95,
    nesterov: bool = True,
    ns_coefficients: tuple[float, float, float] = MUON_NS_COEFFICIENTS,
    eps: float = 1e-7,
    ns_steps: int = 5,
    adjust_lr_fn: str | None = None,
) -> None:
    r"""One step of ``torch.optim.Muon``: momentum, orthogonalized by Newton–Schulz, for a weight matrix.

    .. math::

        B_t &= \mu B_{t-1} + (1-\mu) g_t, \qquad
        \tilde B_t = \begin{cases} (1-\mu) g_t + \mu B_t & \text{nesterov} \\ B_t & \text{otherwise}\end{cases} \\
        O_t &= \operatorname{NS}_k(\tilde B_t) \approx UV^\top \text{ where } \tilde B_t = USV^\top \\
        \theta_t &= (1 - \gamma\lambda)\,\theta_{t-1} - \gamma s\, O_t, \qquad
        s = \begin{cases} \sqrt{\max(1, A/B)} & \text{'original' (default)} \\
            0.2\sqrt{\max(A, B)} & \text{'match\_rms\_adamw'} \end{cases}

    for an :math:`A \times B` parameter (:func:`~companion.optim.rules.newton_schulz`). Every singular
    direction of the momentum gets about the same step, so directions that the
    gradient rarely excites are not drowned by the dominant one. Only 2-D
    parameters: biases, norms and embeddings go to another optimizer (AdamW).
    The documentation's algorithm box writes :math:`B_t = \mu B_{t-1} + g_t`;
    the code keeps the moving average above, :math:`(1-\mu)` times that sum,
    and the normalization inside :math:`\operatorname{NS}` cancels the factor.

    Examples
    --------
    >>> import torch
    >>> w, state = torch.zeros(2, 3, dtype=torch.float64), {}
    >>> muon_step(w, torch.tensor([[1.0, 0, 0], [0, 1e-3, 0]], dtype=torch.float64), state, lr=0.1)
    >>> w.abs().max(dim=1).values.round(decimals=2)  # gradients 1000x apart, steps within a factor 1.5
    tensor([0.0700, 0.0500], dtype=torch.float64)
    """
    _tensors(param, grad, state)
    if param.ndim != 2:
        raise ValueError(f"Muon updates two-dimensional parameters only, got shape {tuple(param.shape)}")
    lr, weight_decay, momentum = _nonneg(lr, "lr"), _nonneg(weight_decay, "weight_decay"), _nonneg(momentum, "momentum")
    nesterov, eps = _flag(nesterov, "nesterov"), _nonneg(eps, "eps")
    ns_steps = check_int(ns_steps, "ns_steps", low=0, high=99)
    if not isinstance(ns_coefficients, (tuple, list)) or len(ns_coefficients) != 3:
        raise TypeError(f"ns_coefficients must be three numbers (a, b, c), got {ns_coefficients!r}")
    a, b, c = (check_number(x, f"ns_coefficients[{i}]") for i, x in enumerate(ns_coefficients))
    if adjust_lr_fn not in _MUON_LR_ADJUST:
        raise ValueError(f"adjust_lr_fn must be one of {_MUON_LR_ADJUST}, got {adjust_lr_fn!r}")

    g = grad.detach()
    buf = torch.lerp(state.get("momentum_buffer", torch.zeros_like(param)), g, 1 - momentum)
    state["momentum_buffer"] = buf
    direction = torch.lerp(g, buf, momentum) if nesterov else buf
    ortho = newton_schulz(direction, ns_steps, (a, b, c), eps)
    rows, cols = param.shape
    scale = 0.2 * math.sqrt(max(rows, cols)) if adjust_lr_fn == "match_rms_adamw" else math.sqrt(max(1, rows / cols))
    param.copy_(param * (1 - lr * weight_decay) - lr * scale * ortho.to(param.dtype))


# ---------------------------------------------------------------------------
# L-BFGS: a rule for all parameters at once, driven by a closure


def _cubic_minimizer(
    x1: float, f1: float, g1: float, x2: float, f2: float, g2: float, bounds: tuple[float, float] | None = None
) -> float:
    r"""Minimizer of the cubic through two points with their values and slopes, clamped to ``bounds``.

    The cubic's stationary point (Nocedal and Wright, eq. 3.59); the middle of
    the interval when the cubic has no real minimizer.
    """
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return (low + high) / 2.0
    d2 = math.sqrt(disc)
    if x1 <= x2:
        point = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        point = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(point, low), high)


Probe = Callable[[float], tuple[float, torch.Tensor]]


class _Point(NamedTuple):
    """A trial point of the line search: step, loss, gradient and slope along the direction there."""

    t: float
    f: float
    g: torch.Tensor
    slope: float


def _strong_wolfe(
    probe: Probe,
    t: float,
    direction: torch.Tensor,
    f0: float,
    g0: torch.Tensor,
    slope0: float,
    *,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, torch.Tensor, float, int]:
    r"""A step length :math:`t` along ``direction`` that satisfies the strong Wolfe conditions.

    .. math::
        f(x + td) \le f(x) + c_1 t\, g^\top d \quad\text{(sufficient decrease)}, \qquad
        |g(x + td)^\top d| \le c_2\, |g^\top d| \quad\text{(curvature)}

    Nocedal and Wright's algorithms 3.5 and 3.6 as minFunc and torch implement
    them: extrapolate by cubic interpolation (at most 10 times the last step)
    until an interval brackets an acceptable point, then shrink the bracket by
    cubic interpolation, moving a trial point that falls within 10% of an end
    back inside. ``probe(t)`` returns the loss and flat gradient at
    :math:`x + td`. Returns the loss, gradient and step of the accepted point
    and the number of probes.
    """
    scale = direction.abs().max().item()
    f_new, g_new = probe(t)
    evals, tries = 1, 0
    slope_new = g_new.dot(direction).item()
    prev = _Point(0.0, f0, g0.clone(), slope0)
    done = False
    points: list[_Point] = []  # the bracket: one acceptable point, or two around one
    while tries < max_ls:
        new = _Point(t, f_new, g_new, slope_new)
        if f_new > f0 + c1 * t * slope0 or (tries > 1 and f_new >= prev.f):
            points = [prev, new._replace(g=g_new.clone())]
            break
        if abs(slope_new) <= -c2 * slope0:
            points, done = [new], True
            break
        if slope_new >= 0:
            points = [prev, new._replace(g=g_new.clone())]
            break
        t = _cubic_minimizer(prev.t, prev.f, prev.slope, t, f_new, slope_new, (t + 0.01 * (t - prev.t), 10 * t))
        prev = new._replace(g=g_new.clone())
        f_new, g_new = probe(t)
        evals, tries = evals + 1, tries + 1
        slope_new = g_new.dot(direction).item()
    if tries == max_ls:
        points = [_Point(0.0, f0, g0, slope0), _Point(t, f_new, g_new, slope_new)]
    # zoom: points[low] is the best point so far
    low, high = (0, 1) if points[0].f <= points[-1].f else (1, 0)
    stalled = False
    while not done and tries < max_ls:
        a, b = points
        if abs(b.t - a.t) * scale < tolerance_change:
            break
        t = _cubic_minimizer(a.t, a.f, a.slope, b.t, b.f, b.slope)
        lo, hi = min(a.t, b.t), max(a.t, b.t)
        margin = 0.1 * (hi - lo)
        if min(hi - t, t - lo) < margin:  # too near an end: the bracket would hardly shrink
            if stalled or t >= hi or t <= lo:
                t = hi - margin if abs(t - hi) < abs(t - lo) else lo + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        f_new, g_new = probe(t)
        evals, tries = evals + 1, tries + 1
        slope_new = g_new.dot(direction).item()
        new = _Point(t, f_new, g_new.clone(), slope_new)
        if f_new > f0 + c1 * t * slope0 or f_new >= points[low].f:
            points[high] = new
            low, high = (0, 1) if points[0].f <= points[1].f else (1, 0)
        else:
            if abs(slope_new) <= -c2 * slope0:
                done = True
            elif slope_new * (points[high].t - points[low].t) >= 0:
                points[high] = points[low]
            points[low] = new
    best = points[low]
    return best.f, best.g, best.t, evals


def _flat_grad(params: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([torch.zeros_like(p).reshape(-1) if p.grad is None else p.grad.reshape(-1) for p in params])


def _move(params: list[torch.Tensor], t: float, direction: torch.Tensor) -> None:
    """:math:`x \\leftarrow x + t d` on the parameters, ``direction`` being flat."""
    offset = 0
    for p in params:
        n = p.numel()
        p.add_(direction[offset : offset + n].view_as(p), alpha=t)  # one fused multiply-add, as torch
        offset += n


@torch.no_grad()
def lbfgs_step(
    params: list[torch.Tensor],
    closure: Callable[[], torch.Tensor],
    state: State,
    *,
    lr: float = 1.0,
    max_iter: int = 20,
    max_eval: int | None = None,
    tolerance_grad: float = 1e-7,
    tolerance_change: float = 1e-9,
    history_size: int = 100,
    line_search_fn: str | None = None,
) -> torch.Tensor:
    r"""One call of ``torch.optim.LBFGS.step(closure)``: up to ``max_iter`` quasi-Newton iterations.

    Unlike the other rules, L-BFGS treats all ``params`` as one flat vector
    :math:`x`, and needs ``closure``, which zeroes the gradients, computes the
    loss, calls ``backward()`` and returns the loss. It keeps the last
    :math:`m` = ``history_size`` pairs :math:`s_i = x_{i+1} - x_i`,
    :math:`y_i = g_{i+1} - g_i` (only those with :math:`y_i^\top s_i > 10^{-10}`,
    so the implied Hessian stays positive definite) and computes the direction
    :math:`d = -H g` by the two-loop recursion (Nocedal and Wright, algorithm 7.4),

    .. math::

        q &\leftarrow -g; \quad \text{for } i = k-1, \dots, k-m:\
            \alpha_i = \rho_i s_i^\top q,\ q \leftarrow q - \alpha_i y_i \\
        r &\leftarrow \frac{s_{k-1}^\top y_{k-1}}{y_{k-1}^\top y_{k-1}}\, q; \quad
            \text{for } i = k-m, \dots, k-1:\ \beta_i = \rho_i y_i^\top r,\
            r \leftarrow r + (\alpha_i - \beta_i) s_i

    with :math:`\rho_i = 1/y_i^\top s_i`, and :math:`d = -g` on the very first
    iteration. The step is :math:`x \leftarrow x + t d` with :math:`t` = ``lr``
    (:math:`\min(1, 1/\lVert g\rVert_1)\,\gamma` on the first iteration, when
    :math:`-g` has no scale yet), or the step the strong Wolfe line search
    finds (``line_search_fn='strong_wolfe'``). The
    iterations stop early when :math:`\max|g| \le` ``tolerance_grad``, when the
    step or the change in loss falls under ``tolerance_change``, or after
    ``max_eval`` (default ``max_iter * 5 // 4``) closure calls. The state holds
    torch's keys (``d``, ``t``, ``old_dirs`` (the :math:`y_i`), ``old_stps``
    (the :math:`s_i`), ``ro``, ``H_diag``, ``prev_flat_grad``, ``prev_loss``,
    ``n_iter``, ``func_evals``), so it carries over between calls. Returns the
    loss of the first closure call.

    Every :math:`u + a v` here is one ``torch.add(u, v, alpha=a)``, a fused
    multiply-add, as in torch: on a non-convex loss L-BFGS amplifies a one-ulp
    difference (``u + a * v`` rounds twice) to 1e-1 within 50 iterations.

    Examples
    --------
    >>> import torch
    >>> x, state = torch.tensor([3.0, -1.0], dtype=torch.float64, requires_grad=True), {}
    >>> def closure():
    ...     x.grad = None
    ...     loss = (x**2 * torch.tensor([1.0, 10.0], dtype=torch.float64)).sum()
    ...     loss.backward()
    ...     return loss
    >>> loss = lbfgs_step([x], closure, state, line_search_fn="strong_wolfe")
    >>> loss.item(), x.detach().abs().max().item() < 1e-6, state["n_iter"], state["func_evals"]
    (19.0, True, 9, 9)
    """
    if not isinstance(params, list) or not params or not all(isinstance(p, torch.Tensor) for p in params):
        raise TypeError("params must be a non-empty list of tensors")
    for p in params:
        check_floating(p, "params[i]")
    if not callable(closure):
        raise TypeError(f"closure must be callable, got {type(closure).__name__}")
    if not isinstance(state, dict):
        raise TypeError(f"state must be a dict, got {type(state).__name__}")
    lr = _nonneg(lr, "lr")
    max_iter = check_int(max_iter, "max_iter", low=1)
    history_size = check_int(history_size, "history_size", low=1)
    max_eval = max_iter * 5 // 4 if max_eval is None else check_int(max_eval, "max_eval", low=1)
    tolerance_grad = _nonneg(tolerance_grad, "tolerance_grad")
    tolerance_change = _nonneg(tolerance_change, "tolerance_change")
    if line_search_fn not in (None, "strong_wolfe"):
        raise ValueError(f"line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}")

    def evaluate() -> tuple[torch.Tensor, torch.Tensor]:
        with torch.enable_grad():
            loss = closure()
        return loss, _flat_grad(params)

    def probe(t: float) -> tuple[float, torch.Tensor]:
        """Loss and gradient at x + t d, leaving the parameters at x."""
        saved = [p.clone() for p in params]
        _move(params, t, direction)
        loss, grad = evaluate()
        for p, s in zip(params, saved, strict=True):
            p.copy_(s)
        return float(loss), grad

    first_loss, g = evaluate()
    loss, evals = float(first_loss), 1
    state["func_evals"] = state.get("func_evals", 0) + 1
    state.setdefault("n_iter", 0)
    if g.abs().max().item() <= tolerance_grad:
        return first_loss
    direction: torch.Tensor = state.get("d", g)
    t = float(state.get("t", lr))
    ys_hist: list[torch.Tensor] = list(state.get("old_dirs", []))
    ss_hist: list[torch.Tensor] = list(state.get("old_stps", []))
    rho: list[float] = [float(r) for r in state.get("ro", [])]
    h0 = float(state.get("H_diag", 1.0))
    g_prev: torch.Tensor | None = state.get("prev_flat_grad")
    loss_prev = state.get("prev_loss")
    for k in range(1, max_iter + 1):
        state["n_iter"] += 1
        if state["n_iter"] == 1:
            direction, ys_hist, ss_hist, rho, h0 = -g, [], [], [], 1.0
        else:
            assert g_prev is not None
            y, s = g - g_prev, t * direction
            ys = y.dot(s).item()
            if ys > 1e-10:  # keep the pair only where the curvature is positive
                if len(ys_hist) == history_size:
                    ys_hist, ss_hist, rho = ys_hist[1:], ss_hist[1:], rho[1:]
                ys_hist, ss_hist, rho = [*ys_hist, y], [*ss_hist, s], [*rho, 1.0 / ys]
                h0 = ys / y.dot(y).item()
            q = -g
            alphas = [0.0] * len(ys_hist)
            for i in reversed(range(len(ys_hist))):
                alphas[i] = ss_hist[i].dot(q).item() * rho[i]
                q = q.add(ys_hist[i], alpha=-alphas[i])
            r = h0 * q
            for i in range(len(ys_hist)):
                beta = ys_hist[i].dot(r).item() * rho[i]
                r = r.add(ss_hist[i], alpha=alphas[i] - beta)
            direction = r
        g_prev, loss_prev = g.clone(), loss
        t = min(1.0, 1.0 / g.abs().sum().item()) * lr if state["n_iter"] == 1 else lr
        slope = g.dot(direction).item()
        if slope > -tolerance_change:  # not a descent direction (to tolerance): stop
            break
        used = 0
        if line_search_fn == "strong_wolfe":
            loss, g, t, used = _strong_wolfe(probe, t, direction, loss, g, slope, max_ls=max_eval - evals)
            _move(params, t, direction)
            converged = g.abs().max().item() <= tolerance_grad
        else:
            _move(params, t, direction)
            converged = False
            if k != max_iter:  # the last iteration's loss is the next call's first evaluation
                new_loss, g = evaluate()
                loss, used = float(new_loss), 1
                converged = g.abs().max().item() <= tolerance_grad
        evals += used
        state["func_evals"] += used
        if k == max_iter or evals >= max_eval or converged:
            break
        if (t * direction).abs().max().item() <= tolerance_change or abs(loss - loss_prev) < tolerance_change:
            break
    state.update(
        d=direction,
        t=t,
        old_dirs=ys_hist,
        old_stps=ss_hist,
        ro=rho,
        H_diag=h0,
        prev_flat_grad=g_prev,
        prev_loss=loss_prev,
    )
    return first_loss
