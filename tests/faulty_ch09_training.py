"""Deliberately wrong submissions of chapter 9 (assembling and training), with the grade and
diagnosis they earn.

Chapter 9 has 31 points: init_params 2 + 3, lenet5_forward 2 + 3, lenet5_backward 2 + 3,
numerical_gradient 1 + 2, learning_rate 1 + 2, sdlm_step 1 + 2, error_rate 1 + 2,
train_pass 1 + 3.  A fault in one exercise can cost points in those that use it (a wrong
forward pass breaks the backward pass and error_rate's visible check); the hidden error_rate
check runs with the reference network, so it grades the counting only.
"""

_INIT = '''
def init_params(rng):
    connected = C3_TABLE.T[:, :, None, None]
    c3_fan_in = {c3_fan_in}

    def uniform(shape, fan_in):
        return {draw}

    return {{
        "C1_w": uniform((6, 1, 5, 5), 25), "C1_b": np.zeros(6),
        "S2_coeff": uniform((6,), 4), "S2_bias": np.zeros(6),
        "C3_w": uniform((16, 6, 5, 5), c3_fan_in) * connected, "C3_b": np.zeros(16),
        "S4_coeff": uniform((16,), 4), "S4_bias": np.zeros(16),
        "C5_w": uniform((120, 16, 5, 5), {c5_fan_in}), "C5_b": np.zeros(120),
        "F6_w": uniform((120, 84), 120), "F6_b": np.zeros(84),
    }}
'''
_UNIFORM = "rng.uniform(-1.0, 1.0, size=shape) * (2.4 / fan_in)"
_PER_MAP = "25 * connected.sum(axis=1, keepdims=True)"

INIT_C3_FAN_IN_150 = _INIT.format(c3_fan_in="150", draw=_UNIFORM, c5_fan_in="400")
INIT_C5_FAN_IN_25 = _INIT.format(c3_fan_in=_PER_MAP, draw=_UNIFORM, c5_fan_in="25")
INIT_NORMAL = _INIT.format(c3_fan_in=_PER_MAP, c5_fan_in="400",
                           draw="rng.normal(0.0, 2.4 / fan_in, size=shape)")

_FORWARD = '''
def lenet5_forward(x, params):
    p, c = params, {{}}
    a, c["C1"] = conv_forward(x, p["C1_w"], p["C1_b"])
    h, c["f1"] = squash_forward(a)
    a, c["S2"] = subsample_forward(h, p["S2_coeff"], p["S2_bias"])
    h, c["f2"] = {s2_out}
    a, c["C3"] = {c3}
    h, c["f3"] = squash_forward(a)
    a, c["S4"] = subsample_forward(h, p["S4_coeff"], p["S4_bias"])
    h, c["f4"] = {s4_out}
    a, c["C5"] = conv_forward(h, p["C5_w"], p["C5_b"])
    h, c["f5"] = squash_forward(a.reshape(len(x), 120))
    a, c["F6"] = dense_forward(h, p["F6_w"], p["F6_b"])
    h, c["f6"] = squash_forward(a)
    penalties, c["RBF"] = rbf_forward(h, RBF_CENTERS)
    {keep}
    return penalties, c
'''
_SPARSE = 'sparse_conv_forward(h, p["C3_w"], p["C3_b"], C3_TABLE)'

FORWARD_SUBSAMPLING_NOT_SQUASHED = _FORWARD.format(
    s2_out="a, None", s4_out="a, None", c3=_SPARSE, keep="")

_BACKWARD = '''
def lenet5_backward(dout, cache):
    c, g = {cache}, {{}}
    d = rbf_backward(dout, c["RBF"])
    d = squash_backward(d, c["f6"])
    d, g["F6_w"], g["F6_b"] = dense_backward(d, c["F6"])
    d = squash_backward(d, c["f5"])
    d, g["C5_w"], g["C5_b"] = conv_backward(d.reshape(len(d), 120, 1, 1), c["C5"])
    {s4_squash}
    d, g["S4_coeff"], g["S4_bias"] = subsample_backward(d, c["S4"])
    d = squash_backward(d, c["f3"])
    d, g["C3_w"], g["C3_b"] = {c3}
    d = squash_backward(d, c["f2"])
    d, g["S2_coeff"], g["S2_bias"] = subsample_backward(d, c["S2"])
    d = squash_backward(d, c["f1"])
    _, g["C1_w"], g["C1_b"] = conv_backward(d, c["C1"])
    return g
'''
_S4_SQUASH = 'd = squash_backward(d, c["f4"])'
_SPARSE_BACK = 'sparse_conv_backward(d, c["C3"])'

