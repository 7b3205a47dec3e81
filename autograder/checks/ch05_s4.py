"""Hidden checks of chapter 5: S4 counted, receptive fields through a stack of windows, and
receptive fields measured by back-propagating a probe through the trained network.

The student's functions arrive as proxies (``autograder.judge``): they are only called, with
plain data, and their results compared here.
"""
from __future__ import annotations

import numpy as np

from lenet5.testing import check_int

from .common import Parts, is_int, rng, slip

LAYERS = ("C1", "S2", "C3", "S4", "C5")
LENET5 = [("C1", 5, 1), ("S2", 2, 2), ("C3", 5, 1), ("S4", 2, 2), ("C5", 5, 1)]



# ------------------------------------------------------------------------------ counting

def _subsampling(maps, in_side, block=2):
    out = in_side // block
    return maps * 2, maps * out * out * (block * block + 1)


def check_s4_counts(s4_params, s4_connections) -> None:
    """s4_params and s4_connections against the paper, with the usual slips named."""
    params, connections = _subsampling(16, 10)

    def hint(value, known, default):
        return known.get(int(value), default) if is_int(value) else default

    parts = Parts()
    with parts("s4_params"):
        check_int("s4_params", s4_params, params, hint=hint(s4_params, {
        16: "Each of the 16 maps has two parameters: one coefficient and one bias",
        16 * 4 + 16: "The four inputs of a 2x2 block share one coefficient: they are added "
                     "first, then multiplied (this is not a 2x2 convolution)",
        0: "Unlike average or max pooling, LeNet-5's subsampling is trainable",
    }, "Count the parameters of one S4 map, then multiply by the number of maps"))
    with parts("s4_connections"):
        check_int("s4_connections", s4_connections, connections, hint=hint(s4_connections, {
        5 * 5 * 16 * 4: "Count the bias connection of each unit too (4 inputs + 1 bias)",
        5 * 5 * 16 * 2: "Count connections, not parameters: each unit has 4 inputs and a bias",
        10 * 10 * 16 * (4 + 1): "An S4 map is 5x5: count its units, not those of C3",
        10 * 10 * 16: "Count S4's units (5x5 per map, not C3's 10x10), each with 4 inputs "
                      "and 1 bias",
    }, "Each S4 unit: 4 inputs + 1 bias, times the number of units"))
    parts.verdict()


def check_subsampling_counts(subsampling_counts) -> None:
    """subsampling_counts(maps, in_side, block=2) on layers of other sizes, slips named: one
    part for the parameters, one for the connections."""
    cases = [(6, 28, 2), (16, 10, 2), (1, 2, 2), (3, 8, 2), (10, 100, 2), (4, 9, 3),
             (7, 12, 4), (2, 6, 3)]
    results = []
    for maps, side, block in cases:
        what = (f"subsampling_counts({maps}, {side})" if block == 2 else
                f"subsampling_counts({maps}, {side}, block={block})")
        try:
            got = (subsampling_counts(maps, side) if block == 2 else
                   subsampling_counts(maps, side, block=block))
        except Exception as error:  # noqa: BLE001 - reported to the student
            raise AssertionError(f"{what} raised {type(error).__name__}: {error}") from None
        if not (isinstance(got, tuple) and len(got) == 2):
            raise AssertionError(f"{what}: expected a tuple (params, connections), got "
                                 f"{type(got).__name__}")
        for name, value in zip(("params", "connections"), got):
            if isinstance(value, (float, np.floating)):
                raise AssertionError(f"{what}: the {name} count is the float {value!r}: counts "
                                     f"are integers (use // to divide sides)")
        results.append((maps, side, block, what, got))
    parts = Parts()
    with parts("parameters"):
        for maps, side, block, what, got in results:
            params = _subsampling(maps, side, block)[0]
            check_int(f"{what}[0] (trainable parameters)", got[0], params, hint=slip(
                got[0], params, [
                (maps * (block * block + 1), "One coefficient per map multiplies the *sum* of "
                                             "the block: a map has 2 parameters (its "
                                             "coefficient and its bias), not one weight per "
                                             "input"),
                (maps, "Each map has a coefficient and a bias: 2 parameters"),
            ], "One coefficient and one bias per map"))
    with parts("connections"):
        for maps, side, block, what, got in results:
            connections = _subsampling(maps, side, block)[1]
            out = side // block
            check_int(f"{what}[1] (connections)", got[1], connections, hint=slip(
                got[1], connections, [
                (maps * out * out * block * block, f"Count the bias connection of each unit "
                                                   f"too ({block} x {block} inputs + 1 bias)"),
                (maps * side * side * (block * block + 1), f"Count the units of the layer's "
                                                           f"output ({out} x {out} per map), "
                                                           f"not those of its input"),
                (maps * out * out * (4 + 1), "A unit reads block x block inputs: use `block`, "
                                             "not 2"),
                (2 * maps, "Count connections, not parameters: every unit has its own inputs "
                           "and bias connection"),
            ], f"Each output unit ({out} x {out} per map) has block * block inputs and one bias "
               f"connection"))
    parts.verdict()



