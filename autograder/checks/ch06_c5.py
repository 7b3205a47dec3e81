"""Hidden checks of chapter 6: C5 counted, C5 as a dense layer, map sizes on larger fields, and
C5 replicated over a larger field as one matrix product (its windows, then the product)."""
from __future__ import annotations

import numpy as np

from lenet5.testing import check_array, check_int

from .common import Parts, matches, rng, slip

A, S = 1.7159, 2.0 / 3.0


def check_counts(c5_params, c5_connections) -> None:
    """c5_params = 48,120 and c5_connections = 48,120, with the usual slips named (a part
    each)."""
    parts = Parts()
    with parts("c5_params"):
        _check_c5_params(c5_params)
    with parts("c5_connections"):
        _check_c5_connections(c5_connections)
    parts.verdict()


def _check_c5_params(c5_params) -> None:
    check_int("c5_params", c5_params, 120 * (16 * 25 + 1), hint={
        120 * 16 * 25: "Each of the 120 units also has one bias",
        120 * (25 + 1): "A C5 unit reads a 5x5 window on every one of the 16 S4 maps, "
                        "not on one map only",
        (16 * 4 * 4) * 120 + 120: "30,840 is the Keras layer of the blog post this project grew "
                                  "from (a dense layer on a 4x4x16 flatten of a 28x28 input), "
                                  "not the paper's C5",
    }.get(int(c5_params) if isinstance(c5_params, (int, np.integer)) else None,
          "Count per unit: one weight per input it reads, on every S4 map, plus one bias"))


def _check_c5_connections(c5_connections) -> None:
    check_int("c5_connections", c5_connections, 120 * (16 * 25 + 1) * 1 * 1, hint={
        120 * 16 * 25: "Count the bias connection of each unit too",
        120 * (16 * 25 + 1) * 25: "The C5 maps are 1x1: every weight is used at one position "
                                  "only, so connections = parameters",
    }.get(int(c5_connections) if isinstance(c5_connections, (int, np.integer)) else None,
          "A C5 map is 1x1, so each weight serves exactly one connection"))




def check_conv_layer_counts(conv_layer_counts) -> None:
    """conv_layer_counts(maps, in_side, kernel, in_maps) on other layers, slips named: a part
    for the parameters, one for the connections."""
    cases = [(6, 32, 5, 1), (120, 5, 5, 16), (1, 3, 2, 1), (16, 14, 5, 6), (120, 13, 5, 16),
             (8, 20, 3, 4), (3, 7, 7, 2), (10, 9, 1, 5)]
    results = []
    for maps, side, kernel, in_maps in cases:
        what = f"conv_layer_counts({maps}, {side}, {kernel}, {in_maps})"
        try:
            got = conv_layer_counts(maps, side, kernel, in_maps)
        except Exception as error:  # noqa: BLE001 - reported to the student
            raise AssertionError(f"{what} raised {type(error).__name__}: {error}") from None
        if not (isinstance(got, tuple) and len(got) == 2):
            raise AssertionError(f"{what}: expected a tuple (params, connections), got "
                                 f"{type(got).__name__}")
        for name, value in zip(("params", "connections"), got):
            if isinstance(value, (float, np.floating)):
                raise AssertionError(f"{what}: the {name} count is the float {value!r}: "
                                     f"counts are integers")
        results.append((maps, side, kernel, in_maps, what, got))
    parts = Parts()
    with parts("parameters"):
        for maps, side, kernel, in_maps, what, got in results:
            weights = in_maps * kernel * kernel
            params = maps * (weights + 1)
            check_int(f"{what}[0] (trainable parameters)", got[0], params, hint=slip(
                got[0], params, [
                    (maps * weights, "Each map also has one bias"),
                    (maps * (kernel * kernel + 1), "A unit reads a kernel x kernel window on "
                                                   "every one of the in_maps input maps: "
                                                   "in_maps * kernel * kernel weights per map"),
                    (maps * (weights + 1) * (side - kernel + 1) ** 2,
                     "Parameters are shared by all the units of a map: count them once per "
                     "map"),
                ], "Per map: in_maps * kernel * kernel weights and one bias"))
    with parts("connections"):
        for maps, side, kernel, in_maps, what, got in results:
            out = side - kernel + 1
            weights = in_maps * kernel * kernel
            connections = maps * (weights + 1) * out * out
            check_int(f"{what}[1] (connections)", got[1], connections, hint=slip(
                got[1], connections, [
                    (maps * weights * out * out, "Count the bias connection of each unit too"),
                    (maps * (weights + 1) * side * side, f"A valid convolution has in_side - "
                                                         f"kernel + 1 = {out} positions per "
                                                         f"side, not in_side"),
                    (maps * (weights + 1) * (side - kernel) ** 2, f"A valid convolution has "
                                                                  f"in_side - kernel + 1 = "
                                                                  f"{out} positions per side"),
                    (maps * (weights + 1), "Each weight is used at every position of the map: "
                                           "connections = parameters x (positions per map)"),
                ], "Per unit: its weights and its bias; per map: (in_side - kernel + 1)^2 "
                   "units"))
    parts.verdict()


