"""Hidden checks of chapter 7: the fully connected layer F6, its counts, forward and backward."""
from __future__ import annotations

import numpy as np

from lenet5.testing import check_array, check_int

from .common import Partial, matches, numerical_gradient, rng, unpack_gradients

A, S = 1.7159, 2.0 / 3.0

# (N, in, out): F6's own sizes, degenerate ones, a square w (where a transposed w still
# runs), and N == out (where a bias added along the wrong axis still broadcasts).
SHAPES = [(3, 120, 84), (1, 1, 1), (4, 3, 5), (2, 6, 6), (5, 3, 5), (1, 7, 2), (6, 4, 1)]


def _count_slip(params, n_in, n_out):
    """The name of a known counting slip that gives ``params`` for the layer, or None."""
    known = {n_out * n_in: f"Each of the {n_out} units also has one bias",
             n_in * (n_out + 1): f"There is one bias per unit ({n_out}), not per input ({n_in})",
             n_out * n_in + n_in: f"There is one bias per unit ({n_out}), not per input ({n_in})",
             (n_in + 1) * (n_out + 1): "Only the units have biases, not the inputs"}
    known.pop(n_out * (n_in + 1), None)
    return known.get(int(params)) if isinstance(params, (int, np.integer)) else None


# (n_in, n_out) -> the layer it stands for, in the messages.
OTHER_LAYERS = [(400, 120, "C5 seen as a dense layer on 16x5x5 inputs"),
                (84, 10, "a trained 10-class output layer on F6"),
                (3, 2, "3 inputs, 2 units"), (1, 1, "1 input, 1 unit"),
                (7, 30, "7 inputs, 30 units")]


def check_counts(f6_params, f6_connections, dense_layer_counts) -> None:
    """f6_params = f6_connections = 10,164, and dense_layer_counts on other layers, with the
    usual slips named. A third of the points for F6's values, two thirds for the function."""
    failed, earned = [], 0.0
    try:
        for name, value in (("f6_params", f6_params), ("f6_connections", f6_connections)):
            check_int(name, value, 84 * (120 + 1),
                      hint=_count_slip(value, 120, 84) or
                      ("Count, per F6 unit, one weight per C5 output plus one bias"
                       if name == "f6_params" else
                       "A fully connected layer shares no weights: every parameter serves "
                       "exactly one connection"))
        earned += 1 / 3
    except AssertionError as error:
        failed.append(str(error))
    try:
        for n_in, n_out, layer in [(120, 84, "F6")] + OTHER_LAYERS:
            what = f"dense_layer_counts({n_in}, {n_out}) ({layer})"
            result = dense_layer_counts(n_in, n_out)
            if not (isinstance(result, tuple) and len(result) == 2):
                raise AssertionError(f"{what}: expected a pair (params, connections), got "
                                     f"{type(result).__name__}")
            params, connections = result
            expected = n_out * (n_in + 1)
            check_int(f"{what}, parameters", params, expected,
                      hint=_count_slip(params, n_in, n_out) or
                      "Count, per unit, one weight per input plus one bias")
            check_int(f"{what}, connections", connections, expected,
                      hint=_count_slip(connections, n_in, n_out) or
                      "A fully connected layer shares no weights: every parameter serves "
                      "exactly one connection")
        earned += 2 / 3
    except Exception as error:  # noqa: BLE001 - a wrong answer, or the student's code raised
        if not (isinstance(error, AssertionError) or getattr(error, "raised_by", None)):
            raise
        if not isinstance(error, AssertionError):
            error = f"{what} raised {type(error).__name__}: {error}"
        failed.append(str(error) + (" (compute the counts from n_in and n_out: typed-in "
                                    "values only fit F6)"
                                    if "(F6)" not in str(error) else ""))
    if failed:
        message = "; ".join(failed)
        if earned:
            raise Partial(earned, message)
        raise AssertionError(message)


def _data(gen, n, fan_in, fan_out):
    return (gen.standard_normal((n, fan_in)), gen.standard_normal((fan_in, fan_out)),
            gen.standard_normal(fan_out))


