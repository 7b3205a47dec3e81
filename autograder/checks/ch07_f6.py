"""Hidden checks of chapter 7: the fully connected layer F6, its counts, forward and backward,
and the slope of the squashing function read from F6's outputs."""
from __future__ import annotations

import numpy as np

from lenet5.testing import check_array, check_int

from .common import Parts, matches, numerical_gradient, rng, unpack_gradients

A, S = 1.7159, 2.0 / 3.0

# (N, in, out): F6's own sizes, degenerate ones, a square w (where a transposed w still
# runs), and N == out (where a bias added along the wrong axis still broadcasts).
SHAPES = [(3, 120, 84), (1, 1, 1), (4, 3, 5), (2, 6, 6), (5, 3, 5), (1, 7, 2), (6, 4, 1)]
# Parts of dense_forward, each probing one thing whatever the other does: the weights
# (b = 0) with N == out, so that a bias broadcast along the wrong axis adds zeros where it
# lands; the bias (w = 0) with square weights, so that a transposed w still runs.
WEIGHT_SHAPES = [(84, 120, 84), (1, 1, 1), (5, 3, 5), (2, 7, 2), (4, 6, 4), (3, 3, 3)]
BIAS_SHAPES = [(3, 84, 84), (4, 4, 4), (1, 6, 6), (5, 2, 2)]


def _count_slip(params, n_in, n_out, connections=False):
    """The name of a known counting slip that gives ``params`` (or, with ``connections``, that
    number of connections) for the layer, or None."""
    known = {n_out * n_in: (f"One connection per weight, but a bias is a connection too (from "
                            f"an input that is always 1): count one more per unit ({n_out})"
                            if connections else f"Each of the {n_out} units also has one bias"),
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
    usual slips named. Parts: F6's two values (1), the function on other layers (2)."""
    parts = Parts()
    with parts("F6's counts f6_params and f6_connections"):
        for name, value in (("f6_params", f6_params), ("f6_connections", f6_connections)):
            check_int(name, value, 84 * (120 + 1),
                      hint=_count_slip(value, 120, 84, name == "f6_connections") or
                      ("Count, per F6 unit, one weight per C5 output plus one bias"
                       if name == "f6_params" else
                       "A fully connected layer shares no weights: every parameter serves "
                       "exactly one connection"))
    with parts("dense_layer_counts on F6 and on other layers", weight=2):
        what = "dense_layer_counts"
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
                          hint=_count_slip(connections, n_in, n_out, connections=True) or
                          "A fully connected layer shares no weights: every parameter serves "
                          "exactly one connection")
        except Exception as error:  # noqa: BLE001 - a wrong answer, or the student's code raised
            if not (isinstance(error, AssertionError) or getattr(error, "raised_by", None)):
                raise
            message = str(error) if isinstance(error, AssertionError) else \
                f"{what} raised {type(error).__name__}: {error}"
            raise AssertionError(message + (" (compute the counts from n_in and n_out: "
                                            "typed-in values only fit F6)"
                                            if "(F6)" not in message else "")) from None
    parts.verdict()


def _data(gen, n, fan_in, fan_out):
    return (gen.standard_normal((n, fan_in)), gen.standard_normal((fan_in, fan_out)),
            gen.standard_normal(fan_out))


def _forward_out(result, what):
    if not (isinstance(result, tuple) and len(result) == 2):
        raise AssertionError(f"{what}: expected a pair (out, cache), got "
                             f"{type(result).__name__}"
                             + (f" of length {len(result)}" if isinstance(result, tuple) else ""))
    return result[0]


def _forward_case(dense_forward, x, w, b) -> None:
    """One call of dense_forward, checked against x @ w + b with the usual slips named."""
    n, fan_in = x.shape
    fan_out = w.shape[1]
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


def check_dense_forward(dense_forward) -> None:
    """dense_forward(x, w, b): random shapes, the (out, in) weight slip, bias broadcasting.
    Parts: the weights (x @ w with b = 0), the bias (b with w = 0)."""
    gen = rng()
    parts = Parts()
    with parts("the weights: x @ w (with b = 0)"):
        for n, fan_in, fan_out in WEIGHT_SHAPES:
            x, w, _ = _data(gen, n, fan_in, fan_out)
            _forward_case(dense_forward, x, w, np.zeros(fan_out))
    with parts("the bias: b added to every sample (with w = 0)"):
        for n, fan_in, fan_out in BIAS_SHAPES:
            x, _, b = _data(gen, n, fan_in, fan_out)
            _forward_case(dense_forward, x, np.zeros((fan_in, fan_out)), b)
    parts.verdict()