def _reference_c5(x, w, b):
    # The convolution evaluated at its only position, written as an explicit sum.
    return np.einsum("nchw,fchw->nf", x, w) + b


def _misconceptions(x, w, b):
    n = len(x)
    return [
        (x.reshape(n, -1) @ w.reshape(-1, 120) + b,
         "a transposed reshape: w.reshape(400, 120) is not the transpose of "
         "w.reshape(120, 400); reshape w to (120, 400) and then transpose it (.T)"),
        (x.transpose(0, 2, 3, 1).reshape(n, -1) @ w.reshape(120, -1).T + b,
         "x and w are flattened in different orders (x channels-last, w channels-first): "
         "flatten both in the same (map, row, column) order, e.g. x.reshape(N, -1) and "
         "w.reshape(120, -1)"),
        (x.reshape(n, -1) @ w.transpose(0, 2, 3, 1).reshape(120, -1).T + b,
         "x and w are flattened in different orders (w channels-last, x channels-first): "
         "flatten both in the same (map, row, column) order"),
        (x.transpose(0, 1, 3, 2).reshape(n, -1) @ w.reshape(120, -1).T + b,
         "rows and columns are swapped between x and w: flatten both the same way"),
        (np.einsum("nchw,fchw->nf", x, w[:, :, ::-1, ::-1]) + b,
         "the kernel is flipped (rotated 180 degrees): the book's convolutions slide the "
         "kernel without flipping it, like conv_forward in this chapter"),
        (_reference_c5(x, w, b) - b,
         "the bias b is missing"),
        (A * np.tanh(S * _reference_c5(x, w, b)),
         "c5_as_dense returns the weighted sum plus bias; the squashing function is applied "
         "afterwards, as for conv_forward"),
    ]


def check_c5_as_dense(c5_as_dense) -> None:
    """c5_as_dense(x, w, b): random batches, equality with a convolution, flattening order."""
    gen = rng()
    for n in (1, 2, 7, int(gen.integers(3, 40))):
        x = gen.standard_normal((n, 16, 5, 5))
        w = gen.standard_normal((120, 16, 5, 5)) / 20
        b = gen.standard_normal(120)
        copies = x.copy(), w.copy(), b.copy()
        what = f"c5_as_dense on a batch of {n}"
        got = c5_as_dense(x, w, b)
        if not all(np.array_equal(a, c) for a, c in zip((x, w, b), copies)):
            raise AssertionError(f"{what}: your function changed one of its arguments")
        expected = _reference_c5(x, w, b)
        if type(got) is np.ndarray and got.shape == (n, 120, 1, 1):
            raise AssertionError(f"{what}: expected shape {expected.shape}, got {got.shape}: "
                                 f"return the 1x1 maps as a (N, 120) matrix")
        if type(got) is np.ndarray and got.shape == (120, n) and n != 120:
            raise AssertionError(f"{what}: expected shape {expected.shape}, got {got.shape}: "
                                 f"keep the batch first, (N, 120)")
        if type(got) is np.ndarray and got.shape == expected.shape and \
                not matches(got, expected):
            for wrong, message in _misconceptions(x, w, b):
                if matches(got, wrong):
                    raise AssertionError(f"{what}: {message}")
        check_array(what, got, expected,
                    hint="Each output must equal the valid convolution of the 16 5x5 maps "
                         "with that unit's 16 5x5 kernels, plus its bias")


