"""Deliberately wrong submissions of chapter 5 (S4 and receptive fields), with their expected
grades; tests/test_grading.py grades them with the class (max score 8)."""

FORGETS_STRIDE = '''
def receptive_field(layer):
    field = 1
    for name, kernel, stride in LENET5_STACK:
        field += kernel - 1
        if name == layer:
            return field
    raise ValueError(layer)
'''

LOOKUP_TABLE = '''
def receptive_field(layer):
    answers = {"C1": 5, "S2": 6, "C3": 14, "S4": 16, "C5": 32}
    if layer not in answers:
        raise ValueError(layer)
    return answers[layer]
'''

NO_BIAS_CONNECTION = '''
s4_params = 16 * 2
s4_connections = 5 * 5 * 16 * 4
'''

FAULTY = {
    "ch05_forgets_stride": ("ch05_s4", {"receptive_field": FORGETS_STRIDE}),
    "ch05_lookup_table": ("ch05_s4", {"receptive_field": LOOKUP_TABLE}),
    "ch05_no_bias_connection": ("ch05_s4", {"s4_counts": NO_BIAS_CONNECTION}),
}

EXPECTED = {
    "ch05_forgets_stride": (3, "forgetting the subsampling strides"),
    "ch05_lookup_table": (5, "not from numbers of your own"),
    "ch05_no_bias_connection": (6, "Count the bias connection of each unit too"),
}
