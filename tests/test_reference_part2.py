"""The by-hand references of the margin, embedding, sequence and large-vocabulary losses against torch.

Every function of companion.reference.{margin, embedding, ctc, adaptive, linear_ce} is
compared with its torch.nn.functional (or nn module) counterpart on random inputs drawn
for every argument, in float64 (to 1e-10) and float32 (to 1e-5). CTC is also checked
against a brute-force sum over every alignment, which shares no code with either.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from companion.reference.adaptive import (
    adaptive_log_prob,
    adaptive_log_softmax_with_loss,
    adaptive_parameters,
    adaptive_predict,
)
from companion.reference.ctc import ctc_alpha, ctc_loss, extended_targets
from companion.reference.embedding import (
    cosine_embedding_loss,
    pairwise_distance,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from companion.reference.linear_ce import linear_cross_entropy
from companion.reference.margin import (
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
)

TOL = {torch.float64: 1e-10, torch.float32: 1e-5}
dtypes = st.sampled_from([torch.float64, torch.float32])
reductions = st.sampled_from(["none", "mean", "sum"])
seeds = st.integers(0, 2**31 - 1)
EXAMPLES = settings(max_examples=50, deadline=None)


def close(actual: torch.Tensor, expected: torch.Tensor, tol: float) -> None:
    torch.testing.assert_close(actual, expected, rtol=tol, atol=tol)


def randn(gen: torch.Generator, *shape: int, dtype: torch.dtype, scale: float = 1.0) -> torch.Tensor:
    return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).to(dtype)


def signs(gen: torch.Generator, *shape: int, dtype: torch.dtype) -> torch.Tensor:
    return (torch.randint(0, 2, shape, generator=gen) * 2 - 1).to(dtype)


# --- margin losses ---------------------------------------------------------------------------


@EXAMPLES
@given(seeds, dtypes, reductions, st.lists(st.integers(1, 5), min_size=1, max_size=2), st.floats(-1.0, 2.0))
def test_margin_ranking_loss(seed, dtype, reduction, shape, margin) -> None:
    g = torch.Generator().manual_seed(seed)
    x1, x2 = randn(g, *shape, dtype=dtype), randn(g, *shape, dtype=dtype)
    y = signs(g, *shape, dtype=dtype)
    close(
        margin_ranking_loss(x1, x2, y, margin, reduction=reduction),
        F.margin_ranking_loss(x1, x2, y, margin, reduction=reduction),
        TOL[dtype],
    )


@EXAMPLES
@given(
    seeds, dtypes, reductions, st.lists(st.integers(1, 5), min_size=1, max_size=2), st.floats(0.0, 3.0), st.booleans()
)
def test_hinge_embedding_loss(seed, dtype, reduction, shape, margin, odd_targets) -> None:
    g = torch.Generator().manual_seed(seed)
    x = randn(g, *shape, dtype=dtype).abs() * 2
    y = signs(g, *shape, dtype=dtype)
    if odd_targets:  # torch applies both terms to targets other than 1 and -1
        y = torch.randint(-2, 3, shape, generator=g).to(dtype)
    close(
        hinge_embedding_loss(x, y, margin, reduction=reduction),
        F.hinge_embedding_loss(x, y, margin, reduction=reduction),
        TOL[dtype],
    )


@EXAMPLES
@given(seeds, dtypes, reductions, st.lists(st.integers(1, 5), min_size=1, max_size=3))
def test_soft_margin_loss(seed, dtype, reduction, shape) -> None:
    g = torch.Generator().manual_seed(seed)
    x, y = randn(g, *shape, dtype=dtype, scale=5.0), signs(g, *shape, dtype=dtype)
    close(soft_margin_loss(x, y, reduction=reduction), F.soft_margin_loss(x, y, reduction=reduction), TOL[dtype])


def test_soft_margin_loss_stays_finite_where_torch_overflows() -> None:
    x, y = torch.tensor([-800.0, 800.0]), torch.tensor([1.0, -1.0])
    assert torch.isinf(F.soft_margin_loss(x, y, reduction="none")).all()
    close(soft_margin_loss(x, y, reduction="none"), torch.tensor([800.0, 800.0]), 1e-6)


@EXAMPLES
@given(seeds, dtypes, reductions, st.integers(1, 4), st.integers(1, 6), st.booleans(), st.booleans(), st.booleans())
def test_multilabel_soft_margin_loss(seed, dtype, reduction, n, c, batched, weighted, soft) -> None:
    g = torch.Generator().manual_seed(seed)
    shape = (n, c) if batched else (c,)
    x = randn(g, *shape, dtype=dtype, scale=3.0)
    y = torch.rand(shape, generator=g, dtype=torch.float64).to(dtype)
    if not soft:
        y = y.round()
    w = torch.rand(c, generator=g, dtype=torch.float64).to(dtype) if weighted else None
    close(
        multilabel_soft_margin_loss(x, y, w, reduction=reduction),
        F.multilabel_soft_margin_loss(x, y, w, reduction=reduction),
        TOL[dtype],
    )


@st.composite
def multilabel_targets(draw, n: int, c: int) -> torch.Tensor:
    rows = []
    for _ in range(n):
        k = draw(st.integers(0, c))
        listed = draw(st.lists(st.integers(0, c - 1), min_size=k, max_size=k))  # duplicates allowed
        rest = draw(st.lists(st.integers(-1, c - 1), min_size=c - k, max_size=c - k))
        rows.append(listed + ([-1] + rest[1:] if rest else []))  # anything after the first -1 is ignored
    return torch.tensor(rows, dtype=torch.long)


@EXAMPLES
@given(seeds, dtypes, reductions, st.integers(1, 4), st.integers(1, 6), st.booleans(), st.data())
def test_multilabel_margin_loss(seed, dtype, reduction, n, c, batched, data) -> None:
    g = torch.Generator().manual_seed(seed)
    y = data.draw(multilabel_targets(n, c))
    x = randn(g, n, c, dtype=dtype)
    if not batched:
        x, y = x[0], y[0]
    close(
        multilabel_margin_loss(x, y, reduction=reduction),
        F.multilabel_margin_loss(x, y, reduction=reduction),
        TOL[dtype],
    )


@EXAMPLES
@given(
    seeds,
    dtypes,
    reductions,
    st.integers(1, 4),
    st.integers(1, 6),
    st.sampled_from([1, 2]),
    st.floats(0.0, 2.0),
    st.booleans(),
    st.booleans(),
)
def test_multi_margin_loss(seed, dtype, reduction, n, c, p, margin, weighted, batched) -> None:
    g = torch.Generator().manual_seed(seed)
    x = randn(g, n, c, dtype=dtype)
    y = torch.randint(0, c, (n,), generator=g)
    if not batched:
        x, y = x[0], y[0]
    w = torch.rand(c, generator=g, dtype=torch.float64).to(dtype) if weighted else None
    close(
        multi_margin_loss(x, y, p, margin, w, reduction=reduction),
        F.multi_margin_loss(x, y, p, margin, w, reduction=reduction),
        TOL[dtype],
    )


# --- embedding losses ------------------------------------------------------------------------


@EXAMPLES
@given(seeds, dtypes, reductions, st.integers(1, 5), st.integers(1, 6), st.floats(-1.0, 1.0), st.booleans())
def test_cosine_embedding_loss(seed, dtype, reduction, n, d, margin, batched) -> None:
    g = torch.Generator().manual_seed(seed)
    x1, x2 = randn(g, n, d, dtype=dtype), randn(g, n, d, dtype=dtype)
    y = signs(g, n, dtype=dtype)
    if not batched:
        x1, x2, y = x1[0], x2[0], y[0]
    close(
        cosine_embedding_loss(x1, x2, y, margin, reduction=reduction),
        F.cosine_embedding_loss(x1, x2, y, margin, reduction=reduction),
        TOL[dtype],
    )


@EXAMPLES
@given(
    seeds,
    dtypes,
    st.integers(1, 5),
    st.integers(1, 6),
    st.sampled_from([1.0, 1.5, 2.0, 3.0, math.inf]),
    st.sampled_from([0.0, 1e-6, 0.1]),
)
def test_pairwise_distance(seed, dtype, n, d, p, eps) -> None:
    g = torch.Generator().manual_seed(seed)
    x1, x2 = randn(g, n, d, dtype=dtype), randn(g, n, d, dtype=dtype)
    close(pairwise_distance(x1, x2, p, eps), F.pairwise_distance(x1, x2, p, eps), TOL[dtype])


@EXAMPLES
@given(
    seeds,
    dtypes,
    reductions,
    st.integers(1, 5),
    st.integers(1, 6),
    st.floats(0.01, 3.0),
    st.sampled_from([1.0, 1.5, 2.0, 3.0]),
    st.sampled_from([0.0, 1e-6, 0.1]),
    st.booleans(),
    st.booleans(),
)
def test_triplet_margin_loss(seed, dtype, reduction, n, d, margin, p, eps, swap, batched) -> None:
    g = torch.Generator().manual_seed(seed)
    a, pos, neg = (randn(g, n, d, dtype=dtype) for _ in range(3))
    if not batched:
        a, pos, neg = a[0], pos[0], neg[0]
    close(
        triplet_margin_loss(a, pos, neg, margin, p, eps, swap, reduction=reduction),
        F.triplet_margin_loss(a, pos, neg, margin, p, eps, swap, reduction=reduction),
        TOL[dtype],
    )


def cosine_distance(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return 1 - (u * v).sum(-1) / (u.norm(dim=-1) * v.norm(dim=-1))


@EXAMPLES
@given(
    seeds,
    dtypes,
    reductions,
    st.integers(1, 5),
    st.integers(1, 6),
    st.floats(0.01, 3.0),
    st.booleans(),
    st.sampled_from(["default", "cosine", "l1"]),
)
def test_triplet_margin_with_distance_loss(seed, dtype, reduction, n, d, margin, swap, distance) -> None:
    g = torch.Generator().manual_seed(seed)
    a, pos, neg = (randn(g, n, d, dtype=dtype) for _ in range(3))
    fn = {"default": None, "cosine": cosine_distance, "l1": lambda u, v: (u - v).abs().sum(-1)}[distance]
    kwargs = dict(distance_function=fn, margin=margin, swap=swap, reduction=reduction)
    close(
        triplet_margin_with_distance_loss(a, pos, neg, **kwargs),
        F.triplet_margin_with_distance_loss(a, pos, neg, **kwargs),
        TOL[dtype],
    )


# --- CTC --------------------------------------------------------------------------------------


@st.composite
def ctc_problems(draw):
    """A random CTC batch: lengths vary, targets repeat labels, some alignments are impossible."""
    n = draw(st.integers(1, 4))
    c = draw(st.integers(2, 5))  # few classes: repeated labels are common
    t = draw(st.integers(1, 12))
    blank = draw(st.integers(0, c - 1))
    labels = [k for k in range(c) if k != blank]
    input_lengths = [draw(st.integers(1, t)) for _ in range(n)]
    target_lengths = [draw(st.integers(0, 7)) for _ in range(n)]
    targets = [[draw(st.sampled_from(labels)) for _ in range(s)] for s in target_lengths]
    return n, c, t, blank, input_lengths, target_lengths, targets


@settings(max_examples=100, deadline=None)
@given(
    ctc_problems(), seeds, dtypes, reductions, st.booleans(), st.sampled_from(["padded", "concatenated"]), st.booleans()
)
def test_ctc_loss_matches_torch(problem, seed, dtype, reduction, zero_infinity, layout, tensor_lengths) -> None:
    n, c, t, blank, in_lens, tg_lens, targets = problem
    g = torch.Generator().manual_seed(seed)
    log_probs = torch.randn(t, n, c, generator=g, dtype=torch.float64).log_softmax(2).to(dtype)
    if layout == "padded":
        width = max(tg_lens) + 1
        tg = torch.tensor([row + [blank] * (width - len(row)) for row in targets], dtype=torch.long)
    else:
        tg = torch.tensor([k for row in targets for k in row], dtype=torch.long)
    lengths = (torch.tensor(in_lens), torch.tensor(tg_lens)) if tensor_lengths else (tuple(in_lens), tuple(tg_lens))
    kwargs = dict(blank=blank, reduction=reduction, zero_infinity=zero_infinity)
    tol = {torch.float64: 1e-8, torch.float32: 1e-5}[dtype]
    close(ctc_loss(log_probs, tg, *lengths, **kwargs), F.ctc_loss(log_probs, tg, *lengths, **kwargs), tol)


@settings(max_examples=20, deadline=None)
@given(ctc_problems(), seeds, reductions)
def test_ctc_loss_unbatched_matches_torch(problem, seed, reduction) -> None:
    _, c, t, blank, in_lens, tg_lens, targets = problem
    g = torch.Generator().manual_seed(seed)
    log_probs = torch.randn(t, c, generator=g, dtype=torch.float64).log_softmax(1)
    tg = torch.tensor(targets[0], dtype=torch.long)
    args = (log_probs[: in_lens[0]], tg, torch.tensor(in_lens[0]), torch.tensor(tg_lens[0]))
    close(ctc_loss(*args, blank=blank, reduction=reduction), F.ctc_loss(*args, blank=blank, reduction=reduction), 1e-8)


def collapse(path: tuple[int, ...], blank: int) -> list[int]:
    """CTC's many-to-one map: merge repeated symbols, then drop blanks."""
    return [k for k, _ in itertools.groupby(path) if k != blank]


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 5), st.integers(2, 3), st.integers(0, 2), st.data(), seeds)
def test_ctc_loss_is_minus_log_of_the_sum_over_all_alignments(t, c, blank, data, seed) -> None:
    blank = blank % c
    labels = [k for k in range(c) if k != blank]
    target = data.draw(st.lists(st.sampled_from(labels), max_size=4))
    g = torch.Generator().manual_seed(seed)
    log_probs = torch.randn(t, c, generator=g, dtype=torch.float64).log_softmax(1)
    total = sum(
        math.exp(sum(log_probs[i, k].item() for i, k in enumerate(path)))
        for path in itertools.product(range(c), repeat=t)
        if collapse(path, blank) == target
    )
    expected = -math.log(total) if total > 0 else math.inf
    got = ctc_loss(log_probs, torch.tensor(target, dtype=torch.long), t, len(target), blank=blank, reduction="sum")
    assert got.item() == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("target", [[1, 2, 3], [1, 1, 2], [2, 2, 2], [1, 2, 1, 1]])
