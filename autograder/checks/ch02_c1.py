"""Hidden checks of chapter 2: output sizes, the counts of a convolutional layer, the squashing
function, convolution and its gradients."""
from __future__ import annotations

import numpy as np

from lenet5.testing import check_array, check_int, check_raises

from .common import (OWN_FORWARD, Parts, agrees_with_gradient, matches, numerical_gradient,
                     pair, rng)

A, S = 1.7159, 2.0 / 3.0
# A count must be one of these exact types (a subclass could redefine == or int()).
_INTEGER_TYPES = frozenset({int} | {np.dtype(c).type for c in "bBhHiIlLqQ"})


def check_conv_output_size(conv_output_size) -> None:
    """conv_output_size(n, f, padding, stride), in three parts: valid convolutions, padding
    and strides (some that do not divide evenly), and kernels that do not fit."""
    parts = Parts()
    with parts("valid convolutions (no padding, stride 1)"):
        for n, f in [(32, 5), (14, 5), (5, 5), (64, 5), (1, 1)]:
            check_int(f"conv_output_size({n}, {f}, padding=0, stride=1)",
                      conv_output_size(n, f, padding=0, stride=1), n - f + 1,
                      hint="A valid convolution (no padding, stride 1) gives n - f + 1")
    with parts("padding and strides", weight=2):
        for n, f, p, s in [(28, 5, 2, 1), (28, 2, 0, 2), (10, 2, 0, 2), (7, 3, 1, 2),
                           (9, 2, 0, 2), (13, 4, 3, 3)]:
            hint = "Divide (n + 2 * padding - f) by the stride, round down, then add 1" \
                if s > 1 else "Padding adds 2 * padding to the input's side: n + 2P - f + 1"
            check_int(f"conv_output_size({n}, {f}, padding={p}, stride={s})",
                      conv_output_size(n, f, padding=p, stride=s), (n + 2 * p - f) // s + 1,
                      hint=hint)
    with parts("kernels that do not fit raise ValueError"):
        check_raises("conv_output_size(4, 5) (kernel larger than input)", ValueError,
                     conv_output_size, 4, 5)
        check_raises("conv_output_size(3, 8, padding=2)", ValueError, conv_output_size, 3, 8,
                     padding=2)
        # ... and only those: a kernel as large as the (padded) input fits.
        for n, f, p in [(5, 5, 0), (3, 7, 2)]:
            check_int(f"conv_output_size({n}, {f}, padding={p}) (the kernel just fits)",
                      conv_output_size(n, f, padding=p), n + 2 * p - f + 1)
    parts.verdict()


def _integer(name: str, value) -> int:
    """``value`` as an int if it is a plain integer (Python or NumPy), else a clear failure."""
    if type(value) not in _INTEGER_TYPES:
        raise AssertionError(f"{name}: expected an integer, got {type(value).__name__}"
                             + (" (use // or int(): a count is a whole number)"
                                if isinstance(value, (float, np.floating)) else ""))
    return int(value)


def _count_hints(maps: int, in_side: int, kernel: int, in_maps: int):
    """The right (params, connections) of a valid convolution layer, and for each count the
    values that the usual slips give, with what to say about them."""
    window = kernel * kernel * in_maps
    units = (in_side - kernel + 1) ** 2
    params, connections = maps * (window + 1), maps * units * (window + 1)
    param_slips = {
        maps * window: "each map also has one trainable bias",
        maps * units * (window + 1): "weights are shared: a map has one kernel and one bias, "
                                     "whatever the number of its units",
        maps * (kernel * kernel + 1): "a kernel spans all the input maps: kernel * kernel * "
                                      "in_maps weights per map",
        maps * (kernel * in_maps + 1): "a kernel has kernel * kernel weights per input map",
    }
    connection_slips = {
        maps * units * window: "the paper counts the bias as a connection too: every unit "
                               "has its window's inputs and one bias",
        maps * in_side ** 2 * (window + 1): "count the units: a valid convolution has "
                                            "(in_side - kernel + 1) ** 2 positions per map, "
                                            "not in_side ** 2",
        maps * (in_side - kernel) ** 2 * (window + 1): "off by one: a valid convolution has "
                                                       "in_side - kernel + 1 positions per "
                                                       "row",
        params: "a connection is counted once for every unit that uses a weight, so a shared "
                "weight gives many connections",
        maps * units * (kernel * kernel + 1): "a unit's window spans all the input maps: "
                                              "kernel * kernel * in_maps inputs per unit",
    }
    param_slips.pop(params, None)
    connection_slips.pop(connections, None)
    return params, connections, param_slips, connection_slips