# C3 as a dense convolution, forward and backward: equal outputs while the absent weights are
# zero, but those weights get gradients.
DENSE_C3_FORWARD = _FORWARD.format(s2_out="squash_forward(a)", s4_out="squash_forward(a)",
                                   c3='conv_forward(h, p["C3_w"], p["C3_b"])', keep="")
DENSE_C3_BACKWARD = _BACKWARD.format(cache="cache", s4_squash=_S4_SQUASH,
                                     c3='conv_backward(d, c["C3"])')

# S4's squashing function forgotten on the way back only.
BACKWARD_SKIPS_S4_SQUASH = _BACKWARD.format(cache="cache", s4_squash="pass",
                                            c3=_SPARSE_BACK)

# The backward pass reads the caches of the latest forward pass from a global variable.
GLOBAL_CACHE_FORWARD = "LATEST = {}\n" + _FORWARD.format(
    s2_out="squash_forward(a)", s4_out="squash_forward(a)", c3=_SPARSE,
    keep="LATEST.clear(); LATEST.update(c)")
GLOBAL_CACHE_BACKWARD = _BACKWARD.format(cache="LATEST", s4_squash=_S4_SQUASH, c3=_SPARSE_BACK)

NUMGRAD_ONE_SIDED = '''
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=np.float64)
    base = f(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        grad[index] = (f(x) - base) / h
        x[index] = saved
    return grad
'''

NUMGRAD_NOT_RESTORED = '''
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        x[index] += h
        plus = f(x)
        x[index] -= 2 * h
        minus = f(x)
        grad[index] = (plus - minus) / (2 * h)
    return grad
'''

LR_ZERO_BASED = '''
def learning_rate(pass_index):
    schedule = [5e-4] * 2 + [2e-4] * 3 + [1e-4] * 3 + [5e-5] * 4 + [1e-5] * 8
    return schedule[min(pass_index, 19)]
'''

LR_NO_0001_PHASE = '''
def learning_rate(pass_index):
    if pass_index < 1:
        raise ValueError("passes are numbered from 1")
    for last_pass, eta in [(2, 5e-4), (5, 2e-4), (12, 5e-5)]:
        if pass_index <= last_pass:
            return eta
    return 1e-5
'''

SDLM_NO_MU = '''
def sdlm_step(params, grads, hessian, eta, mu=0.02):
    return {k: params[k] - eta / hessian[k] * grads[k] for k in params}
'''

SDLM_IN_PLACE = '''
def sdlm_step(params, grads, hessian, eta, mu=0.02):
    for k in params:
        params[k] -= eta / (mu + hessian[k]) * grads[k]
    return params
'''

_ERROR_RATE = '''
def error_rate(params, x, labels):
    wrong = 0
    for start in range(0, len(x), 500):
        penalties, _ = lenet5_forward(x[start:start + 500], params)
        wrong += int(np.sum(np.{pick}(penalties, axis=1) != labels[start:start + 500]))
    return {result}
'''
ERROR_RATE_ARGMAX = _ERROR_RATE.format(pick="argmax", result="wrong / len(x)")
ERROR_RATE_PERCENT = _ERROR_RATE.format(pick="argmin", result="100 * wrong / len(x)")