def test_ctc_needs_one_frame_per_label_plus_one_per_repeat(target: list[int]) -> None:
    repeats = sum(a == b for a, b in itertools.pairwise(target))
    needed = len(target) + repeats
    lp = torch.full((needed, 1, 4), -math.log(4), dtype=torch.float64)
    tg = torch.tensor([target])
    assert math.isfinite(ctc_loss(lp, tg, [needed], [len(target)], reduction="sum").item())
    short = ctc_loss(lp, tg, [needed - 1], [len(target)], reduction="none")
    assert torch.isinf(short).all() and (short > 0).all()
    zeroed = ctc_loss(lp, tg, [needed - 1], [len(target)], reduction="none", zero_infinity=True)
    assert zeroed.tolist() == [0.0]


def test_ctc_mean_divides_each_loss_by_its_target_length_then_averages() -> None:
    g = torch.Generator().manual_seed(0)
    lp = torch.randn(8, 3, 5, generator=g, dtype=torch.float64).log_softmax(2)
    tg = torch.tensor([[1, 2, 3], [4, 4, 0], [0, 0, 0]])
    lens = [3, 2, 0]
    per_seq = ctc_loss(lp, tg, [8, 8, 8], lens, reduction="none")
    expected = (per_seq[0] / 3 + per_seq[1] / 2 + per_seq[2] / 1) / 3
    close(ctc_loss(lp, tg, [8, 8, 8], lens), expected, 1e-12)
    close(F.ctc_loss(lp, tg, [8, 8, 8], lens), expected, 1e-10)


