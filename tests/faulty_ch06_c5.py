"""Deliberately wrong submissions of chapter 6 (C5), with their expected grades;
tests/test_grading.py grades them with the class (max score 13)."""

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

TYPED_COUNTS = '''
def conv_layer_counts(maps, in_side, kernel, in_maps):
    return 48120, 48120


c5_params, c5_connections = 48120, 48120
'''

FAULTY = {
    "ch06_transposed_reshape": ("ch06_c5", {"c5_as_dense": TRANSPOSED_RESHAPE}),
    "ch06_channels_last": ("ch06_c5", {"c5_as_dense": CHANNELS_LAST}),
    "ch06_floor_division": ("ch06_c5", {"lenet_map_sizes": FLOOR_DIVISION}),
    "ch06_no_fit_check": ("ch06_c5", {"lenet_map_sizes": NO_FIT_CHECK}),
    "ch06_counts_without_bias": ("ch06_c5", {"c5_counts": COUNTS_WITHOUT_BIAS}),
    "ch06_typed_counts": ("ch06_c5", {"c5_counts": TYPED_COUNTS}),
}

EXPECTED = {
    "ch06_transposed_reshape": (8, "a transposed reshape"),
    "ch06_channels_last": (8, "flattened in different orders"),
    "ch06_floor_division": (10, "cannot be cut into 2x2 blocks"),
    "ch06_no_fit_check": (8, "the blog post this project grew from"),
    "ch06_counts_without_bias": (10, "Each of the 120 units also has one bias"),
    "ch06_typed_counts": (11, "Per map: kernel x kernel weights on each input map"),
}