def _backward_case(gen, dense_forward, dense_backward, n, fan_in, fan_out):
    """One call of dense_backward: (x, w, b, dout, (dx, dw, db), notes) or raise."""
    x, w, b = _data(gen, n, fan_in, fan_out)
    dout = gen.standard_normal((n, fan_out))
    what = f"dense_backward after dense_forward with x {x.shape}, w {w.shape}"
    other_x, other_w, other_b = _data(gen, n, fan_in, fan_out)
    forward_error = None
    try:
        result = dense_forward(x, w, b)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise AssertionError("it does not return a pair (out, cache)")
        cache = result[1]
        # A second forward call in between: the gradients must come from the first's cache.
        dense_forward(other_x, other_w, other_b)
    except Exception as error:  # noqa: BLE001 - your dense_forward is graded on its own
        forward_error = f"{type(error).__name__}: {error}"
        # One slip, points lost once: go on with the cache of this book's dense_forward.
        cache, what = (x, w), f"dense_backward with the cache (x, w) of x {x.shape}, w {w.shape}"
    dout_copy = dout.copy()
    try:
        result = dense_backward(dout, cache)
    except Exception as error:  # noqa: BLE001 - reported to the student
        if forward_error:
            raise AssertionError(
                f"{what}: dense_backward needs the cache of dense_forward, but dense_forward "
                f"raised {forward_error}, and with the cache (x, w) of this book's "
                f"dense_forward your dense_backward raised {type(error).__name__}: {error}. "
                f"Fix dense_forward first") from None
        cache_hint = ("It can only use what your dense_forward put into the cache: keep "
                      "there everything the gradients need. " if isinstance(
                          error, (IndexError, KeyError, ValueError, TypeError)) else "")
        raise AssertionError(f"{what} raised {type(error).__name__}: {error}. {cache_hint}"
                             f"The shapes: dx = dout @ w.T is (N, in), dw = x.T @ dout is "
                             f"(in, out), db = dout summed over the batch is (out,)") from None
    grads = unpack_gradients(what, result, ("dx", "dw", "db"), dout, dout_copy)
    return x, w, b, dout, grads, what, other_x


def check_dense_backward(dense_forward, dense_backward) -> None:
    """dense_backward(dout, cache): random shapes, finite differences, usual slips named.
    Parts: dx, dw, db (each against finite differences on every shape)."""
    gen = rng()
    cases, failure = [], None
    try:
        for n, fan_in, fan_out in SHAPES:
            cases.append(_backward_case(gen, dense_forward, dense_backward, n, fan_in, fan_out))
    except AssertionError as error:
        failure = str(error)
    parts = Parts()

    def numeric(x, w, b, dout, which):
        def forward(x_=x, w_=w, b_=b):
            return np.einsum("ni,io->no", x_, w_) + b_
        value = {"x": x, "w": w, "b": b}[which]
        return numerical_gradient(lambda v: forward(**{f"{which}_": v}), value.copy(), dout)

    with parts("dw"):
        if failure:
            raise AssertionError(failure)
        for x, w, b, dout, (_, dw, _), what, other_x in cases:
            n, fan_in = x.shape
            fan_out = w.shape[1]
            ref_dw = np.einsum("ni,no->io", x, dout)
            if type(dw) is np.ndarray and dw.shape == w.shape and not matches(dw, ref_dw) and \
                    matches(dw, other_x.T @ dout):
                raise AssertionError(f"{what}: dw comes from the x of the latest dense_forward "
                                     f"call, not from the cache it was given: keep what the "
                                     f"backward pass needs in the cache")
            if type(dw) is np.ndarray and dw.shape == (fan_out, fan_in) and fan_in != fan_out:
                raise AssertionError(f"{what}: dw has shape {dw.shape}, expected w's shape "
                                     f"{w.shape}: the weights are (in, out), so dw = x.T @ dout")
            if type(dw) is np.ndarray and dw.shape == w.shape and not matches(dw, ref_dw):
                if fan_in == fan_out and matches(dw, ref_dw.T):
                    raise AssertionError(f"{what}: dw is transposed: w is (in, out), so "
                                         f"dw = x.T @ dout")
                if n > 1 and matches(dw, ref_dw / n):
                    raise AssertionError(f"{what}: dw is averaged over the batch; the gradient "
                                         f"of a sum over samples is the sum of their gradients")
            check_array(f"{what}: dw vs finite differences", dw, numeric(x, w, b, dout, "w"),
                        rtol=1e-5, atol=1e-6)
    with parts("db"):
        if failure:
            raise AssertionError(failure)
        for x, w, b, dout, (_, _, db), what, _ in cases:
            n, fan_out = dout.shape
            if type(db) is np.ndarray and db.shape == (n, fan_out) and n > 1:
                raise AssertionError(f"{what}: db has shape {db.shape}, expected {b.shape}: "
                                     f"the bias is shared by every sample of the batch, so sum "
                                     f"dout over the batch (axis 0)")
            if type(db) is np.ndarray and db.shape == (n,) and n != fan_out:
                raise AssertionError(f"{what}: db has shape {db.shape}, expected {b.shape}: sum "
                                     f"dout over the batch (axis 0), not over the units (axis 1)")
            if type(db) is np.ndarray and db.shape == b.shape and n > 1 and \
                    matches(db, dout.sum(axis=0) / n):
                raise AssertionError(f"{what}: db is the mean of dout over the batch; it is the "
                                     f"sum")
            check_array(f"{what}: db vs finite differences", db, numeric(x, w, b, dout, "b"),
                        rtol=1e-5, atol=1e-6)
    with parts("dx"):
        if failure:
            raise AssertionError(failure)
        for x, w, b, dout, (dx, _, _), what, _ in cases:
            ref_dx = np.einsum("no,io->ni", dout, w)
            if type(dx) is np.ndarray and dx.shape == x.shape and not matches(dx, ref_dx) and \
                    w.shape[0] == w.shape[1] and matches(dx, dout @ w):
                raise AssertionError(f"{what}: dx uses w untransposed; dx = dout @ w.T")
            check_array(f"{what}: dx vs finite differences", dx, numeric(x, w, b, dout, "x"),
                        rtol=1e-5, atol=1e-6, hint="dx = dout @ w.T")
    parts.verdict()


