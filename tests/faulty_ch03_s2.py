"""Deliberately wrong submissions of chapter 3 (S2), with the grade and diagnosis they earn.

Chapter 3 has 12 points: s2_counts_test 2, subsample_forward 2 + 3, subsample_backward 2 + 3.
Each wrong forward pass keeps a correct cache, so the backward exercise still earns its 5,
except s2_coeff_last_axis, whose forward pass fails on the backward checks' shapes too.
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

COUNTS_NO_BIAS = '''
maps = 6
side = 28 // 2
block = 2 * 2
s2_params = maps * 2
s2_connections = maps * side * side * block
'''

FAULTY = {
    "s2_average_no_coeff": ("ch03_s2", {"subsample_forward": AVERAGE_NO_COEFF}),
    "s2_max_pool": ("ch03_s2", {"subsample_forward": MAX_POOL}),
    "s2_squashes": ("ch03_s2", {"subsample_forward": SQUASHES}),
    "s2_coeff_last_axis": ("ch03_s2", {"subsample_forward": COEFF_LAST_AXIS}),
    "s2_average_times_coeff": ("ch03_s2", {"subsample_forward": AVERAGE_TIMES_COEFF}),
    "s2_stride_one": ("ch03_s2", {"subsample_forward": STRIDE_ONE}),
    "s2_backward_no_coeff": ("ch03_s2", {"subsample_backward": BACKWARD_NO_COEFF}),
    "s2_backward_per_image": ("ch03_s2", {"subsample_backward": BACKWARD_PER_IMAGE}),
    "s2_counts_no_bias": ("ch03_s2", {"s2_counts": COUNTS_NO_BIAS}),
}

EXPECTED = {
    "s2_average_no_coeff": (7, "you average the four inputs without the trainable coefficient"),
    "s2_max_pool": (7, "(max pooling)"),
    "s2_squashes": (7, "the squash is a separate step"),
    "s2_coeff_last_axis": (4, "applied along the last (width) axis"),
    "s2_average_times_coeff": (7, "the four inputs are added (p. 7), not averaged"),
    "s2_stride_one": (7, "they move by 2 (stride 2), not by 1"),
    "s2_backward_no_coeff": (7, "but not multiplied by the map"),
    "s2_backward_per_image": (7, "so sum over the batch too"),
    "s2_counts_no_bias": (10, "has 4 inputs plus its bias"),
}