def _reference_sizes(n):
    # Closed form of the stack: C1 n-4, S2 (n-4)/2, C3 (n-12)/2, S4 (n-12)/4, C5 (n-28)/4.
    if n % 4 or n < 32:
        return None
    return {"input": n, "C1": n - 4, "S2": (n - 4) // 2, "C3": (n - 12) // 2,
            "S4": (n - 12) // 4, "C5": (n - 28) // 4}


def _why_invalid(n):
    side = n
    for name, conv in (("C1", True), ("S2", False), ("C3", True), ("S4", False), ("C5", True)):
        if conv:
            if side < 5:
                return f"{name} would not fit: its input is {side}x{side}, smaller than 5x5"
            side -= 4
        else:
            if side % 2:
                return (f"{name} would subsample a {side}x{side} map, which cannot be cut "
                        f"into 2x2 blocks")
            side //= 2
    return ""


def check_lenet_map_sizes(lenet_map_sizes) -> None:
    """lenet_map_sizes(n): several valid sides (2 parts of 3), invalid ones raising ValueError
    (1), the usual slips named."""
    gen = rng()
    parts = Parts()
    with parts("valid sides", weight=2):
        valid = [32, 36, 40, 64, 100, 4 * int(gen.integers(9, 300))]
        for n in valid:
            expected = _reference_sizes(n)
            what = f"lenet_map_sizes({n})"
            try:
                got = lenet_map_sizes(n)
            except Exception as error:  # noqa: BLE001 - reported to the student
                raise AssertionError(f"{what} raised {type(error).__name__}: {error}; but a "
                                     f"{n}x{n} input is valid (expected C5 side "
                                     f"{expected['C5']}). Check the rules: a valid 5x5 "
                                     f"convolution gives m - 5 + 1, a subsampling m // 2 (m even)") from None
            if not isinstance(got, dict):
                raise AssertionError(f"{what}: expected a dict, got {type(got).__name__}")
            if set(got) != set(expected):
                raise AssertionError(f"{what}: expected the keys {sorted(expected)}, got "
                                     f"{sorted(map(str, got))}")
            for layer in ("input", "C1", "S2", "C3", "S4", "C5"):
                value = got[layer]
                if isinstance(value, float) and value == expected[layer]:
                    raise AssertionError(f"{what}[{layer!r}] is the float {value}: map sides are "
                                         f"integers (use // for the subsampling)")
            if got["C1"] == n:
                raise AssertionError(f"{what}: C1 has the input's side {n}; LeNet-5's convolutions "
                                     f"are valid (unpadded), so a 5x5 kernel gives n - 5 + 1")
            if got["C1"] == n - 5:
                raise AssertionError(f"{what}: C1 is {n - 5}; a valid 5x5 convolution of an "
                                     f"n x n map gives n - 5 + 1 = {n - 4} positions")
            for layer in ("input", "C1", "S2", "C3", "S4", "C5"):
                check_int(f"{what}[{layer!r}]", got[layer], expected[layer])
    with parts("ValueError for sides the network cannot take"):
        invalid = [28, 30, 31, 33, 34, 35, 38, 20, 12, 5, 1, 0]
        for n in invalid:
            reason = _why_invalid(n)
            try:
                got = lenet_map_sizes(n)
            except ValueError:
                continue
            except Exception as other:  # noqa: BLE001 - reported to the student
                raise AssertionError(f"lenet_map_sizes({n}): expected ValueError ({reason}), but "
                                     f"it raised {type(other).__name__}: {other}") from None
            extra = ""
            if n == 28:
                extra = (" (this is why the Keras model of the blog post this project grew from, on "
                         "28x28 inputs, has to flatten S4 instead of having a C5 convolution)")
            raise AssertionError(f"lenet_map_sizes({n}) returned {got!r}; expected ValueError: "
                                 f"{reason}{extra}")
    parts.verdict()


# ------------------------------------------------------------ C5 replicated: windows, product

def _reference_windows(x):
    """x (N, C, H, W) -> (N, H-4, W-4, C*25): the 5x5 window of every map at each position,
    flattened in (map, row, column) order."""
    n, c, h, w = x.shape
    out = np.empty((n, h - 4, w - 4, c * 25))
    for p in range(h - 4):
        for q in range(w - 4):
            out[:, p, q] = x[:, :, p:p + 5, q:q + 5].reshape(n, -1)
    return out


def _window_slips(x):
    """Wrong but plausible windows of x, with what each says about the reasoning."""
    v = np.lib.stride_tricks.sliding_window_view(x, (5, 5), axis=(2, 3))  # (N, C, P, Q, 5, 5)
    n, _, p, q = v.shape[:4]
    return [
        (v.transpose(0, 2, 3, 4, 5, 1).reshape(n, p, q, -1),
         "each window is flattened channels-last, (row, column, map); flatten it in the "
         "(map, row, column) order of c5_as_dense, the order of w.reshape(F, -1)"),
        (v.transpose(0, 2, 3, 1, 5, 4).reshape(n, p, q, -1),
         "rows and columns are swapped inside each window: flatten in (map, row, column) "
         "order"),
        (v.transpose(0, 3, 2, 1, 4, 5).reshape(n, q, p, -1),
         "the positions are transposed: windows[n, p, q] must be the window whose top-left "
         "corner is at row p, column q"),
        (v.reshape(n, p, q, -1),
         "you reshaped the (N, C, P, Q, 5, 5) windows straight to (N, P, Q, C*25): move the "
         "map axis next to the window's rows and columns first (e.g. with transpose), or the "
         "values are scrambled across positions"),
    ]


def _window_cases(gen):
    return [("16 maps of 5x5 (one position), N = 2", gen.standard_normal((2, 16, 5, 5))),
            ("16 maps of 9x9, N = 1", gen.standard_normal((1, 16, 9, 9))),
            ("16 maps of 6x8, N = 3", gen.standard_normal((3, 16, 6, 8))),
            ("3 maps of 7x5, N = 2", gen.standard_normal((2, 3, 7, 5)))]


def check_c5_windows(c5_windows) -> None:
    """c5_windows(x): (N, C, H, W) -> (N, H-4, W-4, C*25), windows flattened in (map, row,
    column) order. Parts: one position (1), larger fields (2), other numbers of maps (1)."""
    gen = rng()
    cases = _window_cases(gen)

    def one(description, x):
        what = f"c5_windows on {description}"
        before = x.copy()
        got = c5_windows(x)
        if not np.array_equal(x, before):
            raise AssertionError(f"{what}: your function changed its argument x")
        expected = _reference_windows(x)
        if type(got) is not np.ndarray:
            raise AssertionError(f"{what}: expected a NumPy array, got {type(got).__name__}")
        n, c, h, w = x.shape
        if got.shape == (n, c * 25, h - 4, w - 4) and got.shape != expected.shape:
            raise AssertionError(f"{what}: expected shape {expected.shape}, got {got.shape}: "
                                 f"the positions come before the window, (N, H - 4, W - 4, "
                                 f"C * 25), so that each window is one row of a matrix")
        if got.shape == (n, h - 5, w - 5, c * 25):
            raise AssertionError(f"{what}: expected shape {expected.shape}, got {got.shape}: a "
                                 f"5x5 window fits at H - 5 + 1 = {h - 4} positions per column")
        if got.shape == expected.shape and not matches(got, expected):
            for wrong, message in _window_slips(x):
                if wrong.shape == got.shape and matches(got, wrong):
                    raise AssertionError(f"{what}: {message}")
        check_array(what, got, expected,
                    hint="windows[n, p, q, c * 25 + u * 5 + v] = x[n, c, p + u, q + v]")

    parts = Parts()
    with parts("16 maps of 5x5: one window per image, in c5_as_dense's order"):
        one(*cases[0])
    with parts("larger fields: a window at every position", weight=2):
        one(*cases[1])
        one(*cases[2])
    with parts("another number of maps"):
        one(*cases[3])
    parts.verdict()


def check_c5_from_windows(c5_from_windows) -> None:
    """c5_from_windows(windows, w, b): (N, P, Q, C*25) -> (N, F, P, Q), one matrix product.
    The windows are the grader's own (from a reference c5_windows), so that a wrong
    c5_windows costs its points only once. Parts: one position (1), many positions (1)."""
    gen = rng()

    def one(what, x, f):
        windows = _reference_windows(x)
        c = x.shape[1]
        w = gen.standard_normal((f, c, 5, 5)) / 10
        b = gen.standard_normal(f)
        copies = windows.copy(), w.copy(), b.copy()
        got = c5_from_windows(windows, w, b)
        if not all(np.array_equal(a, k) for a, k in zip((windows, w, b), copies)):
            raise AssertionError(f"{what}: your function changed one of its arguments")
        n, p, q, _ = windows.shape
        expected = np.einsum("npqk,fk->nfpq", windows, w.reshape(f, -1)) + b[None, :, None, None]
        if type(got) is not np.ndarray:
            raise AssertionError(f"{what}: expected a NumPy array, got {type(got).__name__}")
        if got.shape == (n, p, q, f) and got.shape != expected.shape:
            raise AssertionError(f"{what}: expected shape {expected.shape}, got {got.shape}: "
                                 f"put the maps first, (N, F, P, Q), like conv_forward's "
                                 f"output (transpose the result of the product)")
        if got.shape == expected.shape and not matches(got, expected):
            flat = windows.reshape(n * p * q, -1)
            slips = [
                ((flat @ w.reshape(-1, f) + b).reshape(n, p, q, f).transpose(0, 3, 1, 2),
                 "a transposed reshape: w.reshape(C * 25, F) is not the transpose of "
                 "w.reshape(F, C * 25); reshape w to (F, C * 25), then transpose it (.T)"),
                (expected - b[None, :, None, None], "the bias b is missing"),
                (A * np.tanh(S * expected), "return the weighted sums plus biases; the "
                                            "squashing function comes afterwards"),
                ((flat @ w.reshape(f, -1).T + b).reshape(n, f, p, q),
                 "you reshaped the (N * P * Q, F) product straight to (N, F, P, Q): that "
                 "scrambles maps and positions; reshape to (N, P, Q, F), then move the map "
                 "axis (transpose)"),
            ]
            for wrong, message in slips:
                if matches(got, wrong):
                    raise AssertionError(f"{what}: {message}")
        check_array(what, got, expected,
                    hint="out[n, j, p, q] = b[j] + (windows[n, p, q] . w[j].reshape(-1))")

    parts = Parts()
    with parts("one position (the 32x32 case)"):
        one("c5_from_windows on the windows of 16 maps of 5x5 (N = 3), F = 120",
            gen.standard_normal((3, 16, 5, 5)), 120)
    with parts("many positions"):
        one("c5_from_windows on the windows of 16 maps of 9x7 (N = 2), F = 120",
            gen.standard_normal((2, 16, 9, 7)), 120)
        one("c5_from_windows on the windows of 4 maps of 6x6 (N = 1), F = 7",
            gen.standard_normal((1, 4, 6, 6)), 7)
    parts.verdict()