def check_squash_backward_from_output(squash_backward_from_output) -> None:
    """squash_backward_from_output(dy, y) = dy * f'(a) with y = f(a), f(a) = A tanh(S a),
    against finite differences of f. Parts: the slope itself (dy = 1), the chain rule
    (random dy, other shapes)."""
    gen = rng()

    def case(a, dy):
        y = A * np.tanh(S * a)
        what = f"squash_backward_from_output on y of shape {y.shape}"
        y_copy, dy_copy = y.copy(), dy.copy()
        try:
            got = squash_backward_from_output(dy, y)
        except Exception as error:  # noqa: BLE001 - the checks' own errors propagate
            if not getattr(error, "raised_by", None):
                raise
            raise AssertionError(f"{what}: your function raised {type(error).__name__}: "
                                 f"{error}") from None
        if not (np.array_equal(y, y_copy) and np.array_equal(dy, dy_copy)):
            raise AssertionError(f"{what}: your function changed its arguments")
        expected = numerical_gradient(lambda v: A * np.tanh(S * v), a.copy(), dy)
        if type(got) is np.ndarray and got.shape == y.shape and \
                not matches(got, expected, tol=1e-5):
            t = y / A
            wrong = [
                (dy * (1 - y ** 2), "you used 1 - y^2, the slope of the plain tanh(a): here "
                                    "y = A tanh(S a), so write tanh(S a) as y / A and keep "
                                    "the factors A and S"),
                (dy * A * S * (1 - y ** 2), "1 - y^2 is not 1 - tanh(S a)^2: tanh(S a) = y / A"),
                (dy * A * S * (1 - np.tanh(S * y) ** 2),
                 "you evaluated the slope at y, as if y were the weighted sum a: f'(a) must be "
                 "written with the output y = f(a), through tanh(S a) = y / A"),
                (dy * S * (1 - t ** 2), "the factor A is missing: f(a) = A tanh(S a)"),
                (dy * A * (1 - t ** 2), "the factor S = 2/3 (inner derivative) is missing"),
                (dy, "the slope f'(a) is missing: multiply dy by it"),
                (A * S * (1 - t ** 2), "dy is missing: the chain rule multiplies dy by f'(a)"),
            ]
            for candidate, message in wrong:
                if matches(got, candidate, tol=1e-5):
                    raise AssertionError(f"{what}: {message}")
        check_array(what, got, expected, rtol=1e-5, atol=1e-7,
                    hint="compared with finite differences of f(a) = 1.7159 tanh(2a/3)")

    parts = Parts()
    with parts("the slope f'(a) from y (dy = 1)"):
        a = np.linspace(-4, 4, 17)[None, :]
        case(a, np.ones_like(a))
        case(np.array([[0.0, 1.0, -1.0, 3.0]]), np.ones((1, 4)))
    with parts("times dy, on batches of any shape", weight=2):
        for shape in ((3, 84), (1, 1), (2, 3, 4), (5,)):
            case(gen.uniform(-3, 3, shape), gen.standard_normal(shape))
    parts.verdict()
