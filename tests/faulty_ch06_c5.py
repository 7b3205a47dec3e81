"""Deliberately wrong submissions of chapter 6 (C5), with their expected grades;
tests/test_grading.py grades them with the class. Hidden checks give partial credit per part:
C5's two counts; parameters and connections of conv_layer_counts; valid (2) and invalid (1)
sides of lenet_map_sizes; c5_windows on one position (1), larger fields (2) and another number
of maps (1); c5_from_windows on one position and on many."""

TRANSPOSED_RESHAPE = '''
def c5_as_dense(x, w, b):
    return x.reshape(len(x), -1) @ w.reshape(400, 120) + b
'''

CHANNELS_LAST = '''
def c5_as_dense(x, w, b):
    return x.transpose(0, 2, 3, 1).reshape(len(x), -1) @ w.reshape(120, -1).T + b
'''

FLOOR_DIVISION = '''
def lenet_map_sizes(n):
    sizes, side = {"input": n}, n
    for name in ("C1", "S2", "C3", "S4", "C5"):
        if name[0] == "C":
            if side < 5:
                raise ValueError(name)
            side = side - 4
        else:
            side = side // 2
        sizes[name] = side
    return sizes
'''

NO_FIT_CHECK = '''
def lenet_map_sizes(n):
    sizes, side = {"input": n}, n
    for name in ("C1", "S2", "C3", "S4", "C5"):
        if name[0] == "C":
            side = side - 4
        else:
            if side % 2:
                raise ValueError(name)
            side = side // 2
        sizes[name] = side
    return sizes
'''

COUNTS_WITHOUT_BIAS = '''
def conv_layer_counts(maps, in_side, kernel, in_maps):
    out_side = in_side - kernel + 1
    params = maps * in_maps * kernel * kernel
    return params, params * out_side * out_side


c5_params, c5_connections = conv_layer_counts(120, 5, 5, 16)
'''

# in_maps left out: right for C1 (one input map) only.
COUNTS_WITHOUT_IN_MAPS = '''
def conv_layer_counts(maps, in_side, kernel, in_maps):
    out_side = in_side - kernel + 1
    params = maps * (kernel * kernel + 1)
    return params, params * out_side * out_side


c5_params, c5_connections = conv_layer_counts(120, 5, 5, 16)
'''

TYPED_COUNTS = '''
def conv_layer_counts(maps, in_side, kernel, in_maps):
    return 48120, 48120


c5_params, c5_connections = 48120, 48120
'''

_WINDOWS = '''
def c5_windows(x):
    n, c = x.shape[:2]
    views = np.lib.stride_tricks.sliding_window_view(x, (5, 5), axis=(2, 3))
    p, q = views.shape[2:4]
    return {windows}


def c5_from_windows(windows, w, b):
    out = {product}
    return {result}
'''
_RIGHT_WINDOWS = dict(windows="views.transpose(0, 2, 3, 1, 4, 5).reshape(n, p, q, c * 25)",
                      product="windows @ w.reshape(w.shape[0], -1).T + b",
                      result="out.transpose(0, 3, 1, 2)")
WINDOWS_CHANNELS_LAST = _WINDOWS.format(**{**_RIGHT_WINDOWS, "windows":
                                           "views.transpose(0, 2, 3, 4, 5, 1).reshape(n, p, q, -1)"})
WINDOWS_STRAIGHT_RESHAPE = _WINDOWS.format(**{**_RIGHT_WINDOWS,
                                              "windows": "views.reshape(n, p, q, c * 25)"})
# Right for C5's 16 maps only: 400 typed in.
WINDOWS_400 = _WINDOWS.format(**{**_RIGHT_WINDOWS, "windows":
                                 "views.transpose(0, 2, 3, 1, 4, 5).reshape(n, p, q, 400)"})
