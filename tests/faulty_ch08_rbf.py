"""Deliberately wrong submissions of chapter 8 (output RBF layer and losses) and their grades.

Each entry replaces one solution cell of solutions/ch08_rbf/ch08_rbf.ipynb. The chapter's test
cells: rbf_forward, rbf_backward, predict, mle_loss, map_loss and counts, visible and hidden
each (their points are the notebook's, tests/faulty.py). Hidden checks give partial credit per
part (rbf_forward: the ten codes weight 2, other sizes 1; rbf_backward: the codes, other sizes;
predict: decisions, ties; mle_loss: loss, gradient; map_loss: loss, gradient, stability; counts:
the values, rbf_layer_counts, lenet5_totals).
"""

CHAPTER = "ch08_rbf"

NEGATIVE_SUM = '''
def rbf_forward(x, centers):
    out = -np.sum((x[:, None, :] - centers[None, :, :]) ** 2, axis=2)
    return out, (x, centers)
'''

PLUS_CENTRE = '''
def rbf_forward(x, centers):
    out = np.sum((x[:, None, :] + centers[None, :, :]) ** 2, axis=2)
    return out, (x, centers)
'''

DOT_PRODUCT = '''
def rbf_forward(x, centers):
    return x @ centers.T, (x, centers)
'''

NO_FACTOR_2 = '''
def rbf_backward(dout, cache):
    x, centers = cache
    return dout.sum(axis=1, keepdims=True) * x - dout @ centers
'''

ARGMAX = '''
def predict(penalties):
    return np.argmax(penalties, axis=1)
'''

LAST_OF_TIES = '''
def predict(penalties):
    k = penalties.shape[1]
    return k - 1 - np.argmin(penalties[:, ::-1], axis=1)
'''

MLE_SUM = '''
def mle_loss(penalties, labels):
    rows = np.arange(len(labels))
    d = np.zeros_like(penalties)
    d[rows, labels] = 1.0
    return float(penalties[rows, labels].sum()), d
'''

MAP_NAIVE = '''
def map_loss(penalties, labels, j):
    n = len(labels)
    rows = np.arange(n)
    z = np.exp(-j) + np.exp(-penalties).sum(axis=1)
    loss = float(np.mean(penalties[rows, labels] + np.log(z)))
    d = -np.exp(-penalties) / z[:, None]
    d[rows, labels] += 1.0
    return loss, d / n
'''

MAP_SHIFT_WITHOUT_J = '''
def map_loss(penalties, labels, j):
    n = len(labels)
    rows = np.arange(n)
    m = penalties.min(axis=1, keepdims=True)           # shifts by the penalties only
    log_z = -m[:, 0] + np.log(np.exp(-j + m[:, 0]) + np.exp(-(penalties - m)).sum(axis=1))
    loss = float(np.mean(penalties[rows, labels] + log_z))
    d = -np.exp(-penalties - log_z[:, None])
    d[rows, labels] += 1.0
    return loss, d / n
'''

MAP_WITHOUT_J = '''
def map_loss(penalties, labels, j):
    n = len(labels)
    rows = np.arange(n)
    m = (-penalties).max(axis=1, keepdims=True)
    log_z = m[:, 0] + np.log(np.exp(-penalties - m).sum(axis=1))
    loss = float(np.mean(penalties[rows, labels] + log_z))
    d = -np.exp(-penalties - log_z[:, None])
    d[rows, labels] += 1.0
    return loss, d / n
'''

FORGETS_RBF_CONNECTIONS = '''
def rbf_layer_counts(n_units, n_inputs):
    return 0, n_units * n_inputs


def lenet5_totals(n_classes):
    return (sum(p for p, _ in LAYERS.values()), sum(c for _, c in LAYERS.values()))


rbf_params, rbf_connections = rbf_layer_counts(10, 84)
total_params, total_connections = lenet5_totals(10)
'''

TRAINS_CENTRES = '''
def rbf_layer_counts(n_units, n_inputs):
    return n_units * n_inputs, n_units * n_inputs


def lenet5_totals(n_classes):
    rbf_p, rbf_c = rbf_layer_counts(n_classes, 84)
    return (sum(p for p, _ in LAYERS.values()) + rbf_p,
            sum(c for _, c in LAYERS.values()) + rbf_c)


rbf_params, rbf_connections = rbf_layer_counts(10, 84)
total_params, total_connections = lenet5_totals(10)
'''

TYPED_COUNTS = '''
def rbf_layer_counts(n_units, n_inputs):
    return 0, 840


def lenet5_totals(n_classes):
    return 60000, 340908


rbf_params, rbf_connections = rbf_layer_counts(10, 84)
total_params, total_connections = lenet5_totals(10)
'''

FULL_C3 = '''
c3_full = 16 * (6 * 25 + 1)                 # C3 fully connected, as in the Keras variant
LAYERS = {
    "C1": (6 * (5 * 5 + 1),     28 * 28 * 6 * (5 * 5 + 1)),
    "S2": (6 * 2,               14 * 14 * 6 * (2 * 2 + 1)),
    "C3": (c3_full,             10 * 10 * c3_full),
    "S4": (16 * 2,              5 * 5 * 16 * (2 * 2 + 1)),
    "C5": (120 * (16 * 25 + 1), 1 * 1 * 120 * (16 * 25 + 1)),
    "F6": (84 * (120 + 1),      84 * (120 + 1)),
}
'''

