"""Deliberately wrong submissions of chapter 7 (F6), with their expected grades;
tests/test_grading.py grades them with the class. The chapter's test cells: counts,
dense_forward, dense_backward and squash_backward_from_output, visible and hidden each (their
points are the notebook's, tests/faulty.py). Hidden checks give partial credit per part
(dense_forward: weights, bias; dense_backward: dx, dw, db; counts: F6's values weight 1, the
function 2; the slope: at dy = 1 weight 1, times dy 2)."""

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

CONNECTIONS_NO_BIAS = '''
def dense_layer_counts(n_in, n_out):
    return n_out * (n_in + 1), n_out * n_in


f6_params, f6_connections = dense_layer_counts(120, 84)
'''

DX_TRANSPOSED = '''
def dense_backward(dout, cache):
    x, w = cache
    return w @ dout.T, x.T @ dout, dout.sum(axis=0)
'''

CACHE_ONLY_X = '''
def dense_forward(x, w, b):
    return x @ w + b, (x,)
'''

BACKWARD_FROM_CACHE = '''
def dense_backward(dout, cache):
    x, w = cache[0], cache[1]
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)
'''

SLOPE_PLAIN_TANH = '''
def squash_backward_from_output(dy, y):
    return dy * (1 - y ** 2)
'''

SLOPE_WITHOUT_DY = '''
def squash_backward_from_output(dy, y):
    return 1.7159 * (2 / 3) * (1 - (y / 1.7159) ** 2)
'''

FAULTY = {
    "ch07_transposed_weights": ("ch07_f6", {"dense_forward": TRANSPOSED_WEIGHTS}),
    "ch07_bias_column": ("ch07_f6", {"dense_forward": BIAS_COLUMN}),
    "ch07_db_mean": ("ch07_f6", {"dense_backward": DB_MEAN}),
    "ch07_dw_mean": ("ch07_f6", {"dense_backward": DW_MEAN}),
    "ch07_dw_transposed": ("ch07_f6", {"dense_backward": DW_TRANSPOSED}),
    "ch07_counts_no_bias": ("ch07_f6", {"f6_counts": COUNTS_NO_BIAS}),
    "ch07_counts_typed": ("ch07_f6", {"f6_counts": COUNTS_TYPED}),
    "ch07_connections_no_bias": ("ch07_f6", {"f6_counts": CONNECTIONS_NO_BIAS}),
    "ch07_dx_transposed": ("ch07_f6", {"dense_backward": DX_TRANSPOSED}),
    "ch07_cache_only_x": ("ch07_f6", {"dense_forward": CACHE_ONLY_X,
                                      "dense_backward": BACKWARD_FROM_CACHE}),
    "ch07_slope_plain_tanh": ("ch07_f6", {"squash_backward_from_output": SLOPE_PLAIN_TANH}),
    "ch07_slope_without_dy": ("ch07_f6", {"squash_backward_from_output": SLOPE_WITHOUT_DY}),
}

EXPECTED = {
    # One slip, points lost once: the forward checks cost the visible cell and half the hidden
    # one (its bias part passes); dense_backward is then checked with the cache (x, w), and
    # passes.
    "ch07_transposed_weights": ({"dense_forward_visible": 1, "dense_forward_hidden": 0.5},
                                "is the layout of other libraries"),
    "ch07_bias_column": ({"dense_forward_visible": 1, "dense_forward_hidden": 0.5},
                         "it broadcasts over the rows"),
    # Partial credit: dx and dw pass, db fails (two thirds of the hidden check kept).
    "ch07_db_mean": ({"dense_backward_visible": 1, "dense_backward_hidden": 1 / 3},
                     "db is the mean of dout over the batch"),
    # The visible check names the averaging instead of hinting at a shape (review D).
    "ch07_dw_mean": ({"dense_backward_visible": 1, "dense_backward_hidden": 1 / 3},
                     "averaged over the batch of 2 samples"),
    "ch07_dw_transposed": ({"dense_backward_visible": 1, "dense_backward_hidden": 1 / 3},
                           "expected w's shape"),
    # Caught by the visible check now (review D); the hidden one names the missing bias.
    "ch07_counts_no_bias": ({"f6_counts_visible": 1, "f6_counts_hidden": 1},
                            "each unit also has a bias of its own"),
    # F6's values are right (a third of the hidden check kept), the function only fits F6.
    "ch07_counts_typed": ({"f6_counts_visible": 1, "f6_counts_hidden": 2 / 3},
                          "typed-in values only fit F6"),
    # The visible check names the missing bias connections; the hidden one does too.
    "ch07_connections_no_bias": ({"f6_counts_visible": 1, "f6_counts_hidden": 1},
                                 "a bias is a connection too"),
    # Partial credit: dw and db pass, dx fails (two thirds of the hidden check kept); the
    # visible message names the shape (review: check_array alone drops the hint on shapes).
    "ch07_dx_transposed": ({"dense_backward_visible": 1, "dense_backward_hidden": 1 / 3},
                           "dx has one entry per entry of x"),
    # dense_forward passes (its cache is not checked there); dense_backward fails on a cache
    # without w, with a message about the cache instead of a bare IndexError.
    "ch07_cache_only_x": ({"dense_backward_visible": 1, "dense_backward_hidden": 1},
                          "what dense_forward put into the cache"),
    "ch07_slope_plain_tanh": ({"squash_backward_from_output_visible": 1,
                               "squash_backward_from_output_hidden": 1},
                              "you used 1 - y^2, the slope of the plain tanh(a)"),
    # Partial credit: the slope itself is right (a third of the hidden check kept).
    "ch07_slope_without_dy": ({"squash_backward_from_output_visible": 1,
                               "squash_backward_from_output_hidden": 2 / 3},
                              "dy is missing: the chain rule multiplies dy by f'(a)"),
}
