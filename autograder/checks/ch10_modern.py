"""Hidden checks of chapter 10: ReLU, max pooling, softmax with cross-entropy, the variant's
parameter counts and its forward pass.

The references are independent of the solution cells (loops, ``math.fsum``, the counts from the
layer geometry, ``reference.modern``'s convolution); where a wrong answer matches a known
mistake, the message names it.
"""
from __future__ import annotations

import math

import numpy as np

from lenet5.testing import check_array, check_int

from reference import modern

from .common import Parts, is_int, matches, numerical_gradient, rng


# ----------------------------------------------------------------------------- ReLU

def check_relu(relu_forward, relu_backward) -> None:
    """max(0, x) on several shapes; gradient against finite differences, 0 at x = 0.
    Three parts: the forward pass, the gradient, the gradient at x = 0."""
    gen = rng()
    shapes = [(5,), (3, 7), (2, 3, 4, 4)]
    xs = [gen.standard_normal(shape) for shape in shapes]
    douts = [gen.standard_normal(shape) for shape in shapes]
    parts = Parts()
    with parts("relu_forward on three shapes"):
        for x in xs:
            keep = x.copy()
            out, _ = relu_forward(x)
            if not np.array_equal(x, keep):
                raise AssertionError("relu_forward: you changed its argument in place; "
                                     "return a new array")
            if matches(out, np.where(x > 0, x, 0.01 * x)):
                raise AssertionError("relu_forward: that is a leaky ReLU (0.01 x for negative "
                                     "x); the ReLU gives exactly 0 there")
            if matches(out, np.abs(x)):
                raise AssertionError("relu_forward: you returned |x|; negative inputs must "
                                     "give 0")
            check_array(f"relu_forward on shape {x.shape}", out, np.where(x > 0, x, 0.0))
    with parts("relu_backward against finite differences", weight=2):
        for x, dout in zip(xs, douts):
            _, cache = relu_forward(x.copy())
            dx = relu_backward(dout, cache)
            if matches(dx, dout):
                raise AssertionError("relu_backward: you passed dout through everywhere; the "
                                     "gradient is 0 where the input was negative")
            if matches(dx, dout * np.where(x > 0, x, 0.0)):
                raise AssertionError("relu_backward: you multiplied dout by the ReLU's output; "
                                     "the derivative of max(0, x) is 1 for x > 0 and 0 "
                                     "otherwise")
            numeric = numerical_gradient(lambda v: np.where(v > 0, v, 0.0), x.copy(), dout)
            check_array(f"relu_backward on shape {x.shape}", dx, numeric, rtol=1e-5, atol=1e-7)
    # exactly zero inputs: the convention of this chapter is a zero derivative there
    with parts("relu_backward at x = 0"):
        x = np.array([[-1.0, 0.0, 2.0, 0.0]])
        out, cache = relu_forward(x)
        dx = relu_backward(np.ones_like(x), cache)
        check_array("relu_backward at x = [-1, 0, 2, 0] with dout = 1", dx,
                    np.array([[0.0, 0.0, 1.0, 0.0]]),
                    hint="At x = 0 the ReLU has no derivative; this book uses 0 (the gradient "
                         "flows only where x > 0)")
    parts.verdict()


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
    routed to the first maximum of a window when several inputs tie.  Three parts: the
    forward pass, the gradient without ties, the gradient with ties."""
    gen = rng()
    xs = [gen.standard_normal(shape) for shape in [(1, 1, 4, 4), (2, 3, 6, 8), (3, 2, 10, 4)]]
    douts = [gen.standard_normal((n, c, h // 2, w // 2)) for n, c, h, w in (x.shape for x in xs)]
    parts = Parts()
    with parts("maxpool_forward on random shapes"):
        for x in xs:
            keep = x.copy()
            out, _ = maxpool_forward(x)
            if not np.array_equal(x, keep):
                raise AssertionError("maxpool_forward: you changed its argument in place")
            expected, _ = _maxpool_loops(x)
            got = np.asarray(out)
            shape = x.shape
            if got.shape == (shape[0], shape[1], shape[2] - 1, shape[3] - 1):
                raise AssertionError(f"maxpool_forward on shape {shape}: expected shape "
                                     f"{expected.shape}, got {got.shape}; the windows do not "
                                     "overlap: move them by 2 (stride 2), not by 1")
            if matches(out, _blocks(x).mean(axis=(3, 5))):
                raise AssertionError("maxpool_forward: you averaged each window (average "
                                     "pooling); max pooling keeps the largest of the four "
                                     "values")
            if matches(out, _blocks(x).sum(axis=(3, 5))):
                raise AssertionError("maxpool_forward: you summed each window, as LeNet-5's "
                                     "subsampling does before its coefficient; max pooling "
                                     "keeps the largest value")
            check_array(f"maxpool_forward on shape {shape}", out, expected)
    with parts("maxpool_backward against finite differences (no ties)"):
        for x, dout in zip(xs, douts):
            _, cache = maxpool_forward(x.copy())
            dx = maxpool_backward(dout, cache)
            if matches(dx, np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3) / 4):
                raise AssertionError("maxpool_backward: you spread dout evenly over the window "
                                     "(the gradient of average pooling); it all goes to the "
                                     "input that was the maximum")
            numeric = numerical_gradient(lambda v: _maxpool_loops(v)[0], x.copy(), dout)
            check_array(f"maxpool_backward on shape {x.shape}", dx, numeric, rtol=1e-5,
                        atol=1e-7, hint="Each dout value goes to the one input of its window "
                                        "that was the maximum; the other three get 0")
    with parts("windows with two, three and four tied maxima"):
        _check_ties(gen, maxpool_forward, maxpool_backward)
    parts.verdict()


def _check_ties(gen, maxpool_forward, maxpool_backward) -> None:
    """Windows with two, three or four equal maxima (as after a ReLU, all zeros)."""
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
    """Random batches; gradient against finite differences; huge scores stay finite.
    Three parts: the loss, the gradient, scores of +-1000."""
    gen = rng()
    batches = []
    for n, k in [(1, 10), (5, 10), (7, 3)]:
        batches.append((gen.standard_normal((n, k)) * 3, gen.integers(0, k, size=n)))
    parts = Parts()
    with parts("the mean loss of random batches"):
        for scores, labels in batches:
            n, k = scores.shape
            keep = scores.copy()
            loss, _ = softmax_cross_entropy(scores, labels)
            if not np.array_equal(scores, keep):
                raise AssertionError("softmax_cross_entropy: you changed the scores in place")
            ref_loss, _ = _softmax_ce_reference(scores, labels)
            if n > 1 and np.isclose(float(loss), ref_loss * n, rtol=1e-6):
                raise AssertionError("softmax_cross_entropy: you summed the losses of the "
                                     "batch; the loss is their mean (divide by N)")
            check_array(f"softmax_cross_entropy loss (N={n}, K={k})", np.asarray(loss, float),
                        ref_loss, rtol=1e-7)
    with parts("dscores against finite differences"):
        for scores, labels in batches:
            n, k = scores.shape
            _, dscores = softmax_cross_entropy(scores.copy(), labels)
            _, ref_grad = _softmax_ce_reference(scores, labels)
            probs = ref_grad * n
            probs[np.arange(n), labels] += 1
            if matches(dscores, probs / n):
                raise AssertionError("softmax_cross_entropy: dscores is softmax / N; subtract "
                                     "1 at the correct class (the one-hot label) first")
            if n > 1 and matches(dscores, ref_grad * n):
                raise AssertionError("softmax_cross_entropy: dscores is not divided by N; the "
                                     "loss is a mean over the batch, so is its gradient")

            def f(s, labels=labels):
                return np.array(_softmax_ce_reference(s, labels)[0])

            numeric = numerical_gradient(f, scores.copy(), np.array(1.0))
            check_array(f"dscores (N={n}, K={k})", dscores, numeric, rtol=1e-5, atol=1e-8)
    # stability: scores far too large for a plain exp
    with parts("scores of +-1000 (no overflow)"):
        scores = np.array([[1000.0, 0.0, -1000.0], [2000.0, 2001.0, 1999.0],
                           [-800.0, -800.0, -810.0]])
        labels = np.array([0, 0, 2])
        with np.errstate(all="ignore"):
            loss, dscores = softmax_cross_entropy(scores, labels)
        if not np.isfinite(loss) or not np.all(np.isfinite(dscores)):
            raise AssertionError("softmax_cross_entropy with scores of +-1000: the result is "
                                 "inf or nan; subtract each row's maximum before exp "
                                 "(softmax does not change when a constant is added to a row)")
        ref_loss, ref_grad = _softmax_ce_reference(scores, labels)
        check_array("loss with scores of +-1000", np.asarray(loss, float), ref_loss, rtol=1e-7,
                    hint="Compute log(softmax) as z - log(sum(exp(z))) with z = scores minus "
                         "the row maximum, instead of log(exp(...) / ...)")
        check_array("dscores with scores of +-1000", dscores, ref_grad, atol=1e-12)
    parts.verdict()


# ----------------------------------------------------------------------------- counts

_LAYERS = ("conv1", "conv2", "dense1", "dense2", "dense3")

_LAYER_HINTS = {
    "conv1": "6 kernels of 5x5 over the 1 input map, and one bias per kernel",
    "conv2": "16 kernels of 5x5, each over all 6 maps of pool1 (no connection table), and "
             "one bias per kernel",
    "dense1": "(inputs + 1) x 120, the inputs being the 16 maps left after pool2, flattened: "
              "follow the side through conv1 (valid 5x5), pool1 (halves it), conv2 (valid "
              "5x5) and pool2 (halves it)",
    "dense2": "(120 inputs + 1 bias) x 84 outputs",
    "dense3": "(84 inputs + 1 bias) x 10 outputs",
}


def _variant_layers(side: int) -> dict:
    """Trainable parameters per layer of the variant on a side x side input (side % 4 == 0)."""
    s = ((side - 4) // 2 - 4) // 2           # conv1 valid, pool1, conv2 valid, pool2
    return {"conv1": 6 * (1 * 25 + 1), "conv2": 16 * (6 * 25 + 1),
            "dense1": (16 * s * s + 1) * 120, "dense2": (120 + 1) * 84, "dense3": (84 + 1) * 10}


def _variant_total(side: int) -> int:
    return sum(_variant_layers(side).values())



def _count_slip(name: str, got: int, side: int):
    """A message naming a known slip when ``got`` is what it gives for a side x side input."""
    right = _variant_total(side)
    layers = _variant_layers(side)
    no_bias = right - 6 - 16 - 120 - 84 - 10
    if got == 45_000:
        return (f"{name}: 45,000 is the seed article's rounding (\"approx 45 thousand\"); "
                "compute the exact total")
    if got == no_bias:
        return f"{name}: you left out the biases (one per kernel and one per dense unit)"
    if got == right - layers["conv2"] + 1_516:
        return (f"{name}: the variant's second convolution connects every map to every map "
                "(96 kernels of 5x5), not through Table I as LeNet-5's C3 does")
    if got == right - layers["dense3"]:
        return (f"{name}: you left out dense3, the trainable output layer of 10 units that "
                "replaces LeNet-5's fixed RBF codes")
    if got == right + 12 + 32:
        return (f"{name}: you counted S2's and S4's coefficients and biases; max pooling (and "
                "the seed article's average pooling) has no parameters")
    return None


def check_keras_counts(keras_variant_params, keras_variant_params_32) -> None:
    """The variant's totals on 28x28 and on 32x32 inputs, with a diagnosis of the usual slips."""
    for name, value in (("keras_variant_params", keras_variant_params),
                        ("keras_variant_params_32", keras_variant_params_32)):
        if not is_int(value):
            raise AssertionError(f"{name}: expected an integer, got {type(value).__name__}")
    if (keras_variant_params, keras_variant_params_32) == (_variant_total(32),
                                                           _variant_total(28)):
        raise AssertionError("keras_variant_params and keras_variant_params_32 are swapped: "
                             "the first is for the seed article's 28x28 input")
    if keras_variant_params == _variant_total(32):
        raise AssertionError("keras_variant_params: that is the total for a 32x32 input; on "
                             "28x28 pool2 leaves 16 maps of 4x4, so dense1 sees 256 values")
    for name, value, side in (("keras_variant_params", keras_variant_params, 28),
                              ("keras_variant_params_32", keras_variant_params_32, 32)):
        slip = _count_slip(name, int(value), side)
        if slip:
            raise AssertionError(slip)
    check_int("keras_variant_params", keras_variant_params, _variant_total(28),
              hint="Add the weights and biases of conv1, conv2, dense1 (on the 256 values of "
                   "16 maps of 4x4), dense2 and dense3; pooling has none")
    check_int("keras_variant_params_32", keras_variant_params_32, _variant_total(32),
              hint="With a 32x32 input pool2 leaves 16 maps of 5x5, so dense1 sees 400 values")