FORWARD_SAME_SIZES = '''
def rbf_forward(x, centers):
    diff = x - centers                   # only runs when there are as many patterns as codes
    return np.sum(diff * diff, axis=1, keepdims=True) * np.ones((1, len(centers))), (x, centers)
'''

# student -> (chapter, {grade_id: replacement source})
FAULTY = {
    "ch08_negative_sum": (CHAPTER, {"rbf_forward": NEGATIVE_SUM}),
    "ch08_plus_centre": (CHAPTER, {"rbf_forward": PLUS_CENTRE}),
    "ch08_dot_product": (CHAPTER, {"rbf_forward": DOT_PRODUCT}),
    "ch08_no_factor_2": (CHAPTER, {"rbf_backward": NO_FACTOR_2}),
    "ch08_argmax": (CHAPTER, {"predict": ARGMAX}),
    "ch08_last_of_ties": (CHAPTER, {"predict": LAST_OF_TIES}),
    "ch08_mle_sum": (CHAPTER, {"mle_loss": MLE_SUM}),
    "ch08_map_naive": (CHAPTER, {"map_loss": MAP_NAIVE}),
    "ch08_map_shift_without_j": (CHAPTER, {"map_loss": MAP_SHIFT_WITHOUT_J}),
    "ch08_map_without_j": (CHAPTER, {"map_loss": MAP_WITHOUT_J}),
    "ch08_forgets_rbf_connections": (CHAPTER, {"counts": FORGETS_RBF_CONNECTIONS}),
    "ch08_trains_centres": (CHAPTER, {"counts": TRAINS_CENTRES}),
    "ch08_typed_counts": (CHAPTER, {"counts": TYPED_COUNTS}),
    "ch08_full_c3": (CHAPTER, {"layer_counts": FULL_C3}),
    "ch08_forward_same_sizes": (CHAPTER, {"rbf_forward": FORWARD_SAME_SIZES}),
}

# student -> ({test cell: share of its points lost}, a substring of the feedback that names
# the mistake)
EXPECTED = {
    "ch08_negative_sum": ({"rbf_forward_visible": 1, "rbf_forward_hidden": 1}, "negative of eq. 7"),
    "ch08_plus_centre": ({"rbf_forward_visible": 1, "rbf_forward_hidden": 1},
                         "the centre must be subtracted"),
    "ch08_dot_product": ({"rbf_forward_visible": 1, "rbf_forward_hidden": 1},
                         "dot-product similarity"),
    "ch08_no_factor_2": ({"rbf_backward_visible": 1, "rbf_backward_hidden": 1},
                         "keep the factor 2"),
    "ch08_argmax": ({"predict_visible": 1, "predict_hidden": 1},
                    "you picked the largest penalty (argmax)"),
    # Partial credit: the decisions are right, the ties are not (half the hidden check).
    "ch08_last_of_ties": ({"predict_visible": 1, "predict_hidden": 0.5},
                          "you returned the last of the tied classes"),
    "ch08_mle_sum": ({"mle_loss_visible": 1, "mle_loss_hidden": 1}, "eq. 8 takes the mean"),
    # Partial credit: loss and gradient right for moderate penalties, unstable for large ones.
    "ch08_map_naive": ({"map_loss_visible": 1, "map_loss_hidden": 1 / 3},
                       "the result holds inf or NaN"),
    # Caught by the visible checks too now (review D).
    "ch08_map_shift_without_j": ({"map_loss_visible": 1, "map_loss_hidden": 1 / 3},
                                 "shifting by the penalties alone"),
    "ch08_map_without_j": ({"map_loss_visible": 1, "map_loss_hidden": 1},
                           "the e^{-j} term is missing"),
    # The four values and lenet5_totals are wrong, rbf_layer_counts is right: a third of the
    # hidden check kept.
    "ch08_forgets_rbf_connections": ({"counts_visible": 1, "counts_hidden": 2 / 3},
                                     "That is the total through F6"),
    # The visible check catches it now (its cell's points) without giving a count away; the
    # hidden one names the slip.
    "ch08_trains_centres": ({"counts_visible": 1, "counts_hidden": 1},
                            "fixed Fig. 3 codes, chosen by hand and never trained"),
    # The values are right (a third of the hidden check kept); the functions only fit
    # LeNet-5's 10 classes.
    "ch08_typed_counts": ({"counts_visible": 1, "counts_hidden": 2 / 3}, "840 only fits LeNet-5"),
    # A wrong layer of an earlier chapter costs the values' third of the hidden points only:
    # lenet5_totals is judged against the student's own LAYERS.
    "ch08_full_c3": ({"counts_hidden": 1 / 3}, "LAYERS['C3'] is (2,416, 241,600)"),
    # One slip, points lost once: rbf_forward raises on the hidden sizes (both its cells lost), and
    # rbf_backward is then checked with the cache (x, centers), and passes.
    "ch08_forward_same_sizes": ({"rbf_forward_visible": 1, "rbf_forward_hidden": 1},
                                "your function raised ValueError: operands could not "
                                "be broadcast"),
}