# ------------------------------------------------------------------------ receptive fields

def _field_and_jump(stack):
    result, field, jump = {}, 1, 1
    for name, k, s in stack:
        field += (k - 1) * jump
        jump *= s
        result[name] = (field, jump)
    return result


def _forgets_jump(stack):
    result, field, jump = {}, 1, 1
    for name, k, s in stack:
        field += k - 1
        jump *= s
        result[name] = (field, jump)
    return result


def _adds_kernels(stack):
    result, field, jump = {}, 0, 1
    for name, k, s in stack:
        field += k
        jump *= s
        result[name] = (field, jump)
    return result


def _own_stride(stack):
    result, field, jump = {}, 1, 1
    for name, k, s in stack:
        jump *= s
        field += (k - 1) * jump
        result[name] = (field, jump)
    return result


def _k_times_jump(stack):
    result, field, jump = {}, 0, 1
    for name, k, s in stack:
        field += k * jump
        jump *= s
        result[name] = (field, jump)
    return result


SLIPS = [
    (_forgets_jump, "you added each layer's growth (k - 1) in units of its own input, "
                    "forgetting the strides below it: after a stride-2 subsampling one step is "
                    "2 input pixels, after two of them 4, so a layer widens the field by "
                    "(k - 1) x (the jump of its input)"),
    (_adds_kernels, "you added the window sides: a k-wide window widens the field by k - 1 "
                    "(neighbouring positions overlap), and that growth is counted in steps "
                    "of the jump of the layer's input"),
    (_own_stride, "you multiplied each growth by the strides including the layer's own; use "
                  "the jump of the layer's *input* (the product of the strides below it), "
                  "then update the jump"),
    (_k_times_jump, "a k-wide window widens the field by k - 1 steps, not k: start from a "
                    "field of 1 pixel (the input) and add (k - 1) x jump per layer"),
]

OTHER_STACKS = [
    [("C1", 3, 1), ("S2", 2, 2), ("C3", 3, 1), ("S4", 2, 2), ("C5", 3, 1)],
    [("conv", 5, 1), ("pool", 3, 3), ("conv2", 5, 1), ("pool2", 2, 2), ("conv3", 4, 1)],
    [("a", 7, 2), ("b", 2, 2), ("c", 5, 1), ("d", 2, 2), ("e", 5, 1), ("f", 1, 1)],
    [("only", 9, 4)],
    [("x1", 3, 1), ("x2", 3, 1), ("x3", 3, 1), ("x4", 2, 2), ("x5", 3, 1), ("x6", 3, 2),
     ("x7", 3, 1)],
]


def _call(function, *args, what):
    try:
        return function(*args)
    except Exception as error:  # noqa: BLE001 - reported to the student
        raise AssertionError(f"{what} raised {type(error).__name__}: {error}") from None


def check_receptive_field(receptive_field) -> None:
    """receptive_field(layer): all five layers of LeNet-5 (3 parts of 4), unknown names (1),
    the usual slips named."""
    parts = Parts()
    with parts("the fields of C1 ... C5", weight=3):
        got = [_call(receptive_field, layer, what=f"receptive_field({layer!r})")
               for layer in LAYERS]
        for layer, value in zip(LAYERS, got):
            if not is_int(value):
                raise AssertionError(f"receptive_field({layer!r}): expected an int, got "
                                     f"{type(value).__name__}")
        got = [int(v) for v in got]
        for slipped, message in SLIPS:
            if got == [slipped(LENET5)[layer][0] for layer in LAYERS]:
                raise AssertionError(f"receptive_field gave {dict(zip(LAYERS, got))}: {message}")
        expected = _field_and_jump(LENET5)
        for layer, value in zip(LAYERS, got):
            check_int(f"receptive_field({layer!r})", value, expected[layer][0],
                      hint="The field grows by (k - 1) x (the jump of the layer's input) per "
                           "layer")
    with parts("ValueError for a name that is not in the stack"):
        for bad in ("C6", "F7", "S3", "conv", "", "c1"):
            try:
                value = receptive_field(bad)
            except (ValueError, KeyError):
                continue
            except Exception as error:  # noqa: BLE001 - reported to the student
                raise AssertionError(f"receptive_field({bad!r}): expected ValueError for a "
                                     f"layer that is not in the stack, but it raised "
                                     f"{type(error).__name__}: {error}") from None
            raise AssertionError(f"receptive_field({bad!r}) returned {value!r}; expected "
                                 f"ValueError: there is no layer of that name in LENET5_STACK")
    parts.verdict()