def _check_count(name: str, value, expected: int, slips: dict) -> None:
    got = _integer(name, value)
    if got != expected:
        hint = slips.get(got, "")
        raise AssertionError(f"{name}: expected {expected:,}, got {got:,}"
                             + (f". {hint[0].upper()}{hint[1:]}" if hint else ""))


def check_c1_counts(c1_params, c1_connections) -> None:
    """The module-level counts of C1 (paper, p. 7), one part each."""
    params, connections, param_slips, connection_slips = _count_hints(6, 32, 5, 1)
    parts = Parts()
    with parts("c1_params"):
        _check_count("c1_params", c1_params, params, param_slips)
    with parts("c1_connections"):
        _check_count("c1_connections", c1_connections, connections, connection_slips)
    parts.verdict()


def check_conv_layer_counts(conv_layer_counts) -> None:
    """conv_layer_counts(maps, in_side, kernel, in_maps) on the sizes of other layers, in two
    parts: the parameters and the connections."""
    cases = [(6, 32, 5, 1), (16, 14, 5, 6), (120, 5, 5, 16), (3, 9, 4, 2), (1, 7, 7, 3),
             (4, 10, 3, 1), (10, 64, 5, 1)]
    results = []
    for maps, in_side, kernel, in_maps in cases:
        call = f"conv_layer_counts({maps}, {in_side}, {kernel}, {in_maps})"
        result = conv_layer_counts(maps, in_side, kernel, in_maps)
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise AssertionError(f"{call}: expected a pair (params, connections), got "
                                 f"{type(result).__name__}")
        results.append((call, result, _count_hints(maps, in_side, kernel, in_maps)))
    parts = Parts()
    with parts("the parameters"):
        for call, result, (params, _, param_slips, _) in results:
            _check_count(f"{call}[0] (parameters)", result[0], params, param_slips)
    with parts("the connections"):
        for call, result, (_, connections, _, connection_slips) in results:
            _check_count(f"{call}[1] (connections)", result[1], connections,
                         connection_slips)
    parts.verdict()


def check_squash(squash_forward, squash_backward) -> None:
    """f(a) = 1.7159 tanh(2a/3) on several shapes, and its gradient against finite
    differences; two parts. When squash_forward is wrong, squash_backward is judged against
    the gradient of the student's own squash_forward."""
    gen = rng()
    cases = []
    for shape in [(7,), (3, 4), (2, 3, 5, 5)]:
        cases.append((shape, gen.standard_normal(shape) * 2, gen.standard_normal(shape)))
    parts = Parts()
    with parts("squash_forward"):
        for shape, a, _ in cases:
            out, _ = pair(squash_forward(a.copy()), "squash_forward(a)")
            expected = A * np.tanh(S * a)
            if matches(out, np.tanh(a)):
                raise AssertionError("squash_forward: you computed tanh(a); LeNet-5 scales "
                                     "it: 1.7159 * tanh(2a / 3)")
            if matches(out, 1 / (1 + np.exp(-a))):
                raise AssertionError("squash_forward: that is the logistic sigmoid; LeNet-5 "
                                     "uses 1.7159 * tanh(2a / 3)")
            check_array(f"squash_forward on shape {shape}", out, expected)
    with parts("squash_backward"):
        for shape, a, dout in cases:
            out, cache = pair(squash_forward(a.copy()), "squash_forward(a)")
            da = squash_backward(dout.copy(), cache)
            numeric = numerical_gradient(lambda v: A * np.tanh(S * v), a.copy(), dout)
            if matches(da, numeric, tol=1e-5):
                continue
            if matches(da, A * S * (1 - np.tanh(S * a) ** 2)):
                raise AssertionError("squash_backward: you returned f'(a) alone; multiply it "
                                     "by dout (the chain rule)")
            forward_wrong = not matches(out, A * np.tanh(S * a))
            if forward_wrong and agrees_with_gradient(squash_forward, [a], 0, da, dout):
                continue
            try:
                check_array(f"squash_backward on shape {shape}", da, numeric, rtol=1e-5,
                            atol=1e-7)
            except AssertionError as error:
                raise AssertionError(str(error) + (OWN_FORWARD.format(
                    forward="squash_forward") if forward_wrong else "")) from None
    parts.verdict()


