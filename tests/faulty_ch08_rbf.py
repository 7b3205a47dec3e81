"""Deliberately wrong submissions of chapter 8 (output RBF layer and losses) and their grades.

Each entry replaces one solution cell of solutions/ch08_rbf/ch08_rbf.ipynb. The chapter is
worth 22 points: rbf_forward 2 + 3, rbf_backward 1 + 2, predict 1 + 2, mle_loss 1 + 2,
map_loss 2 + 3, counts 1 + 2 (visible + hidden).
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
rbf_params = 0
rbf_connections = 10 * 84
total_params = sum(p for p, _ in LAYERS.values())
total_connections = sum(c for _, c in LAYERS.values())
'''

TRAINS_CENTRES = '''
rbf_params = 10 * 84
rbf_connections = 10 * 84
total_params = sum(p for p, _ in LAYERS.values()) + rbf_params
total_connections = sum(c for _, c in LAYERS.values()) + rbf_connections
'''

# student -> (chapter, {grade_id: replacement source})
FAULTY = {
    "ch08_negative_sum": (CHAPTER, {"rbf_forward": NEGATIVE_SUM}),
    "ch08_plus_centre": (CHAPTER, {"rbf_forward": PLUS_CENTRE}),
    "ch08_dot_product": (CHAPTER, {"rbf_forward": DOT_PRODUCT}),
    "ch08_no_factor_2": (CHAPTER, {"rbf_backward": NO_FACTOR_2}),
    "ch08_argmax": (CHAPTER, {"predict": ARGMAX}),
    "ch08_mle_sum": (CHAPTER, {"mle_loss": MLE_SUM}),
    "ch08_map_naive": (CHAPTER, {"map_loss": MAP_NAIVE}),
    "ch08_map_shift_without_j": (CHAPTER, {"map_loss": MAP_SHIFT_WITHOUT_J}),
    "ch08_map_without_j": (CHAPTER, {"map_loss": MAP_WITHOUT_J}),
    "ch08_forgets_rbf_connections": (CHAPTER, {"counts": FORGETS_RBF_CONNECTIONS}),
    "ch08_trains_centres": (CHAPTER, {"counts": TRAINS_CENTRES}),
}

# student -> (score out of 22, a substring of the feedback that names the mistake)
EXPECTED = {
    "ch08_negative_sum": (17, "negative of eq. 7"),
    "ch08_plus_centre": (17, "the centre must be subtracted"),
    "ch08_dot_product": (17, "dot-product similarity"),
    "ch08_no_factor_2": (19, "keep the factor 2"),
    "ch08_argmax": (19, "you picked the largest penalty (argmax)"),
    "ch08_mle_sum": (19, "eq. 8 takes the mean"),
    "ch08_map_naive": (17, "the result holds inf or NaN"),
    "ch08_map_shift_without_j": (19, "the result holds inf or NaN"),
    "ch08_map_without_j": (17, "the e^{-j} term is missing"),
    "ch08_forgets_rbf_connections": (19, "add the 840 RBF connections"),
    "ch08_trains_centres": (19, "fixed Fig. 3 codes, chosen by hand and never trained"),
}
