"""Hidden checks of chapter 10: ReLU, max pooling, softmax with cross-entropy, the counts."""
from __future__ import annotations

import math

import numpy as np

from lenet5.testing import check_array, check_int

from .common import matches, numerical_gradient, rng


# ----------------------------------------------------------------------------- ReLU

def check_relu(relu_forward, relu_backward) -> None:
    """max(0, x) on several shapes; gradient against finite differences, 0 at x = 0."""
    gen = rng()
    for shape in [(5,), (3, 7), (2, 3, 4, 4)]:
        x = gen.standard_normal(shape)
        keep = x.copy()
        out, cache = relu_forward(x)
        if not np.array_equal(x, keep):
            raise AssertionError("relu_forward: you changed its argument in place; "
                                 "return a new array")
        if matches(out, np.where(x > 0, x, 0.01 * x)):
            raise AssertionError("relu_forward: that is a leaky ReLU (0.01 x for negative "
                                 "x); the ReLU gives exactly 0 there")
        if matches(out, np.abs(x)):
            raise AssertionError("relu_forward: you returned |x|; negative inputs must give 0")
        check_array(f"relu_forward on shape {shape}", out, np.where(x > 0, x, 0.0))
        dout = gen.standard_normal(shape)
        dx = relu_backward(dout, cache)
        if matches(dx, dout):
            raise AssertionError("relu_backward: you passed dout through everywhere; the "
                                 "gradient is 0 where the input was negative")
        if matches(dx, dout * np.where(x > 0, x, 0.0)):
            raise AssertionError("relu_backward: you multiplied dout by the ReLU's output; "
                                 "the derivative of max(0, x) is 1 for x > 0 and 0 otherwise")
        numeric = numerical_gradient(lambda v: np.where(v > 0, v, 0.0), x.copy(), dout)
        check_array(f"relu_backward on shape {shape}", dx, numeric, rtol=1e-5, atol=1e-7)
    # exactly zero inputs: the convention of this chapter is a zero derivative there
    x = np.array([[-1.0, 0.0, 2.0, 0.0]])
    out, cache = relu_forward(x)
    dx = relu_backward(np.ones_like(x), cache)
    check_array("relu_backward at x = [-1, 0, 2, 0] with dout = 1", dx,
                np.array([[0.0, 0.0, 1.0, 0.0]]),
                hint="At x = 0 the ReLU has no derivative; this book uses 0 (the gradient "
                     "flows only where x > 0)")


# ------------------------------------------------------------------------ max pooling