def test_ctc_alpha_of_a_uniform_two_frame_example() -> None:
    lp = torch.log(torch.full((2, 2), 0.5, dtype=torch.float64))
    # extended sequence: blank, 1, blank; alpha_2 = (1/4, 1/2, 1/4) by counting paths
    close(ctc_alpha(lp, torch.tensor([1])).exp()[-1], torch.tensor([0.25, 0.5, 0.25], dtype=torch.float64), 1e-15)
    assert extended_targets(torch.tensor([3, 3]), blank=1).tolist() == [1, 3, 1, 3, 1]


def test_ctc_source_example_reproduces_on_this_torch() -> None:
    # the torch documentation's example, with the generator seeded to 1 like the source article
    g = torch.Generator().manual_seed(1)
    lp = torch.randn(50, 16, 20, generator=g).log_softmax(2)
    tg = torch.randint(1, 20, (16, 30), generator=g, dtype=torch.long)
    in_lens = torch.full((16,), 50, dtype=torch.long)
    tg_lens = torch.randint(10, 30, (16,), generator=g, dtype=torch.long)
    ours = ctc_loss(lp.double(), tg, in_lens, tg_lens)
    close(ours, F.ctc_loss(lp.double(), tg, in_lens, tg_lens), 1e-10)
    assert round(ours.item(), 4) == 7.5385


