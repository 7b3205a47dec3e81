"""Deliberately wrong chapter-2 submissions and what the grader must make of them."""

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

FAULTY = {
    "flipped_kernel": ("ch02_c1", {"conv_forward": _CONV.format(prelude="w = w[:, :, ::-1, ::-1]")}),
    "same_padding": ("ch02_c1", {"conv_forward": _CONV.format(
        prelude="x = np.pad(x, ((0, 0), (0, 0), (w.shape[2] // 2,) * 2, (w.shape[3] // 2,) * 2))")}),
    "sigmoid_squash": ("ch02_c1", {"squash": SQUASH_SIGMOID}),
    "counts_without_bias": ("ch02_c1", {"c1_counts": "c1_params = 6 * 25\nc1_connections = 6 * 28 * 28 * 25"}),
}

# student -> (score out of 20, a phrase the feedback must contain)
EXPECTED = {
    "flipped_kernel": (11, "convolution with the kernel flipped"),
    "same_padding": (11, "you padded the input"),
    "sigmoid_squash": (17, "logistic sigmoid"),
    "counts_without_bias": (18, "and one bias"),
}
