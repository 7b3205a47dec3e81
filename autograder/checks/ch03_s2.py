"""Hidden checks of chapter 3: the trainable subsampling layer S2 (sum of 2x2 blocks,
times one coefficient per map, plus one bias per map; the squashing function is separate),
and the counts of a subsampling layer."""
from __future__ import annotations

import numpy as np

from lenet5.testing import check_array, check_int

from .common import count_pair, is_int, matches, numerical_gradient, rng, unpack_gradients

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
    on other sizes, so that the numbers come from the arithmetic."""
    for name, value, expected, slips in (
            ("s2_params", s2_params, 12, _S2_PARAMS_SLIPS),
            ("s2_connections", s2_connections, 5_880, _S2_CONNECTIONS_SLIPS)):
        hint = slips.get(int(value)) if is_int(value) else None
        check_int(name, value, expected, hint=hint)
    for maps, in_side, window in _COUNT_CASES:
        call = f"subsample_counts({maps}, {in_side}, window={window})"
        got = count_pair(subsample_counts(maps, in_side, window), call)
        expected = reference_counts(maps, in_side, window)
        if tuple(int(v) for v in got) != expected:
            raise AssertionError(f"{call}: expected {expected}, got "
                                 f"({int(got[0])}, {int(got[1])}): "
                                 + _diagnose_counts(got, maps, in_side, window))
    # The default window is 2, as in S2.
    try:
        got = subsample_counts(3, 8)
    except TypeError as err:
        raise AssertionError(f"subsample_counts(3, 8) raised TypeError ({err}): keep the "
                             f"signature subsample_counts(maps, in_side, window=2)") from None
    if not (isinstance(got, tuple) and len(got) == 2) or \
            tuple(int(v) for v in got) != reference_counts(3, 8):
        raise AssertionError("subsample_counts(3, 8): the default window must be 2 (S2's "
                             "2x2 blocks)")


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


def check_subsample_forward(subsample_forward) -> None:
    """subsample_forward(x, coeff, bias) -> (out, cache): values, shapes, no side effects."""
    gen = rng()
    for shape in SHAPES:
        x, coeff, bias = _case(gen, shape)
        copies = x.copy(), coeff.copy(), bias.copy()
        what = f"subsample_forward on x of shape {shape}"
        result = subsample_forward(x, coeff, bias)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise AssertionError(f"{what}: expected a pair (out, cache), got "
                                 f"{type(result).__name__}")
        out = result[0]
        for name, now, before in zip(("x", "coeff", "bias"), (x, coeff, bias), copies):
            if not np.array_equal(now, before):
                raise AssertionError(f"{what}: your function changed its argument {name}")
        _diagnose_forward(what, out, x, coeff, bias)
        check_array(what, out, reference_forward(x, coeff, bias))
    # The coefficient really is per map: a map with coefficient 0 outputs only its bias.
    x, coeff, bias = _case(gen, (2, 4, 6, 6))
    coeff[2] = 0.0
    out = subsample_forward(x, coeff, bias)[0]
    check_array("subsample_forward with coeff[2] = 0 (map 2 must equal its bias everywhere)",
                out[:, 2], np.full((2, 3, 3), bias[2]))


def check_subsample_backward(subsample_forward, subsample_backward) -> None:
    """subsample_backward(dout, cache) -> (dx, dcoeff, dbias) against finite differences."""
    gen = rng()
    for shape in [s for s in SHAPES if s != (2, 6, 28, 28)]:
        x, coeff, bias = _case(gen, shape)
        n, c, h, w = shape
        what = f"subsample_backward for x of shape {shape}"
        try:
            out, cache = subsample_forward(x.copy(), coeff.copy(), bias.copy())
        except Exception as err:  # noqa: BLE001 - the backward pass needs a cache
            raise AssertionError(f"{what}: your subsample_forward, which makes the cache, "
                                 f"failed on this shape ({type(err).__name__}: {err}); fix "
                                 f"it first") from None
        dout = gen.standard_normal((n, c, h // 2, w // 2))
        dout_before = dout.copy()
        result = subsample_backward(dout, cache)
        dx, dcoeff, dbias = unpack_gradients(what, result, ("dx", "dcoeff", "dbias"), dout,
                                             dout_before)

        # Expected gradients by central differences of the reference forward pass.
        ex = numerical_gradient(lambda v: reference_forward(v, coeff, bias), x.copy(), dout)
        ec = numerical_gradient(lambda v: reference_forward(x, v, bias), coeff.copy(), dout)
        eb = numerical_gradient(lambda v: reference_forward(x, coeff, v), bias.copy(), dout)

        # One slip costs its points once: a forward pass that averages the block (instead
        # of adding it) loses them in subsample_forward; a backward pass that is the exact
        # gradient of that forward pass is right for it, and is not penalised again here.
        averaged = coeff[None, :, None, None] * _blocks(x).mean(-1) + bias[None, :, None, None]
        if matches(out, averaged) and not matches(out, reference_forward(x, coeff, bias)):
            if matches(dx, ex / 4) and matches(dcoeff, ec / 4) and matches(dbias, eb):
                continue

        up = np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3)
        if type(dx) is np.ndarray and dx.shape == x.shape:
            if matches(dx, up) and not matches(ex, up):
                raise AssertionError(f"{what}: dx is dout copied to each 2x2 block but not "
                                     f"multiplied by the map's coefficient")
            if matches(dx, ex / 4) and not matches(ex, ex / 4):
                raise AssertionError(f"{what}: dx is 4 times too small: the forward pass adds "
                                     f"the four inputs, so each one's gradient is "
                                     f"coeff * dout (no division by 4)")
            mask = (_blocks(x) == _blocks(x).max(-1, keepdims=True))
            routed = np.zeros_like(x)
            n_, c_, h2, w2 = dout.shape
            routed_blocks = mask * (coeff[None, :, None, None, None] * dout[..., None])
            routed = routed_blocks.reshape(n_, c_, h2, w2, 2, 2).transpose(
                0, 1, 2, 4, 3, 5).reshape(x.shape)
            if matches(dx, routed) and not matches(ex, routed):
                raise AssertionError(f"{what}: dx reaches only the largest input of each block "
                                     f"(the max-pooling rule); in S2 all four inputs count")
        check_array(f"{what}: dx", dx, ex, rtol=1e-5, atol=1e-7)
        if type(dcoeff) is np.ndarray and dcoeff.shape == coeff.shape:
            if matches(dcoeff, ec / 4) and not matches(ec, ec / 4):
                raise AssertionError(f"{what}: dcoeff is 4 times too small: the coefficient "
                                     f"multiplies the sum of the block, not its average")
        if type(dcoeff) is np.ndarray and dcoeff.shape == (n, c):
            raise AssertionError(f"{what}: dcoeff has shape {dcoeff.shape}: one coefficient is "
                                 f"shared by every unit of a map and every image of the batch, "
                                 f"so sum over the batch too; expected shape {coeff.shape}")
        check_array(f"{what}: dcoeff", dcoeff, ec, rtol=1e-5, atol=1e-7,
                    hint="dcoeff[c] adds up dout * (block sum) over all units of map c and "
                         "all images")
        if type(dbias) is np.ndarray and dbias.shape == (n, c):
            raise AssertionError(f"{what}: dbias has shape {dbias.shape}: sum over the batch "
                                 f"too; expected shape {bias.shape}")
        check_array(f"{what}: dbias", dbias, eb, rtol=1e-5, atol=1e-7,
                    hint="dbias[c] adds up dout over all units of map c and all images")