# --- large vocabularies ----------------------------------------------------------------------


@st.composite
def adaptive_setups(draw):
    n_classes = draw(st.integers(3, 30))
    k = draw(st.integers(1, min(3, n_classes - 1)))
    cutoffs = sorted(draw(st.lists(st.integers(1, n_classes - 1), min_size=k, max_size=k, unique=True)))
    div_value = draw(st.sampled_from([1.0, 2.0, 4.0]))
    smallest = max(4, int(div_value**k))  # every tail keeps a projection of size >= 1
    return n_classes, cutoffs, draw(st.integers(smallest, smallest + 12)), div_value, draw(st.booleans())


@EXAMPLES
@given(adaptive_setups(), seeds, dtypes, st.integers(1, 12), st.booleans())
def test_adaptive_log_softmax_matches_the_module(setup, seed, dtype, n, batched) -> None:
    n_classes, cutoffs, d, div_value, head_bias = setup
    torch.manual_seed(seed)
    asm = nn.AdaptiveLogSoftmaxWithLoss(d, n_classes, cutoffs, div_value=div_value, head_bias=head_bias, dtype=dtype)
    g = torch.Generator().manual_seed(seed)
    x = randn(g, n, d, dtype=dtype, scale=2.0)
    y = torch.randint(0, n_classes, (n,), generator=g)
    if not batched:
        x, y = x[0], y[0]
    weights = adaptive_parameters(asm)
    ours, expected = adaptive_log_softmax_with_loss(x, y, **weights), asm(x, y)
    close(ours.output, expected.output, TOL[dtype])
    close(ours.loss, expected.loss, TOL[dtype])
    if batched:
        close(adaptive_log_prob(x, **weights), asm.log_prob(x), TOL[dtype])
        assert torch.equal(adaptive_predict(x, **weights), asm.predict(x))
    # the constructor's cutoffs (without the number of classes) work as well
    weights["cutoffs"] = cutoffs
    close(adaptive_log_softmax_with_loss(x, y, **weights).loss, expected.loss, TOL[dtype])


