"""Hidden checks of chapter 8: the Euclidean RBF output units, the losses of eqs. 8 and 9,
the decision rule and the final parameter and connection counts.

The references here are written independently of the solution cells: penalties and losses
by explicit loops with ``math.fsum`` / ``np.logaddexp``, gradients by finite differences.
"""
from __future__ import annotations

import contextlib
import math
import numbers

import numpy as np

from lenet5 import data
from lenet5.testing import check_array, check_int

from .common import Parts, matches, numerical_gradient, pair, rng


# ------------------------------------------------------------------------------ helpers

def _codes() -> np.ndarray:
    """The ten Fig. 3 codes, (10, 84), +-1."""
    return data.rbf_bitmaps().reshape(10, 84)


def _penalties(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Eq. 7 by loops: out[n, i] = sum_j (x[n, j] - centers[i, j])^2."""
    out = np.empty((len(x), len(centers)))
    for n in range(len(x)):
        for i in range(len(centers)):
            out[n, i] = math.fsum((x[n] - centers[i]) ** 2)
    return out



def _call(what: str, function, *args):
    """``function(*args)``; an error the student's code raised becomes a message naming the call."""
    try:
        return function(*args)
    except Exception as error:  # noqa: BLE001 - the checks' own errors propagate
        if isinstance(error, AssertionError) or not getattr(error, "raised_by", None):
            raise
        raise AssertionError(f"{what}: your function raised {type(error).__name__}: "
                             f"{error}") from None


def _scalar(value, what: str) -> float:
    """A loss must be one number: a Python/NumPy scalar or a 0-d array."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        raise AssertionError(f"{what}: the loss must be one number (the mean over the batch), "
                             f"got an array of shape {value.shape}")
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.ndarray, np.generic)):
        raise AssertionError(f"{what}: the loss must be a number, got {type(value).__name__}")
    return float(value)


def _mle_reference(penalties, labels) -> float:
    return math.fsum(penalties[n, labels[n]] for n in range(len(labels))) / len(labels)


def _map_reference(penalties, labels, j) -> float:
    per = [penalties[n, labels[n]] + np.logaddexp.reduce(np.concatenate([[-j], -penalties[n]]))
           for n in range(len(labels))]
    return math.fsum(per) / len(labels)


def _map_gradient_reference(penalties, labels, j) -> np.ndarray:
    """Analytic dE/dy of eq. 9, each row computed on its own with np.logaddexp."""
    n = len(labels)
    grad = np.empty_like(penalties)
    for p in range(n):
        log_z = np.logaddexp.reduce(np.concatenate([[-j], -penalties[p]]))
        grad[p] = -np.exp(-penalties[p] - log_z)
        grad[p, labels[p]] += 1.0
    return grad / n


def _loss_gradient(loss, penalties) -> np.ndarray:
    """Finite-difference gradient of a scalar function of the penalties."""
    return numerical_gradient(lambda p: np.asarray(loss(p)), penalties.copy(), np.asarray(1.0))


# ------------------------------------------------------------------------- rbf_forward

def _diagnose_penalties(what, got, x, centers, expected) -> None:
    """Raise with the name of the mistake when ``got`` matches a known wrong formula."""
    if type(got) is not np.ndarray:
        return
    d = x.shape[1]
    if got.shape == expected.T.shape and got.shape != expected.shape:
        raise AssertionError(f"{what}: expected shape {expected.shape} (patterns, classes), "
                             f"got {got.shape}: the penalties come out transposed")
    if got.shape != expected.shape:
        return
    dots = x @ centers.T
    wrong = [
        (-expected, "your penalties are the negative of eq. 7 (-sum of squares). A penalty "
                    "is a squared distance, never negative: y_i = sum_j (x_j - w_ij)^2"),
        (_penalties(x, -centers), "you computed sum_j (x_j + w_ij)^2: the centre must be "
                                  "subtracted, y_i = sum_j (x_j - w_ij)^2"),
        (np.sqrt(expected), "you took the square root: eq. 7 is the *squared* Euclidean "
                            "distance, without a root"),
        (expected / d, "you averaged over the 84 inputs: eq. 7 sums the squared differences"),
        (np.abs(x[:, None, :] - centers[None]).sum(axis=2),
         "you summed absolute differences (an L1 distance): eq. 7 squares each difference"),
        ((centers * centers).sum(axis=1)[None, :] - 2 * dots,
         "you dropped the sum_j x_j^2 term of the expansion: it does not change which class "
         "wins, but the penalty is the full squared distance sum_j (x_j - w_ij)^2"),
    ]
    for candidate, message in wrong:
        if matches(got, candidate):
            raise AssertionError(f"{what}: {message}")
    for scale in (1.0, -1.0, 2.0, -2.0):
        if matches(got, scale * dots):
            raise AssertionError(
                f"{what}: you computed a dot-product similarity ({scale:g} * x . w_i), not a "
                f"Euclidean distance. The RBF unit measures how far x is from its centre: "
                f"y_i = sum_j (x_j - w_ij)^2, which is 0 when x equals the code")


def _rbf_forward_case(rbf_forward, name, x, centers) -> None:
    what = f"rbf_forward on {name}"
    x_before, c_before = x.copy(), centers.copy()
    out, _ = pair(_call(what, rbf_forward, x, centers), what)
    expected = _penalties(x, centers)
    _diagnose_penalties(what, out, x, centers, expected)
    check_array(what, out, expected, rtol=1e-7, atol=1e-9,
                hint="Each penalty is the squared distance from x to one centre")
    if not (np.array_equal(x, x_before) and np.array_equal(centers, c_before)):
        raise AssertionError(f"{what}: your function changed its arguments")


def check_rbf_forward(rbf_forward) -> None:
    """rbf_forward(x, centers): eq. 7. Parts: on the real codes (84 inputs, 10 classes; 2),
    on other sizes (1)."""
    gen = rng()
    codes = _codes()
    parts = Parts()
    with parts("the ten codes of Fig. 3", weight=2):
        for name, x in (("F6-like outputs against the ten codes", gen.uniform(-1.7, 1.7, (6, 84))),
                        ("one pattern equal to the code of 3", codes[[3]].copy()),
                        ("a batch of 32 against the ten codes", gen.uniform(-1.7, 1.7, (32, 84)))):
            _rbf_forward_case(rbf_forward, name, x, codes)
    with parts("other numbers of inputs and classes"):
        _rbf_forward_case(rbf_forward, "random centres (4 patterns, 5 inputs, 3 classes)",
                          gen.standard_normal((4, 5)), gen.standard_normal((3, 5)))
        _rbf_forward_case(rbf_forward, "one class only (2 patterns, 7 inputs)",
                          gen.standard_normal((2, 7)), gen.standard_normal((1, 7)))
    parts.verdict()


# ------------------------------------------------------------------------ rbf_backward

def _rbf_backward_case(gen, rbf_forward, rbf_backward, name, x, centers) -> None:
    what = f"rbf_backward on {name}"
    dout = gen.standard_normal((len(x), len(centers)))
    try:
        _, cache = pair(rbf_forward(x.copy(), centers.copy()), f"rbf_forward on {name}")
    except Exception as error:  # noqa: BLE001 - rbf_forward is graded on its own
        if not (isinstance(error, AssertionError) or getattr(error, "raised_by", None)):
            raise
        # One slip, points lost once: go on with the cache of this book's rbf_forward.
        cache, what = (x.copy(), centers.copy()), f"{what} (with the cache (x, centers))"
    dx = _call(what, rbf_backward, dout.copy(), cache)
    if isinstance(dx, tuple):
        raise AssertionError(f"{what}: return dx only. The centres are fixed by hand "
                             f"(Fig. 3 codes), so there is no gradient to return for them")
    expected = numerical_gradient(lambda v: _penalties(v, centers), x.copy(), dout)
    if type(dx) is np.ndarray and dx.shape == expected.shape:
        ignoring_dout = numerical_gradient(lambda v: _penalties(v, centers), x.copy(),
                                           np.ones_like(dout))
        if matches(dx, expected / 2, tol=1e-5):
            raise AssertionError(f"{what}: your dx is half the true gradient. "
                                 f"d/dx_j (x_j - w_ij)^2 = 2 (x_j - w_ij): keep the factor 2")
        if matches(dx, -expected, tol=1e-5):
            raise AssertionError(f"{what}: your dx has the wrong sign: "
                                 f"d/dx_j (x_j - w_ij)^2 = +2 (x_j - w_ij)")
        if matches(dx, ignoring_dout, tol=1e-5):
            raise AssertionError(f"{what}: dx ignores dout. Each class's term "
                                 f"2 (x - w_i) must be weighted by dout[:, i]")
    check_array(what, dx, expected, rtol=1e-5, atol=1e-6,
                hint="dx_j = 2 * sum_i dout_i (x_j - w_ij), compared with finite "
                     "differences of eq. 7")


def check_rbf_backward(rbf_forward, rbf_backward) -> None:
    """rbf_backward(dout, cache) -> dx, against finite differences of eq. 7. Parts: on the
    real codes (1), on other sizes (1). If rbf_forward fails, its points are lost there only:
    rbf_backward is then given the cache (x, centers) of this book's rbf_forward."""
    gen = rng()
    codes = _codes()
    parts = Parts()
    with parts("3 patterns against the ten codes"):
        _rbf_backward_case(gen, rbf_forward, rbf_backward, "3 patterns against the ten codes",
                           gen.uniform(-1.7, 1.7, (3, 84)), codes)
    with parts("other numbers of inputs and classes"):
        _rbf_backward_case(gen, rbf_forward, rbf_backward,
                           "random centres (2 patterns, 6 inputs, 4 classes)",
                           gen.standard_normal((2, 6)), gen.standard_normal((4, 6)))
        _rbf_backward_case(gen, rbf_forward, rbf_backward, "one pattern, one class",
                           gen.standard_normal((1, 5)), gen.standard_normal((1, 5)))
    parts.verdict()


# ----------------------------------------------------------------------------- predict

def check_predict(predict) -> None:
    """predict(penalties) -> (N,) the class of smallest penalty. Parts: the decisions (1),
    ties (1)."""
    gen = rng()
    codes = _codes()
    x = codes[[7, 2, 1, 0, 4]] + 0.3 * gen.standard_normal((5, 84))
    cases = [
        ("penalties of noisy codes of 7, 2, 1, 0, 4", _penalties(x, codes)),
        ("random penalties (9 patterns)", gen.uniform(0, 100, (9, 10))),
        ("one pattern", gen.uniform(0, 100, (1, 10))),
        ("3 classes", gen.uniform(0, 100, (6, 3))),
    ]
    parts = Parts()
    with parts("the decisions"):
        _predict_cases(predict, cases)
    with parts("ties (the lowest index wins)"):
        _predict_ties(predict)
    parts.verdict()


def _predict_cases(predict, cases) -> None:
    for name, penalties in cases:
        what = f"predict on {name}"
        got = _call(what, predict, penalties.copy())
        expected = np.array([min(range(penalties.shape[1]), key=lambda i: row[i])
                             for row in penalties])
        if type(got) is np.ndarray and got.shape == expected.shape and \
                matches(got, penalties.argmax(axis=1)) and not matches(got, expected):
            raise AssertionError(f"{what}: you picked the largest penalty (argmax). An RBF "
                                 f"output is a squared distance to a code: the class with the "
                                 f"*smallest* penalty wins (argmin)")
        if type(got) is np.ndarray and got.shape == (len(penalties), 1):
            raise AssertionError(f"{what}: expected shape {expected.shape}, got {got.shape}: "
                                 f"return one class per pattern, a 1-D array")
        if type(got) is np.ndarray and got.shape == (penalties.shape[1],) != expected.shape:
            raise AssertionError(f"{what}: expected shape {expected.shape}, got {got.shape}: "
                                 f"take the minimum over the classes (axis=1), not over the "
                                 f"patterns")
        check_array(what, got, expected, rtol=0, atol=0,
                    hint="The prediction is the index of the smallest penalty in each row")
        if not np.issubdtype(got.dtype, np.integer):
            raise AssertionError(f"{what}: expected integer class indices, got dtype {got.dtype}")


def _predict_ties(predict) -> None:
    """Ties: the lowest of the tied indices wins (np.argmin's rule, stated in the exercise)."""
    tied = np.array([[3.0] * 10,
                     [5.0, 2.0, 7.0, 2.0, 9.0, 2.0, 8.0, 6.0, 4.0, 3.0],
                     [9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 1.0],
                     [0.5, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]])
    got = _call("predict on rows with tied smallest penalties", predict, tied.copy())
    expected = np.array([0, 1, 8, 0])
    last = np.array([max(np.flatnonzero(row == row.min())) for row in tied])   # [9, 5, 9, 1]
    if type(got) is np.ndarray and got.shape == expected.shape and matches(got, last):
        raise AssertionError("predict on rows with tied smallest penalties: you returned the "
                             "last of the tied classes; the exercise asks for the lowest "
                             "index (as np.argmin does)")
    check_array("predict on rows with tied smallest penalties", got, expected, rtol=0, atol=0,
                hint="with a tie, return the lowest of the tied indices (as np.argmin does)")


# ---------------------------------------------------------------------------- mle_loss

def check_mle_loss(mle_loss) -> None:
    """mle_loss(penalties, labels) -> (loss, dpenalties), eq. 8. Parts: the loss (1), the
    gradient dpenalties (1)."""
    gen = rng()
    cases = []
    for n, k in ((1, 10), (5, 10), (32, 10), (4, 3)):
        what = f"mle_loss on {n} pattern{'s' * (n > 1)} and {k} classes"
        penalties = gen.uniform(0, 100, (n, k))
        labels = gen.integers(0, k, n)
        cases.append((what, n, penalties, labels))
    parts = Parts()
    with parts("the loss"):
        for what, n, penalties, labels in cases:
            before = penalties.copy()
            loss, _ = pair(_call(what, mle_loss, penalties, labels), what, "(loss, dpenalties)")
            loss = _scalar(loss, what)
            expected = _mle_reference(penalties, labels)
            if n > 1 and math.isclose(loss, n * expected, rel_tol=1e-7):
                raise AssertionError(f"{what}: your loss is the sum over the batch; eq. 8 takes "
                                     f"the mean (1/P times the sum)")
            if math.isclose(loss, penalties.min(axis=1).mean(), rel_tol=1e-7) and \
                    not math.isclose(loss, expected, rel_tol=1e-7):
                raise AssertionError(f"{what}: you used the smallest penalty of each pattern; "
                                     f"eq. 8 uses the penalty of the *correct* class, y_(label)")
            if math.isclose(loss, penalties.mean(), rel_tol=1e-7) and \
                    not math.isclose(loss, expected, rel_tol=1e-7):
                raise AssertionError(f"{what}: you averaged all penalties; eq. 8 averages only "
                                     f"the correct class's penalty of each pattern")
            if not math.isclose(loss, expected, rel_tol=1e-7, abs_tol=1e-9):
                raise AssertionError(f"{what}: expected loss {expected:.6g}, got {loss:.6g}")
            if not np.array_equal(penalties, before):
                raise AssertionError(f"{what}: your function changed the penalties array")
    with parts("the gradient dpenalties"):
        for what, n, penalties, labels in cases:
            before = penalties.copy()
            _, d = pair(_call(what, mle_loss, penalties, labels), what, "(loss, dpenalties)")
            numeric = _loss_gradient(lambda p: _mle_reference(p, labels), penalties)
            if type(d) is np.ndarray and d.shape == numeric.shape and n > 1 and \
                    matches(d, n * numeric):
                raise AssertionError(f"{what}: dpenalties is {n} times too large: the loss is a "
                                     f"mean over the batch, so each gradient carries 1/N")
            check_array(f"{what}: dpenalties", d, numeric, rtol=1e-5, atol=1e-7,
                        hint="compared with finite differences of eq. 8")
            if not np.array_equal(penalties, before):
                raise AssertionError(f"{what}: your function changed the penalties array")
    parts.verdict()


# ---------------------------------------------------------------------------- map_loss

def _diagnose_map(what, loss, penalties, labels, j, expected) -> None:
    n = len(labels)
    rows = np.arange(n)
    correct = penalties[rows, labels]

    def mean_of(log_terms):
        return float(np.mean(correct + log_terms))

    with np.errstate(all="ignore"):
        wrong = [
            (mean_of(np.logaddexp.reduce(-penalties, axis=1)),
             "the e^{-j} term is missing: eq. 9 is y_D + log(e^{-j} + sum_i e^{-y_i}); "
             "without it the loss is a plain softmax cross-entropy on -y"),
            (mean_of(np.logaddexp(np.logaddexp.reduce(-penalties, axis=1), j)),
             "the constant term must be e^{-j}, not e^{+j}"),
            (mean_of(np.logaddexp(np.logaddexp.reduce(penalties, axis=1), -j)),
             "the exponents must be -y_i (e^{-y_i}): a large penalty means an unlikely class"),
            (n * expected, "your loss is the sum over the batch; eq. 9 takes the mean"),
        ]
    for candidate, message in wrong:
        if math.isfinite(candidate) and not math.isclose(candidate, expected, rel_tol=1e-7) \
                and math.isclose(loss, candidate, rel_tol=1e-7, abs_tol=1e-9):
            raise AssertionError(f"{what}: {message}")


def check_map_loss(map_loss) -> None:
    """map_loss(penalties, labels, j) -> (loss, dpenalties), eq. 9, stable for large values.
    Parts: the loss (1) and its gradient (1) on moderate penalties, both stable for large
    penalties (1)."""
    gen = rng()
    cases = []
    for n, k, j, (low, high) in [
        (5, 10, 1.0, (0, 6)),      # penalties in the range where the competitive term acts
        (3, 10, 5.0, (0, 12)),
        (1, 10, 0.1, (0, 3)),
        (4, 3, 2.0, (0, 5)),
        (32, 10, 1.0, (0, 100)),
    ]:
        what = f"map_loss on {n} pattern{'s' * (n > 1)}, {k} classes, j = {j:g}"
        cases.append((what, n, j, gen.uniform(low, high, (n, k)), gen.integers(0, k, n)))
    parts = Parts()
    with parts("the loss (eq. 9)"):
        for what, n, j, penalties, labels in cases:
            before = penalties.copy()
            loss, _ = pair(_call(what, map_loss, penalties, labels, j), what, "(loss, dpenalties)")
            loss = _scalar(loss, what)
            expected = _map_reference(penalties, labels, j)
            _diagnose_map(what, loss, penalties, labels, j, expected)
            if not math.isclose(loss, expected, rel_tol=1e-7, abs_tol=1e-9):
                raise AssertionError(f"{what}: expected loss {expected:.6g}, got {loss:.6g}")
            if loss < 0:
                raise AssertionError(f"{what}: eq. 9 is never negative, got {loss:.6g}")
            if not np.array_equal(penalties, before):
                raise AssertionError(f"{what}: your function changed the penalties array")
    with parts("the gradient dpenalties"):
        for what, n, j, penalties, labels in cases:
            _, d = pair(_call(what, map_loss, penalties.copy(), labels, j), what, "(loss, dpenalties)")
            numeric = _loss_gradient(lambda p: _map_reference(p, labels, j), penalties)
            if type(d) is np.ndarray and d.shape == numeric.shape and n > 1 and \
                    matches(d, n * numeric, tol=1e-5):
                raise AssertionError(f"{what}: dpenalties is {n} times too large: the loss is a "
                                     f"mean over the batch, so each gradient carries 1/N")
            check_array(f"{what}: dpenalties", d, numeric, rtol=1e-5, atol=1e-7,
                        hint="compared with finite differences of eq. 9: dE/dy_k = "
                             "([k = label] - e^{-y_k} / (e^{-j} + sum_i e^{-y_i})) / N")
    with parts("stability for large penalties (log-sum-exp)"):
        _check_map_stability(gen, map_loss)
    parts.verdict()


def _check_map_stability(gen, map_loss) -> None:
    """Large penalties: the exponentials underflow (e^{-1000} = 0 in float64) unless the
    largest exponent, among -j and every -y_i, is factored out first (log-sum-exp)."""
    for j, offset in ((1.0, 1000.0), (1000.0, 1000.0), (1002.0, 1000.0), (1.0, 50_000.0)):
        n = 6
        penalties = offset + gen.uniform(0, 5, (n, 10))
        labels = gen.integers(0, 10, n)
        what = f"map_loss with penalties near {offset:g} and j = {j:g}"
        with np.errstate(all="ignore"):
            loss, d = pair(_call(what, map_loss, penalties, labels, j), what, "(loss, dpenalties)")
        loss = _scalar(loss, what)
        finite = math.isfinite(loss) and isinstance(d, np.ndarray) and \
            np.issubdtype(d.dtype, np.number) and bool(np.isfinite(d).all())
        if not finite:
            raise AssertionError(
                f"{what}: the result holds inf or NaN. Compute log(e^{{-j}} + sum_i e^{{-y_i}}) "
                f"stably: factor out the largest of the exponents -j, -y_1, ..., -y_10 "
                f"(log-sum-exp), so that no exponential underflows to 0 or overflows")
        expected = _map_reference(penalties, labels, j)
        if not math.isclose(loss, expected, rel_tol=1e-9, abs_tol=1e-9):
            raise AssertionError(f"{what}: expected loss {expected:.10g}, got {loss:.10g}; "
                                 f"is log-sum-exp applied to all the terms, e^{{-j}} included?")
        check_array(f"{what}: dpenalties", d, _map_gradient_reference(penalties, labels, j),
                    rtol=1e-6, atol=1e-9,
                    hint="the gradient needs the same stable normaliser as the loss")


# ------------------------------------------------------------------------------ counts

@contextlib.contextmanager
def _named(what):
    """Name the call (``what()``, read when it fails) in an error the student's code raised."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 - the checks' own errors propagate
        if isinstance(error, AssertionError) or not getattr(error, "raised_by", None):
            raise
        raise AssertionError(f"{what()} raised {type(error).__name__}: {error}") from None


def _pair_of_ints(result, what):
    if not (isinstance(result, tuple) and len(result) == 2):
        raise AssertionError(f"{what}: expected a pair (params, connections), got "
                             f"{type(result).__name__}")
    return result


# The paper's counts of the layers before the output layer (p. 7): (parameters, connections).
PAPER_LAYERS = {"C1": (156, 122_304), "S2": (12, 5_880), "C3": (1_516, 151_600),
                "S4": (32, 2_000), "C5": (48_120, 48_120), "F6": (10_164, 10_164)}
THROUGH_F6 = (60_000, 340_068)      # their sums


def _layers_of(layers):
    """The student's LAYERS as {name: (params, connections)} of ints, or None if malformed."""
    if not isinstance(layers, dict) or sorted(layers) != sorted(PAPER_LAYERS):
        return None
    out = {}
    for name, counts in layers.items():
        if not (isinstance(counts, (tuple, list)) and len(counts) == 2 and
                all(type(v) is int or isinstance(v, np.integer) for v in counts)):
            return None
        out[name] = (int(counts[0]), int(counts[1]))
    return out


def _layer_diagnosis(layers) -> str:
    """Which entries of the student's LAYERS differ from the paper's counts, if any."""
    mine = _layers_of(layers)
    if mine is None:
        return (" LAYERS should map 'C1', 'S2', 'C3', 'S4', 'C5', 'F6' to pairs of integers "
                "(params, connections)")
    wrong = [f"LAYERS[{name!r}] is ({p:,}, {c:,}), the paper's count is "
             f"({PAPER_LAYERS[name][0]:,}, {PAPER_LAYERS[name][1]:,})"
             for name, (p, c) in mine.items() if (p, c) != PAPER_LAYERS[name]]
    return (" Check your layer counts: " + "; ".join(wrong)) if wrong else ""


def check_counts(rbf_params, rbf_connections, total_params, total_connections,
                 rbf_layer_counts, lenet5_totals, layers=None) -> None:
    """The output layer's counts and the network's totals (paper, p. 7), and the two functions
    for other numbers of units. One third of the points for each of: the four values,
    rbf_layer_counts, lenet5_totals (judged against the student's own LAYERS, so that a
    wrong layer count costs one third only)."""
    parts = Parts()

    what = "the four counts"
    with parts("the four values rbf_params, rbf_connections, total_params, "
               "total_connections"), _named(lambda: what):
        check_int("rbf_params", rbf_params, 0,
                  hint="The 10 x 84 centres are the fixed Fig. 3 codes, chosen by hand and "
                       "never trained" if rbf_params in (840, 850) else None)
        hints = {850: "An RBF unit has no bias: 10 units x 84 inputs",
                 84: "Each of the 10 output units reads all 84 F6 outputs",
                 10: "Each of the 10 output units reads all 84 F6 outputs"}
        check_int("rbf_connections", rbf_connections, 840, hint=hints.get(rbf_connections))
        hints = {60_840: "You counted the RBF centres as trainable; they are fixed by hand",
                 60_900: "That is C3 fully connected (2,416); Table I gives C3 1,516 "
                         "parameters",
                 44_426: "That is the Keras variant of the tutorials, not LeNet-5",
                 61_706: "That is the Keras variant on a 32x32 input, not LeNet-5",
                 59_956: "S2 and S4 have 12 + 32 trainable coefficients and biases; count them"}
        try:
            check_int("total_params", total_params, 60_000, hint=hints.get(total_params))
            hints = {340_068: "That is the total through F6: add the 840 RBF connections",
                     340_918: "The RBF units have no bias connection: 10 x 84 = 840",
                     340_152: "The RBF layer has 10 x 84 = 840 connections, not 84"}
            check_int("total_connections", total_connections, 340_908,
                      hint=hints.get(total_connections))
        except AssertionError as error:
            diagnosis = _layer_diagnosis(layers)
            raise AssertionError(f"{error}.{diagnosis}" if diagnosis else str(error)) from None

    with parts("rbf_layer_counts(n_units, n_inputs)"), _named(lambda: what):
        for n_units, n_inputs in ((10, 84), (96, 84), (26, 35), (1, 1), (3, 7)):
            what = f"rbf_layer_counts({n_units}, {n_inputs})"
            params, connections = _pair_of_ints(rbf_layer_counts(n_units, n_inputs), what)
            check_int(f"{what}, parameters", params, 0,
                      hint="The centres are fixed by hand, never trained"
                      if params in (n_units * n_inputs, n_units * (n_inputs + 1)) else None)
            hint = None
            if connections == n_units * (n_inputs + 1):
                hint = "An RBF unit has no bias: one connection per input of each unit"
            elif connections in (n_units, n_inputs) and n_units != n_inputs:
                hint = "Each unit reads every one of the n_inputs values"
            elif (n_units, n_inputs) != (10, 84) and connections == 840:
                hint = "Compute the count from n_units and n_inputs: 840 only fits LeNet-5"
            check_int(f"{what}, connections", connections, n_units * n_inputs, hint=hint)

    mine = _layers_of(layers)
    through_f6 = ((sum(p for p, _ in mine.values()), sum(c for _, c in mine.values()))
                  if mine else THROUGH_F6)
    with parts("lenet5_totals(n_classes)"), _named(lambda: what):
        for n_classes in (10, 96, 1, 26):
            what = f"lenet5_totals({n_classes})"
            params, connections = _pair_of_ints(lenet5_totals(n_classes), what)
            check_int(f"{what}, parameters", params, through_f6[0],
                      hint="The output units add no trainable parameter, however many there "
                           "are" if params == through_f6[0] + 84 * n_classes else
                      "Sum the trainable parameters of every layer in LAYERS"
                      if n_classes == 10 else None)
            expected = through_f6[1] + 84 * n_classes
            hint = None
            if connections == through_f6[1]:
                hint = "That is the total through F6: add the output layer's connections"
            elif connections == through_f6[1] + 840 and n_classes != 10:
                hint = ("With n_classes output units the output layer has n_classes x 84 "
                        "connections: compute the totals from n_classes")
            elif connections == expected + n_classes:
                hint = "The RBF units have no bias connection"
            check_int(f"{what}, connections", connections, expected, hint=hint)
    parts.verdict()
