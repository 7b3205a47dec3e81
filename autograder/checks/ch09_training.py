"""Hidden checks of chapter 9: initialisation, the assembled network and its gradient, the
finite-difference gradient, the learning-rate schedule, the Gauss-Newton curvature, the SDLM
step, the error rate and the training pass.

They run in the judge, outside the student's kernel: the student's functions are called with
plain data (arrays, numbers, dicts; functions of this module cross as references the notebook
can call back) and what they return comes back as data. So these checks never rely on seeing
an argument change in place, and a random generator is passed as a seed (the exercises start
with ``rng = np.random.default_rng(rng)``).

The references are independent of the solution cells: the network is ``reference.model``
(fused matrix products, its own back-propagation and curvature pass) and ``reference.layers``
for the diagnoses; gradients are also checked by finite differences, and the expected values
of the small functions are written out from the paper. Where a wrong answer matches a known
mistake, the message names it. A check of a function that builds on another (the backward pass
on the forward pass, a training pass on every part) first looks at the part it builds on, so
that one slip is not blamed on the next exercise.
"""
from __future__ import annotations

import numbers

import numpy as np

from lenet5 import data
from lenet5.testing import check_array
from reference import layers, model

from .common import Partial, Parts, numerical_gradient, pair, rng

A, S = 1.7159, 2.0 / 3.0
MAP_J = 5.0                     # j of eq. 9 in this book (chapter 8)
SHAPES = model.PARAM_SHAPES
#: Parameter arrays from the output down: the order in which back-propagation reaches them.
BACKWARD_ORDER = ("F6_w", "F6_b", "C5_w", "C5_b", "S4_coeff", "S4_bias", "C3_w", "C3_b",
                  "S2_coeff", "S2_bias", "C1_w", "C1_b")
BIASES = ("C1_b", "S2_bias", "C3_b", "S4_bias", "C5_b", "F6_b")
LAYERS = ("C1", "S2", "C3", "S4", "C5", "F6")
_CONNECTED = np.broadcast_to(model.C3_TABLE.T[:, :, None, None], SHAPES["C3_w"])
#: What each layer computes, for the messages that name the first layer that differs.
_LAYER_HINTS = {
    "C1": "f(conv_forward(x, C1_w, C1_b))",
    "S2": "f(subsample_forward(C1 output, S2_coeff, S2_bias))",
    "C3": "f(sparse_conv_forward(S2 output, C3_w, C3_b, C3_TABLE))",
    "S4": "f(subsample_forward(C3 output, S4_coeff, S4_bias))",
    "C5": "f(conv_forward(S4 output, C5_w, C5_b)), reshaped to (N, 120)",
    "F6": "f(dense_forward(C5 output, F6_w, F6_b))",
    "RBF": "rbf_forward(F6 output, RBF_CENTERS), the ten Fig. 3 codes reshaped to (10, 84)",
}

_DIGITS: dict = {}


