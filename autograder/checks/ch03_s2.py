"""Hidden checks of chapter 3: the trainable subsampling layer S2 (sum of 2x2 blocks,
times one coefficient per map, plus one bias per map; the squashing function is separate),
and the counts of a subsampling layer."""
from __future__ import annotations

import numpy as np

from lenet5.testing import check_array, check_int

from .common import (OWN_FORWARD, Parts, agrees_with_gradient, count_pair, is_int, matches,
                     numerical_gradient, pair, rng, unpack_gradients)

# ------------------------------------------------------------------ counts

def reference_counts(maps: int, in_side: int, window: int = 2) -> tuple[int, int]:
    """(trainable parameters, connections) of a subsampling layer (paper, p. 7)."""
    side = in_side // window
    return 2 * maps, maps * side * side * (window * window + 1)


# Wrong S2 counts that come from a known slip, and what to say about them.
_S2_PARAMS_SLIPS = {
    6: "S2 has one trainable coefficient AND one trainable bias per map",
    2: "Each of the 6 maps has its own coefficient and bias",
    2 * 6 * 14 * 14: "The coefficient and the bias are shared by all 14x14 units of a map: "
                     "count them once per map, not once per unit",
    4 * 6: "The four inputs of a block share the map's single coefficient: S2 has no weight "
           "per input",
    5 * 6: "The four inputs of a block share the map's single coefficient (no weight per "
           "input); with the bias that makes two parameters per map",
}
_S2_CONNECTIONS_SLIPS = {
    6 * 14 * 14 * 4: "Every unit has its 4 inputs plus its bias: the bias counts as a "
                     "connection (an input that is always 1)",
    6 * 14 * 14: "Count every connection of a unit: its 4 inputs plus its bias",
    6 * 14 * 14 * 2: "Count every connection of a unit: its 4 inputs plus its bias, not its "
                     "2 parameters",
    14 * 14 * 5: "That is one map: S2 has 6",
    6 * 28 * 28 * 5: "S2 has 14x14 units per map (one per 2x2 block), not 28x28",
    6 * 28 * 28 * 4: "S2 has 14x14 units per map (one per 2x2 block), not 28x28, and each "
                     "unit has 4 inputs plus its bias",
}

# (maps, in_side, window) the function is tried on: S2 and layers that LeNet-5 does not have
# (S4's sizes are left to chapter 5, whose exercise they are).
_COUNT_CASES = [(6, 28, 2), (3, 8, 2), (1, 2, 2), (10, 12, 3), (4, 20, 4), (2, 9, 3)]



