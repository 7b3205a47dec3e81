"""Deliberately wrong submissions of chapter 3 (S2), with the grade and diagnosis they earn.

Chapter 3's test cells: s2_counts, subsample_forward and subsample_backward, visible and hidden
each; their points are the notebook's (tests/faulty.py). The hidden checks give partial credit
per part: the counts 1/4 each (s2_params, s2_connections, the function's parameters, its
connections); subsample_forward 1/2 each (the block sums with coefficient 1 and bias 0; the
coefficient and bias applied to the student's own block sums); subsample_backward dx 2/4, dcoeff
1/4, dbias 1/4.

One slip costs its points once. Each wrong forward pass keeps a correct cache, so the hidden
backward check still earns its points; s2_coeff_last_axis, whose forward pass fails on some
shapes, is judged on the shapes where it works. A forward pass that averages, with the
backward pass of that average (s2_average_both), loses forward points and the visible
backward point only: the hidden backward check accepts the exact gradient of the student's
own forward pass.
"""

_FORWARD = '''
def subsample_forward(x, coeff, bias):
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // 2, 2, w // 2, 2)
    sums = blocks.sum(axis=(3, 5))
    cb, bb = coeff[None, :, None, None], bias[None, :, None, None]
    out = {body}
    return out, (sums, coeff)
'''

AVERAGE_NO_COEFF = _FORWARD.format(body="blocks.mean(axis=(3, 5)) + bb")
MAX_POOL = _FORWARD.format(body="cb * blocks.max(axis=(3, 5)) + bb")
SQUASHES = _FORWARD.format(body="1.7159 * np.tanh(2 / 3 * (cb * sums + bb))")
COEFF_LAST_AXIS = _FORWARD.format(body="sums * coeff + bias")
AVERAGE_TIMES_COEFF = _FORWARD.format(body="cb * blocks.mean(axis=(3, 5)) + bb")

STRIDE_ONE = '''
def subsample_forward(x, coeff, bias):
    n, c, h, w = x.shape
    sums = x.reshape(n, c, h // 2, 2, w // 2, 2).sum(axis=(3, 5))
    s1 = x[:, :, :-1, :-1] + x[:, :, 1:, :-1] + x[:, :, :-1, 1:] + x[:, :, 1:, 1:]
    out = coeff[None, :, None, None] * s1 + bias[None, :, None, None]
    return out, (sums, coeff)
'''

# Review E: one slip (averaging instead of adding), made consistently in both passes.
AVERAGE_FORWARD_CACHED = '''
def subsample_forward(x, coeff, bias):
    n, c, h, w = x.shape
    means = x.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))
    out = coeff[None, :, None, None] * means + bias[None, :, None, None]
    return out, (means, coeff)
'''
AVERAGE_BACKWARD = '''
def subsample_backward(dout, cache):
    means, coeff = cache
    dcoeff = (dout * means).sum(axis=(0, 2, 3))
    dbias = dout.sum(axis=(0, 2, 3))
    dx = np.repeat(np.repeat(dout * coeff[None, :, None, None] / 4, 2, axis=2), 2, axis=3)
    return dx, dcoeff, dbias
'''

BACKWARD_NO_COEFF = '''
def subsample_backward(dout, cache):
    sums, coeff = cache
    dcoeff = (dout * sums).sum(axis=(0, 2, 3))
    dbias = dout.sum(axis=(0, 2, 3))
    dx = np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3)
    return dx, dcoeff, dbias
'''

BACKWARD_PER_IMAGE = '''
def subsample_backward(dout, cache):
    sums, coeff = cache
    dcoeff = (dout * sums).sum(axis=(2, 3))
    dbias = dout.sum(axis=(2, 3))
    dx = np.repeat(np.repeat(dout * coeff[None, :, None, None], 2, axis=2), 2, axis=3)
    return dx, dcoeff, dbias
'''

_COUNTS = '''
def subsample_counts(maps, in_side, window=2):
    side = in_side // {divisor}
    return {params}, {connections}


s2_params, s2_connections = {s2}
'''
_RIGHT = dict(divisor="window", params="maps * 2",
              connections="maps * side * side * (window * window + 1)",
              s2="subsample_counts(6, 28)")
COUNTS_NO_BIAS = _COUNTS.format(**{**_RIGHT, "connections": "maps * side * side * window * window"})
COUNTS_PARAMS_PER_UNIT = _COUNTS.format(**{**_RIGHT, "params": "maps * side * side * 2"})
COUNTS_IGNORE_WINDOW = _COUNTS.format(**{**_RIGHT, "divisor": "2",
                                         "connections": "maps * side * side * (4 + 1)"})
