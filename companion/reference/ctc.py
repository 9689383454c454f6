r"""By-hand reference of the connectionist temporal classification loss (``nn.CTCLoss``).

CTC (Graves et al., 2006) scores a label sequence :math:`l = (l_1, \dots, l_S)` against
``T`` frames of per-class log-probabilities without knowing which frame belongs to
which label. An *alignment* assigns one symbol (a label or the blank) to every frame;
collapsing repeated symbols and then removing blanks must give :math:`l`. The loss is
minus the log of the total probability of all such alignments,

.. math::

    \mathcal{L} = -\log \sum_{\pi \in \mathcal{B}^{-1}(l)} \prod_{t=1}^{T} y^{t}_{\pi_t},

computed with the forward (alpha) recursion over the *extended* label sequence
:math:`l' = (\varnothing, l_1, \varnothing, l_2, \dots, l_S, \varnothing)` of length
:math:`2S + 1` (blanks :math:`\varnothing` between and around the labels):

.. math::

    \alpha_1(1) = y^1_{\varnothing},\quad \alpha_1(2) = y^1_{l_1},\qquad
    \alpha_t(s) = y^t_{l'_s}\bigl(\alpha_{t-1}(s) + \alpha_{t-1}(s-1)
                  + [\,l'_s \ne l'_{s-2}\,]\,\alpha_{t-1}(s-2)\bigr),

    \mathcal{L} = -\log\bigl(\alpha_T(2S+1) + \alpha_T(2S)\bigr).

The skip from :math:`s-2` jumps over a blank; it is forbidden between two equal labels
(the blank is the only thing that separates "aa" from "a"), and never applies at a
blank position (:math:`l'_s = l'_{s-2} = \varnothing`). Everything here is computed in
log space (``logsumexp`` instead of sums of products). No torch loss function is called.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._checks import (
    check_bool,
    check_floating,
    check_index_dtype,
    check_int,
    check_ndim,
    check_reduction,
    require_class_indices,
)

__all__ = ["ctc_alpha", "ctc_loss", "extended_targets"]

Lengths = torch.Tensor | Sequence[int] | int


def extended_targets(target: torch.Tensor, blank: int = 0) -> torch.Tensor:
    """The label sequence with a blank before, between and after the labels (length ``2S + 1``).

    Examples
    --------
    >>> extended_targets(torch.tensor([3, 3, 1]), blank=0)
    tensor([0, 3, 0, 3, 0, 1, 0])
    """
    blank = check_int(blank, "blank")
    target = check_index_dtype(target, "target")
    ext = torch.full((2 * target.numel() + 1,), blank, dtype=torch.long, device=target.device)
    ext[1::2] = target
    return ext


def ctc_alpha(log_probs: torch.Tensor, target: torch.Tensor, blank: int = 0) -> torch.Tensor:
    r"""The forward variables :math:`\log\alpha_t(s)` of one sequence, shape ``(T, 2S + 1)``.

    ``log_probs`` has shape ``(T, C)`` (the frames of this sequence only) and
    ``target`` shape ``(S,)``. Entry ``[t, s]`` is the log of the total
    probability of all partial alignments of the first ``t + 1`` frames that end
    in position ``s`` of the extended label sequence; ``-inf`` marks positions
    that cannot be reached.

    Examples
    --------
    >>> lp = torch.log(torch.tensor([[0.5, 0.5], [0.5, 0.5]]))
    >>> ctc_alpha(lp, torch.tensor([1])).exp()  # extended sequence: blank, 1, blank
    tensor([[0.5000, 0.5000, 0.0000],
            [0.2500, 0.5000, 0.2500]])
    """
    ext = extended_targets(target.to(log_probs.device), blank)
    length = ext.numel()
    emit = log_probs[:, ext]  # (T, 2S+1): log y_t(l'_s)
    neg_inf = torch.tensor(float("-inf"), dtype=log_probs.dtype, device=log_probs.device)
    # a skip from s-2 to s is allowed unless l'_s == l'_{s-2} (blanks, or two equal labels)
    can_skip = torch.zeros(length, dtype=torch.bool, device=log_probs.device)
    can_skip[2:] = ext[2:] != ext[:-2]

    first = torch.full((length,), float("-inf"), dtype=log_probs.dtype, device=log_probs.device)
    first[: min(2, length)] = emit[0, : min(2, length)]  # start with the blank or the first label
    rows = [first]
    for t in range(1, log_probs.shape[0]):
        prev = rows[-1]
        stay = prev  # from s
        step = torch.cat([neg_inf.reshape(1), prev[:-1]])  # from s - 1
        skip = torch.cat([neg_inf.expand(2), prev[:-2]])[:length]  # from s - 2
        skip = torch.where(can_skip, skip, neg_inf)
        rows.append(_logsumexp(torch.stack([stay, step, skip]), dim=0) + emit[t])
    return torch.stack(rows)


def _logsumexp(x: torch.Tensor, dim: int) -> torch.Tensor:
    r"""``log(sum(exp(x)))`` along ``dim`` whose gradient is 0, not NaN, where every term is ``-inf``.

    ``torch.logsumexp`` of ``[-inf, -inf]`` is ``-inf`` (right) with gradient
    :math:`e^{-\infty - (-\infty)}` = NaN; an unreachable state of the alpha recursion
    (every alignment through it impossible) then poisons the whole gradient. Here the
    shift by the maximum is a constant (``detach``: the result does not depend on it),
    and a sum of 0 takes the ``-inf`` branch of a ``where``, which passes no gradient back.
    """
    top = x.amax(dim=dim, keepdim=True).detach()
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))
    total = torch.exp(x - top).sum(dim=dim)
    reachable = total > 0
    safe = torch.where(reachable, total, torch.ones_like(total))
    return torch.where(reachable, top.squeeze(dim) + torch.log(safe), torch.full_like(total, float("-inf")))


def _as_lengths(lengths: Lengths, name: str, batch: int) -> list[int]:
    if isinstance(lengths, torch.Tensor):
        values = check_index_dtype(lengths, name).reshape(-1).tolist()
    elif isinstance(lengths, (list, tuple)):
        values = [check_int(v, f"{name}[{i}]") for i, v in enumerate(lengths)]
    else:
        values = [check_int(lengths, name)]
    if len(values) != batch:
        raise ValueError(f"{name} must have one entry per sequence ({batch}), got {len(values)}")
    if any(v < 0 for v in values):
        raise ValueError(f"{name} must be non-negative, got {values}")
    return [int(v) for v in values]


def ctc_loss(
    log_probs: torch.Tensor,
    targets: torch.Tensor,
    input_lengths: Lengths,
    target_lengths: Lengths,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> torch.Tensor:
    r"""The CTC loss, sequence by sequence, with the alpha recursion of :func:`ctc_alpha`.

    For sequence :math:`n` with :math:`T_n` frames and target length :math:`S_n`,

    .. math::

        \ell_n = -\log\bigl(\alpha_{T_n}(2S_n + 1) + \alpha_{T_n}(2S_n)\bigr)

    (just :math:`-\log\alpha_{T_n}(1)`, all blanks, when :math:`S_n = 0`).
    An alignment needs at least :math:`S_n` frames plus one for every pair of equal
    neighbouring labels; with fewer frames no path exists and :math:`\ell_n = \infty`
    (set to 0 by ``zero_infinity=True``).

    Reductions: ``'none'`` returns the :math:`\ell_n`; ``'sum'`` adds them;
    ``'mean'``, as in torch, first divides each :math:`\ell_n` by its target length
    (by 1 when :math:`S_n = 0`) and then averages over the batch:
    :math:`\frac{1}{N}\sum_n \ell_n / \max(S_n, 1)`.

    Parameters
    ----------
    log_probs:
        Log-probabilities, shape ``(T, N, C)`` (frames first), or ``(T, C)`` for one
        sequence; usually the output of ``log_softmax(dim=2)``.
    targets:
        Either padded, shape ``(N, S)`` with row ``n`` holding its labels in the first
        ``target_lengths[n]`` places, or the labels of all sequences concatenated,
        shape ``(sum(target_lengths),)``; ``(S,)`` for one sequence. Labels should not
        be the blank (like torch, this is not checked).
    input_lengths, target_lengths:
        Frames and labels of each sequence: tensors or sequences of ints, shape ``(N,)``.
    blank:
        Index of the blank class, in ``[0, C)``.
    reduction:
        ``'none'``, ``'mean'`` or ``'sum'``.
    zero_infinity:
        Replace infinite losses (impossible alignments) by 0.

    Examples
    --------
    >>> lp = torch.log(torch.tensor([[[0.5, 0.5]], [[0.5, 0.5]]]))  # T=2, N=1, C=2
    >>> ctc_loss(lp, torch.tensor([[1]]), [2], [1], reduction="none").exp()  # 1 / p, p = 3/4
    tensor([1.3333])
    >>> ctc_loss(lp, torch.tensor([[1, 1]]), [2], [2], reduction="none")  # "11" needs 3 frames
    tensor([inf])
    """
    reduction = check_reduction(reduction)
    zero_infinity = check_bool(zero_infinity, "zero_infinity")
    blank = check_int(blank, "blank")
    check_floating(log_probs, "log_probs")
    targets = check_index_dtype(targets, "targets")
    check_ndim(log_probs, "log_probs", (2, 3), "(T, N, C) or (T, C)")
    unbatched = log_probs.dim() == 2
    if unbatched:
        log_probs, targets = log_probs.unsqueeze(1), targets.reshape(1, -1)
    n_frames, batch, n_classes = log_probs.shape
    if not 0 <= blank < n_classes:
        raise ValueError(f"blank must be a class index in [0, {n_classes}), got {blank}")
    in_lens = _as_lengths(input_lengths, "input_lengths", batch)
    tg_lens = _as_lengths(target_lengths, "target_lengths", batch)
    if max(in_lens, default=0) > n_frames:
        raise ValueError(f"input_lengths must be at most T = {n_frames}, got {max(in_lens)}")
    padded = targets.dim() == 2
    if padded and (targets.shape[0] != batch or max(tg_lens, default=0) > targets.shape[1]):
        raise ValueError(
            f"padded targets must have shape (N={batch}, S >= max(target_lengths)), got {tuple(targets.shape)}"
        )
    if not padded and (targets.dim() != 1 or targets.numel() != sum(tg_lens)):
        raise ValueError(
            f"concatenated targets must be 1-D with sum(target_lengths) = {sum(tg_lens)} entries, "
            f"got shape {tuple(targets.shape)}"
        )

    losses = []
    offset = 0
    for n in range(batch):
        if padded:
            target = targets[n, : tg_lens[n]]
        else:
            target = targets[offset : offset + tg_lens[n]]
            offset += tg_lens[n]
        require_class_indices(target, "targets", n_classes)
        if in_lens[n] == 0:  # no frame: only the empty target has an alignment (the empty one)
            nll = log_probs.new_tensor(0.0 if tg_lens[n] == 0 else float("inf"))
        else:
            alpha = ctc_alpha(log_probs[: in_lens[n], n], target, blank)
            nll = -_logsumexp(alpha[-1, -2:], dim=0)  # end in the last label or the last blank
        losses.append(nll)
    loss = torch.stack(losses)

    if zero_infinity:
        loss = torch.where(torch.isinf(loss), torch.zeros_like(loss), loss)
    if reduction == "mean":
        divisor = torch.tensor(tg_lens, dtype=loss.dtype, device=loss.device).clamp(min=1)
        return (loss / divisor).mean()
    if reduction == "sum":
        return loss.sum()
    return loss[0] if unbatched else loss