@st.composite
def linear_ce_setups(draw):
    n = draw(st.integers(1, 9))
    d = draw(st.integers(1, 6))
    c = draw(st.integers(2, 7))
    out_features = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    probabilities = draw(st.booleans())
    batched = draw(st.booleans()) or bool(out_features)
    return n, d, c, out_features, probabilities, batched


@settings(max_examples=100, deadline=None)
@given(
    linear_ce_setups(),
    seeds,
    dtypes,
    reductions,
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.sampled_from([0.0, 0.1, 1.0]),
    st.sampled_from([None, 1, 2, 4]),
)
def test_linear_cross_entropy_matches_torch(
    setup, seed, dtype, reduction, bias, weighted, ignore, smoothing, chunk
) -> None:
    n, d, c, out_features, probabilities, batched = setup
    g = torch.Generator().manual_seed(seed)
    x = randn(g, n, d, dtype=dtype)
    w_lin = randn(g, c, *out_features, d, dtype=dtype)
    b = randn(g, c, *out_features, dtype=dtype) if bias else None
    weight = torch.rand(c, generator=g, dtype=torch.float64).to(dtype) + 0.1 if weighted else None
    if probabilities:
        target = torch.rand(n, c, *out_features, generator=g, dtype=torch.float64).softmax(1).to(dtype)
    else:
        target = torch.randint(0, c, (n, *out_features), generator=g)
    ignore_index = None
    if ignore and not probabilities:
        ignore_index = 0
        target[(0,) * target.dim()] = 1  # keep one position that counts, so 'mean' is defined
    if not batched:
        x, target = x[0], target[0]
    kwargs = dict(
        linear_bias=b, weight=weight, reduction=reduction, ignore_index=ignore_index, label_smoothing=smoothing
    )
    expected = F.linear_cross_entropy(x, w_lin, target, **kwargs)
    options = None if chunk is None else nn.LinearCrossEntropyOptions(batch_chunk_size=chunk, chunking_method=None)
    close(linear_cross_entropy(x, w_lin, target, options=options, **kwargs), expected, TOL[dtype])