def _correlate(x, w, b):
    """Independent reference: out[n,f,i,j] = sum_{c,p,q} x[n,c,i+p,j+q] w[f,c,p,q] + b[f]."""
    kh, kw = w.shape[2:]
    ho, wo = x.shape[2] - kh + 1, x.shape[3] - kw + 1
    out = np.zeros((x.shape[0], w.shape[0], ho, wo))
    for p in range(kh):
        for q in range(kw):
            out += np.einsum("nchw,fc->nfhw", x[:, :, p:p + ho, q:q + wo], w[:, :, p, q])
    return out + b[None, :, None, None]


def _conv_cases(small: bool):
    gen = rng()
    shapes = [(1, 1, 6, 6, 1, 3, 3), (2, 3, 7, 6, 4, 3, 2), (3, 2, 9, 8, 5, 5, 5)]
    if not small:
        shapes += [(4, 1, 32, 32, 6, 5, 5), (2, 6, 14, 14, 3, 5, 5), (5, 3, 5, 5, 7, 5, 5)]
    for n, c, h, wd, f, kh, kw in shapes:
        x = gen.standard_normal((n, c, h, wd))
        w = gen.standard_normal((f, c, kh, kw))
        b = gen.standard_normal(f)
        yield x, w, b


def check_conv_forward(conv_forward, name: str = "conv_forward", small: bool = False) -> None:
    """conv_forward(x, w, b) against an independent cross-correlation, with diagnoses."""
    for x, w, b in _conv_cases(small):
        result = conv_forward(x, w, b)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise AssertionError(f"{name} must return a pair (out, cache), got "
                                 f"{type(result).__name__}")
        out = result[0]
        expected = _correlate(x, w, b)
        what = f"{name} with x {x.shape}, w {w.shape}"
        if type(out) is np.ndarray and out.shape != expected.shape and out.ndim == 4:
            ho, wo = expected.shape[2:]
            if out.shape[2:] == x.shape[2:]:
                raise AssertionError(f"{what}: output {out.shape} has the input's size: you "
                                     f"padded the input. LeNet-5's convolutions are valid "
                                     f"(no padding): {x.shape[2]} - {w.shape[2]} + 1 = {ho}")
            if abs(out.shape[2] - ho) == 1 or abs(out.shape[3] - wo) == 1:
                raise AssertionError(f"{what}: expected shape {expected.shape}, got "
                                     f"{out.shape}: off by one; there are n - f + 1 positions")
            if out.shape == (expected.shape[0], ho, wo, expected.shape[1]):
                raise AssertionError(f"{what}: expected shape {expected.shape}, got "
                                     f"{out.shape}: maps go on axis 1, (N, F, H, W)")
        check_array(what, out, expected, atol=np.inf)  # type and shape first
        if matches(out, _correlate(x, w[:, :, ::-1, ::-1], b)) and not matches(out, expected):
            raise AssertionError(f"{what}: your output is a convolution with the kernel "
                                 f"flipped. This book's convolution, like the paper's layers "
                                 f"and deep-learning libraries, does not flip: "
                                 f"out[i, j] = sum(x[i:i+kh, j:j+kw] * w) + b")
        if matches(out, expected - b[None, :, None, None]):
            raise AssertionError(f"{what}: the bias is missing: add b[f] to every unit of "
                                 f"map f")
        check_array(what, out, expected)