def check_field_and_jump(field_and_jump) -> None:
    """field_and_jump(stack) on LeNet-5's stack and on other architectures, slips named: one
    part for the receptive fields, one for the jumps."""
    results = []
    for stack in [LENET5] + OTHER_STACKS:
        what = f"field_and_jump({stack})"
        got = _call(field_and_jump, [tuple(layer) for layer in stack], what=what)
        if not isinstance(got, dict):
            raise AssertionError(f"{what}: expected a dict, got {type(got).__name__}")
        names = [name for name, _, _ in stack]
        if sorted(map(str, got)) != sorted(names):
            if sorted(map(str, got)) == sorted(LAYERS):
                raise AssertionError(f"{what} returned LeNet-5's layers {list(LAYERS)}: compute "
                                     f"the fields from the stack it is given (its names, window "
                                     f"sides and strides), not from LENET5_STACK or numbers of "
                                     f"your own")
            raise AssertionError(f"{what}: expected one entry per layer, the keys {names}; "
                                 f"got {sorted(map(str, got))}")
        for name in names:
            value = got[name]
            if not (isinstance(value, tuple) and len(value) == 2):
                raise AssertionError(f"{what}[{name!r}]: expected a tuple (field, jump), got "
                                     f"{type(value).__name__}")
            if not all(is_int(v) for v in value):
                raise AssertionError(f"{what}[{name!r}]: expected two ints, got "
                                     f"({type(value[0]).__name__}, {type(value[1]).__name__})")
        results.append((stack, what, names, got))
    parts = Parts()
    with parts("receptive fields"):
        for stack, what, names, got in results:
            fields = {name: int(got[name][0]) for name in names}
            expected = _field_and_jump(stack)
            if fields != {name: expected[name][0] for name in names}:
                if stack is not LENET5 and fields == {n: v[0] for n, v in
                                                      _field_and_jump(LENET5).items()}:
                    raise AssertionError(f"{what} returned LeNet-5's receptive fields: compute "
                                         f"the fields from the stack it is given (its window sides "
                                         f"and strides), not from LENET5_STACK or numbers of "
                                         f"your own")
                for slipped, message in SLIPS:
                    if fields == {name: slipped(stack)[name][0] for name in names}:
                        raise AssertionError(f"{what} gave the fields {fields}: {message}")
            for name in names:
                check_int(f"{what}[{name!r}][0] (receptive field)", got[name][0],
                          expected[name][0], hint="The field grows by (k - 1) x (the jump of "
                                                  "the layer's input)")
    with parts("jumps"):
        for stack, what, names, got in results:
            expected = _field_and_jump(stack)
            for name in names:
                own = expected[name][1]
                below = own // dict((n, s) for n, _, s in stack)[name]
                check_int(f"{what}[{name!r}][1] (jump)", got[name][1], own,
                          hint=("That is the jump of the layer's input; the layer's own jump "
                                "includes its stride" if int(got[name][1]) == below else
                                "The jump of a layer is the product of the strides of the "
                                "layers up to and including it"))
    parts.verdict()


# --------------------------------------------------------------- measured receptive fields

def _forward_backward(x, p, layer, unit, table=True):
    """The reference: d(output of ``unit`` of ``layer``)/dx for one image x (1, 1, H, W)."""
    from reference import layers as L

    mask = L.C3_TABLE if table else np.ones_like(L.C3_TABLE)
    steps = [
        ("C1", lambda v: L.conv_forward(v, p["C1_w"], p["C1_b"]), L.conv_backward),
        ("S2", lambda v: L.subsample_forward(v, p["S2_coeff"], p["S2_bias"]),
         L.subsample_backward),
        ("C3", lambda v: L.sparse_conv_forward(v, p["C3_w"], p["C3_b"], mask),
         L.sparse_conv_backward),
        ("S4", lambda v: L.subsample_forward(v, p["S4_coeff"], p["S4_bias"]),
         L.subsample_backward),
        ("C5", lambda v: L.conv_forward(v, p["C5_w"], p["C5_b"]), L.conv_backward),
    ]
    out, caches, pre = x, [], None
    for name, forward, backward in steps[:LAYERS.index(layer) + 1]:
        pre, cache = forward(out)
        out, squash_cache = L.squash_forward(pre)
        caches.append((backward, cache, squash_cache))
    dout = np.zeros_like(out)
    dout[(0,) + tuple(unit)] = 1.0
    for backward, cache, squash_cache in reversed(caches):
        dout = backward(L.squash_backward(dout, squash_cache), cache)[0]
    return dout[0, 0], pre[(0,) + tuple(unit)]


