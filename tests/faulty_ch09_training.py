"""Deliberately wrong submissions of chapter 9 (assembling and training), with the grade and
diagnosis they earn.

Chapter 9's test cells: init_params, lenet5_forward, lenet5_backward, numerical_gradient,
learning_rate, estimate_hessian, sdlm_step, error_rate and train_pass, visible and hidden each
(their points are the notebook's, tests/faulty.py). Every hidden check gives partial credit
per part (a parameter set, a layer, a rule), and its feedback names the parts that passed.
The checks of a function that builds on another look at that one first: the backward checks
start with the student's own forward pass (half the hidden points if the backward pass
differentiates a wrong forward pass correctly), the error_rate checks count with a stand-in
network of the grader's, and the train_pass check compares the loop with the same loop run
with the student's own parts; a network that does not learn because one of those parts is
wrong (graded by its own checks) does not cost train_pass its points again.
"""
import re
from pathlib import Path

import nbformat

_SOLUTION = nbformat.read(Path(__file__).resolve().parent.parent / "solutions" / "ch09_training"
                          / "ch09_training.ipynb", as_version=4)


def _solution(grade_id: str, old: str = "", new: str = "") -> str:
    """The solution of ``grade_id`` without its markers, with ``old`` replaced by ``new``."""
    (cell,) = [c for c in _SOLUTION.cells
               if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    source = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", "", cell.source, flags=re.M)
    if old:
        assert old in source, f"{grade_id}: {old!r} is not in the solution any more"
        source = source.replace(old, new)
    return source


_INIT = '''
def init_params(rng):
    rng = np.random.default_rng(rng)
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
from lenet5.data import rbf_bitmaps

RBF_CENTERS = rbf_bitmaps().reshape(10, 84)


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

# The curvature summed over the digits instead of averaged.
HESSIAN_SUM_NOT_MEAN = _solution("estimate_hessian", "value / len(x) for name", "value for name")
# The subsampling coefficients' curvature from the sum of the squared inputs, not the squared sum.
HESSIAN_COEFF_SUM_OF_SQUARES = _solution(
    "estimate_hessian",
    "sums, _ = subsample_forward(x_in, np.ones_like(coeff), np.zeros_like(bias))",
    "sums = np.sqrt(subsample_forward(x_in ** 2, np.ones_like(coeff), np.zeros_like(bias))[0])")

SDLM_NO_MU = '''
def sdlm_step(params, grads, hessian, eta, mu=0.02):
    return {k: params[k] - eta / hessian[k] * grads[k] for k in params}
'''

_ERROR_RATE = '''
def error_rate(params, x, labels, forward=None):
    {use}
    wrong = 0
    for start in range(0, len(x), {batch}):
        penalties, _ = forward(x[start:start + {batch}], params)
        wrong += int(np.sum(np.{pick}(penalties, axis=1) != labels[start:start + {batch}]))
    return {result}
'''
_DEFAULT = "forward = lenet5_forward if forward is None else forward"
ERROR_RATE_ARGMAX = _ERROR_RATE.format(use=_DEFAULT, batch=500, pick="argmax",
                                       result="wrong / len(x)")
ERROR_RATE_PERCENT = _ERROR_RATE.format(use=_DEFAULT, batch=500, pick="argmin",
                                        result="100 * wrong / len(x)")
# The whole set in one forward pass: what ran out of memory during grading.
ERROR_RATE_ALL_AT_ONCE = _ERROR_RATE.format(use=_DEFAULT, batch="len(x)", pick="argmin",
                                            result="wrong / len(x)")
ERROR_RATE_IGNORES_FORWARD = _ERROR_RATE.format(use="forward = lenet5_forward", batch=500,
                                                pick="argmin", result="wrong / len(x)")

TRAIN_PASS_DISCARDS_STEP = _solution(
    "train_pass", "params = sdlm_step(params,", "new_params = sdlm_step(params,")
TRAIN_PASS_DROPS_LAST_BATCH = _solution(
    "train_pass", "range(0, len(order), batch_size)",
    "range(0, len(order) - batch_size + 1, batch_size)")
TRAIN_PASS_IGNORES_ORDER = _solution(
    "train_pass", "    if order is None:\n        order = rng.permutation(len(x))",
    "    order = rng.permutation(len(x))")

CH = "ch09_training"
# case -> (the cells it replaces, what it loses, a phrase its feedback must hold). What it
# loses: for the cases the suite grades (_IN_SUITE), the share of each test cell's points, as
# in the other chapters; for the others (EXTRA_EXPECTED, which no test reads), the total it
# earned of the chapter's 35 points when its hidden checks were run on it directly.
_ALL = {
    "t9_init_c3_fan_in_150": ({"init_params": INIT_C3_FAN_IN_150},
                              34.75, "every C3 map uses fan-in 150"),
    "t9_init_c5_fan_in_25": ({"init_params": INIT_C5_FAN_IN_25}, 32.75, "fan-in 16 * 25 = 400"),
    "t9_init_normal": ({"init_params": INIT_NORMAL}, 31.75, "look normally distributed"),
    # the backward checks look at the forward pass first and name its slip; the solution's
    # backward pass then fails on the missing caches; train_pass's hidden check keeps its
    # points (the same loop with the student's own parts fails in the same way)
    "t9_forward_subsampling_not_squashed": (
        {"lenet5_forward": FORWARD_SUBSAMPLING_NOT_SQUASHED},
        {"lenet5_forward_visible": 1, "lenet5_forward_hidden": 1, "lenet5_backward_visible": 1,
         "lenet5_backward_hidden": 1, "train_pass_visible": 1},
        "S2 and S4 are not squashed"),
    "t9_dense_c3": ({"lenet5_forward": DENSE_C3_FORWARD, "lenet5_backward": DENSE_C3_BACKWARD},
                    30.45, "absent connections of Table I get a gradient"),
    "t9_backward_skips_s4_squash": ({"lenet5_backward": BACKWARD_SKIPS_S4_SQUASH},
                                    30.6, "the gradient of S4_coeff is wrong"),
    "t9_global_cache": ({"lenet5_forward": GLOBAL_CACHE_FORWARD,
                         "lenet5_backward": GLOBAL_CACHE_BACKWARD},
                        34.4, "it must use only what its cache holds"),
    "t9_numgrad_one_sided": ({"numerical_gradient": NUMGRAD_ONE_SIDED},
                             32.5, "a one-sided difference"),
    "t9_numgrad_not_restored": ({"numerical_gradient": NUMGRAD_NOT_RESTORED},
                                33.5, "put every entry back"),
    "t9_lr_zero_based": ({"learning_rate": LR_ZERO_BASED}, 32.5, "shifted by one pass"),
    # caught by the visible check (learning_rate(7)), and by the hidden one, which gives the
    # two of its three parts that pass (after pass 20, below pass 1) their share
    "t9_lr_no_0001_phase": ({"learning_rate": LR_NO_0001_PHASE},
                            {"learning_rate_visible": 1, "learning_rate_hidden": 0.5},
                            "The 0.0001 phase (passes 6 to 8) is missing"),
    "t9_hessian_sum_not_mean": ({"estimate_hessian": HESSIAN_SUM_NOT_MEAN},
                                30.75, "average over the 3 digits"),
    "t9_hessian_coeff_sum_of_squares": ({"estimate_hessian": HESSIAN_COEFF_SUM_OF_SQUARES},
                                        30, "the square of the sum, not the sum of the squares"),
    # infinite steps where h_kk = 0: the loop is right, the network cannot learn, and that is
    # sdlm_step's fault, not train_pass's
    "t9_sdlm_no_mu": ({"sdlm_step": SDLM_NO_MU}, 32, "Without mu the step explodes"),
    "t9_error_rate_argmax": ({"error_rate": ERROR_RATE_ARGMAX}, 32.4,
                             "SMALLEST penalty (argmin)"),
    "t9_error_rate_percent": ({"error_rate": ERROR_RATE_PERCENT}, 32.8, "That is a percentage"),
    # the whole test set at once (1.12 GiB during grading): the visible check and the hidden
    # memory-rule part catch it
    "t9_error_rate_all_at_once": ({"error_rate": ERROR_RATE_ALL_AT_ONCE},
                                  {"error_rate_visible": 1, "error_rate_hidden": 0.2},
                                  "the rule is at most 1,000 at a time"),
    "t9_error_rate_ignores_forward": ({"error_rate": ERROR_RATE_IGNORES_FORWARD},
                                      32.4, "it never called it"),
    "t9_train_pass_discards_step": ({"train_pass": TRAIN_PASS_DISCARDS_STEP},
                                    31.75, "returned the parameters it was given, unchanged"),
    "t9_train_pass_drops_last_batch": ({"train_pass": TRAIN_PASS_DROPS_LAST_BATCH},
                                       {"train_pass_hidden": 0.625}, "the last, smaller batch"),
    "t9_train_pass_ignores_order": ({"train_pass": TRAIN_PASS_IGNORES_ORDER},
                                    33.5, "the next batch_size digits of the order"),
}

# A chapter-9 notebook takes a few minutes to grade (it trains a network and classifies the
# 10,000 test digits twice), so the suite, which must stay under 15 minutes, grades four of
# the cases (a forward mistake the backward check must not blame on the backward pass, the
# memory rule, a training-loop mistake, a schedule without the 0.0001 phase with partial
# credit); EXTRA lists the others, whose scores and diagnoses come from running the hidden
# checks on them directly (the graded cases agree with `python -m autograder grade`).
_IN_SUITE = ("t9_forward_subsampling_not_squashed", "t9_error_rate_all_at_once",
             "t9_train_pass_drops_last_batch", "t9_lr_no_0001_phase")

FAULTY = {name: (CH, _ALL[name][0]) for name in _IN_SUITE}
EXPECTED = {name: _ALL[name][1:] for name in _IN_SUITE}
EXTRA_FAULTY = {name: (CH, replace) for name, (replace, *_) in _ALL.items()
                if name not in _IN_SUITE}
EXTRA_EXPECTED = {name: tuple(rest) for name, (_, *rest) in _ALL.items() if name not in _IN_SUITE}