FROM_WINDOWS_MAPS_LAST = _WINDOWS.format(**{**_RIGHT_WINDOWS, "result": "out"})
FROM_WINDOWS_RESHAPE = _WINDOWS.format(**{**_RIGHT_WINDOWS, "result": "out.reshape(len(out), "
                                          "w.shape[0], out.shape[1], out.shape[2])"})

FAULTY = {
    "ch06_transposed_reshape": ("ch06_c5", {"c5_as_dense": TRANSPOSED_RESHAPE}),
    "ch06_channels_last": ("ch06_c5", {"c5_as_dense": CHANNELS_LAST}),
    "ch06_floor_division": ("ch06_c5", {"lenet_map_sizes": FLOOR_DIVISION}),
    "ch06_no_fit_check": ("ch06_c5", {"lenet_map_sizes": NO_FIT_CHECK}),
    "ch06_counts_without_bias": ("ch06_c5", {"c5_counts": COUNTS_WITHOUT_BIAS}),
    "ch06_typed_counts": ("ch06_c5", {"c5_counts": TYPED_COUNTS}),
    "ch06_counts_without_in_maps": ("ch06_c5", {"c5_counts": COUNTS_WITHOUT_IN_MAPS}),
    "ch06_windows_channels_last": ("ch06_c5", {"c5_windows": WINDOWS_CHANNELS_LAST}),
    "ch06_windows_straight_reshape": ("ch06_c5", {"c5_windows": WINDOWS_STRAIGHT_RESHAPE}),
    "ch06_windows_400": ("ch06_c5", {"c5_windows": WINDOWS_400}),
    "ch06_from_windows_maps_last": ("ch06_c5", {"c5_windows": FROM_WINDOWS_MAPS_LAST}),
    "ch06_from_windows_reshape": ("ch06_c5", {"c5_windows": FROM_WINDOWS_RESHAPE}),
}

EXPECTED = {
    "ch06_transposed_reshape": ({"c5_as_dense_visible": 1, "c5_as_dense_hidden": 1},
                                "a transposed reshape"),
    "ch06_channels_last": ({"c5_as_dense_visible": 1, "c5_as_dense_hidden": 1},
                           "flattened in different orders"),
    "ch06_floor_division": ({"lenet_map_sizes_visible": 1, "lenet_map_sizes_hidden": 1 / 3},
                            "lenet_map_sizes(38)"),
    "ch06_no_fit_check": ({"lenet_map_sizes_visible": 1, "lenet_map_sizes_hidden": 1 / 3},
                          "the blog post this project grew from"),
    "ch06_counts_without_bias": ({"c5_counts_visible": 1, "c5_counts_hidden": 1,
                                  "conv_layer_counts_hidden": 1},
                                 "Each of the 120 units also has one bias"),
    "ch06_typed_counts": ({"c5_counts_visible": 1, "conv_layer_counts_hidden": 1},
                          "Per map: kernel x kernel weights on each of the in_maps input maps"),
    "ch06_counts_without_in_maps": ({"c5_counts_visible": 1, "c5_counts_hidden": 1,
                                     "conv_layer_counts_hidden": 1},
                                    "conv_layer_counts(2, 3, 2, 3)[0] (parameters)"),
    "ch06_windows_channels_last": ({"c5_windows_visible": 1, "c5_windows_hidden": 1},
                                   "each window is flattened channels-last"),
    "ch06_windows_straight_reshape": ({"c5_windows_visible": 1, "c5_windows_hidden": 0.75},
                                      "you reshaped the (N, C, P, Q, 5, 5) windows straight"),
    "ch06_windows_400": ({"c5_windows_hidden": 0.25}, "Failed: another number of maps"),
    "ch06_from_windows_maps_last": ({"c5_windows_visible": 1, "c5_from_windows_hidden": 1},
                                    "put the maps first"),
    "ch06_from_windows_reshape": ({"c5_windows_visible": 1, "c5_from_windows_hidden": 0.5},
                                  "scrambles maps and positions"),
}