def _close(got, expected) -> bool:
    scale = np.abs(expected).max()
    return bool(got.shape == expected.shape and
                np.all(np.abs(got - expected) <= 1e-6 * scale + 1e-6 * np.abs(expected)))


def _cases():
    from lenet5 import data
    from reference.model import to_input

    gen = rng()
    trained = {k: v.astype(np.float64) for k, v in data.load_weights().items()}
    blank = np.full((1, 1, 32, 32), -0.1)
    images, _ = data.load_mnist("test")
    digit = to_input(images[:1], dtype=np.float64)
    # Other weights than the trained ones: nonzero off Table I too, and nonzero biases.
    shapes = {k: v.shape for k, v in trained.items()}
    scale = {"C1_w": 0.3, "C3_w": 0.08, "C5_w": 0.06, "S2_coeff": 0.5, "S4_coeff": 0.5}
    other = {k: gen.standard_normal(s) * scale.get(k, 0.2) for k, s in shapes.items()}
    noisy = gen.uniform(-0.1, 1.175, size=(1, 1, 32, 32))
    wide = gen.uniform(-0.1, 1.175, size=(1, 1, 40, 40))
    return [
        ("the trained weights on an empty field", trained, blank,
         [("C1", (0, 3, 4)), ("S2", (2, 5, 7)), ("C3", (5, 3, 4)), ("S4", (9, 2, 1)),
          ("C5", (7, 0, 0))]),
        ("the trained weights on test image #0", trained, digit,
         [("C1", (5, 23, 0)), ("S2", (1, 13, 0)), ("C3", (15, 9, 9)), ("S4", (0, 4, 4)),
          ("C5", (119, 0, 0))]),
        ("other weights (nonzero off Table I) on a random input", other, noisy,
         [("C1", (3, 27, 27)), ("S2", (4, 0, 13)), ("C3", (2, 6, 1)), ("S4", (12, 1, 3)),
          ("C5", (50, 0, 0))]),
        ("other weights on a 40x40 input", other, wide,
         [("C3", (8, 13, 2)), ("S4", (3, 6, 0)), ("C5", (3, 1, 2))]),
    ]


def _diagnose(what, got, expected, pre, x, params, layer, unit) -> None:
    """Raise with the likely misconception when ``got`` is one of the usual wrong answers."""
    f_prime = 1.7159 * (2.0 / 3.0) * (1.0 - np.tanh(2.0 / 3.0 * pre) ** 2)
    if _close(got, expected / f_prime):
        raise AssertionError(f"{what}: your derivatives are those of the unit's weighted sum "
                             f"a, not of its output f(a): the probe starts at the unit's "
                             f"output, so the first step back goes through squash_backward "
                             f"of the layer itself")
    if _close(got, -expected):
        raise AssertionError(f"{what}: every derivative has the wrong sign")
    m, r, c = unit
    if r != c and got.shape == expected.shape:
        swapped, _ = _forward_backward(x, params, layer, (m, c, r))
        if _close(got, swapped):
            raise AssertionError(f"{what}: you probed unit (map {m}, row {c}, column {r}): "
                                 f"the unit is (map, row, column), and dout[0, map, row, "
                                 f"column] is where the 1 goes")
    if layer in ("C3", "S4", "C5"):
        untabled, _ = _forward_backward(x, params, layer, unit, table=False)
        if not _close(untabled, expected) and _close(got, untabled):
            raise AssertionError(f"{what}: your C3 uses every S2 map; LeNet-5's C3 reads only "
                                 f"the maps Table I connects (sparse_conv_forward with "
                                 f"C3_TABLE, and sparse_conv_backward on the way back). With "
                                 f"the trained weights you cannot tell (they are 0 off the "
                                 f"table), with other weights you can")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = got / np.where(expected == 0, np.nan, expected)
    finite = ratio[np.isfinite(ratio)]
    if finite.size and np.all(np.abs(got[expected == 0]) == 0) and \
            np.allclose(finite, finite[0], rtol=1e-6) and not np.isclose(finite[0], 1.0):
        raise AssertionError(f"{what}: your derivatives are {finite[0]:.6g} times the right "
                             f"ones: is the probe (dout) exactly 1 at the unit and 0 "
                             f"elsewhere, and does every layer go back through "
                             f"squash_backward once?")