def _diagnose_counts(got, maps, in_side, window) -> str:
    """Why ``got`` differs from the right counts of a subsampling layer, when a slip shows."""
    side = in_side // window
    params, connections = reference_counts(maps, in_side, window)
    g_params, g_conn = got
    if g_params != params:
        if g_params == maps:
            return "one coefficient AND one bias per map"
        if g_params == 2 * maps * side * side:
            return "the coefficient and the bias are shared by all units of a map: count " \
                   "them once per map"
        return "a subsampling map has two trainable parameters, whatever its size"
    if g_conn == maps * side * side * window * window:
        return "every unit has its window*window inputs plus its bias (the bias counts as " \
               "a connection)"
    if g_conn == maps * (in_side // 2) ** 2 * 5 and window != 2:
        return "your function ignores the argument window: a map has (in_side / window)**2 " \
               "units, each with window*window inputs plus its bias"
    if g_conn == maps * side * side * 5 and window != 2:
        return "a unit has window*window inputs, not always 4: use the argument window"
    if g_conn == maps * (in_side // 2) ** 2 * (window * window + 1) and window != 2:
        return "a map has (in_side / window)**2 units: divide by the argument window, not by 2"
    if g_conn == maps * in_side * in_side * (window * window + 1):
        return "a map has (in_side / window)**2 units, one per block, not in_side**2"
    return "every unit of every map counts its window*window inputs plus its bias"


def check_s2_counts(s2_params, s2_connections, subsample_counts) -> None:
    """s2_params, s2_connections (12 and 5,880) and subsample_counts(maps, in_side, window)
    on other sizes, so that the numbers come from the arithmetic; four parts: the two values,
    and the function's parameters and connections."""
    parts = Parts()
    for name, value, expected, slips in (
            ("s2_params", s2_params, 12, _S2_PARAMS_SLIPS),
            ("s2_connections", s2_connections, 5_880, _S2_CONNECTIONS_SLIPS)):
        with parts(name):
            hint = slips.get(int(value)) if is_int(value) else None
            check_int(name, value, expected, hint=hint)
    results = []
    for maps, in_side, window in _COUNT_CASES + [(3, 8, None)]:
        if window is None:  # the default window is 2, as in S2
            call = "subsample_counts(3, 8)"
            try:
                got = subsample_counts(3, 8)
            except TypeError as err:
                raise AssertionError(f"subsample_counts(3, 8) raised TypeError ({err}): keep "
                                     f"the signature subsample_counts(maps, in_side, "
                                     f"window=2)") from None
            window = 2
        else:
            call = f"subsample_counts({maps}, {in_side}, window={window})"
            got = subsample_counts(maps, in_side, window)
        results.append((call, count_pair(got, call), maps, in_side, window))
    for k, name in enumerate(("parameters", "connections")):
        with parts(f"subsample_counts on other layers: the {name}"):
            for call, got, maps, in_side, window in results:
                expected = reference_counts(maps, in_side, window)
                if got[k] != expected[k]:
                    # the diagnosis of this count alone (the other one taken as right)
                    alone = (got[0], expected[1]) if k == 0 else (expected[0], got[1])
                    default = " (the default window must be 2, S2's 2x2 blocks)" \
                        if call == "subsample_counts(3, 8)" else ""
                    raise AssertionError(f"{call}: expected {expected}, got "
                                         f"({got[0]}, {got[1]}){default}: "
                                         + _diagnose_counts(alone, maps, in_side, window))
    parts.verdict()


# ------------------------------------------------------------------ layer
# Shapes (N, C, H, W) the checks try. (2, 3, 6, 6) has C == W/2, where a coefficient applied
# along the wrong axis still broadcasts; (1, 1, 2, 2) is the smallest possible input.
SHAPES = [(2, 3, 6, 6), (2, 6, 28, 28), (3, 16, 10, 10), (1, 1, 2, 2), (4, 2, 4, 8), (1, 5, 12, 6)]


def _blocks(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N, C, H/2, W/2, 4): the four members of each 2x2 block."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
        n, c, h // 2, w // 2, 4)


def reference_forward(x, coeff, bias):
    """Independent formulation: explicit block members, then the per-map affine map."""
    s = _blocks(x).sum(axis=-1)
    return np.einsum("nchw,c->nchw", s, coeff) + bias[None, :, None, None]


def _squash(a):
    return 1.7159 * np.tanh(2.0 * a / 3.0)


def _case(gen, shape):
    n, c, h, w = shape
    x = gen.standard_normal(shape)
    coeff = gen.uniform(0.3, 1.5, c) * gen.choice([-1.0, 1.0], c)
    bias = gen.uniform(-1.0, 1.0, c)
    return x, coeff, bias


def _diagnose_forward(what, got, x, coeff, bias):
    """Raise with a named misconception when ``got`` matches a known wrong formula."""
    n, c, h, w = x.shape
    blocks = _blocks(x)
    s, mean, mx = blocks.sum(-1), blocks.mean(-1), blocks.max(-1)
    cb, bb = coeff[None, :, None, None], bias[None, :, None, None]
    right = cb * s + bb
    if type(got) is np.ndarray and got.ndim == 4 and h > 2 and \
            got.shape[2:] == (h - 1, w - 1):
        raise AssertionError(f"{what}: expected shape {right.shape}, got {got.shape}. The 2x2 "
                             f"windows of S2 do not overlap: they move by 2 (stride 2), not by 1")
    if type(got) is not np.ndarray or got.shape != right.shape:
        return  # check_array reports type and shape
    wrong = {
        "your unit applies the squashing function; subsample_forward must return the "
        "pre-activation coefficient * sum + bias (the squash is a separate step)":
            _squash(right),
        "you take the maximum of each 2x2 block (max pooling); S2 adds the four inputs":
            cb * mx + bb,
        "you take the maximum of each 2x2 block (max pooling) without the coefficient and "
        "bias; S2 adds the four inputs, then multiplies by a trainable coefficient and adds a "
        "trainable bias": mx,
        "you average the four inputs without the trainable coefficient":
            mean + bb,
        "you add the four inputs but never multiply by the trainable coefficient":
            s + bb,
        "you average the four inputs and apply neither coefficient nor bias (plain average "
        "pooling); S2 has a trainable coefficient and bias per map": mean,
        "you multiply the average by the coefficient, which is the sum times coeff/4: the "
        "four inputs are added (p. 7), not averaged": cb * mean + bb,
        "the coefficient multiplies the bias too: compute coeff * sum + bias, not "
        "coeff * (sum + bias)": cb * (s + bb),
    }
    if c > 1 and c == w // 2:
        wrong["the coefficient and bias are applied along the last (width) axis: they belong "
              "to the maps, axis 1; reshape them to (1, C, 1, 1)"] = \
            coeff[None, None, None, :] * s + bias[None, None, None, :]
    for message, value in wrong.items():
        if matches(got, value) and not matches(right, value):
            raise AssertionError(f"{what}: {message}")
    stride1 = None
    if h >= 2 and w >= 2:
        s1 = x[:, :, :-1, :-1] + x[:, :, 1:, :-1] + x[:, :, :-1, 1:] + x[:, :, 1:, 1:]
        stride1 = (cb * s1 + bb)[:, :, : h // 2, : w // 2]
        if matches(got, stride1) and not matches(right, stride1):
            raise AssertionError(f"{what}: your 2x2 windows overlap (they move by 1); "
                                 f"S2's windows are non-overlapping, stride 2")


def _forward_output(subsample_forward, what, x, coeff, bias):
    """``out`` of the student's subsample_forward; fails if it is not a pair or if it changed
    one of its arguments."""
    copies = x.copy(), coeff.copy(), bias.copy()
    out = pair(subsample_forward(x, coeff, bias), what)[0]
    for name, now, before in zip(("x", "coeff", "bias"), (x, coeff, bias), copies):
        if not np.array_equal(now, before):
            raise AssertionError(f"{what}: your function changed its argument {name}")
    return out


def check_subsample_forward(subsample_forward) -> None:
    """subsample_forward(x, coeff, bias) -> (out, cache), in two parts a student can get
    right apart: the block sums (coefficient 1, bias 0), and the coefficient and bias of each
    map applied to the student's own block sums (random coefficients and biases)."""
    gen = rng()
    cases = [(shape, *_case(gen, shape)) for shape in SHAPES]
    own_sums = {}  # what the student's function computes with coefficient 1 and bias 0
    for shape, x, coeff, _ in cases:
        what = f"subsample_forward on x of shape {shape} with coefficients 1 and biases 0"
        try:
            own_sums[shape] = _forward_output(subsample_forward, what, x,
                                              np.ones_like(coeff), np.zeros_like(coeff))
        except Exception as error:  # noqa: BLE001 - the first part reports it
            if not (isinstance(error, AssertionError) or getattr(error, "raised_by", None)):
                raise
            own_sums[shape] = error
    parts = Parts()
    with parts("the sum of each non-overlapping 2x2 block (coefficient 1, bias 0)"):
        for shape, x, coeff, _ in cases:
            ones, zeros = np.ones_like(coeff), np.zeros_like(coeff)
            what = f"subsample_forward on x of shape {shape} with coefficients 1 and biases 0"
            out = own_sums[shape]
            if isinstance(out, Exception):
                raise out
            if matches(out, _blocks(x).mean(-1)):
                raise AssertionError(f"{what}: each unit is the average of its block: the "
                                     f"four inputs are added (p. 7), not averaged (an average "
                                     f"times the coefficient is the sum times coeff/4)")
            _diagnose_forward(what, out, x, ones, zeros)
            check_array(what, out, reference_forward(x, ones, zeros))
    with parts("the coefficient and the bias of each map"):
        for shape, x, coeff, bias in cases:
            what = f"subsample_forward on x of shape {shape}"
            out = _forward_output(subsample_forward, what, x, coeff, bias)
            sums = own_sums.get(shape)
            if type(sums) is np.ndarray and sums.shape == out.shape and np.any(sums != 0) and \
                    matches(out, coeff[None, :, None, None] * sums + bias[None, :, None, None]):
                continue  # right for the block aggregate the student computes
            _diagnose_forward(what, out, x, coeff, bias)
            check_array(what, out, reference_forward(x, coeff, bias))
        # The coefficient really is per map: a map with coefficient 0 outputs only its bias.
        x, coeff, bias = _case(gen, (2, 4, 6, 6))
        coeff[2] = 0.0
        what = "subsample_forward with coeff[2] = 0 (map 2 must equal its bias everywhere)"
        out = _forward_output(subsample_forward, what, x, coeff, bias)
        check_array(what, out[:, 2] if type(out) is np.ndarray and out.ndim == 4 else out,
                    np.full((2, 3, 3), bias[2]))
    parts.verdict()


def _dx_diagnosis(what, dx, ex, x, coeff, dout) -> None:
    """Raise with a named misconception when ``dx`` matches a known wrong rule."""
    if type(dx) is not np.ndarray or dx.shape != x.shape:
        return
    up = np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3)
    if matches(dx, up) and not matches(ex, up):
        raise AssertionError(f"{what}: dx is dout copied to each 2x2 block but not "
                             f"multiplied by the map's coefficient")
    if matches(dx, ex / 4) and not matches(ex, ex / 4):
        raise AssertionError(f"{what}: dx is 4 times too small: the forward pass adds "
                             f"the four inputs, so each one's gradient is "
                             f"coeff * dout (no division by 4)")
    mask = (_blocks(x) == _blocks(x).max(-1, keepdims=True))
    n_, c_, h2, w2 = dout.shape
    routed_blocks = mask * (coeff[None, :, None, None, None] * dout[..., None])
    routed = routed_blocks.reshape(n_, c_, h2, w2, 2, 2).transpose(
        0, 1, 2, 4, 3, 5).reshape(x.shape)
    if matches(dx, routed) and not matches(ex, routed):
        raise AssertionError(f"{what}: dx reaches only the largest input of each block "
                             f"(the max-pooling rule); in S2 all four inputs count")


def _dcoeff_diagnosis(what, dcoeff, ec, coeff, n, c) -> None:
    if type(dcoeff) is np.ndarray and dcoeff.shape == coeff.shape:
        if matches(dcoeff, ec / 4) and not matches(ec, ec / 4):
            raise AssertionError(f"{what}: dcoeff is 4 times too small: the coefficient "
                                 f"multiplies the sum of the block, not its average")
    if type(dcoeff) is np.ndarray and dcoeff.shape == (n, c):
        raise AssertionError(f"{what}: dcoeff has shape {dcoeff.shape}: one coefficient is "
                             f"shared by every unit of a map and every image of the batch, "
                             f"so sum over the batch too; expected shape {coeff.shape}")


def _dbias_diagnosis(what, dbias, bias, n, c) -> None:
    if type(dbias) is np.ndarray and dbias.shape == (n, c):
        raise AssertionError(f"{what}: dbias has shape {dbias.shape}: sum over the batch "
                             f"too; expected shape {bias.shape}")


def check_subsample_backward(subsample_forward, subsample_backward) -> None:
    """subsample_backward(dout, cache) -> (dx, dcoeff, dbias) against finite differences, one
    part per gradient (dx counts double).

    One slip costs its points once: the cache comes from the student's subsample_forward,
    so when that is wrong each gradient is also judged against the gradient of the student's
    own forward pass (a forward pass that averages, with the exact backward pass of that
    average, loses its points in subsample_forward only); and the shapes on which it fails
    outright are left out, as long as one shape remains."""
    gen = rng()
    cases, failures = [], []
    for shape in [s for s in SHAPES if s != (2, 6, 28, 28)]:
        x, coeff, bias = _case(gen, shape)
        n, c, h, w = shape
        what = f"subsample_backward for x of shape {shape}"
        dout = gen.standard_normal((n, c, h // 2, w // 2))
        try:
            out, cache = subsample_forward(x.copy(), coeff.copy(), bias.copy())
        except Exception as err:  # noqa: BLE001 - the backward pass needs a cache
            failures.append(f"{what}: your subsample_forward, which makes the cache, failed "
                            f"on this shape ({type(err).__name__}: {err}); fix it first")
            continue
        dout_before = dout.copy()
        result = subsample_backward(dout, cache)
        grads = unpack_gradients(what, result, ("dx", "dcoeff", "dbias"), dout, dout_before)
        # Expected gradients by central differences of the reference forward pass.
        expected = (
            numerical_gradient(lambda v: reference_forward(v, coeff, bias), x.copy(), dout),
            numerical_gradient(lambda v: reference_forward(x, v, bias), coeff.copy(), dout),
            numerical_gradient(lambda v: reference_forward(x, coeff, v), bias.copy(), dout))
        forward_wrong = not matches(out, reference_forward(x, coeff, bias))
        cases.append((what, x, coeff, bias, dout, grads, expected, forward_wrong))
    if not cases:
        raise AssertionError(failures[0])

    def judge(k, what, x, coeff, bias, dout, grads, expected, forward_wrong):
        name, got, right = ("dx", "dcoeff", "dbias")[k], grads[k], expected[k]
        if matches(got, right, tol=1e-7) or (
                type(got) is np.ndarray and got.shape == right.shape and
                np.allclose(got, right, rtol=1e-5, atol=1e-7)):
            return
        if forward_wrong and agrees_with_gradient(subsample_forward, [x, coeff, bias], k,
                                                  got, dout):
            return
        n, c = x.shape[:2]
        if k == 0:
            _dx_diagnosis(what, got, right, x, coeff, dout)
        elif k == 1:
            _dcoeff_diagnosis(what, got, right, coeff, n, c)
        else:
            _dbias_diagnosis(what, got, bias, n, c)
        hint = {1: "dcoeff[c] adds up dout * (block sum) over all units of map c and all "
                   "images",
                2: "dbias[c] adds up dout over all units of map c and all images"}.get(k)
        try:
            check_array(f"{what}: {name}", got, right, rtol=1e-5, atol=1e-7, hint=hint)
        except AssertionError as error:
            raise AssertionError(str(error) + (OWN_FORWARD.format(
                forward="subsample_forward") if forward_wrong else "")) from None

    parts = Parts()
    for k, (name, weight) in enumerate((("dx", 2), ("dcoeff", 1), ("dbias", 1))):
        with parts(name, weight=weight):
            for case in cases:
                judge(k, *case)
    parts.verdict()