def _maxpool_loops(x):
    """Independent reference: loops over every 2x2 window; (out, index of the first max)."""
    n, c, h, w = x.shape
    out = np.zeros((n, c, h // 2, w // 2))
    arg = np.zeros((n, c, h // 2, w // 2, 2), dtype=int)
    for a in range(n):
        for b in range(c):
            for i in range(h // 2):
                for j in range(w // 2):
                    best = None
                    for p in range(2):
                        for q in range(2):
                            v = x[a, b, 2 * i + p, 2 * j + q]
                            if best is None or v > best:
                                best, arg[a, b, i, j] = v, (2 * i + p, 2 * j + q)
                    out[a, b, i, j] = best
    return out, arg


def _route(dout, arg, shape):
    dx = np.zeros(shape)
    n, c, ho, wo = dout.shape
    for a in range(n):
        for b in range(c):
            for i in range(ho):
                for j in range(wo):
                    p, q = arg[a, b, i, j]
                    dx[a, b, p, q] += dout[a, b, i, j]
    return dx


def _blocks(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2)


def check_maxpool(maxpool_forward, maxpool_backward) -> None:
    """2x2/stride-2 max pooling on random shapes; gradient against finite differences and
    routed to the first maximum of a window when several inputs tie."""
    gen = rng()
    for shape in [(1, 1, 4, 4), (2, 3, 6, 8), (3, 2, 10, 4)]:
        x = gen.standard_normal(shape)
        keep = x.copy()
        out, cache = maxpool_forward(x)
        if not np.array_equal(x, keep):
            raise AssertionError("maxpool_forward: you changed its argument in place")
        expected, arg = _maxpool_loops(x)
        got = np.asarray(out)
        if got.shape == (shape[0], shape[1], shape[2] - 1, shape[3] - 1):
            raise AssertionError(f"maxpool_forward on shape {shape}: expected shape "
                                 f"{expected.shape}, got {got.shape}; the windows do not "
                                 "overlap: move them by 2 (stride 2), not by 1")
        if matches(out, _blocks(x).mean(axis=(3, 5))):
            raise AssertionError("maxpool_forward: you averaged each window (average "
                                 "pooling); max pooling keeps the largest of the four values")
        if matches(out, _blocks(x).sum(axis=(3, 5))):
            raise AssertionError("maxpool_forward: you summed each window, as LeNet-5's "
                                 "subsampling does before its coefficient; max pooling keeps "
                                 "the largest value")
        check_array(f"maxpool_forward on shape {shape}", out, expected)
        dout = gen.standard_normal(expected.shape)
        dx = maxpool_backward(dout, cache)
        if matches(dx, np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3) / 4):
            raise AssertionError("maxpool_backward: you spread dout evenly over the window "
                                 "(the gradient of average pooling); it all goes to the "
                                 "input that was the maximum")
        numeric = numerical_gradient(lambda v: _maxpool_loops(v)[0], x.copy(), dout)
        check_array(f"maxpool_backward on shape {shape}", dx, numeric, rtol=1e-5, atol=1e-7,
                    hint="Each dout value goes to the one input of its window that was the "
                         "maximum; the other three get 0")
    # ties: windows with two, three or four equal maxima (as after a ReLU, all zeros)
    x = gen.integers(-2, 2, size=(2, 3, 6, 6)).astype(float)
    x[0, 0, :2, :2] = 0.0
    x[0, 1, :2, :2] = [[1.0, 1.0], [1.0, -1.0]]
    x[1, 2, 2:4, 2:4] = [[-1.0, 0.0], [0.0, 0.0]]
    out, cache = maxpool_forward(x)
    expected, arg = _maxpool_loops(x)
    check_array("maxpool_forward with tied maxima", out, expected)
    dout = gen.standard_normal(expected.shape)
    dx = maxpool_backward(dout, cache)
    first = _route(dout, arg, x.shape)
    if matches(dx, first):
        return
    at_max = (x == np.repeat(np.repeat(expected, 2, axis=2), 2, axis=3))
    spread = np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3)
    counts = np.repeat(np.repeat(_blocks(at_max).sum(axis=(3, 5)), 2, axis=2), 2, axis=3)
    if matches(dx, spread * at_max):
        raise AssertionError("maxpool_backward with tied maxima: you gave the whole gradient "
                             "to every tied maximum, which multiplies it; route it to the "
                             "first maximum in reading order only")
    if matches(dx, spread * at_max / counts):
        raise AssertionError("maxpool_backward with tied maxima: you split the gradient "
                             "among the tied maxima; this book's rule (as np.argmax) gives "
                             "all of it to the first maximum in reading order")
    last = _route(dout, _last_max(x), x.shape)
    if matches(dx, last):
        raise AssertionError("maxpool_backward with tied maxima: you routed the gradient to "
                             "the last maximum; the rule is the first in reading order "
                             "(top-left, top-right, bottom-left, bottom-right)")
    check_array("maxpool_backward with tied maxima", dx, first,
                hint="Route each dout value to the first maximum of its window in reading "
                     "order (top-left, top-right, bottom-left, bottom-right)")


def _last_max(x):
    n, c, h, w = x.shape
    arg = np.zeros((n, c, h // 2, w // 2, 2), dtype=int)
    for a, b, i, j in np.ndindex(n, c, h // 2, w // 2):
        window = x[a, b, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
        k = 3 - int(np.argmax(window.reshape(-1)[::-1]))
        arg[a, b, i, j] = (2 * i + k // 2, 2 * j + k % 2)
    return arg


# ------------------------------------------------------------ softmax + cross-entropy

def _softmax_ce_reference(scores, labels):
    """Row by row with math.fsum, shifting by the row's maximum."""
    n = len(labels)
    total, grad = 0.0, np.zeros_like(scores, dtype=np.float64)
    for r in range(n):
        row = [float(v) for v in scores[r]]
        top = max(row)
        logsum = top + math.log(math.fsum(math.exp(v - top) for v in row))
        total += logsum - row[labels[r]]
        for k, v in enumerate(row):
            grad[r, k] = (math.exp(v - logsum) - (k == labels[r])) / n
    return total / n, grad


def check_softmax_cross_entropy(softmax_cross_entropy) -> None:
    """Random batches; gradient against finite differences; huge scores stay finite."""
    gen = rng()
    for n, k in [(1, 10), (5, 10), (7, 3)]:
        scores = gen.standard_normal((n, k)) * 3
        labels = gen.integers(0, k, size=n)
        keep = scores.copy()
        loss, dscores = softmax_cross_entropy(scores, labels)
        if not np.array_equal(scores, keep):
            raise AssertionError("softmax_cross_entropy: you changed the scores in place")
        ref_loss, ref_grad = _softmax_ce_reference(scores, labels)
        if n > 1 and np.isclose(float(loss), ref_loss * n, rtol=1e-6):
            raise AssertionError("softmax_cross_entropy: you summed the losses of the batch; "
                                 "the loss is their mean (divide by N)")
        check_array(f"softmax_cross_entropy loss (N={n}, K={k})", np.asarray(loss, float),
                    ref_loss, rtol=1e-7)
        probs = ref_grad * n
        probs[np.arange(n), labels] += 1
        if matches(dscores, probs / n):
            raise AssertionError("softmax_cross_entropy: dscores is softmax / N; subtract 1 at "
                                 "the correct class (the one-hot label) first")
        if n > 1 and matches(dscores, ref_grad * n):
            raise AssertionError("softmax_cross_entropy: dscores is not divided by N; the "
                                 "loss is a mean over the batch, so is its gradient")

        def f(s):
            return np.array(_softmax_ce_reference(s, labels)[0])

        numeric = numerical_gradient(f, scores.copy(), np.array(1.0))
        check_array(f"dscores (N={n}, K={k})", dscores, numeric, rtol=1e-5, atol=1e-8)
    # stability: scores far too large for a plain exp
    scores = np.array([[1000.0, 0.0, -1000.0], [2000.0, 2001.0, 1999.0], [-800.0, -800.0, -810.0]])
    labels = np.array([0, 0, 2])
    with np.errstate(all="ignore"):
        loss, dscores = softmax_cross_entropy(scores, labels)
    if not np.isfinite(loss) or not np.all(np.isfinite(dscores)):
        raise AssertionError("softmax_cross_entropy with scores of +-1000: the result is "
                             "inf or nan; subtract each row's maximum before exp "
                             "(softmax does not change when a constant is added to a row)")
    ref_loss, ref_grad = _softmax_ce_reference(scores, labels)
    check_array("loss with scores of +-1000", np.asarray(loss, float), ref_loss, rtol=1e-7,
                hint="Compute log(softmax) as z - log(sum(exp(z))) with z = scores minus the "
                     "row maximum, instead of log(exp(...) / ...)")
    check_array("dscores with scores of +-1000", dscores, ref_grad, atol=1e-12)


# ----------------------------------------------------------------------------- counts

def check_keras_counts(keras_variant_params, keras_variant_params_32) -> None:
    """The Keras-style variant on 28x28 and on 32x32 inputs, layer by layer."""
    def total(side):
        s = (side - 4) // 2 - 4          # conv1 valid, pool, conv2 valid
        flat = 16 * (s // 2) ** 2
        return 6 * 26 + 16 * (6 * 25 + 1) + (flat + 1) * 120 + 121 * 84 + 85 * 10
    if keras_variant_params == 45_000:
        raise AssertionError("keras_variant_params: 45,000 is the article's rounding; "
                             "compute the exact total")
    if keras_variant_params == total(28) - 16 - 120 - 84 - 10 - 6:
        raise AssertionError("keras_variant_params: you left out the biases")
    if keras_variant_params == total(28) - 2416 + 1516:
        raise AssertionError("keras_variant_params: the variant's second convolution "
                             "connects every map to every map (2,416 parameters), not "
                             "through Table I")
    check_int("keras_variant_params", keras_variant_params, total(28),
              hint="156 + 2,416 + dense on 4x4x16 = 256 flattened values + 10,164 + 850")
    check_int("keras_variant_params_32", keras_variant_params_32, total(32),
              hint="With a 32x32 input S4 is 5x5x16, so the first dense layer sees 400 values")
