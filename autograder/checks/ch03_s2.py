"""Hidden checks of chapter 3: the trainable subsampling layer S2 (sum of 2x2 blocks,
times one coefficient per map, plus one bias per map; the squashing function is separate)."""
from __future__ import annotations

import numpy as np

from lenet5.testing import check_array

from .common import matches, numerical_gradient, rng, unpack_gradients

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
        _, cache = subsample_forward(x.copy(), coeff.copy(), bias.copy())
        dout = gen.standard_normal((n, c, h // 2, w // 2))
        dout_before = dout.copy()
        result = subsample_backward(dout, cache)
        dx, dcoeff, dbias = unpack_gradients(what, result, ("dx", "dcoeff", "dbias"), dout,
                                             dout_before)

        # Expected gradients by central differences of the reference forward pass.
        ex = numerical_gradient(lambda v: reference_forward(v, coeff, bias), x.copy(), dout)
        ec = numerical_gradient(lambda v: reference_forward(x, v, bias), coeff.copy(), dout)
        eb = numerical_gradient(lambda v: reference_forward(x, coeff, v), bias.copy(), dout)

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
