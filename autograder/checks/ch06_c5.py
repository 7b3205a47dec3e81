"""Hidden checks of chapter 6: C5 counted, C5 as a dense layer, map sizes on larger fields."""
from __future__ import annotations

import numpy as np

from lenet5.testing import check_array, check_int

from .common import matches, rng, slip

A, S = 1.7159, 2.0 / 3.0


def check_counts(c5_params, c5_connections) -> None:
    """c5_params = 48,120 and c5_connections = 48,120, with the usual slips named."""
    check_int("c5_params", c5_params, 120 * (16 * 25 + 1), hint={
        120 * 16 * 25: "Each of the 120 units also has one bias",
        120 * (25 + 1): "A C5 unit reads a 5x5 window on every one of the 16 S4 maps, "
                        "not on one map only",
        (16 * 4 * 4) * 120 + 120: "30,840 is the Keras layer of the blog post this project grew "
                                  "from (a dense layer on a 4x4x16 flatten of a 28x28 input), "
                                  "not the paper's C5",
    }.get(int(c5_params) if isinstance(c5_params, (int, np.integer)) else None,
          "Count per unit: one weight per input it reads, on every S4 map, plus one bias"))
    check_int("c5_connections", c5_connections, 120 * (16 * 25 + 1) * 1 * 1, hint={
        120 * 16 * 25: "Count the bias connection of each unit too",
        120 * (16 * 25 + 1) * 25: "The C5 maps are 1x1: every weight is used at one position "
                                  "only, so connections = parameters",
    }.get(int(c5_connections) if isinstance(c5_connections, (int, np.integer)) else None,
          "A C5 map is 1x1, so each weight serves exactly one connection"))




def check_conv_layer_counts(conv_layer_counts) -> None:
    """conv_layer_counts(maps, in_side, kernel, in_maps) on other layers, slips named."""
    cases = [(6, 32, 5, 1), (120, 5, 5, 16), (1, 3, 2, 1), (16, 14, 5, 6), (120, 13, 5, 16),
             (8, 20, 3, 4), (3, 7, 7, 2), (10, 9, 1, 5)]
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
        out = side - kernel + 1
        weights = in_maps * kernel * kernel
        params, connections = maps * (weights + 1), maps * (weights + 1) * out * out
        check_int(f"{what}[0] (trainable parameters)", got[0], params, hint=slip(
            got[0], params, [
                (maps * weights, "Each map also has one bias"),
                (maps * (kernel * kernel + 1), "A unit reads a kernel x kernel window on every "
                                               "one of the in_maps input maps: in_maps * "
                                               "kernel * kernel weights per map"),
                (maps * (weights + 1) * out * out, "Parameters are shared by all the units "
                                                   "of a map: count them once per map"),
            ], "Per map: in_maps * kernel * kernel weights and one bias"))
        check_int(f"{what}[1] (connections)", got[1], connections, hint=slip(
            got[1], connections, [
                (maps * weights * out * out, "Count the bias connection of each unit too"),
                (maps * (weights + 1) * side * side, f"A valid convolution has in_side - kernel "
                                                     f"+ 1 = {out} positions per side, not "
                                                     f"in_side"),
                (maps * (weights + 1) * (side - kernel) ** 2, f"A valid convolution has "
                                                              f"in_side - kernel + 1 = {out} "
                                                              f"positions per side"),
                (maps * (weights + 1), "Each weight is used at every position of the map: "
                                       "connections = parameters x (positions per map)"),
            ], "Per unit: its weights and its bias; per map: (in_side - kernel + 1)^2 units"))


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
    """lenet_map_sizes(n): several valid sides, invalid ones (ValueError), usual slips named."""
    gen = rng()
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
                                 f"convolution gives m - 5 + 1, a subsampling m / 2") from None
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
