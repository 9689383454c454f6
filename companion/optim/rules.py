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
from typing import Any

import torch

from .._checks import check_floating, check_number

__all__ = [
    "adadelta_step",
    "adagrad_step",
    "adam_step",
    "adamax_step",
    "nadam_step",
    "radam_step",
    "rmsprop_step",
    "rprop_step",
    "sgd_step",
]

State = dict[str, Any]


# ---------------------------------------------------------------------------
# argument checks


def _nonneg(value: Any, name: str) -> float:
    return check_number(value, name, low=0.0)


def _unit(value: Any, name: str) -> float:
    """A decay rate in [0, 1)."""
    value = check_number(value, name)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return value


def _pair(value: Any, name: str) -> tuple[Any, Any]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair of numbers, got {value!r}")
    return value[0], value[1]


def _betas(betas: Any) -> tuple[float, float]:
    b1, b2 = _pair(betas, "betas")
    return _unit(b1, "betas[0]"), _unit(b2, "betas[1]")


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


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
    state["step"] = state.get("step", 0) + 1
    return state["step"]


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
        \tilde v_t = v_t - \bar g_t^2 \text{ (centered, } \bar g_t = \alpha\bar g_{t-1} + (1-\alpha) g_t\text{) or } v_t \\
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