def check_variant_layer_params(variant_layer_params) -> None:
    """The per-layer counts on the seed article's 28x28 input and on other sides."""
    results = {}
    for side in (28, 32, 16, 20, 36, 48, 64, 100):
        try:
            got = variant_layer_params(side)
        except Exception as error:  # noqa: BLE001 - say which input made it fail
            raise AssertionError(f"variant_layer_params({side}) raised "
                                 f"{type(error).__name__}: {error}; every side that is a "
                                 "multiple of 4 and at least 16 must work") from None
        if type(got) is not dict:
            raise AssertionError(f"variant_layer_params({side}): expected a dict, got "
                                 f"{type(got).__name__}")
        if sorted(map(str, got)) != sorted(_LAYERS):
            raise AssertionError(f"variant_layer_params({side}): expected the keys "
                                 f"{', '.join(_LAYERS)} (pooling has no parameters), got "
                                 f"{', '.join(map(str, got))}")
        for key in _LAYERS:
            if not is_int(got[key]):
                raise AssertionError(f"variant_layer_params({side})[{key!r}]: expected an "
                                     f"integer, got {type(got[key]).__name__}")
        results[side] = {k: int(got[k]) for k in _LAYERS}
    right_28 = results[28] == _variant_layers(28)
    for side, got in results.items():
        expected = _variant_layers(side)
        if got == expected:
            continue
        if right_28 and got == results[28]:
            raise AssertionError(f"variant_layer_params gives the right counts for 28x28 but "
                                 f"the same ones for {side}x{side}; compute the sizes from "
                                 "side: dense1 reads the flattened maps, whose size depends "
                                 "on it")
        if right_28:
            prefix = (f"variant_layer_params is right for 28x28 but not for {side}x{side}; "
                      "compute the sizes from side, not from the 28x28 table: ")
        else:
            prefix = ""
        for key in _LAYERS:
            if got[key] == expected[key]:
                continue
            if key == "dense1":
                s = ((side - 4) // 2 - 4) // 2
                if got[key] == 16 * s * s * 120:
                    raise AssertionError(prefix + f"variant_layer_params({side})['dense1']: "
                                         "you left out its 120 biases")
                unpooled = (side - 4 - 4)
                if got[key] == (16 * unpooled * unpooled + 1) * 120:
                    raise AssertionError(prefix + f"variant_layer_params({side})['dense1']: "
                                         "you did not halve the side at the pooling layers")
            if key in ("conv1", "conv2") and got[key] == expected[key] - (6 if key == "conv1"
                                                                          else 16):
                raise AssertionError(prefix + f"variant_layer_params({side})[{key!r}]: you "
                                     "left out the biases (one per kernel)")
            if key == "conv2" and got[key] == 1_516:
                raise AssertionError(prefix + "variant_layer_params: the variant's conv2 "
                                     "connects every map to every map, not through Table I "
                                     "as LeNet-5's C3 does")
            raise AssertionError(prefix + f"variant_layer_params({side})[{key!r}]: expected "
                                 f"{expected[key]:,}, got {got[key]:,}. {_LAYER_HINTS[key]}")


# ----------------------------------------------------------------- the variant's forward pass

_PARAM_SHAPES = modern.PARAM_SHAPES  # the variant's parameters for a 28x28 input


def _test_params(gen) -> dict:
    """Glorot-scaled weights and non-zero biases (so a missing bias shows)."""
    params = {}
    for name, shape in _PARAM_SHAPES.items():
        if name.endswith("_b"):
            params[name] = gen.uniform(-0.1, 0.1, size=shape)
            continue
        if len(shape) == 4:
            fan_in, fan_out = shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3]
        else:
            fan_in, fan_out = shape
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        params[name] = gen.uniform(-limit, limit, size=shape)
    return params


