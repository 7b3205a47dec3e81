"""Deliberately wrong chapter-2 submissions and what the grader must make of them.

Chapter 2's test cells: conv_output_size (visible, hidden); the counts (visible,
c1_params/c1_connections hidden, conv_layer_counts hidden); squash, conv_forward_naive,
conv_forward and conv_backward (visible, hidden each); their points are the notebook's
(tests/faulty.py). Hidden checks with parts: conv_output_size (valid 1/4, padding and strides
2/4, misfits 1/4), the C1 counts and conv_layer_counts (parameters, connections: 1/2 each),
squash (forward, backward), conv_backward (db, dw, dx: 1/3 each). A backward pass is also judged
against the gradient of the student's own forward pass when that is wrong, so a forward slip is
paid for once.
"""

_CONV = '''
def conv_forward(x, w, b):
    {prelude}
    kh, kw = w.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    out = np.einsum("nchwpq,fcpq->nfhw", windows, w) + b[None, :, None, None]
    return out, (x, w, windows)
'''

SQUASH_SIGMOID = '''
def squash_forward(a):
    s = 1 / (1 + np.exp(-a))
    return s, s

def squash_backward(dout, cache):
    return dout * cache * (1 - cache)
'''

_COUNTS = '''
def conv_layer_counts(maps, in_side, kernel, in_maps):
    window = kernel * kernel * in_maps
    side = {side}
    return maps * (window{bias}), maps * side * side * (window{bias})
'''

# The loops are wrong (maps and positions mixed up), the vectorised version is right: the
# visible check of conv_forward must not blame conv_forward for it.
NAIVE_WRONG = '''
def conv_forward_naive(x, w, b):
    n_images, _, height, width = x.shape
    n_maps, _, kh, kw = w.shape
    out = np.zeros((n_images, n_maps, height - kh + 1, width - kw + 1))
    for n in range(n_images):
        for f in range(n_maps):
            for i in range(height - kh + 1):
                for j in range(width - kw + 1):
                    out[n, f, i, j] = np.sum(x[n, :, i:i + kh, j:j + kw] * w[f])
    return out, (x, w, b)
'''

BACKWARD_NO_FLIP = '''
def conv_backward(dout, cache):
    x, w, windows = cache
    kh, kw = w.shape[2:]
    db = dout.sum(axis=(0, 2, 3))
    dw = np.tensordot(dout, windows, axes=([0, 2, 3], [0, 2, 3]))
    padded = np.pad(dout, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    dwindows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(2, 3))
    dx = np.tensordot(dwindows, w, axes=([1, 4, 5], [0, 2, 3]))
    return dx.transpose(0, 3, 1, 2), dw, db
'''

FAULTY = {
    "flipped_kernel": ("ch02_c1", {"conv_forward": _CONV.format(prelude="w = w[:, :, ::-1, ::-1]")}),
    "same_padding": ("ch02_c1", {"conv_forward": _CONV.format(
        prelude="x = np.pad(x, ((0, 0), (0, 0), (w.shape[2] // 2,) * 2, (w.shape[3] // 2,) * 2))")}),
    "sigmoid_squash": ("ch02_c1", {"squash": SQUASH_SIGMOID}),
    "counts_without_bias": ("ch02_c1", {
        "conv_layer_counts": _COUNTS.format(side="in_side - kernel + 1", bias="")}),
    "counts_input_side": ("ch02_c1", {
        "conv_layer_counts": _COUNTS.format(side="in_side", bias=" + 1")}),
    "c1_counts_typed_in": ("ch02_c1", {
        "conv_layer_counts": "def conv_layer_counts(maps, in_side, kernel, in_maps):\n"
                             "    return 156, 122_304",
        "c1_counts": "c1_params = 156\nc1_connections = 122_304"}),
    "counts_as_floats": ("ch02_c1", {
        "c1_counts": "c1_params = 6 * (5 * 5 + 1) * 1.0\nc1_connections = 122304.0"}),
    "naive_wrong_fast_right": ("ch02_c1", {"conv_forward_naive": NAIVE_WRONG}),
    "backward_no_flip": ("ch02_c1", {"conv_backward": BACKWARD_NO_FLIP}),
    "flipped_kernel_visible": ("ch02_c1", {"conv_forward": _CONV.format(
        prelude="w = w[:, :, ::-1, ::-1]")}),
    "flipped_kernel_backward": ("ch02_c1", {"conv_forward": _CONV.format(
        prelude="w = w[:, :, ::-1, ::-1]")}),
    "same_padding_backward": ("ch02_c1", {"conv_forward": _CONV.format(
        prelude="x = np.pad(x, ((0, 0), (0, 0), (w.shape[2] // 2,) * 2, (w.shape[3] // 2,) * 2))")}),
    "sigmoid_squash_own_gradient": ("ch02_c1", {"squash": SQUASH_SIGMOID}),
}

# student -> ({test cell: share of its points lost}, a phrase the feedback must contain)
EXPECTED = {
    # all of conv_forward's points, and conv_backward's visible cell (its check runs on the
    # cache of the student's conv_forward and says to fix that first); the hidden backward
    # check judges dx against the gradient of the student's own (flipped) forward pass
    "flipped_kernel": ({"conv_forward_visible": 1, "conv_forward_hidden": 1,
                        "conv_backward_visible": 1}, "convolution with the kernel flipped"),
    # the visible check of conv_forward diagnoses the flip too (student review)
    "flipped_kernel_visible": ({"conv_forward_visible": 1, "conv_forward_hidden": 1,
                                "conv_backward_visible": 1},
                               "conv_forward(x, w, b): your output is a convolution with "
                               "the kernels flipped"),
    "flipped_kernel_backward": ({"conv_forward_visible": 1, "conv_forward_hidden": 1,
                                 "conv_backward_visible": 1}, "so fix conv_forward first"),
    "same_padding": ({"conv_forward_visible": 1, "conv_forward_hidden": 1,
                      "conv_backward_visible": 1, "conv_backward_hidden": 1 / 3},
                     "you padded the input"),
    "same_padding_backward": ({"conv_forward_visible": 1, "conv_forward_hidden": 1,
                               "conv_backward_visible": 1, "conv_backward_hidden": 1 / 3},
                              "your conv_forward is wrong too (see its check)"),
    "sigmoid_squash": ({"squash_visible": 1, "squash_hidden": 0.5}, "logistic sigmoid"),
    # the exact gradient of the sigmoid: squash_backward keeps its part
    "sigmoid_squash_own_gradient": ({"squash_visible": 1, "squash_hidden": 0.5},
                                    "Passed: squash_backward."),
    "counts_without_bias": ({"c1_counts_hidden": 1, "conv_layer_counts_hidden": 1},
                            "one trainable bias"),
    "counts_input_side": ({"c1_counts_hidden": 0.5, "conv_layer_counts_hidden": 0.5},
                          "not in_side ** 2"),
    "c1_counts_typed_in": ({"c1_counts_check": 1, "conv_layer_counts_hidden": 1},
                           "conv_layer_counts(16, 14, 5, 6)[0] (parameters): expected 2,416"),
    "counts_as_floats": ({"c1_counts_check": 1, "c1_counts_hidden": 1},
                         "expected an integer, got float"),
    "naive_wrong_fast_right": ({"conv_forward_naive_visible": 1, "conv_forward_naive_hidden": 1},
                               "values are wrong"),
    "backward_no_flip": ({"conv_backward_visible": 1, "conv_backward_hidden": 1 / 3},
                         "rotated by 180 degrees"),
}
