"""Deliberately wrong submissions of chapter 5 (S4 and receptive fields), with their expected
grades; tests/test_grading.py grades them with the class. Hidden checks give partial credit per
part (S4's two counts; parameters and connections of subsampling_counts; fields and ValueError
of receptive_field; fields and jumps of field_and_jump; units of C1-S2, C3, S4-C5 and ValueError
of unit_input_gradient)."""

FORGETS_STRIDE = '''
def field_and_jump(stack):
    result, field, jump = {}, 1, 1
    for name, kernel, stride in stack:
        field += kernel - 1
        jump *= stride
        result[name] = (field, jump)
    return result


def receptive_field(layer):
    fields = field_and_jump(LENET5_STACK)
    if layer not in fields:
        raise ValueError(layer)
    return fields[layer][0]
'''

LOOKUP_TABLE = '''
def field_and_jump(stack):
    return {"C1": (5, 1), "S2": (6, 2), "C3": (14, 2), "S4": (16, 4), "C5": (32, 4)}


def receptive_field(layer):
    answers = {"C1": 5, "S2": 6, "C3": 14, "S4": 16, "C5": 32}
    if layer not in answers:
        raise ValueError(layer)
    return answers[layer]
'''

# Right fields, but a name that is not in the stack gives None instead of ValueError.
NO_VALUE_ERROR = FORGETS_STRIDE.replace("field += kernel - 1", "field += (kernel - 1) * jump") \
    .replace("        raise ValueError(layer)", "        return None")

NO_BIAS_CONNECTION = '''
def subsampling_counts(maps, in_side, block=2):
    out_side = in_side // block
    return maps * 2, maps * out_side * out_side * block * block


s4_params, s4_connections = subsampling_counts(16, 10)
'''

_GRADIENT = '''
def unit_input_gradient(x, params, layer, unit):
    p = params
    steps = [
        ("C1", lambda v: conv_forward(v, p["C1_w"], p["C1_b"]), conv_backward),
        ("S2", lambda v: subsample_forward(v, p["S2_coeff"], p["S2_bias"]), subsample_backward),
        ("C3", lambda v: {C3}, {C3_BACK}),
        ("S4", lambda v: subsample_forward(v, p["S4_coeff"], p["S4_bias"]), subsample_backward),
        ("C5", lambda v: conv_forward(v, p["C5_w"], p["C5_b"]), conv_backward),
    ]
    names = [name for name, _, _ in steps]
    if layer not in names:
        raise ValueError(layer)
    out, caches = x, []
    for name, forward, backward in steps[:names.index(layer) + 1]:
        a, cache = forward(out)
        out, squash_cache = squash_forward(a)
        caches.append((backward, cache, squash_cache))
    dout = np.zeros_like(out)
    dout[{PROBE}] = 1.0
    for k, (backward, cache, squash_cache) in enumerate(reversed(caches)):
        if {SKIP}:
            dout = backward(dout, cache)[0]
        else:
            dout = backward(squash_backward(dout, squash_cache), cache)[0]
    return dout[0, 0]
'''


def _gradient(c3="sparse_conv_forward(v, p['C3_w'], p['C3_b'], C3_TABLE)",
              c3_back="sparse_conv_backward", probe="(0,) + tuple(unit)", skip="False"):
    return (_GRADIENT.replace("{C3}", c3).replace("{C3_BACK}", c3_back)
            .replace("{PROBE}", probe).replace("{SKIP}", skip))


WEIGHTED_SUM = _gradient(skip="k == 0")
NO_TABLE = _gradient(c3="conv_forward(v, p['C3_w'], p['C3_b'])", c3_back="conv_backward")
SWAPPED_UNIT = _gradient(probe="(0, unit[0], unit[2], unit[1])")

FAULTY = {
    "ch05_forgets_stride": ("ch05_s4", {"receptive_field": FORGETS_STRIDE}),
    "ch05_lookup_table": ("ch05_s4", {"receptive_field": LOOKUP_TABLE}),
    "ch05_no_value_error": ("ch05_s4", {"receptive_field": NO_VALUE_ERROR}),
    "ch05_no_bias_connection": ("ch05_s4", {"s4_counts": NO_BIAS_CONNECTION}),
    "ch05_weighted_sum": ("ch05_s4", {"unit_input_gradient": WEIGHTED_SUM}),
    "ch05_no_table": ("ch05_s4", {"unit_input_gradient": NO_TABLE}),
    "ch05_swapped_unit": ("ch05_s4", {"unit_input_gradient": SWAPPED_UNIT}),
}

EXPECTED = {
    "ch05_forgets_stride": ({"receptive_field_visible": 1, "receptive_field_hidden": 0.75,
                             "field_and_jump_hidden": 0.5}, "forgetting the strides below it"),
    "ch05_lookup_table": ({"receptive_field_visible": 1, "field_and_jump_hidden": 1},
                          "compute the fields from the stack it is given"),
    "ch05_no_value_error": ({"receptive_field_visible": 1, "receptive_field_hidden": 0.25},
                            "1 of 2 parts passed"),
    "ch05_no_bias_connection": ({"s4_counts_visible": 1, "s4_counts_hidden": 0.5,
                                 "subsampling_counts_hidden": 0.5},
                                "Count the bias connection of each unit too"),
    "ch05_weighted_sum": ({"unit_input_gradient_visible": 1, "unit_input_gradient_hidden": 0.75},
                          "not of its output f(a)"),
    "ch05_no_table": ({"unit_input_gradient_hidden": 0.5}, "Table I connects"),
    "ch05_swapped_unit": ({"unit_input_gradient_visible": 1, "unit_input_gradient_hidden": 0.75},
                          "you probed unit (map 0, row 4, column 3)"),
}