def check_unit_input_gradient(unit_input_gradient) -> None:
    """unit_input_gradient(x, params, layer, unit) against back-propagation by the reference
    layers: trained and other weights, a larger input; slips named. Four parts: units of C1
    and S2, of C3, of S4 and C5, and ValueError for other layers."""
    cases = _cases()

    def one(description, params, x, layer, unit):
        what = (f"unit_input_gradient(x, params, {layer!r}, {unit}) with {description}")
        got = _call(unit_input_gradient, x, params, layer, unit, what=what)
        expected, pre = _forward_backward(x, params, layer, unit)
        if type(got) is not np.ndarray:
            raise AssertionError(f"{what}: expected a NumPy array, got "
                                 f"{type(got).__name__}")
        if got.shape == x.shape:
            raise AssertionError(f"{what}: expected shape {expected.shape}, got "
                                 f"{got.shape}: return the map of the one image, dx[0, 0]")
        if got.shape != expected.shape:
            raise AssertionError(f"{what}: expected shape {expected.shape}, got "
                                 f"{got.shape}")
        if got.dtype == bool:
            raise AssertionError(f"{what}: you returned a mask (bool); return the "
                                 f"derivatives themselves (floats)")
        if not np.issubdtype(got.dtype, np.number):
            raise AssertionError(f"{what}: expected numbers, got dtype {got.dtype}")
        if _close(got, expected):
            return
        _diagnose(what, got, expected, pre, x, params, layer, unit)
        depends, got_depends = expected != 0, got != 0
        if not np.array_equal(depends, got_depends):
            extra = np.argwhere(got_depends & ~depends)
            missing = np.argwhere(depends & ~got_depends)
            where = (f"nonzero at pixel {tuple(int(i) for i in extra[0])}, outside the "
                     f"unit's receptive field" if len(extra) else
                     f"zero at pixel {tuple(int(i) for i in missing[0])}, inside the "
                     f"unit's receptive field")
            raise AssertionError(f"{what}: your derivative is {where}. Start from dout "
                                 f"= 1 at [0, map, row, column] of the layer's output and "
                                 f"go back through every layer from `layer` down to C1")
        bad = np.argwhere(~(np.abs(got - expected) <= 1e-6 * np.abs(expected).max()
                            + 1e-6 * np.abs(expected)))[0]
        raise AssertionError(f"{what}: wrong values, first at pixel "
                             f"{tuple(int(i) for i in bad)}: expected "
                             f"{expected[tuple(bad)]:.6g}, got {got[tuple(bad)]:.6g}. Go back "
                             f"through each layer with squash_backward, then the layer's "
                             f"own backward function (C3: sparse_conv_backward), from "
                             f"`layer` down to C1")

    parts = Parts()
    for group, layers in (("units of C1 and S2", ("C1", "S2")), ("units of C3", ("C3",)),
                          ("units of S4 and C5", ("S4", "C5"))):
        with parts(group):
            for description, params, x, units in cases:
                for layer, unit in units:
                    if layer in layers:
                        one(description, params, x, layer, unit)
    with parts("ValueError for a layer that is not C1 ... C5"):
        blank = np.full((1, 1, 32, 32), -0.1)
        trained = cases[0][1]
        for bad in ("F6", "C7", "input", "c3"):
            try:
                value = unit_input_gradient(blank, trained, bad, (0, 0, 0))
            except (ValueError, KeyError):
                continue
            except Exception as error:  # noqa: BLE001 - reported to the student
                raise AssertionError(f"unit_input_gradient(x, params, {bad!r}, (0, 0, 0)): "
                                     f"expected ValueError for a layer that is not C1 ... C5, but "
                                     f"it raised {type(error).__name__}: {error}") from None
            raise AssertionError(f"unit_input_gradient(x, params, {bad!r}, (0, 0, 0)) returned "
                                 f"{type(value).__name__}; expected ValueError: the layer must "
                                 f"be one of {list(LAYERS)}")
    parts.verdict()