# The paper's numbers typed in, with a function that only scales them.
COUNTS_TYPED = _COUNTS.format(**{**_RIGHT, "connections": "5880 * maps // 6",
                                 "s2": "12, 5880"})

FAULTY = {
    "s2_average_no_coeff": ("ch03_s2", {"subsample_forward": AVERAGE_NO_COEFF}),
    "s2_max_pool": ("ch03_s2", {"subsample_forward": MAX_POOL}),
    "s2_squashes": ("ch03_s2", {"subsample_forward": SQUASHES}),
    "s2_coeff_last_axis": ("ch03_s2", {"subsample_forward": COEFF_LAST_AXIS}),
    "s2_average_times_coeff": ("ch03_s2", {"subsample_forward": AVERAGE_TIMES_COEFF}),
    "s2_average_both": ("ch03_s2", {"subsample_forward": AVERAGE_FORWARD_CACHED,
                                    "subsample_backward": AVERAGE_BACKWARD}),
    "s2_stride_one": ("ch03_s2", {"subsample_forward": STRIDE_ONE}),
    "s2_backward_no_coeff": ("ch03_s2", {"subsample_backward": BACKWARD_NO_COEFF}),
    "s2_backward_per_image": ("ch03_s2", {"subsample_backward": BACKWARD_PER_IMAGE}),
    "s2_counts_no_bias": ("ch03_s2", {"s2_counts": COUNTS_NO_BIAS}),
    "s2_counts_params_per_unit": ("ch03_s2", {"s2_counts": COUNTS_PARAMS_PER_UNIT}),
    "s2_counts_params_per_unit_visible": ("ch03_s2", {"s2_counts": COUNTS_PARAMS_PER_UNIT}),
    "s2_counts_ignore_window": ("ch03_s2", {"s2_counts": COUNTS_IGNORE_WINDOW}),
    "s2_counts_typed": ("ch03_s2", {"s2_counts": COUNTS_TYPED}),
}

EXPECTED = {
    "s2_average_no_coeff": ({"subsample_forward_visible": 1, "subsample_forward_hidden": 1},
                            "you average the four inputs without the trainable coefficient"),
    "s2_max_pool": ({"subsample_forward_visible": 1, "subsample_forward_hidden": 0.5},
                    "(max pooling)"),
    "s2_squashes": ({"subsample_forward_visible": 1, "subsample_forward_hidden": 1},
                    "the squash is a separate step"),
    "s2_coeff_last_axis": ({"subsample_forward_visible": 1, "subsample_forward_hidden": 1},
                           "applied along the last (width) axis"),
    "s2_average_times_coeff": ({"subsample_forward_visible": 1, "subsample_forward_hidden": 0.5},
                               "the four inputs are added (p. 7), not averaged"),
    "s2_average_both": ({"subsample_forward_visible": 1, "subsample_forward_hidden": 0.5,
                         "subsample_backward_visible": 1},
                        "the four inputs are added (p. 7), not averaged"),
    "s2_stride_one": ({"subsample_forward_visible": 1, "subsample_forward_hidden": 1},
                      "they move by 2 (stride 2), not by 1"),
    "s2_backward_no_coeff": ({"subsample_backward_visible": 1, "subsample_backward_hidden": 0.5},
                             "but not multiplied by the map"),
    "s2_backward_per_image": ({"subsample_backward_visible": 1, "subsample_backward_hidden": 0.5},
                              "so sum over the batch too"),
    "s2_counts_no_bias": ({"s2_counts_hidden": 0.5}, "4 inputs plus its bias"),
    # the visible check (student review), and two quarters of the hidden one
    "s2_counts_params_per_unit": ({"s2_counts_visible": 1, "s2_counts_hidden": 0.5},
                                  "count them once per map, not once per unit"),
    "s2_counts_params_per_unit_visible": ({"s2_counts_visible": 1, "s2_counts_hidden": 0.5},
                                          "a larger input adds units but no parameter"),
    "s2_counts_ignore_window": ({"s2_counts_hidden": 0.25}, "ignores the argument window"),
    # the visible check catches connections that ignore in_side (student review), and a
    # quarter of the hidden one
    "s2_counts_typed": ({"s2_counts_visible": 1, "s2_counts_hidden": 0.25},
                        "subsample_counts(3, 8, window=2): expected (6, 240)"),
}