def _forward_out(result, what):
    if not (isinstance(result, tuple) and len(result) == 2):
        raise AssertionError(f"{what}: expected a pair (out, cache), got "
                             f"{type(result).__name__}"
                             + (f" of length {len(result)}" if isinstance(result, tuple) else ""))
    return result[0]


def check_dense_forward(dense_forward) -> None:
    """dense_forward(x, w, b): random shapes, the (out, in) weight slip, bias broadcasting."""
    gen = rng()
    for n, fan_in, fan_out in SHAPES:
        x, w, b = _data(gen, n, fan_in, fan_out)
        copies = x.copy(), w.copy(), b.copy()
        what = f"dense_forward with x {x.shape}, w {w.shape}, b {b.shape}"
        try:
            result = dense_forward(x, w, b)
        except Exception as error:  # noqa: BLE001 - reported to the student
            advice = ""
            if "matmul" in str(error) or "aligned" in str(error):
                advice = (" Here w is (in, out): compute x @ w. Using w as (out, in), as in "
                          "x @ w.T, is the layout of other libraries, not of this book.")
            elif "broadcast" in str(error):
                advice = (" Add the bias b, of shape (out,), as it is: it broadcasts over "
                          "the rows (samples) of x @ w, which is (N, out).")
            raise AssertionError(f"{what} raised {type(error).__name__}: {error}.{advice}") \
                from None
        got = _forward_out(result, what)
        if not all(np.array_equal(a, c) for a, c in zip((x, w, b), copies)):
            raise AssertionError(f"{what}: your function changed one of its arguments")
        expected = np.einsum("ni,io->no", x, w) + b
        if type(got) is np.ndarray and got.shape == (fan_out, n) and n != fan_out:
            raise AssertionError(f"{what}: expected shape {expected.shape}, got {got.shape}: "
                                 f"keep the batch first, out is (N, out)")
        if type(got) is np.ndarray and got.shape == (fan_out, fan_out) and n == 1 != fan_out:
            raise AssertionError(f"{what}: expected shape {expected.shape}, got {got.shape}: "
                                 f"the bias b of shape (out,) was turned into a column; add b "
                                 f"as it is and it broadcasts over the rows of the batch")
        if type(got) is np.ndarray and got.shape == expected.shape and \
                not matches(got, expected):
            wrong = [
                (x @ w.T + b if fan_in == fan_out else None,
                 "the weights are used transposed, as (out, in): here w is (in, out), so "
                 "compute x @ w"),
                (x @ w + b[:, None] if n == fan_out else None,
                 "the bias is added per sample (down the rows) instead of per unit (across "
                 "the columns): add b of shape (out,) as it is"),
                (x @ w, "the bias b is missing"),
                (x @ w + b.sum(), "each unit must get its own bias b[j], not the sum of all"),
                (A * np.tanh(S * expected), "dense_forward is only the affine part x @ w + b; "
                                            "the squashing function is applied afterwards"),
            ]
            for candidate, message in wrong:
                if candidate is not None and matches(got, candidate):
                    raise AssertionError(f"{what}: {message}")
        check_array(what, got, expected, hint="out[n, j] = sum_i x[n, i] w[i, j] + b[j]")


