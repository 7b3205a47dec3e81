"""Hidden checks of chapter 5: S4 counted, receptive fields through the layer stack."""
from __future__ import annotations

import numpy as np

from lenet5.testing import check_int

LAYERS = ("C1", "S2", "C3", "S4", "C5")
LENET5 = [("C1", 5, 1), ("S2", 2, 2), ("C3", 5, 1), ("S4", 2, 2), ("C5", 5, 1)]


def check_counts(s4_params, s4_connections) -> None:
    """s4_params = 32 and s4_connections = 2,000, with the usual slips named."""
    def hint(value, known, default):
        return known.get(int(value), default) if isinstance(value, (int, np.integer)) else default
    check_int("s4_params", s4_params, 16 * 2, hint=hint(s4_params, {
        16: "Each of the 16 maps has two parameters: one coefficient and one bias",
        16 * 4 + 16: "The four inputs of a 2x2 block share one coefficient: they are added "
                     "first, then multiplied (this is not a 2x2 convolution)",
        0: "Unlike average or max pooling, LeNet-5's subsampling is trainable",
    }, "Count the parameters of one S4 map, then multiply by the number of maps"))
    check_int("s4_connections", s4_connections, 5 * 5 * 16 * (4 + 1), hint=hint(
        s4_connections, {
            5 * 5 * 16 * 4: "Count the bias connection of each unit too (4 inputs + 1 bias)",
            5 * 5 * 16 * 2: "Count connections, not parameters: each unit has 4 inputs and a "
                            "bias",
            10 * 10 * 16 * (4 + 1): "An S4 map is 5x5: count its units, not those of C3",
        }, "Each S4 unit: 4 inputs + 1 bias, times the number of units"))


def _reference(stack, layer):
    # rf = 1 + sum over layers up to `layer` of (k - 1) * (product of the earlier strides).
    growth, product = [], 1
    for name, k, s in stack:
        growth.append((k - 1) * product)
        product *= s
        if name == layer:
            return 1 + sum(growth)
    raise KeyError(layer)


def _call(receptive_field, layer, context=""):
    try:
        return receptive_field(layer)
    except Exception as error:  # noqa: BLE001 - reported to the student
        raise AssertionError(f"receptive_field({layer!r}){context} raised "
                             f"{type(error).__name__}: {error}") from None


SLIPS = [
    ([5, 6, 10, 11, 15], "you added each layer's growth (k - 1) in units of its own input, "
                         "forgetting the subsampling strides: after S2 one step is 2 input "
                         "pixels, after S4 it is 4, so a layer widens the field by "
                         "(k - 1) x (product of the earlier strides)"),
    ([5, 7, 12, 14, 19], "you added the kernel sizes: a k-wide window widens the field by "
                         "k - 1 (neighbouring units overlap), and the strides of the "
                         "subsamplings must multiply that growth"),
    ([5, 7, 15, 19, 35], "you multiplied each growth by the strides including the layer's "
                         "own; use the product of the strides of the layers *before* it"),
]


def check_receptive_field(receptive_field) -> None:
    """receptive_field(layer): all five layers, unknown names, the stride slip, the rule."""
    got = [_call(receptive_field, layer) for layer in LAYERS]
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in got):
        for values, message in SLIPS:
            if [int(v) for v in got] == values:
                raise AssertionError(f"receptive_field gave {dict(zip(LAYERS, got))}: "
                                     f"{message}")
    for layer, value in zip(LAYERS, got):
        check_int(f"receptive_field({layer!r})", value, _reference(LENET5, layer),
                  hint="The field grows by (k - 1) x (product of the strides before the layer)")

    for bad in ("C6", "F7", "S3", "conv", "", "c9"):
        try:
            value = receptive_field(bad)
        except (ValueError, KeyError):
            continue
        except Exception as error:  # noqa: BLE001 - reported to the student
            raise AssertionError(f"receptive_field({bad!r}): expected ValueError for a layer "
                                 f"that is not in the stack, but it raised "
                                 f"{type(error).__name__}: {error}") from None
        raise AssertionError(f"receptive_field({bad!r}) returned {value!r}; expected "
                             f"ValueError: there is no layer of that name in the stack")

    namespace = getattr(receptive_field, "__globals__", {})
    if "LENET5_STACK" not in namespace:
        raise AssertionError("receptive_field must follow the layer stack LENET5_STACK "
                             "defined above the exercise, but LENET5_STACK is not defined "
                             "where receptive_field was written")
    saved = namespace["LENET5_STACK"]
    others = [
        [("C1", 3, 1), ("S2", 2, 2), ("C3", 3, 1), ("S4", 2, 2), ("C5", 3, 1)],
        [("C1", 5, 1), ("S2", 3, 3), ("C3", 5, 1), ("S4", 2, 2), ("C5", 4, 1)],
        [("C1", 7, 2), ("S2", 2, 2), ("C3", 5, 1), ("S4", 2, 2), ("C5", 5, 1)],
    ]
    try:
        for stack in others:
            namespace["LENET5_STACK"] = list(stack)
            for layer in LAYERS:
                value = _call(receptive_field, layer, f" with LENET5_STACK = {stack}")
                expected = _reference(stack, layer)
                if isinstance(value, (int, np.integer)) and value == _reference(LENET5, layer) \
                        and value != expected:
                    raise AssertionError(
                        f"with LENET5_STACK = {stack}, receptive_field({layer!r}) still "
                        f"returned LeNet-5's {value}: compute it from the stack (the kernel "
                        f"sizes and strides it lists), not from numbers of your own. Read "
                        f"LENET5_STACK inside the function, at each call (a default argument "
                        f"is fixed once, when the function is defined)")
                check_int(f"receptive_field({layer!r}) with LENET5_STACK = {stack}", value,
                          expected, hint="The field grows by (k - 1) x (product of the strides "
                                         "before the layer)")
    finally:
        namespace["LENET5_STACK"] = saved