def test_linear_cross_entropy_chunked_torch_agrees_with_the_reference() -> None:
    g = torch.Generator().manual_seed(3)
    x, w = torch.randn(64, 8, generator=g, dtype=torch.float64), torch.randn(100, 8, generator=g, dtype=torch.float64)
    y = torch.randint(0, 100, (64,), generator=g)
    opts = nn.LinearCrossEntropyOptions(batch_chunk_size=16, chunking_method=None)
    close(linear_cross_entropy(x, w, y, options=opts), F.linear_cross_entropy(x, w, y, options=opts), 1e-10)
    close(linear_cross_entropy(x, w, y), F.cross_entropy(x @ w.T, y), 1e-10)


# --- the source article's examples, by hand arithmetic ---------------------------------------


def test_source_examples_by_hand() -> None:
    x = torch.tensor([[0.1, 0.2, 0.4, 0.8]], dtype=torch.float64)
    by_hand = ((1 - (0.1 - 0.2)) + (1 - (0.1 - 0.4)) + (1 - (0.8 - 0.2)) + (1 - (0.8 - 0.4))) / 4
    assert multilabel_margin_loss(x, torch.tensor([[0, 3, -1, -1]])).item() == pytest.approx(by_hand)
    x = torch.tensor([[0.3, 0.7, 0.8]], dtype=torch.float64)
    by_hand = (math.log1p(math.exp(0.3)) + math.log1p(math.exp(-0.7)) + math.log1p(math.exp(-0.8))) / 3
    y = torch.tensor([[0.0, 1.0, 1.0]], dtype=torch.float64)
    assert multilabel_soft_margin_loss(x, y).item() == pytest.approx(by_hand)
    x = torch.tensor([[0.1, 0.2, 0.7], [0.2, 0.5, 0.3]], dtype=torch.float64)
    by_hand = [((1 - 0.2 + 0.1) + (1 - 0.2 + 0.7)) / 3, ((1 - 0.3 + 0.2) + (1 - 0.3 + 0.5)) / 3]
    assert multi_margin_loss(x, torch.tensor([1, 2]), reduction="none").tolist() == pytest.approx(by_hand)
    one = torch.ones(1, 1, dtype=torch.float64)
    assert triplet_margin_loss(one, 2 * one, 0.5 * one, p=1, eps=0.0).item() == pytest.approx(1 - 0.5 + 1)
    x = torch.tensor([1.0, 0.8, 0.5], dtype=torch.float64)
    assert hinge_embedding_loss(x, torch.tensor([1, 1, -1]), reduction="none").tolist() == pytest.approx(
        [1.0, 0.8, 0.5]
    )
    a, b = torch.tensor([0.3, 0.5, 0.7], dtype=torch.float64), torch.tensor([0.1, 0.3, 0.5], dtype=torch.float64)
    cos = (0.03 + 0.15 + 0.35) / math.sqrt((0.09 + 0.25 + 0.49) * (0.01 + 0.09 + 0.25))
    got = cosine_embedding_loss(torch.stack([a, a]), torch.stack([b, b]), torch.tensor([1.0, -1.0]), reduction="none")
    assert got.tolist() == pytest.approx([1 - cos, cos])


# --- bad input ---------------------------------------------------------------------------------


def _calls(reduction: str):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(3, 4, generator=g), torch.randint(0, 4, (3,), generator=g)
    lp = torch.randn(5, 3, 4, generator=g).log_softmax(2)
    w = torch.randn(6, 4, generator=g)
    return [
        lambda: margin_ranking_loss(x, x, torch.ones(3, 4), reduction=reduction),
        lambda: hinge_embedding_loss(x, torch.ones(3, 4), reduction=reduction),
        lambda: soft_margin_loss(x, torch.ones(3, 4), reduction=reduction),
        lambda: multilabel_soft_margin_loss(x, torch.ones(3, 4), reduction=reduction),
        lambda: multilabel_margin_loss(x, torch.zeros(3, 4, dtype=torch.long), reduction=reduction),
        lambda: multi_margin_loss(x, y, reduction=reduction),
        lambda: cosine_embedding_loss(x, x, torch.ones(3), reduction=reduction),
        lambda: triplet_margin_loss(x, x, x, reduction=reduction),
        lambda: triplet_margin_with_distance_loss(x, x, x, reduction=reduction),
        lambda: ctc_loss(lp, torch.ones(3, 2, dtype=torch.long), [5, 5, 5], [2, 2, 2], reduction=reduction),
        lambda: linear_cross_entropy(x, w, y, reduction=reduction),
    ]