def check_dense_backward(dense_forward, dense_backward) -> None:
    """dense_backward(dout, cache): random shapes, finite differences, usual slips named."""
    gen = rng()
    for n, fan_in, fan_out in SHAPES:
        x, w, b = _data(gen, n, fan_in, fan_out)
        dout = gen.standard_normal((n, fan_out))
        what = f"dense_backward after dense_forward with x {x.shape}, w {w.shape}"
        other_x, other_w, other_b = _data(gen, n, fan_in, fan_out)
        try:
            _, cache = dense_forward(x, w, b)
            # A second forward call in between: the gradients must come from the first's cache.
            dense_forward(other_x, other_w, other_b)
        except Exception as error:  # noqa: BLE001 - reported to the student
            raise AssertionError(f"{what}: dense_backward needs the cache of dense_forward, "
                                 f"but dense_forward raised {type(error).__name__}: {error}. "
                                 f"Fix dense_forward first") from None
        dout_copy = dout.copy()
        try:
            result = dense_backward(dout, cache)
        except Exception as error:  # noqa: BLE001 - reported to the student
            raise AssertionError(f"{what} raised {type(error).__name__}: {error}. The shapes: "
                                 f"dx = dout @ w.T is (N, in), dw = x.T @ dout is (in, out), "
                                 f"db = dout summed over the batch is (out,)") from None
        dx, dw, db = unpack_gradients(what, result, ("dx", "dw", "db"), dout, dout_copy)
        ref_dx = np.einsum("no,io->ni", dout, w)
        ref_dw = np.einsum("ni,no->io", x, dout)
        ref_db = dout.sum(axis=0)

        def forward(x_=x, w_=w, b_=b):
            return np.einsum("ni,io->no", x_, w_) + b_

        num_dx = numerical_gradient(lambda v: forward(x_=v), x.copy(), dout)
        num_dw = numerical_gradient(lambda v: forward(w_=v), w.copy(), dout)
        num_db = numerical_gradient(lambda v: forward(b_=v), b.copy(), dout)
        for ref, num in ((ref_dx, num_dx), (ref_dw, num_dw), (ref_db, num_db)):
            assert np.allclose(ref, num, atol=1e-5), "internal error: references disagree"

        if type(dw) is np.ndarray and dw.shape == w.shape and not matches(dw, ref_dw) and \
                matches(dw, other_x.T @ dout):
            raise AssertionError(f"{what}: dw comes from the x of the latest dense_forward "
                                 f"call, not from the cache it was given: keep what the "
                                 f"backward pass needs in the cache")
        # dw
        if type(dw) is np.ndarray and dw.shape == (fan_out, fan_in) and fan_in != fan_out:
            raise AssertionError(f"{what}: dw has shape {dw.shape}, expected w's shape "
                                 f"{w.shape}: the weights are (in, out), so dw = x.T @ dout")
        if type(dw) is np.ndarray and dw.shape == w.shape and not matches(dw, ref_dw):
            if fan_in == fan_out and matches(dw, ref_dw.T):
                raise AssertionError(f"{what}: dw is transposed: w is (in, out), so "
                                     f"dw = x.T @ dout")
            if n > 1 and matches(dw, ref_dw / n):
                raise AssertionError(f"{what}: dw is averaged over the batch; the gradient of "
                                     f"a sum over samples is the sum of their gradients")
        check_array(f"{what}: dw vs finite differences", dw, num_dw, rtol=1e-5, atol=1e-6)
        # db
        if type(db) is np.ndarray and db.shape == (n, fan_out) and n > 1:
            raise AssertionError(f"{what}: db has shape {db.shape}, expected {b.shape}: the "
                                 f"bias is shared by every sample of the batch, so sum dout "
                                 f"over the batch (axis 0)")
        if type(db) is np.ndarray and db.shape == (n,) and n != fan_out:
            raise AssertionError(f"{what}: db has shape {db.shape}, expected {b.shape}: sum "
                                 f"dout over the batch (axis 0), not over the units (axis 1)")
        if type(db) is np.ndarray and db.shape == b.shape and n > 1 and \
                matches(db, ref_db / n):
            raise AssertionError(f"{what}: db is the mean of dout over the batch; it is the "
                                 f"sum")
        check_array(f"{what}: db vs finite differences", db, num_db, rtol=1e-5, atol=1e-6)
        # dx
        if type(dx) is np.ndarray and dx.shape == x.shape and not matches(dx, ref_dx) and \
                fan_in == fan_out and matches(dx, dout @ w):
            raise AssertionError(f"{what}: dx uses w untransposed; dx = dout @ w.T")
        check_array(f"{what}: dx vs finite differences", dx, num_dx, rtol=1e-5, atol=1e-6,
                    hint="dx = dout @ w.T")
