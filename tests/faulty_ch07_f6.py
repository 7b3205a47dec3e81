"""Deliberately wrong submissions of chapter 7 (F6), with their expected grades;
tests/test_grading.py grades them with the class. The chapter is worth 12 points: counts
1 + 3, dense_forward 1 + 2, dense_backward 2 + 3 (visible + hidden)."""

TRANSPOSED_WEIGHTS = '''
def dense_forward(x, w, b):
    return x @ w.T + b, (x, w)
'''

BIAS_COLUMN = '''
def dense_forward(x, w, b):
    return x @ w + b[:, None], (x, w)
'''

DB_MEAN = '''
def dense_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.mean(axis=0)
'''

DW_MEAN = '''
def dense_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout / len(dout), dout.sum(axis=0)
'''

DW_TRANSPOSED = '''
def dense_backward(dout, cache):
    x, w = cache
    return dout @ w.T, dout.T @ x, dout.sum(axis=0)
'''

COUNTS_NO_BIAS = '''
def dense_layer_counts(n_in, n_out):
    return n_in * n_out, n_in * n_out


f6_params, f6_connections = dense_layer_counts(120, 84)
'''

COUNTS_TYPED = '''
def dense_layer_counts(n_in, n_out):
    return 10164, 10164


f6_params, f6_connections = 10164, 10164
'''

FAULTY = {
    "ch07_transposed_weights": ("ch07_f6", {"dense_forward": TRANSPOSED_WEIGHTS}),
    "ch07_bias_column": ("ch07_f6", {"dense_forward": BIAS_COLUMN}),
    "ch07_db_mean": ("ch07_f6", {"dense_backward": DB_MEAN}),
    "ch07_dw_mean": ("ch07_f6", {"dense_backward": DW_MEAN}),
    "ch07_dw_transposed": ("ch07_f6", {"dense_backward": DW_TRANSPOSED}),
    "ch07_counts_no_bias": ("ch07_f6", {"f6_counts": COUNTS_NO_BIAS}),
    "ch07_counts_typed": ("ch07_f6", {"f6_counts": COUNTS_TYPED}),
}

EXPECTED = {
    # dense_backward's checks need dense_forward's cache, so they fail with it: 4 of 12.
    "ch07_transposed_weights": (4, "is the layout of other libraries"),
    # dense_backward's hidden checks call dense_forward on a (3, 120) batch, which fails too.
    "ch07_bias_column": (6, "it broadcasts over the rows"),
    "ch07_db_mean": (7, "db is the mean of dout over the batch"),
    # The visible check names the averaging instead of hinting at a shape (review D).
    "ch07_dw_mean": (7, "averaged over the batch of 2 samples"),
    "ch07_dw_transposed": (7, "expected w's shape"),
    # Plausible to the visible check; the hidden one names the missing bias.
    "ch07_counts_no_bias": (9, "Each of the 84 units also has one bias"),
    # F6's values are right (1 of the 3 hidden points), the function only fits F6.
    "ch07_counts_typed": (9, "typed-in values only fit F6"),
}