@pytest.mark.parametrize("index", range(11))
@pytest.mark.parametrize("reduction", ["avg", "batchmean", "", None])
def test_bad_reduction_is_a_value_error(index: int, reduction) -> None:
    with pytest.raises(ValueError, match="reduction"):
        _calls(reduction)[index]()


@pytest.mark.parametrize(
    "call, match",
    [
        # the source's ranking example: (3, 1) scores against a (3,) target
        (lambda: margin_ranking_loss(torch.ones(3, 1), torch.ones(3, 1), torch.ones(3)), "target"),
        # the source's cosine example: a (1, 2) target for two pairs
        (lambda: cosine_embedding_loss(torch.ones(2, 3), torch.ones(2, 3), torch.ones(1, 2)), "target"),
        (lambda: multi_margin_loss(torch.ones(2, 3), torch.tensor([0, 1]), p=3), "p must be <= 2"),
        (lambda: multi_margin_loss(torch.ones(2, 3), torch.tensor([0, 3])), "target"),
        (lambda: multilabel_margin_loss(torch.ones(2, 3), torch.tensor([[0, 3, -1], [0, -1, 0]])), "target"),
        (lambda: triplet_margin_loss(torch.ones(2, 3), torch.ones(2, 3), torch.ones(2, 3), margin=0.0), "margin"),
        (lambda: triplet_margin_loss(torch.ones(2, 3), torch.ones(2, 3), torch.ones(3)), "negative"),
        (lambda: ctc_loss(torch.zeros(4, 1, 3), torch.ones(1, 2, dtype=torch.long), [4], [2], blank=3), "blank"),
        (lambda: ctc_loss(torch.zeros(4, 1, 3), torch.ones(1, 2, dtype=torch.long), [5], [2]), "input_lengths"),
        (lambda: ctc_loss(torch.zeros(4, 1, 3), torch.ones(1, 2, dtype=torch.long), [4], [3]), "padded targets"),
        (lambda: ctc_loss(torch.zeros(4, 2, 3), torch.ones(3, dtype=torch.long), [4, 4], [2, 2]), "concatenated"),
        (lambda: linear_cross_entropy(torch.ones(2, 3), torch.ones(4, 2), torch.tensor([0, 1])), "linear_weight"),
        (
            lambda: linear_cross_entropy(torch.ones(2, 3), torch.ones(4, 3), torch.tensor([0, 1]), label_smoothing=1.5),
            "label_smoothing",
        ),
    ],
)
def test_bad_input_is_a_clear_error(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_types_are_type_errors() -> None:
    with pytest.raises(TypeError, match="input"):
        soft_margin_loss(torch.ones(3, dtype=torch.long), torch.ones(3))
    with pytest.raises(TypeError, match="targets"):
        ctc_loss(torch.zeros(4, 1, 3), torch.ones(1, 2), [4], [2])
    with pytest.raises(TypeError, match="target"):
        multilabel_margin_loss(torch.ones(3), torch.ones(3))


def test_adaptive_rejects_targets_outside_the_vocabulary() -> None:
    asm = nn.AdaptiveLogSoftmaxWithLoss(4, 10, [4])
    with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 9\]"):
        adaptive_log_softmax_with_loss(torch.ones(2, 4), torch.tensor([0, 10]), **adaptive_parameters(asm))


def test_the_references_call_no_torch_loss_function(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace every torch loss function by one that fails, then run every reference."""
    expected = [call() for call in _calls("sum")]
    loss_names = {name for name in dir(F) if "loss" in name or "entropy" in name} | {"nll_loss", "kl_div"}

    def forbidden(*args, **kwargs):
        raise AssertionError("a reference called a torch loss function")

    for namespace in (F, torch, torch._C._nn):
        for name in loss_names:
            if hasattr(namespace, name):
                monkeypatch.setattr(namespace, name, forbidden)
    with pytest.raises(AssertionError, match="torch loss function"):
        F.cross_entropy(torch.zeros(1, 2), torch.tensor([0]))
    for call, value in zip(_calls("sum"), expected, strict=True):
        close(call(), value, 1e-6)
    asm = nn.AdaptiveLogSoftmaxWithLoss(4, 10, [4])
    x, y = torch.randn(3, 4), torch.tensor([0, 5, 9])
    adaptive_log_softmax_with_loss(x, y, **adaptive_parameters(asm))
    monkeypatch.undo()
    close(adaptive_log_softmax_with_loss(x, y, **adaptive_parameters(asm)).loss, asm(x, y).loss, 1e-6)