def _forward(x, p, *, act="relu", pool="max", relu_dense=True, relu_conv=True,
             last="scores", flatten="nchw", relu=None, maxpool=None):
    """The variant's forward pass with switches for the known slips. ``relu`` and
    ``maxpool``, when given, are functions ``x -> out`` used for those layers."""
    from reference.modern import conv_forward

    def activate(a, on=True):
        if not on:
            return a
        if act == "tanh":
            return 1.7159 * np.tanh(2 * a / 3)
        return relu(a) if relu is not None else np.maximum(a, 0.0)

    def pooled(a):
        n, c, h, w = a.shape
        blocks = a.reshape(n, c, h // 2, 2, w // 2, 2)
        if pool == "mean":
            return blocks.mean(axis=(3, 5))
        return maxpool(a) if maxpool is not None else blocks.max(axis=(3, 5))

    a = pooled(activate(conv_forward(x, p["conv1_w"], p["conv1_b"])[0], relu_conv))
    a = pooled(activate(conv_forward(a, p["conv2_w"], p["conv2_b"])[0], relu_conv))
    if flatten == "nhwc":
        a = a.transpose(0, 2, 3, 1)
    a = a.reshape(len(x), -1)
    a = activate(a @ p["dense1_w"] + p["dense1_b"], relu_dense)
    a = activate(a @ p["dense2_w"] + p["dense2_b"], relu_dense)
    scores = a @ p["dense3_w"] + p["dense3_b"]
    if last == "relu":
        return np.maximum(scores, 0.0)
    if last == "softmax":
        z = np.exp(scores - scores.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)
    return scores


_FORWARD_SLIPS = [
    (dict(last="softmax"), "you returned the softmax probabilities; return the scores of "
                           "dense3 (softmax_cross_entropy applies the softmax itself)"),
    (dict(last="relu"), "you applied a ReLU to dense3's outputs; the scores are dense3's "
                        "outputs as they are, negative ones included"),
    (dict(flatten="nhwc"), "you flattened the maps in the wrong order (position by position, "
                           "the maps' values interleaved); flatten with a.reshape(N, -1): map "
                           "by map, then row by row, the order of dense1_w's rows"),
    (dict(pool="mean"), "you averaged each 2x2 window (the seed article's average pooling); "
                        "with its default pooling=maxpool_forward the variant uses max "
                        "pooling: call pooling for both pooling layers"),
    (dict(act="tanh"), "you used LeNet-5's scaled tanh; with its default "
                       "activation=relu_forward the variant's units are ReLUs: call "
                       "activation after conv1, conv2, dense1 and dense2"),
    (dict(relu_dense=False), "dense1 and dense2 have no ReLU; each of them is followed by one"),
    (dict(relu_conv=False), "conv1 and conv2 have no ReLU; each is followed by one, before "
                            "its max pooling"),
]


def _own_layer(func):
    """``x -> out`` from a student's layer function that returns ``(out, cache)``; None if it
    does not work at all."""
    def layer(a):
        out = func(a)[0]
        return np.asarray(out, dtype=np.float64)
    return layer


def check_variant_forward(variant_forward, relu_forward=None, maxpool_forward=None) -> None:
    """The variant's scores for random parameters and images (digits too); a slip in the
    student's own ReLU or max pooling is not counted again here."""
    from lenet5 import data

    gen = rng()
    images, _ = data.load_mnist("test")
    cases = []
    for n in (1, 3):
        cases.append((gen.uniform(0.0, 1.0, size=(n, 1, 28, 28)), _test_params(gen)))
    cases.append((images[100:105, None, :, :] / 255.0, _test_params(gen)))
    for x, params in cases:
        n = len(x)
        got = variant_forward(x.copy(), {k: v.copy() for k, v in params.items()})
        if isinstance(got, tuple) and len(got) == 2 and type(got[0]) is np.ndarray:
            raise AssertionError("variant_forward: return the scores alone, an array of shape "
                                 f"({n}, 10), not a tuple (scores, cache)")
        expected = _forward(x, params)
        if type(got) is np.ndarray and got.shape == (n, 84):
            raise AssertionError(f"variant_forward: expected shape ({n}, 10), got {got.shape}: "
                                 "that is dense2's output; dense3 turns it into 10 scores")
        if matches(got, expected):
            continue
        own = None
        if relu_forward is not None and maxpool_forward is not None:
            try:
                own = _forward(x, params, relu=_own_layer(relu_forward),
                               maxpool=_own_layer(maxpool_forward))
            except Exception:  # noqa: BLE001 - the student's layers do not work: ignore them
                own = None
        if own is not None and matches(got, own):
            continue
        for switches, message in _FORWARD_SLIPS:
            if matches(got, _forward(x, params, **switches)):
                raise AssertionError(f"variant_forward: {message}")
        check_array(f"variant_forward on {n} image(s)", got, expected, rtol=1e-6, atol=1e-8,
                    hint="conv1, ReLU, max pooling, conv2, ReLU, max pooling, flatten with "
                         "reshape(N, -1), dense1 + ReLU, dense2 + ReLU, dense3 (no ReLU, no "
                         "softmax); every layer adds its bias")