def check_conv_backward(conv_forward, conv_backward) -> None:
    """db, dw, dx of conv_backward against finite differences of an independent forward pass,
    one part each. The cache comes from the student's conv_forward: when that is wrong, each
    gradient is also judged against the gradient of the student's own conv_forward, so that
    the forward slip is not paid for twice."""
    cases = []
    for x, w, b in _conv_cases(small=True):
        out, cache = pair(conv_forward(x.copy(), w.copy(), b.copy()), "conv_forward(x, w, b)")
        reference = _correlate(x, w, b)
        same_shape = type(out) is np.ndarray and out.shape == reference.shape
        dout = rng().standard_normal(out.shape if type(out) is np.ndarray and out.ndim == 4
                                     else reference.shape)
        what = f"conv_backward with x {x.shape}, w {w.shape}"
        result = conv_backward(dout.copy(), cache)
        if not (isinstance(result, tuple) and len(result) == 3):
            raise AssertionError("conv_backward must return three arrays (dx, dw, db)")
        expected = None
        if same_shape:
            expected = {"db": dout.sum(axis=(0, 2, 3)),
                        "dw": numerical_gradient(lambda v: _correlate(x, v, b), w.copy(), dout),
                        "dx": numerical_gradient(lambda v: _correlate(v, w, b), x.copy(), dout)}
        forward_wrong = not (same_shape and matches(out, reference))
        cases.append((what, x, w, b, out, dout, dict(zip(("dx", "dw", "db"), result)),
                      expected, forward_wrong))

    hints = {"db": "db[f] is the sum of dout over images and positions of map f",
             "dw": "dw[f, c, p, q] = sum over n, i, j of dout[n, f, i, j] * "
                   "x[n, c, i + p, j + q]",
             "dx": None}
    tolerances = {"db": (1e-6, 1e-8), "dw": (1e-5, 1e-6), "dx": (1e-5, 1e-6)}

    def judge(name, what, x, w, b, out, dout, got, expected, forward_wrong):
        rtol, atol = tolerances[name]
        if expected is not None and matches(got[name], expected[name], tol=atol) and \
                np.allclose(got[name], expected[name], rtol=rtol, atol=atol):
            return
        index = {"dx": 0, "dw": 1, "db": 2}[name]
        if forward_wrong and agrees_with_gradient(conv_forward, [x, w, b], index, got[name],
                                                  dout):
            return
        suffix = OWN_FORWARD.format(forward="conv_forward") if forward_wrong else ""
        if expected is None:
            raise AssertionError(f"{what}: {name} cannot be compared with the right gradient: "
                                 f"your conv_forward gives an output of shape "
                                 f"{np.shape(out)}, expected "
                                 f"{_correlate(x, w, b).shape}" + suffix)
        if name == "dx" and not forward_wrong and type(got["dx"]) is np.ndarray and \
                got["dx"].shape == x.shape and \
                matches(got["dx"], numerical_gradient(
                    lambda v: _correlate(v, w[:, :, ::-1, ::-1], b), x.copy(), dout),
                    tol=1e-5):
            raise AssertionError(f"{what}: dx uses the kernel the wrong way round: for the "
                                 f"input gradient, correlate the zero-padded dout with the "
                                 f"*flipped* kernel (or scatter each window back)")
        try:
            check_array(f"{what}: {name}", got[name], expected[name], rtol=rtol, atol=atol,
                        hint=hints[name])
        except AssertionError as error:
            raise AssertionError(str(error) + suffix) from None

    parts = Parts()
    for name in ("db", "dw", "dx"):
        with parts(name):
            for case in cases:
                judge(name, *case)
    parts.verdict()
