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

FAULTY = {
    "ch06_transposed_reshape": ("ch06_c5", {"c5_as_dense": TRANSPOSED_RESHAPE}),
    "ch06_channels_last": ("ch06_c5", {"c5_as_dense": CHANNELS_LAST}),
    "ch06_floor_division": ("ch06_c5", {"lenet_map_sizes": FLOOR_DIVISION}),
    "ch06_no_fit_check": ("ch06_c5", {"lenet_map_sizes": NO_FIT_CHECK}),
}

EXPECTED = {
    "ch06_transposed_reshape": (8, "a transposed reshape"),
    "ch06_channels_last": (8, "flattened in different orders"),
    "ch06_floor_division": (10, "cannot be cut into 2x2 blocks"),
    "ch06_no_fit_check": (8, "the seed article's Keras model"),
}
