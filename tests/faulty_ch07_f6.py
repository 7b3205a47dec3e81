"""Deliberately wrong submissions of chapter 7 (F6), with their expected grades;
tests/test_grading.py grades them with the class (max score 11)."""

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

DW_TRANSPOSED = '''
def dense_backward(dout, cache):
    x, w = cache
    return dout @ w.T, dout.T @ x, dout.sum(axis=0)
'''

FAULTY = {
    "ch07_transposed_weights": ("ch07_f6", {"dense_forward": TRANSPOSED_WEIGHTS}),
    "ch07_bias_column": ("ch07_f6", {"dense_forward": BIAS_COLUMN}),
    "ch07_db_mean": ("ch07_f6", {"dense_backward": DB_MEAN}),
    "ch07_dw_transposed": ("ch07_f6", {"dense_backward": DW_TRANSPOSED}),
}

EXPECTED = {
    # dense_backward's checks need dense_forward's cache, so they fail with it: 3 of 11.
    "ch07_transposed_weights": (3, "is the layout of other libraries"),
    # dense_backward's hidden checks call dense_forward on a (3, 120) batch, which fails too.
    "ch07_bias_column": (5, "it broadcasts over the rows"),
    "ch07_db_mean": (6, "db is the mean of dout over the batch"),
    "ch07_dw_transposed": (6, "expected w's shape"),
}