def _digits(split: str, n: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    """Network inputs (float64) and labels of the first n digits of an MNIST split."""
    if split not in _DIGITS:
        images, labels = data.load_mnist(split)
        _DIGITS[split] = (images[:10_000], labels[:10_000].astype(np.int64))
    images, labels = _DIGITS[split]
    return model.to_input(images[:n], np.float64), labels[:n]


def _trained() -> dict:
    return {k: v.astype(np.float64) for k, v in model.load_trained().items()}


def _params_sets() -> list[tuple[str, dict]]:
    """Float64 parameter sets to try: two random starts and the trained weights."""
    sets = [(f"random parameters (seed {s})", model.init_params(s, np.float64)) for s in (11, 12)]
    sets.append(("the trained weights", _trained()))
    return sets


def _copy(params: dict) -> dict:
    return {k: np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}



def _check_keys(got, what: str) -> None:
    if not isinstance(got, dict):
        raise AssertionError(f"{what}: expected a dict keyed like the parameters, "
                             f"got {type(got).__name__}")
    missing, extra = sorted(set(SHAPES) - set(got)), sorted(set(got) - set(SHAPES))
    if missing or extra:
        raise AssertionError(f"{what}: keys must be exactly those of PARAM_SHAPES; "
                             f"missing {missing}, unexpected {extra}")
    for k, shape in SHAPES.items():
        if type(got[k]) is not np.ndarray:
            raise AssertionError(f"{what}['{k}']: expected a NumPy array, got "
                                 f"{type(got[k]).__name__}")
        if got[k].shape != shape:
            raise AssertionError(f"{what}['{k}']: expected shape {shape}, got {got[k].shape}")


def _relative(got, expected) -> float:
    scale = np.abs(expected).max()
    return float(np.abs(got - expected).max() / scale) if scale > 0 else float(np.abs(got).max())


def _where(first: str) -> str:
    """Where to look when ``first`` is the first array (from the output down) that is wrong."""
    right = list(BACKWARD_ORDER[:BACKWARD_ORDER.index(first)])
    if right:
        return (f"The arrays above it ({', '.join(right)}) are right, so look at the steps "
                f"between those layers and {first}.")
    return "It is the first array from the output down, so look at the first steps (RBF, F6)."


# --------------------------------------------------------------------------- init_params

def check_init_params(init_params) -> None:
    """Parts (weights in twelfths): the arrays 2, the use of rng 2, zero biases 1, Table I's
    zeros 2, then the range and spread of each weight array, one part per layer, 1 each."""
    parts = Parts()
    with parts("twelve float64 arrays of the right shapes", weight=2):
        draws = [init_params(seed) for seed in range(12)]
        _check_keys(draws[0], "init_params(rng)")
        for k in SHAPES:
            if draws[0][k].dtype != np.float64:
                raise AssertionError(f"init_params(rng)['{k}']: expected float64, got "
                                     f"{draws[0][k].dtype}")
    if parts.failed:
        parts.verdict()                     # nothing else can be checked
    with parts("random numbers drawn from rng", weight=2):
        again = init_params(0)
        if not all(np.array_equal(again[k], draws[0][k]) for k in SHAPES):
            raise AssertionError("two calls with the same seed gave different parameters; draw "
                                 "every random number from the rng argument (rng = "
                                 "np.random.default_rng(rng) first)")
        if np.array_equal(draws[0]["C5_w"], draws[1]["C5_w"]):
            raise AssertionError("init_params ignores its rng: seeds 0 and 1 gave the same "
                                 "C5_w; draw the numbers from rng, not from np.random or a fixed "
                                 "seed")
    with parts("biases at zero"):
        for k in BIASES:
            if any(np.any(p[k] != 0) for p in draws):
                raise AssertionError(f"{k} is not zero; this book starts every bias at 0 (the "
                                     f"paper does not say, and the exercise asks for zeros)")
    absent = ~model.C3_TABLE.T                                           # (16, 6)
    with parts("C3_w zero at the absent connections of Table I", weight=2):
        for p in draws:
            if np.any(p["C3_w"][absent] != 0):
                j, i = np.argwhere(np.any(p["C3_w"] != 0, axis=(2, 3)) & absent)[0]
                raise AssertionError(f"C3_w[{j}, {i}] is not zero, but S2 map {i} does not "
                                     f"feed C3 map {j} in Table I; C3_w[j, i] must be 0 unless "
                                     f"C3_TABLE[i, j]")
    inputs = model.C3_TABLE.sum(axis=0)                                  # (16,) 3, 4 or 6
    c3_groups = []
    for k in (3, 4, 6):
        maps = np.flatnonzero(inputs == k)
        c3_groups.append((f"C3_w of the maps with {k} inputs ({', '.join(map(str, maps))})",
                          25 * k, [p["C3_w"][maps][model.C3_TABLE.T[maps]].ravel()
                                   for p in draws]))
    layers_ = [("C1_w", [("C1_w", 25, [p["C1_w"].ravel() for p in draws])]),
               ("S2_coeff and S4_coeff",
                [("S2_coeff and S4_coeff", 4,
                  [np.concatenate([p["S2_coeff"], p["S4_coeff"]]) for p in draws])]),
               ("C3_w", c3_groups),
               ("C5_w", [("C5_w", 400, [p["C5_w"].ravel() for p in draws])]),
               ("F6_w", [("F6_w", 120, [p["F6_w"].ravel() for p in draws])])]
    for name, groups in layers_:
        with parts(f"{name} uniform in +-2.4/F_i"):
            for label, fan_in, values in groups:
                _check_uniform(label, fan_in, np.concatenate(values))
    parts.verdict()


def _fan_in_hint(label: str, fan_in: int, implied: float) -> str:
    near = lambda f: abs(implied - f) <= 0.12 * f       # noqa: E731
    if label.startswith("C3") and fan_in != 150 and near(150):
        return (" It looks like every C3 map uses fan-in 150; a C3 unit adds 25 inputs per S2 "
                "map it reads, and Table I gives it 3, 4 or 6 maps: fan-in 75, 100 or 150.")
    if label.startswith("C3") and near(25):
        return " A C3 unit reads a 5x5 window in each of its 3, 4 or 6 S2 maps, not in one."
    if label == "C5_w" and near(25):
        return " A C5 unit reads a 5x5 window in each of the 16 S4 maps: fan-in 16 * 25 = 400."
    if label == "F6_w" and near(84):
        return " The fan-in of an F6 unit is its 120 inputs (C5), not the 84 units of F6."
    if label.startswith("S2") and near(1):
        return " A subsampling unit adds the 4 inputs of a 2x2 block: fan-in 4."
    return ""


def _check_uniform(label: str, fan_in: int, values: np.ndarray) -> None:
    bound = 2.4 / fan_in
    largest = float(np.abs(values).max())
    implied = 2.4 / largest if largest > 0 else float("inf")
    if largest > bound * (1 + 1e-9):
        normal = np.mean(np.abs(values) > bound) > 0 and _kurtosis(values) > 2.4
        extra = (" The values look normally distributed: draw them uniformly (rng.uniform)."
                 if normal else _fan_in_hint(label, fan_in, implied))
        raise AssertionError(f"init_params: {label} reaches |w| = {largest:.4g}, beyond the "
                             f"bound 2.4 / F_i = 2.4 / {fan_in} = {bound:.4g} (your largest value "
                             f"matches a fan-in of about {implied:.3g}).{extra}")
    if largest < 0.9 * bound:
        raise AssertionError(f"init_params: {label} stays within |w| <= {largest:.4g} over "
                             f"{values.size:,} draws, well inside 2.4 / {fan_in} = {bound:.4g}: "
                             f"uniform values in +-{bound:.4g} come closer to the bound (your "
                             f"range matches a fan-in of about {implied:.3g})."
                             f"{_fan_in_hint(label, fan_in, implied)}")
    spread = bound / np.sqrt(3)                                   # std of U(-bound, bound)
    if abs(values.mean()) > 5 * spread / np.sqrt(values.size):
        raise AssertionError(f"init_params: {label} has mean {values.mean():.3g} over "
                             f"{values.size:,} draws; the weights must be centred on 0, uniform "
                             f"in [-{bound:.4g}, +{bound:.4g}] (not [0, {bound:.4g}])")
    ratio = values.std() / spread
    if not 0.8 < ratio < 1.2:
        raise AssertionError(f"init_params: {label} has standard deviation {values.std():.3g}; "
                             f"uniform values in +-{bound:.4g} have {spread:.3g}. Draw them "
                             f"uniformly over the whole interval.")


def _kurtosis(values: np.ndarray) -> float:
    centred = values - values.mean()
    return float(np.mean(centred ** 4) / np.mean(centred ** 2) ** 2)    # uniform 1.8, normal 3


# ------------------------------------------------------------------------ lenet5_forward

def _chain(x: np.ndarray, p: dict, skip: frozenset = frozenset()) -> dict:
    """Every layer's output (after f) and the penalties, from the layers module; optionally
    with a known mistake (for diagnoses): 'fN' leaves out the squash after layer N, 'table'
    uses C3 without Table I, 'max' pools."""
    L = layers

    def f(a, name):
        return a if name in skip else L.squash_forward(a)[0]

    def sub(h, c, b):
        if "max" in skip:
            n, ch, hh, ww = h.shape
            pooled = h.reshape(n, ch, hh // 2, 2, ww // 2, 2).max(axis=(3, 5))
            return pooled * c[None, :, None, None] + b[None, :, None, None]
        return L.subsample_forward(h, c, b)[0]

    out = {}
    out["C1"] = h = f(L.conv_forward(x, p["C1_w"], p["C1_b"])[0], "f1")
    out["S2"] = h = f(sub(h, p["S2_coeff"], p["S2_bias"]), "f2")
    if "table" in skip:
        out["C3"] = h = f(L.conv_forward(h, p["C3_w"], p["C3_b"])[0], "f3")
    else:
        out["C3"] = h = f(L.sparse_conv_forward(h, p["C3_w"], p["C3_b"], model.C3_TABLE)[0],
                          "f3")
    out["S4"] = h = f(sub(h, p["S4_coeff"], p["S4_bias"]), "f4")
    out["C5"] = h = f(L.conv_forward(h, p["C5_w"], p["C5_b"])[0].reshape(len(x), 120), "f5")
    out["F6"] = h = f(L.dense_forward(h, p["F6_w"], p["F6_b"])[0], "f6")
    out["RBF"] = L.rbf_forward(h, L.RBF_CENTERS)[0]
    return out


_FORWARD_MISTAKES = {
    frozenset({"f2", "f4"}): "S2 and S4 are not squashed: in LeNet-5 the subsampling units pass "
                             "coefficient * sum + bias through f like every layer up to F6",
    frozenset({"f2"}): "S2 is not squashed: apply f after subsample_forward",
    frozenset({"f4"}): "S4 is not squashed: apply f after subsample_forward",
    frozenset({"f6"}): "F6 is not squashed: the RBF units compare f(F6) with the +-1 codes",
    frozenset({"f5"}): "C5 is not squashed: apply f after the C5 convolution",
    frozenset({"f1"}): "C1 is not squashed",
    frozenset({"f3"}): "C3 is not squashed",
    frozenset({"table"}): "C3 connects every S2 map to every C3 map; use sparse_conv_forward "
                          "with C3_TABLE (Table I)",
    frozenset({"max"}): "S2/S4 take the maximum of each block; LeNet-5 adds the four inputs "
                        "(then multiplies by the coefficient and adds the bias)",
}


def _arrays_in(cache, limit: int = 10_000) -> list[np.ndarray]:
    """Every array of numbers inside a cache made of dicts, lists and tuples."""
    found, todo = [], [cache]
    while todo and len(found) < limit:
        item = todo.pop()
        if isinstance(item, np.ndarray):
            if item.dtype.kind in "iuf":
                found.append(item)
        elif isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, (list, tuple)):
            todo.extend(item)
    return found


def first_layer_missing(cache, outputs: dict, rtol: float = 1e-7, atol: float = 1e-9):
    """The first layer (C1 ... F6, then 'RBF') whose output, f(a) or f(a) / 1.7159, no array of
    ``cache`` holds; None if the cache holds no array at all."""
    found = _arrays_in(cache)
    if not found:
        return None
    for layer in LAYERS:
        out = outputs[layer]
        same_size = [a for a in found if a.size == out.size]
        if not any(np.allclose(a.reshape(out.shape), form, rtol=rtol, atol=atol)
                   for a in same_size for form in (out, out / A)):
            return layer
    return "RBF"


def _diagnose_forward(got, cache, x, p) -> str:
    for skip, message in _FORWARD_MISTAKES.items():
        try:
            if np.allclose(got, _chain(x, p, skip)["RBF"], rtol=1e-8, atol=1e-8):
                return ". " + message[0].upper() + message[1:] + "."
        except Exception:       # noqa: BLE001 - a diagnosis must never mask the failure
            pass
    try:
        layer = first_layer_missing(cache, _chain(x, p))
    except Exception:           # noqa: BLE001
        return ""
    if layer is None:
        return ""
    if layer == "RBF":
        return (". Your cache holds the right output of every layer up to F6, so the output "
                f"step differs: {_LAYER_HINTS['RBF']}.")
    before = LAYERS[:LAYERS.index(layer)]
    right = f"the right outputs of {', '.join(before)} but " if before else ""
    return (f". Your cache holds {right}no array equal to {layer}'s output, "
            f"{_LAYER_HINTS[layer]}: the first difference is there (or your cache keeps that "
            f"output in another layout).")


def check_lenet5_forward(lenet5_forward) -> None:
    test_x, _ = _digits("test", 2000)
    r = rng()
    sets = _params_sets()
    # parameters with non-zero values at C3's absent connections: they must be ignored
    dense_c3 = _copy(sets[0][1])
    dense_c3["C3_w"] = np.where(_CONNECTED, dense_c3["C3_w"],
                                r.uniform(-0.03, 0.03, size=SHAPES["C3_w"]))
    sets.append(("parameters with non-zero C3_w at absent connections", dense_c3))
    parts = Parts()                          # one part per parameter set
    for (what, params), n in zip(sets, (3, 1, 5, 2)):
        x = test_x[r.choice(len(test_x), size=n, replace=False)]
        with parts(f"{n} digits, {what}"):
            result = lenet5_forward(x, params)
            penalties, cache = pair(result, "lenet5_forward(x, params)", "(penalties, cache)")
            expected, _ = model.forward(x, params)
            try:
                check_array(f"lenet5_forward penalties ({n} digits, {what})", penalties,
                            expected, rtol=1e-8, atol=1e-8)
            except AssertionError as err:
                if isinstance(penalties, np.ndarray) and penalties.shape == expected.shape:
                    raise AssertionError(str(err) + _diagnose_forward(penalties, cache, x,
                                                                      params)) from None
                raise
    parts.verdict()


# ----------------------------------------------------------------------- lenet5_backward

def _compare_grads(grads: dict, expected: dict, what: str, n: int) -> None:
    _check_keys(grads, what)
    bad = [k for k in BACKWARD_ORDER if _relative(grads[k], expected[k]) > 1e-7]
    if not bad:
        return
    first = bad[0]
    g, e = grads[first], expected[first]
    detail = ""
    if first == "C3_w" and _relative(np.where(_CONNECTED, g, 0), e) <= 1e-7:
        detail = (" The connected kernels are right, but the absent connections of Table I get "
                  "a gradient: it must be zero there (sparse_conv_backward).")
    elif np.allclose(g, -e, rtol=1e-6, atol=1e-12):
        detail = " It has the wrong sign."
    elif n > 1 and np.allclose(g, n * e, rtol=1e-6, atol=1e-12):
        detail = f" It is {n} times too large (the batch size)."
    elif n > 1 and np.allclose(g * n, e, rtol=1e-6, atol=1e-12):
        detail = f" It is {n} times too small (the batch size)."
    raise AssertionError(f"{what}: the gradient of {first} is wrong (largest error "
                         f"{_relative(g, e):.2g} relative to its size); wrong arrays: "
                         f"{', '.join(bad)}.{detail} Your lenet5_forward is right, so the "
                         f"slip is in the backward pass. {_where(first)}")


def _finite_difference_mismatch(lenet5_forward, grads, params, x, dout, r, per_array=3):
    """The first array whose back-propagated gradient disagrees with central differences of
    sum(lenet5_forward(x)[0] * dout), as (name, entries, analytic, numeric); else None."""
    connected = np.flatnonzero(_CONNECTED)
    for k in BACKWARD_ORDER:
        pool = connected if k == "C3_w" else np.arange(params[k].size)
        idx = r.choice(pool, size=min(per_array, len(pool)), replace=False)
        trial = _copy(params)
        flat = trial[k].reshape(-1)

        def penalties_at(values, flat=flat, idx=idx, trial=trial):
            flat[idx] = values
            return np.asarray(lenet5_forward(x, trial)[0], dtype=np.float64)

        numeric = numerical_gradient(penalties_at, flat[idx].copy(), dout, eps=1e-5)
        analytic = np.asarray(grads[k], dtype=np.float64).reshape(-1)[idx]
        if not np.allclose(analytic, numeric, rtol=1e-5,
                           atol=1e-8 * max(1.0, np.abs(numeric).max())):
            return k, idx, analytic, numeric
    return None


def _backward_of_a_wrong_forward(lenet5_forward, lenet5_backward, forward_error: str) -> None:
    """lenet5_forward is wrong: say so first, and give half the points if lenet5_backward at
    least differentiates the student's own forward pass."""
    train_x, _ = _digits("train", 400)
    r = rng()
    params = model.init_params(11, np.float64)
    x = train_x[300:301]
    dout = r.standard_normal((1, 10))
    lead = (f"lenet5_backward cannot give the network's gradient while lenet5_forward "
            f"computes something else ({forward_error}); fix lenet5_forward first (see its "
            f"checks).")
    try:
        _, cache = pair(lenet5_forward(x, params), "lenet5_forward", "(penalties, cache)")
        grads = lenet5_backward(dout, cache)
        _check_keys(grads, "lenet5_backward(dout, cache)")
        mismatch = _finite_difference_mismatch(lenet5_forward, grads, params, x, dout, r, 2)
    except Exception as err:    # noqa: BLE001 - report what happened, whatever it was
        raise AssertionError(f"{lead} With your lenet5_forward, lenet5_backward fails: "
                             f"{type(err).__name__}: {err}") from None
    if mismatch is None:
        raise Partial(0.5, f"{lead} Your lenet5_backward does differentiate your own forward "
                           f"pass (it agrees with finite differences of it): half the points.")
    k, idx, analytic, numeric = mismatch
    raise AssertionError(f"{lead} Your lenet5_backward does not differentiate your own forward "
                         f"pass either: the gradient of {k} disagrees with finite differences "
                         f"of it (entries {idx.tolist()}: backprop "
                         f"{np.round(analytic, 8).tolist()}, numerical "
                         f"{np.round(numeric, 8).tolist()}).")


def check_lenet5_backward(lenet5_forward, lenet5_backward) -> None:
    train_x, _ = _digits("train", 2000)
    r = rng()
    sets = _params_sets()

    # the student's own forward pass first: a wrong one is not the backward pass's fault
    for what, params in (sets[0], sets[2]):
        x = train_x[:3]
        penalties, cache = pair(lenet5_forward(x, params), "lenet5_forward",
                                "(penalties, cache)")
        try:
            check_array(f"lenet5_forward penalties (3 digits, {what})", penalties,
                        model.forward(x, params)[0], rtol=1e-8, atol=1e-8)
        except AssertionError as err:
            diagnosis = ""
            if isinstance(penalties, np.ndarray) and penalties.shape == (3, 10):
                diagnosis = _diagnose_forward(penalties, cache, x, params)
            _backward_of_a_wrong_forward(lenet5_forward, lenet5_backward,
                                         str(err).rstrip(".") + diagnosis)

    parts = Parts()       # the gradient for each parameter set, the cache, finite differences
    for (what, params), n in zip(sets, (3, 2, 4)):
        x = train_x[r.choice(len(train_x), size=n, replace=False)]
        dout = r.standard_normal((n, 10))
        with parts(f"the gradients ({n} digits, {what})"):
            _, cache = pair(lenet5_forward(x, params), "lenet5_forward", "(penalties, cache)")
            grads = lenet5_backward(dout, cache)
            _, ref_cache = model.forward(x, params)
            _compare_grads(grads, model.backward(dout, ref_cache),
                           f"lenet5_backward ({n} digits, {what})", n)

    # the cache, not the latest forward pass, must decide the gradient
    params = sets[0][1]
    x1, x2 = train_x[100:102], train_x[200:203]
    d1 = r.standard_normal((2, 10))
    with parts("the gradient of the batch whose cache it is given"):
        # compared with the student's own gradient of a fresh cache, so that a slip in the
        # gradient itself (the parts above) is not charged here again
        _, cache1 = lenet5_forward(x1, params)
        lenet5_forward(x2, params)
        problem = None
        try:
            later = lenet5_backward(d1, cache1)
            _check_keys(later, "lenet5_backward(dout, cache)")
            _, fresh_cache = lenet5_forward(x1, params)
            fresh = lenet5_backward(d1, fresh_cache)
            if not all(np.allclose(np.asarray(later[k], dtype=np.float64),
                                   np.asarray(fresh[k], dtype=np.float64), rtol=1e-9, atol=1e-12)
                       for k in SHAPES):
                problem = "it gave another gradient than right after that batch's forward pass"
        except Exception as err:    # noqa: BLE001 - report what happened, whatever it was
            problem = f"{type(err).__name__}: {err}"
        if problem:
            raise AssertionError("lenet5_backward(dout, cache) after a second forward pass on "
                                 "other digits did not give the gradient of the first batch: it "
                                 f"must use only what its cache holds ({problem})")

    # finite differences of sum(penalties * dout) on one digit, three entries of every array
    x = train_x[300:301]
    dout = r.standard_normal((1, 10))
    with parts("finite differences of your own forward pass"):
        _, cache = lenet5_forward(x, params)
        grads = lenet5_backward(dout, cache)
        _check_keys(grads, "lenet5_backward(dout, cache)")
        mismatch = _finite_difference_mismatch(lenet5_forward, grads, params, x, dout, r)
        if mismatch is not None:
            k, idx, analytic, numeric = mismatch
            raise AssertionError(f"lenet5_backward: the gradient of {k} disagrees with finite "
                                 f"differences (entries {idx.tolist()}: backprop "
                                 f"{np.round(analytic, 8).tolist()}, numerical "
                                 f"{np.round(numeric, 8).tolist()})")
    parts.verdict()


# -------------------------------------------------------------------- numerical_gradient

def check_numerical_gradient(numerical_gradient_fn) -> None:
    """Parts: the accuracy of a central difference, one entry changed at a time, any shape,
    a one-element array."""
    r = rng()
    calls: list[np.ndarray] = []
    parts = Parts()

    def recorded(f):
        def g(v):
            calls.append(np.array(v, copy=True))
            return f(v)
        return g

    # a quadratic near its minimum: central differences are exact, one-sided ones are off by h
    centre = r.uniform(-1, 1, size=7)
    x_quadratic = centre + r.uniform(-1e-3, 1e-3, size=7)
    weights = r.standard_normal((2, 3, 4))
    x_sin = r.uniform(-2, 2, size=(2, 3, 4))
    with parts("a central difference (exact for a quadratic)"):
        got = numerical_gradient_fn(recorded(lambda v: float(np.sum((v - centre) ** 2))),
                                    x_quadratic.copy())
        check_array("numerical_gradient(sum((x - c)^2), x) near its minimum c", got,
                    2 * (x_quadratic - centre), rtol=1e-6, atol=1e-9,
                    hint=("the error is about h: a one-sided difference (f(x+h) - f(x)) / h? Use "
                          "the central difference (f(x+h) - f(x-h)) / 2h, whose error is of "
                          "order h^2"))
    quadratic_calls = list(calls)
    calls.clear()
    with parts("any shape: x of shape (2, 3, 4)"):
        got = numerical_gradient_fn(recorded(lambda v: float(np.sum(np.sin(v) * weights))),
                                    x_sin.copy())
        expected = np.cos(x_sin) * weights
        if isinstance(got, np.ndarray) and got.shape == expected.shape:
            if np.allclose(got, 2 * expected, rtol=1e-5, atol=1e-7):
                raise AssertionError("numerical_gradient is twice too large: the central "
                                     "difference divides f(x+h) - f(x-h) by 2h")
            if np.allclose(got, -expected, rtol=1e-5, atol=1e-7):
                raise AssertionError("numerical_gradient has the wrong sign: "
                                     "(f(x+h) - f(x-h)) / 2h")
        check_array("numerical_gradient(sum(sin(x) * w), x) with x of shape (2, 3, 4)", got,
                    expected, rtol=1e-6, atol=1e-8,
                    hint="use the central difference (f(x+h) - f(x-h)) / 2h, with a small h")
    with parts("one entry changed at a time, and put back"):
        if not quadratic_calls and not calls:
            raise AssertionError("numerical_gradient never called f")
        for original, seen, what in ((x_quadratic, quadratic_calls, "sum((x - c)^2)"),
                                     (x_sin, calls, "sum(sin(x) * w), x of shape (2, 3, 4)")):
            for v in seen:
                if np.shape(v) != original.shape:
                    raise AssertionError(f"numerical_gradient called f with an array of shape "
                                         f"{np.shape(v)}; f takes an array of x's shape "
                                         f"{original.shape}")
                changed = np.flatnonzero(np.asarray(v) != original)
                if len(changed) > 1:
                    raise AssertionError(
                        f"numerical_gradient ({what}) called f with {len(changed)} entries of x "
                        f"changed at once (flat indices {changed[:4].tolist()}...): put every "
                        f"entry back after evaluating f at x + h and x - h, before moving to "
                        f"the next one")
    with parts("a one-element array, f returning a 0-d array"):
        got = numerical_gradient_fn(lambda v: np.exp(v).sum(), np.array([0.5]))
        check_array("numerical_gradient(exp, [0.5])", got, np.exp([0.5]), rtol=1e-7, atol=1e-9)
    parts.verdict()


# ------------------------------------------------------------------------- learning_rate

_SCHEDULE = [5e-4] * 2 + [2e-4] * 3 + [1e-4] * 3 + [5e-5] * 4 + [1e-5] * 8      # passes 1..20


def check_learning_rate(learning_rate) -> None:
    """Parts: passes 1 to 20 (half the points), after pass 20, below pass 1."""
    parts = Parts()
    with parts("passes 1 to 20", weight=2):
        got = []
        for p in range(1, 21):
            value = learning_rate(p)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise AssertionError(f"learning_rate({p}): expected a number (float), got "
                                     f"{type(value).__name__} {value!r}")
            got.append(float(value))
        wrong = [p for p in range(1, 21)
                 if not np.isclose(got[p - 1], _SCHEDULE[p - 1], rtol=1e-9, atol=0)]
        if wrong:
            p = wrong[0]
            hint = ""
            if all(np.isclose(got[q - 1], (_SCHEDULE + [1e-5])[q], rtol=1e-9)
                   for q in range(1, 21)):
                hint = (" Your schedule is shifted by one pass: passes are numbered from 1 "
                        "(pass 1 and 2 use 0.0005).")
            elif not any(np.isclose(v, 1e-4) for v in got):
                hint = " The 0.0001 phase (passes 6 to 8) is missing."
            raise AssertionError(f"learning_rate is wrong at pass(es) {wrong}: e.g. "
                                 f"learning_rate({p}) should be {_SCHEDULE[p - 1]:g}, got "
                                 f"{got[p - 1]:g}.{hint}")
    with parts("after pass 20"):
        for p in (21, 30, 100):
            value = learning_rate(p)
            if not (isinstance(value, numbers.Real) and np.isclose(float(value), 1e-5,
                                                                   rtol=1e-9)):
                raise AssertionError(f"learning_rate({p}): after pass 20 the rate stays at the "
                                     f"last value, 1e-05; got {value!r}")
    with parts("ValueError below pass 1"):
        for p in (0, -3):
            try:
                value = learning_rate(p)
            except ValueError:
                continue
            except Exception as err:    # noqa: BLE001
                raise AssertionError(f"learning_rate({p}): expected ValueError (passes are "
                                     f"numbered from 1), got {type(err).__name__}: "
                                     f"{err}") from None
            raise AssertionError(f"learning_rate({p}): expected ValueError (passes are numbered "
                                 f"from 1), but it returned {value!r}")
    parts.verdict()


# ----------------------------------------------------------------------- estimate_hessian

def _ratio(got: np.ndarray, expected: np.ndarray) -> float | None:
    """got / expected where expected is clearly non-zero, if that ratio is the same everywhere."""
    mask = np.abs(expected) > 1e-6 * np.abs(expected).max()
    if not mask.any():
        return None
    ratios = got[mask] / expected[mask]
    middle = float(np.median(ratios))
    return middle if np.allclose(ratios, middle, rtol=1e-6) else None


def _hessian_hint(first: str, got: np.ndarray, expected: np.ndarray, n: int) -> str:
    ratio = _ratio(got, expected)
    if ratio is not None and first in ("F6_w", "F6_b"):
        if np.isclose(ratio, n, rtol=1e-6) and n > 1:
            return (f" It is {n} times too large: average over the {n} digits (divide the "
                    f"sums by N).")
        if np.isclose(ratio, 0.5, rtol=1e-6):
            return (" It is half the expected value: the second derivative of "
                    "sum_j (x_j - w_Dj)^2 with respect to x_j is 2, not 1.")
        if np.isclose(ratio, 2, rtol=1e-6):
            return " It is twice the expected value: start from 2 per F6 output, not 4."
    if first == "F6_b" and ratio is None:
        return (" At F6, d2E/da2 = 2 f'(a)^2: the slope of f enters squared (f'(a) = "
                "(2/3)(1.7159 - f(a)^2 / 1.7159)).")
    if first in ("S2_coeff", "S4_coeff"):
        return (" A subsampling coefficient multiplies the sum s of a 2x2 block, so its "
                "connection's input is s: h = sum over positions of s^2 * d2E/da2 (the square "
                "of the sum, not the sum of the squares).")
    if first in ("S4_bias", "S2_bias", "C3_b", "C5_b", "C1_b") and ratio is None:
        return (" The curvature passed down to a layer's inputs is sum_k w_k^2 d2E/da_k^2 times "
                "f'(a)^2 of the unit below: weights and slopes enter squared.")
    return ""


def check_estimate_hessian(estimate_hessian) -> None:
    train_x, _ = _digits("train", 2000)
    r = rng()
    dense_c3 = _copy(model.init_params(12, np.float64))
    dense_c3["C3_w"] = np.where(_CONNECTED, dense_c3["C3_w"],
                                r.uniform(-0.03, 0.03, size=SHAPES["C3_w"]))
    sets = _params_sets() + [("parameters with non-zero C3_w at absent connections", dense_c3)]
    parts = Parts()                          # one part per parameter set
    for (what, params), n in zip(sets, (3, 1, 5, 2)):
        x = train_x[r.choice(len(train_x), size=n, replace=False)]
        with parts(f"{n} digits, {what}"):
            got = estimate_hessian(params, x)
            label = f"estimate_hessian(params, x) ({n} digits, {what})"
            _check_keys(got, label)
            negative = [k for k in BACKWARD_ORDER if np.any(got[k] < -1e-12)]
            if negative:
                raise AssertionError(f"{label}: {negative[0]} has negative entries; the "
                                     f"Gauss-Newton h_kk is a sum of squares times non-negative "
                                     f"curvatures, never below 0 (square the weights, the inputs "
                                     f"and f'(a))")
            if np.any(got["C3_w"][~_CONNECTED] != 0):
                raise AssertionError(f"{label}: C3_w has curvature at connections Table I does "
                                     f"not have; it must be 0 there (sparse_conv_backward keeps "
                                     f"them at 0)")
            expected = model.estimate_hessian(params, x)
            bad = [k for k in BACKWARD_ORDER if _relative(got[k], expected[k]) > 1e-7]
            if bad:
                first = bad[0]
                raise AssertionError(
                    f"{label}: the curvature of {first} is wrong (largest error "
                    f"{_relative(got[first], expected[first]):.2g} relative to its size); wrong "
                    f"arrays: {', '.join(bad)}."
                    f"{_hessian_hint(first, got[first], expected[first], n)}"
                    f" {_where(first)}")
    parts.verdict()


# ----------------------------------------------------------------------------- sdlm_step

def check_sdlm_step(sdlm_step) -> None:
    r = rng()
    params = {k: r.standard_normal(s) for k, s in SHAPES.items()}
    grads = {k: r.standard_normal(s) for k, s in SHAPES.items()}
    hessian = {k: r.uniform(0, 0.3, size=s) * (r.uniform(size=s) > 0.2)
               for k, s in SHAPES.items()}
    parts = Parts()                          # one part per (eta, mu)
    for eta, mu in ((5e-4, None), (2e-3, 0.1), (1e-5, 0.02)):
        with parts(f"eta={eta}, " + ("mu left at its default" if mu is None else f"mu={mu}")):
            new = sdlm_step(params, grads, hessian, eta) if mu is None else \
                sdlm_step(params, grads, hessian, eta, mu)
            _check_keys(new, "sdlm_step(...)")
            m = 0.02 if mu is None else mu
            for k in SHAPES:
                expected = params[k] - eta / (m + hessian[k]) * grads[k]
                if np.allclose(new[k], expected, rtol=1e-10, atol=1e-14):
                    continue
                hint = ""
                with np.errstate(divide="ignore", invalid="ignore"):
                    if np.allclose(new[k], params[k] + eta / (m + hessian[k]) * grads[k],
                                   rtol=1e-10):
                        hint = " It moves uphill: subtract the step times the gradient."
                    elif np.allclose(new[k], params[k] - eta * (m + hessian[k]) * grads[k],
                                     rtol=1e-10):
                        hint = " The step is eta DIVIDED by (mu + h_kk)."
                    elif mu is not None and np.allclose(
                            new[k], params[k] - eta / (0.02 + hessian[k]) * grads[k], rtol=1e-10):
                        hint = f" It ignores its mu argument (called with mu={mu})."
                    elif np.allclose(new[k], params[k] - eta / m * grads[k], rtol=1e-10):
                        hint = " It leaves out h_kk: the step is eta / (mu + h_kk)."
                    elif not np.all(np.isfinite(new[k])) or np.allclose(
                            new[k], params[k] - eta / hessian[k] * grads[k], rtol=1e-10):
                        hint = (" Without mu the step explodes where h_kk is 0: use "
                                "eta / (mu + h_kk).")
                check_array(f"sdlm_step(...)['{k}'] with eta={eta}, mu={m}", new[k], expected,
                            rtol=1e-10, atol=1e-14, hint=hint.strip() or None)
    parts.verdict()


# ---------------------------------------------------------------------------- error_rate

#: The most digits error_rate may give the forward pass at once (the memory rule).
MAX_BATCH = 1000


class _StandIn:
    """A stand-in network for error_rate: digit i of x carries its number i in pixel (0, 0);
    its penalties come from a table made in advance, so the decisions are known. Records the
    size of every batch and which digits it saw."""

    def __init__(self, decisions: np.ndarray, r: np.random.Generator):
        n = len(decisions)
        self.table = r.uniform(1.0, 100.0, size=(n, 10))
        self.table[np.arange(n), decisions] = r.uniform(0.0, 0.9, size=n)
        self.sizes: list[int] = []
        self.seen = np.zeros(n, dtype=np.int64)

    def __call__(self, x, params):
        ids = np.rint(np.asarray(x)[:, 0, 0, 0]).astype(np.int64)
        self.sizes.append(len(ids))
        np.add.at(self.seen, ids, 1)
        return self.table[ids].copy(), None


def _inputs_with_ids(n: int) -> np.ndarray:
    x = np.full((n, 1, 32, 32), -0.1)
    x[:, 0, 0, 0] = np.arange(n)
    return x


def _as_fraction(got, what: str) -> float:
    if isinstance(got, bool) or not isinstance(got, (numbers.Real, np.floating)):
        if isinstance(got, np.ndarray) and got.size == 1:
            raise AssertionError(f"{what}: expected a number, got an array of shape "
                                 f"{got.shape}; return float(...)")
        raise AssertionError(f"{what}: expected a number, got {type(got).__name__}")
    return float(got)


def check_error_rate(error_rate, lenet5_forward) -> None:
    """Parts: the count on three sets with a stand-in network passed as ``forward`` (so that
    this check does not depend on lenet5_forward), the memory rule, then the default
    ``forward=None``."""
    r = rng()
    parts = Parts()
    sizes: list[int] = []
    for n, k in ((7, 2), (2345, 37), (1000, 0)):
        decisions = r.integers(0, 10, size=n)
        labels = decisions.copy()
        changed = r.choice(n, size=k, replace=False)
        labels[changed] = (labels[changed] + r.integers(1, 10, size=k)) % 10
        stand_in = _StandIn(decisions, r)
        what = f"error_rate on {n:,} digits of which exactly {k} are misclassified"
        with parts(f"the count on {n:,} digits, {k} misclassified"):
            try:
                got = error_rate({}, _inputs_with_ids(n), labels, forward=stand_in)
            except Exception as err:    # noqa: BLE001 - say whether forward was used at all
                if stand_in.sizes:
                    raise
                raise AssertionError(f"{what}: error_rate(params, x, labels, forward=...) must "
                                     f"score the digits with the forward function it is given; "
                                     f"it never called it, and raised {type(err).__name__}: "
                                     f"{err}") from None
            finally:
                sizes.extend(stand_in.sizes)
            _check_count(got, what, stand_in, labels, k / n)
    with parts(f"the memory rule: at most {MAX_BATCH:,} digits per call of forward"):
        if sizes and max(sizes) > MAX_BATCH:
            raise AssertionError(
                f"error_rate gave the network {max(sizes):,} digits in one call; the rule is at "
                f"most {MAX_BATCH:,} at a time. A forward pass keeps every layer's maps in its "
                f"cache, hundreds of kilobytes per digit: scoring the 10,000 test digits in one "
                f"call needs gigabytes and ran out of memory during grading. Loop over batches "
                f"of x.")
        if not sizes:
            raise AssertionError("error_rate never called the forward function it was given")

    # the default: lenet5_forward, whatever it computes (its own checks grade it)
    with parts("forward=None scores with lenet5_forward"):
        test_x, _ = _digits("test", 40)
        params = model.init_params(5, np.float64)
        penalties, _ = pair(lenet5_forward(test_x, params), "lenet5_forward",
                            "(penalties, cache)")
        labels = np.argmin(np.asarray(penalties), axis=1)
        labels[[3, 17, 30]] = (labels[[3, 17, 30]] + 1) % 10
        got = _as_fraction(error_rate(params, test_x, labels),
                           "error_rate(params, x, labels) without forward")
        if not np.isclose(got, 3 / 40, rtol=1e-12, atol=1e-12):
            raise AssertionError(f"error_rate(params, x, labels) on 40 digits, with labels that "
                                 f"differ from your lenet5_forward's decisions in exactly 3: "
                                 f"expected {3 / 40:g}, got {got:.6g}. With forward=None, "
                                 f"error_rate must score the digits with lenet5_forward.")
    parts.verdict()


def _check_count(got, what: str, stand_in: _StandIn, labels: np.ndarray,
                 expected: float) -> None:
    """error_rate's answer ``got`` with the stand-in network: every digit once, the count."""
    if not stand_in.sizes:
        raise AssertionError(f"{what}: error_rate(params, x, labels, forward=...) must score the "
                             f"digits with the forward function it is given; it never called it")
    got = _as_fraction(got, what)
    missed = np.flatnonzero(stand_in.seen == 0)
    if len(missed):
        raise AssertionError(f"{what}: {len(missed):,} digits were never given to the network "
                             f"(digits {missed[0]} to {missed[-1]}); did the last, smaller "
                             f"batch get left out?")
    if np.any(stand_in.seen > 1):
        raise AssertionError(f"{what}: some digits were scored more than once (e.g. digit "
                             f"{int(np.flatnonzero(stand_in.seen > 1)[0])}); the batches must "
                             f"not overlap")
    if np.isclose(got, expected, rtol=1e-12, atol=1e-12):
        return
    hint = ""
    if expected and np.isclose(got, 100 * expected):
        hint = " That is a percentage: return the fraction (between 0 and 1)."
    elif np.isclose(got, np.mean(np.argmax(stand_in.table, axis=1) != labels)):
        hint = (" Your decision is the largest penalty; the network answers the class of the "
                "SMALLEST penalty (argmin).")
    elif np.isclose(got, 1 - expected):
        hint = " That is the share of correct digits, not of misclassified ones."
    raise AssertionError(f"{what}: expected {expected:.6g}, got {got:.6g}.{hint}")


# ----------------------------------------------------------------------------- train_pass

#: Measured with the reference solution (one pass, 1,000 digits, batches of 8, eta 1.25e-4,
#: seeds 0-2): 42-45% test error on the 500 digits, against about 90% for an untrained or
#: diverged network; the threshold leaves room for other valid orders of random draws.
TRAIN_THRESHOLD = 0.65
TRAIN_DIGITS, TRAIN_BATCH, TRAIN_ETA = 1000, 8, 0.25 * 5e-4


def _loop_with_own_parts(params, x, labels, eta, order, batch_size, parts, batches=None):
    """What one pass must give, computed here with the student's own forward, backward,
    curvature and step (``parts``): the params and the batch losses; ``batches`` limits how
    many mini-batches are taken (for the diagnoses)."""
    lenet5_forward, lenet5_backward, estimate_hessian, sdlm_step = parts
    hessian = estimate_hessian(params, x)
    starts = list(range(0, len(order), batch_size))[:batches]
    losses = []
    for start in starts:
        batch = order[start:start + batch_size]
        penalties, cache = lenet5_forward(x[batch], params)
        loss, dpenalties = model.map_loss(np.asarray(penalties, dtype=np.float64),
                                          labels[batch], MAP_J)
        params = sdlm_step(params, lenet5_backward(dpenalties, cache), hessian, eta)
        losses.append(loss)
    return params, losses


def _same_params(a, b) -> bool:
    """Equal up to rounding (nan where the other has nan too: a broken step is not the loop's
    fault)."""
    return all(np.allclose(a[k], b[k], rtol=1e-7, atol=1e-12, equal_nan=True) for k in SHAPES)


def _wrong_parts(parts) -> list[str]:
    """Which of the student's lenet5_forward, lenet5_backward, estimate_hessian, sdlm_step
    differ from the reference on a small case (their own checks grade them)."""
    lenet5_forward, lenet5_backward, estimate_hessian, sdlm_step = parts
    x, _ = _digits("train", 2)
    params = model.init_params(4, np.float64)
    wrong = []
    try:
        penalties, cache = pair(lenet5_forward(x, params), "lenet5_forward", "(penalties, cache)")
        expected, ref_cache = model.forward(x, params)
        if not np.allclose(np.asarray(penalties, dtype=np.float64), expected, rtol=1e-7):
            wrong.append("lenet5_forward")
        else:
            dout = rng().standard_normal((2, 10))
            grads, ref = lenet5_backward(dout, cache), model.backward(dout, ref_cache)
            if any(_relative(np.asarray(grads[k], dtype=np.float64), ref[k]) > 1e-6
                   for k in SHAPES):
                wrong.append("lenet5_backward")
    except Exception:           # noqa: BLE001 - a part that fails is a wrong part
        wrong.append("lenet5_forward or lenet5_backward")
    try:
        got, ref = estimate_hessian(params, x), model.estimate_hessian(params, x)
        if any(_relative(np.asarray(got[k], dtype=np.float64), ref[k]) > 1e-6 for k in SHAPES):
            wrong.append("estimate_hessian")
    except Exception:           # noqa: BLE001
        wrong.append("estimate_hessian")
    try:
        h = {k: np.full(v.shape, 0.1) for k, v in params.items()}
        got = sdlm_step(params, params, h, 1e-3)
        if any(not np.allclose(np.asarray(got[k], dtype=np.float64),
                               params[k] - 1e-3 / 0.12 * params[k], rtol=1e-9) for k in SHAPES):
            wrong.append("sdlm_step")
    except Exception:           # noqa: BLE001
        wrong.append("sdlm_step")
    return wrong


def check_train_pass(train_pass, lenet5_forward, lenet5_backward, estimate_hessian,
                     sdlm_step) -> None:
    """Parts: the loop (checked exactly on 20 digits against the same loop run here with the
    student's own parts), the mean loss it returns, the callback, and learning to read in one
    pass. A part of the chapter that is wrong (graded by its own checks) is not held against
    the loop: where the same loop with the student's own parts fails in the same way, or the
    network does not learn because of such a part, the loop keeps its points."""
    own = (lenet5_forward, lenet5_backward, estimate_hessian, sdlm_step)
    train_x, train_y = _digits("train", TRAIN_DIGITS)
    test_x, test_y = _digits("test", 500)
    r = rng()
    parts = Parts()

    # 1. the loop: 20 digits (fewer than 500: h_kk on all of them), batches of 8, 8 and 4,
    #    in a given order, with a callback
    x, y = train_x[:20], train_y[:20]
    start = model.init_params(3, np.float64)
    order = r.permutation(20)
    eta = 2e-4
    reported: list = []
    what = "train_pass on 20 digits, batches of 8 in a given order"
    try:
        expected, losses = _loop_with_own_parts(start, x, y, eta, order, 8, own)
        own_error = None
    except Exception as err:    # noqa: BLE001 - one of the student's parts fails
        expected, losses, own_error = None, None, err
    new = loss = None
    with parts("the loop, step by step", weight=2):
        try:
            result = train_pass(start, x, y, eta, 7, batch_size=8, order=order,
                                on_batch=reported.append)
        except Exception as err:    # noqa: BLE001
            if _same_failure(err, own_error):
                result = None       # the same failure as the loop with the student's parts
            else:
                raise
        if result is not None:
            new, loss = pair(result, "train_pass(params, x, labels, eta, rng, batch_size, "
                                     "order, on_batch)", "(params, mean loss)")
            _check_keys(new, "the params returned by train_pass")
            if own_error is not None:
                raise AssertionError(f"{what}: the same loop run with your own lenet5_forward, "
                                     f"lenet5_backward, estimate_hessian and sdlm_step raises "
                                     f"{type(own_error).__name__}: {own_error}; train_pass "
                                     f"does not")
            _check_loop(new, expected, start, x, y, eta, order, own, what)
    if own_error is None and new is not None:
        # judged on what train_pass itself reported, so that a slip in the loop (above) is not
        # charged again here
        loop_right = not parts.failed
        heard = np.asarray(reported, dtype=np.float64) if reported else np.zeros(0)
        with parts("the mean of the mini-batch losses, returned second", weight=0.5):
            means = [np.mean(losses), np.average(losses, weights=[8, 8, 4])]
            if len(heard):
                sizes = [8] * (len(heard) - 1) + [4 if len(heard) == 3 else 8]
                means += [heard.mean(), np.average(heard, weights=sizes)]
            if isinstance(loss, bool) or not isinstance(loss, (numbers.Real, np.floating)) or \
                    not any(np.isclose(float(loss), m, rtol=1e-7) for m in means):
                raise AssertionError(f"{what}: the second result must be the mean of the "
                                     f"mini-batch losses, {np.mean(losses):.6g}; got {loss!r}")
        with parts("on_batch(loss) after every mini-batch", weight=0.5):
            if len(heard) != 3 or (loop_right and not np.allclose(heard, losses, rtol=1e-7)):
                raise AssertionError(
                    f"{what}: on_batch must be called once after every mini-batch with its loss "
                    f"(3 calls: {np.round(losses, 4).tolist()}); it was called "
                    f"{len(reported)} times"
                    + (f" with {np.round(heard, 4).tolist()}"
                       if len(heard) and len(heard) < 50 else ""))

    # 2. learning: one pass over 1,000 digits from a fixed start must teach the network a lot;
    #    a failure is excused by a wrong part only when the loop itself was found right
    wrong = _wrong_parts(own) if not parts.failed else []
    excuse = (f"not held against train_pass: your {', '.join(wrong)} (graded by its own checks) "
              f"is wrong, and train_pass uses it") if wrong else ""
    learned = "the network learns to read in one pass"
    try:
        state = _learning(train_pass, train_x, train_y, test_x, test_y)
    except Exception as err:    # noqa: BLE001
        if not wrong:
            with parts(learned):
                raise
        state = f"raised {type(err).__name__}"
    if state and wrong:
        with parts(f"{learned} ({excuse})"):
            pass
    else:
        with parts(learned):
            if state:
                raise AssertionError(
                    f"after one pass over {TRAIN_DIGITS:,} training digits (batches of "
                    f"{TRAIN_BATCH}, eta {TRAIN_ETA:g}, from a fixed start) the network {state}. "
                    f"Your lenet5_forward, lenet5_backward, estimate_hessian and sdlm_step agree "
                    f"with the reference, so look at how train_pass uses them: h_kk once before "
                    f"the loop on 500 digits drawn with rng, a new order from rng when order is "
                    f"None, and every mini-batch's step kept.")
    parts.verdict()


def _same_failure(err: Exception, own_error: Exception | None) -> bool:
    """True when train_pass failed exactly as the same loop with the student's own parts did
    (an exercise left blank is not such a failure)."""
    return (own_error is not None and not isinstance(err, NotImplementedError)
            and type(err).__name__ == type(own_error).__name__ and bool(str(err))
            and str(err) == str(own_error))


def _learning(train_pass, train_x, train_y, test_x, test_y) -> str:
    """'' when one pass of train_pass teaches the network to read, else what went wrong."""
    start = model.init_params(0, np.float64)
    result = train_pass(start, train_x, train_y, TRAIN_ETA, 0, batch_size=TRAIN_BATCH)
    new, _ = pair(result, "train_pass", "(params, mean loss)")
    _check_keys(new, "the params returned by train_pass")
    if not all(np.all(np.isfinite(new[k])) for k in SHAPES):
        return "holds inf or nan"
    penalties, _ = model.forward(test_x, new)
    error = float(np.mean(np.argmin(penalties, axis=1) != test_y))
    if error >= TRAIN_THRESHOLD:
        return (f"misclassifies {100 * error:.1f}% of 500 test digits; it should be below "
                f"{100 * TRAIN_THRESHOLD:.0f}% (the reference gets about 43%)")
    return ""


def _check_loop(new, expected, start, x, y, eta, order, own, what) -> None:
    """The parameters after train_pass against the same loop run with the student's parts."""
    if _same_params(new, expected):
        return
    if _same_params(new, start):
        hint = ("it returned the parameters it was given, unchanged: replace params by "
                "sdlm_step(...) after each mini-batch and return the final ones")
    elif _same_params(new, _loop_with_own_parts(start, x, y, eta, order, 8, own, 2)[0]):
        hint = ("it matches the first two mini-batches only: the last, smaller batch "
                "(digits 16 to 19 of the order) was left out")
    elif _same_params(new, _loop_with_own_parts(start, x, y, eta, order, 8, own, 1)[0]):
        hint = "it matches the first mini-batch only: did the loop return too early?"
    elif _same_params(new, _loop_with_own_parts(start, x, y, eta, np.arange(20), 8, own)[0]):
        hint = ("it took the digits in their stored order: present them in the given "
                "order (x[order[...]])")
    else:
        hint = ("check that each mini-batch takes the next batch_size digits of the order, "
                "that h_kk is estimated once, before the loop, on all the digits (there "
                "are fewer than 500), and that each step uses the gradient of its own "
                "mini-batch and keeps the params sdlm_step returns")
    raise AssertionError(f"{what}: the parameters after the pass differ from those of the "
                         f"same loop run with your own lenet5_forward, lenet5_backward, "
                         f"estimate_hessian and sdlm_step; {hint}.")