TRAIN_PASS_DISCARDS_STEP = '''
def train_pass(params, x, labels, eta, rng, batch_size=8):
    sample = rng.choice(len(x), size=min(500, len(x)), replace=False)
    hessian = estimate_hessian(params, x[sample])
    order = rng.permutation(len(x))
    losses = []
    for start in range(0, len(x), batch_size):
        batch = order[start:start + batch_size]
        penalties, cache = lenet5_forward(x[batch], params)
        loss, dpenalties = map_loss(penalties, labels[batch])
        grads = lenet5_backward(dpenalties, cache)
        new_params = sdlm_step(params, grads, hessian, eta)
        losses.append(loss)
    return params, float(np.mean(losses))
'''

CH = "ch09_training"
_ALL = {
    "t9_init_c3_fan_in_150": ({"init_params": INIT_C3_FAN_IN_150},
                              28, "every C3 map uses fan-in 150"),
    "t9_init_c5_fan_in_25": ({"init_params": INIT_C5_FAN_IN_25}, 26, "fan-in 16 * 25 = 400"),
    "t9_init_normal": ({"init_params": INIT_NORMAL}, 26, "look normally distributed"),
    # the backward pass then fails on the missing caches, and the training checks with it
    "t9_forward_subsampling_not_squashed": ({"lenet5_forward": FORWARD_SUBSAMPLING_NOT_SQUASHED},
                                            16, "S2 and S4 are not squashed"),
    "t9_dense_c3": ({"lenet5_forward": DENSE_C3_FORWARD, "lenet5_backward": DENSE_C3_BACKWARD},
                    23, "absent connections of Table I get a gradient"),
    "t9_backward_skips_s4_squash": ({"lenet5_backward": BACKWARD_SKIPS_S4_SQUASH},
                                    26, "the gradient of S4_coeff is wrong"),
    "t9_global_cache": ({"lenet5_forward": GLOBAL_CACHE_FORWARD,
                         "lenet5_backward": GLOBAL_CACHE_BACKWARD},
                        28, "it must use only what its cache holds"),
    "t9_numgrad_one_sided": ({"numerical_gradient": NUMGRAD_ONE_SIDED},
                             28, "a one-sided difference"),
    "t9_numgrad_not_restored": ({"numerical_gradient": NUMGRAD_NOT_RESTORED},
                                28, "put every entry back"),
    "t9_lr_zero_based": ({"learning_rate": LR_ZERO_BASED}, 28, "shifted by one pass"),
    "t9_lr_no_0001_phase": ({"learning_rate": LR_NO_0001_PHASE},
                            29, "The 0.0001 phase (passes 6 to 8) is missing"),
    # infinite steps where h_kk = 0: training breaks too (train_pass 1 + 3)
    "t9_sdlm_no_mu": ({"sdlm_step": SDLM_NO_MU}, 24, "Without mu the step explodes"),
    "t9_sdlm_in_place": ({"sdlm_step": SDLM_IN_PLACE}, 28, "in place"),
    "t9_error_rate_argmax": ({"error_rate": ERROR_RATE_ARGMAX}, 28, "SMALLEST penalty (argmin)"),
    "t9_error_rate_percent": ({"error_rate": ERROR_RATE_PERCENT}, 28, "That is a percentage"),
    "t9_train_pass_discards_step": ({"train_pass": TRAIN_PASS_DISCARDS_STEP},
                                    27, "returned the parameters it was given, unchanged"),
}

# A chapter-9 notebook takes about a minute to grade (it trains a network and classifies the
# 10,000 test digits twice), so the suite, which must stay under 15 minutes, grades three of the
# sixteen (a forward/backward mistake, an optimiser mistake, a training mistake); EXTRA lists the
# others, all checked by hand with `python -m autograder grade` (same scores and diagnoses).
_IN_SUITE = ("t9_dense_c3", "t9_sdlm_no_mu", "t9_train_pass_discards_step")

FAULTY = {name: (CH, _ALL[name][0]) for name in _IN_SUITE}
EXPECTED = {name: _ALL[name][1:] for name in _IN_SUITE}
EXTRA_FAULTY = {name: (CH, replace) for name, (replace, *_) in _ALL.items() if name not in _IN_SUITE}
EXTRA_EXPECTED = {name: tuple(rest) for name, (_, *rest) in _ALL.items() if name not in _IN_SUITE}
