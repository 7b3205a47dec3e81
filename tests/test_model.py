"""Tests of the reference LeNet-5 (lenet5/model.py): sizes, gradients, shipped weights."""
from __future__ import annotations

import numpy as np
import pytest

from reference import model
from lenet5.data import load_mnist


@pytest.fixture(scope="module")
def params64():
    """float64 parameters, perturbed away from the (tiny) initial values so that every
    layer works in its non-linear range; absent C3 connections stay zero."""
    rng = np.random.default_rng(1)
    p = model.init_params(rng, dtype=np.float64)
    for k, v in p.items():
        p[k] = v + 0.3 * rng.standard_normal(v.shape) / np.sqrt(max(1, v[0].size))
    p["C3_w"] *= model.C3_TABLE.T[:, :, None, None]
    return p


@pytest.fixture(scope="module")
def tiny_batch():
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    return model.to_input(images, np.float64), np.array([3, 0, 7])


# ------------------------------------------------------------------- sizes and counts

def test_table_one():
    assert model.C3_TABLE.shape == (6, 16) and model.C3_TABLE.dtype == bool
    assert model.C3_TABLE.sum() == 60
    assert list(model.C3_TABLE.sum(axis=0)) == [3] * 6 + [4] * 9 + [6]
    assert list(np.flatnonzero(model.C3_TABLE[:, 0])) == [0, 1, 2]
    assert list(np.flatnonzero(model.C3_TABLE[:, 9])) == [0, 3, 4, 5]
    assert list(np.flatnonzero(model.C3_TABLE[:, 14])) == [0, 2, 3, 5]


def test_parameter_count_is_60000():
    params = model.init_params(np.random.default_rng(0))
    assert {k: v.shape for k, v in params.items()} == model.PARAM_SHAPES
    assert model.count_parameters(params) == 60_000
    assert model.count_parameters() == 60_000


def test_connection_count_is_340908():
    assert model.count_connections() == 340_908


def test_init_is_fan_in_uniform_and_respects_table_one():
    p = model.init_params(np.random.default_rng(0), dtype=np.float64)
    assert np.abs(p["C1_w"]).max() <= 2.4 / 25
    assert np.abs(p["C5_w"]).max() <= 2.4 / 400
    assert np.abs(p["F6_w"]).max() <= 2.4 / 120
    absent = ~model.C3_TABLE.T                                     # (16, 6)
    assert np.all(p["C3_w"][absent] == 0)
    fan_in = 25 * model.C3_TABLE.sum(axis=0)
    for j in range(16):
        assert np.abs(p["C3_w"][j]).max() <= 2.4 / fan_in[j]


def test_to_input_range_and_padding():
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    images[0, 5, 5] = 255
    images[1] = 255
    x = model.to_input(images)
    assert x.shape == (2, 1, 32, 32)
    assert x.min() == pytest.approx(-0.1) and x.max() == pytest.approx(1.175)
    assert np.allclose(x[:, :, :2], -0.1) and np.allclose(x[:, :, -2:], -0.1)
    assert np.allclose(x[:, :, :, :2], -0.1) and np.allclose(x[:, :, :, -2:], -0.1)
    assert x[0, 0, 7, 7] == pytest.approx(1.175)
    assert np.allclose(x[1, 0, 2:30, 2:30], 1.175)


def test_squash_fixed_points():
    assert model.squash(np.array([1.0, -1.0, 0.0])) == pytest.approx([1.0, -1.0, 0.0], abs=1e-4)


def test_learning_rate_schedule():
    rates = [model.learning_rate(p) for p in range(1, 21)]
    assert rates == [5e-4] * 2 + [2e-4] * 3 + [1e-4] * 3 + [5e-5] * 4 + [1e-5] * 8


# --------------------------------------------------------------------- forward pass

def test_layer_outputs_shapes_and_rbf(params64, tiny_batch):
    x, _ = tiny_batch
    out = model.layer_outputs(x, params64)
    shapes = {"input": (3, 1, 32, 32), "C1": (3, 6, 28, 28), "S2": (3, 6, 14, 14),
              "C3": (3, 16, 10, 10), "S4": (3, 16, 5, 5), "C5": (3, 120), "F6": (3, 84),
              "output": (3, 10)}
    assert {k: v.shape for k, v in out.items()} == shapes
    assert all(v.dtype == np.float64 for v in out.values())
    for k in ("C1", "S2", "C3", "S4", "C5", "F6"):
        assert np.abs(out[k]).max() < model.A_SQUASH
    # straightforward re-computation of a few layers from their definitions
    c1 = model.squash(np.einsum("nyxhw,fhw->nfyx",
                                np.lib.stride_tricks.sliding_window_view(x[:, 0], (5, 5),
                                                                         axis=(1, 2)),
                                params64["C1_w"][:, 0]) + params64["C1_b"][:, None, None])
    assert np.allclose(out["C1"], c1)
    sums = out["C1"].reshape(3, 6, 14, 2, 14, 2).sum(axis=(3, 5))
    s2 = model.squash(sums * params64["S2_coeff"][:, None, None]
                      + params64["S2_bias"][:, None, None])
    assert np.allclose(out["S2"], s2)
    centres = model.rbf_centres()
    expected = ((out["F6"][:, None, :] - centres[None]) ** 2).sum(axis=2)
    assert np.allclose(out["output"], expected)
    y, _ = model.forward(x, params64)
    assert np.allclose(y, expected)
    assert list(model.predict(y)) == list(np.argmin(expected, axis=1))


# ------------------------------------------------------------------- gradient checks

def _loss(params, x, labels, loss_fn):
    y, _ = model.forward(x, params)
    return loss_fn(y, labels)[0]


@pytest.mark.parametrize("loss_name", ["map", "mle"])
def test_backward_matches_finite_differences(params64, tiny_batch, loss_name):
    x, labels = tiny_batch
    loss_fn = model.LOSSES[loss_name]
    y, cache = model.forward(x, params64)
    _, dy = loss_fn(y, labels)
    grads = {k: v.copy() for k, v in model.backward(dy, cache).items()}
    assert {k: v.shape for k, v in grads.items()} == model.PARAM_SHAPES
    rng = np.random.default_rng(3)
    p = {k: v.copy() for k, v in params64.items()}
    eps = 1e-6
    for k, v in p.items():
        flat = v.reshape(-1)
        candidates = np.flatnonzero(np.broadcast_to(model.C3_TABLE.T[:, :, None, None],
                                                    v.shape).reshape(-1)) \
            if k == "C3_w" else np.arange(flat.size)
        for i in rng.choice(candidates, size=min(6, len(candidates)), replace=False):
            old = flat[i]
            flat[i] = old + eps
            up = _loss(p, x, labels, loss_fn)
            flat[i] = old - eps
            down = _loss(p, x, labels, loss_fn)
            flat[i] = old
            numeric = (up - down) / (2 * eps)
            analytic = grads[k].reshape(-1)[i]
            assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-8), (k, i)


def test_loss_gradients_match_finite_differences():
    rng = np.random.default_rng(4)
    y = rng.uniform(0, 8, size=(4, 10))
    labels = np.array([0, 3, 9, 3])
    for loss_fn in (model.mle_loss, lambda y, l: model.map_loss(y, l, j=2.0)):
        _, d = loss_fn(y, labels)
        for i, c in [(0, 0), (1, 5), (3, 3), (2, 9)]:
            yp, ym = y.copy(), y.copy()
            yp[i, c] += 1e-6
            ym[i, c] -= 1e-6
            numeric = (loss_fn(yp, labels)[0] - loss_fn(ym, labels)[0]) / 2e-6
            assert d[i, c] == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_map_loss_formula():
    y = np.array([[1.0, 5.0, 9.0] + [20.0] * 7])
    loss, _ = model.map_loss(y, np.array([1]), j=3.0)
    expected = 5.0 + np.log(np.exp(-3.0) + np.exp(-y).sum())
    assert loss == pytest.approx(expected)
    assert model.mle_loss(y, np.array([2]))[0] == pytest.approx(9.0)


def test_absent_c3_connections_get_zero_gradient_and_stay_zero(params64, tiny_batch):
    x, labels = tiny_batch
    p = {k: v.copy() for k, v in params64.items()}
    y, cache = model.forward(x, p)
    grads = model.backward(model.map_loss(y, labels)[1], cache)
    absent = ~model.C3_TABLE.T
    assert np.all(grads["C3_w"][absent] == 0)
    assert np.any(grads["C3_w"][~absent] != 0)
    h = model.estimate_hessian(p, x)
    assert np.all(h["C3_w"][absent] == 0)
    model.sdlm_update(p, grads, model.sdlm_steps(h, 1e-3))
    assert np.all(p["C3_w"][absent] == 0)


def test_gauss_newton_hessian_is_positive_and_matches_definition(params64, tiny_batch):
    """For F6 biases, the Gauss-Newton diagonal is mean_p 2 f'(a_i)^2 exactly."""
    x, _ = tiny_batch
    h = model.estimate_hessian(params64, x)
    assert all(np.all(v >= 0) for v in h.values())
    f6_in = model.layer_outputs(x, params64)["C5"]
    a6 = f6_in @ params64["F6_w"] + params64["F6_b"]
    slope = model.A_SQUASH * model.S_SQUASH * (1 - np.tanh(model.S_SQUASH * a6) ** 2)
    assert np.allclose(h["F6_b"], (2 * slope ** 2).mean(axis=0))
    assert np.allclose(h["F6_w"], ((f6_in ** 2).T @ (2 * slope ** 2)) / len(x))


def test_float32_matches_float64(params64, tiny_batch):
    x, labels = tiny_batch
    p32 = {k: v.astype(np.float32) for k, v in params64.items()}
    y64, c64 = model.forward(x, params64)
    y32, c32 = model.forward(x.astype(np.float32), p32)
    assert y32.dtype == np.float32
    assert np.allclose(y32, y64, rtol=1e-4, atol=1e-4)
    g64 = model.backward(model.map_loss(y64, labels)[1], c64)
    g32 = model.backward(model.map_loss(y32, labels)[1], c32)
    for k in g64:
        scale = np.abs(g64[k]).max() + 1e-12
        assert np.abs(g32[k] - g64[k]).max() / scale < 1e-3, k


def test_workspace_reuse_and_stale_cache(params64, tiny_batch):
    x, labels = tiny_batch
    ws = model.Workspace(len(x), np.float64)
    y1, cache1 = model.forward(x, params64, ws)
    g1 = {k: v.copy() for k, v in model.backward(model.mle_loss(y1, labels)[1], cache1).items()}
    y2, cache2 = model.forward(x[::-1].copy(), params64, ws)
    with pytest.raises(RuntimeError):
        model.backward(model.mle_loss(y1, labels)[1], cache1)
    y3, cache3 = model.forward(x, params64, ws)
    assert np.array_equal(y1, y3)
    g3 = model.backward(model.mle_loss(y3, labels)[1], cache3)
    assert all(np.array_equal(g1[k], g3[k]) for k in g1)


def test_training_reduces_loss_on_a_small_set():
    images, labels = load_mnist("test")            # the smaller file: faster to load
    x, y = model.to_input(images[:512]), labels[:512].astype(np.int64)
    rng = np.random.default_rng(0)
    params = model.init_params(rng)
    before = model.map_loss(model.forward(x, params)[0], y)[0]
    for p in (1, 2):
        model.train_pass(params, x, y, model.learning_rate(p) * 0.5, rng, batch_size=16)
    after = model.map_loss(model.forward(x, params)[0], y)[0]
    assert after < 0.5 * before


# ------------------------------------------------------------------ shipped weights

def test_save_and_load_roundtrip(tmp_path):
    p = model.init_params(np.random.default_rng(5))
    model.save_params(tmp_path / "w.npz", p, passes=3, note="x")
    q, meta = model.load_params(tmp_path / "w.npz", with_meta=True)
    assert meta == {"passes": 3, "note": "x"}
    assert all(np.array_equal(p[k], q[k]) for k in p)


def test_shipped_weights_reach_the_papers_test_error():
    params, meta = model.load_trained(with_meta=True)
    assert model.count_parameters(params) == 60_000
    assert np.all(params["C3_w"][~model.C3_TABLE.T] == 0)
    images, labels = load_mnist("test")
    err = model.error_rate(params, images, labels)
    assert err <= 0.0095
    assert err == pytest.approx(meta["test_error"], abs=2e-4)


def test_shipped_activations_are_what_the_shipped_weights_compute():
    """data/activations (read by the chapters) is what scripts/make_activations.py makes now."""
    from lenet5 import data
    from scripts.make_activations import activations

    shipped, fresh = data.load_activations(), activations()
    assert shipped.keys() == fresh.keys()
    for name, array in fresh.items():
        assert shipped[name].shape == array.shape and shipped[name].dtype == array.dtype, name
        # float32 sums: their rounding scales with the largest value (summation order and
        # so the last bits depend on the BLAS kernel and its threads)
        scale = max(1.0, float(np.abs(array).max())) if array.dtype.kind == "f" else 1.0
        np.testing.assert_allclose(shipped[name], array, rtol=1e-4, atol=1e-5 * scale,
                                   err_msg=name)


# ------------------------------------------------------- one pattern at a time, recipes

def _perturbed(dtype, seed=1):
    rng = np.random.default_rng(seed)
    p = model.init_params(rng, dtype=dtype)
    for k, v in p.items():
        p[k] = (v + 0.3 * rng.standard_normal(v.shape) / np.sqrt(max(1, v[0].size))).astype(dtype)
    p["C3_w"] *= model.C3_TABLE.T[:, :, None, None]
    return p


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pattern_trainer_equals_the_batched_path(dtype):
    """The batch-1 fast path computes the same penalties, loss and gradients as
    forward/backward on a batch of one (float64: to rounding; float32: allclose)."""
    images, labels = load_mnist("test")
    x, y = model.to_input(images[:6], dtype), labels[:6].astype(np.int64)
    p = _perturbed(dtype)
    trainer = model.PatternTrainer(p, x, y)
    q = trainer.params()
    assert all(np.allclose(q[k], p[k], rtol=1e-6, atol=1e-7) for k in p)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for i in range(len(x)):
        loss, wrong, gy = trainer.loss_and_gradient(i)
        trainer.backward(gy)
        mine = trainer.gradients()
        yb, cache = model.forward(x[i:i + 1], p)
        lb, dy = model.map_loss(yb, y[i:i + 1])
        theirs = model.backward(dy, cache)
        assert np.allclose(trainer.y, yb[0], rtol=tol, atol=tol * 100)
        assert loss == pytest.approx(lb, rel=tol * 10)
        assert wrong == (model.predict(yb)[0] != y[i])
        for k in p:
            scale = np.abs(theirs[k]).max() + 1e-30
            assert np.abs(mine[k] - theirs[k]).max() / scale < tol * 10, (k, i)
        assert np.all(mine["C3_w"][~model.C3_TABLE.T] == 0)


def test_pattern_trainer_update_is_the_sdlm_rule():
    """One ``step`` moves every parameter by -eta/(mu + h_kk) * gradient, like
    sdlm_update on a batch of one; absent C3 connections stay zero."""
    images, labels = load_mnist("test")
    x, y = model.to_input(images[:3], np.float64), labels[:3].astype(np.int64)
    p = _perturbed(np.float64)
    steps = model.sdlm_steps(model.estimate_hessian(p, x, seed="loss"), 1e-3)
    trainer = model.PatternTrainer(p, x, y)
    trainer.set_steps(steps)
    expected = {k: v.copy() for k, v in p.items()}
    for i in range(3):
        yb, cache = model.forward(x[i:i + 1], expected)
        model.sdlm_update(expected, model.backward(model.map_loss(yb, y[i:i + 1])[1], cache),
                          {k: v.copy() for k, v in steps.items()})
        trainer.step(i)
    got = trainer.params()
    for k in p:
        assert np.allclose(got[k], expected[k], rtol=1e-9, atol=1e-12), k
    assert np.all(got["C3_w"][~model.C3_TABLE.T] == 0)


def test_loss_curvature_matches_finite_differences():
    """d^2E/dx_j^2 of eq. 9 (through the fixed RBF) against central differences of the loss
    as a function of the F6 outputs x; eq. 8 gives 2."""
    rng = np.random.default_rng(7)
    centres = model.rbf_centres(np.float64)
    x = 0.8 * centres[[3, 5]] + 0.4 * rng.standard_normal((2, 84))      # fairly confident
    labels = np.array([3, 8])

    def loss(xs, j):
        pen = ((xs[:, None, :] - centres[None]) ** 2).sum(axis=2)
        return np.array([model.map_loss(pen[n:n + 1], labels[n:n + 1], j=j)[0]
                         for n in range(len(xs))])

    for j in (1.0, 5.0, 50.0):
        pen = ((x[:, None, :] - centres[None]) ** 2).sum(axis=2)
        curv = model.loss_curvature(x, pen, "map", j)
        assert curv.shape == (2, 84) and np.all(curv >= 0)
        eps = 1e-4
        for jj in (0, 7, 40, 83):
            up, down = x.copy(), x.copy()
            up[:, jj] += eps
            down[:, jj] -= eps
            numeric = (loss(up, j) - 2 * loss(x, j) + loss(down, j)) / eps ** 2
            assert np.allclose(curv[:, jj], numeric, rtol=1e-4, atol=1e-5), (j, jj)
    assert np.all(model.loss_curvature(x, pen, "mle") == 2.0)


def test_hessian_with_loss_curvature_matches_its_definition(params64, tiny_batch):
    """Gauss-Newton h_kk of the F6 biases and weights, seeded with the loss's curvature:
    mean_p f'(a_j)^2 d2E/dx_j^2 (and times the squared inputs), computed from scratch; the
    default seed stays eq. 8's 2 (chapter 9's exercise)."""
    x, _ = tiny_batch
    out = model.layer_outputs(x, params64)
    f6_in, f6 = out["C5"], out["F6"]
    a6 = f6_in @ params64["F6_w"] + params64["F6_b"]
    slope2 = (model.A_SQUASH * model.S_SQUASH * (1 - np.tanh(model.S_SQUASH * a6) ** 2)) ** 2
    for j in (2.0, 5.0):
        curv = model.loss_curvature(f6, out["output"], "map", j)
        h = model.estimate_hessian(params64, x, seed="loss", j=j)
        assert np.allclose(h["F6_b"], (slope2 * curv).mean(axis=0))
        assert np.allclose(h["F6_w"], (f6_in ** 2).T @ (slope2 * curv) / len(x))
        assert all(np.all(v >= 0) for v in h.values())
    default = model.estimate_hessian(params64, x)
    assert np.allclose(default["F6_b"], (2 * slope2).mean(axis=0))


def test_shared_weight_hessian_sums_over_connections(params64, tiny_batch):
    """h_kk of a C1 bias is the sum over its 784 positions of f'(a)^2 times the
    back-propagated second derivative (Appendix C), i.e. that of C1 weights with the input
    replaced by ones: check by making the input constant 1, where each weight's h equals
    the bias's."""
    p = {k: v.copy() for k, v in params64.items()}
    x = np.ones((2, 1, 32, 32))
    h = model.estimate_hessian(p, x, seed="loss")
    assert np.allclose(h["C1_w"][:, 0], h["C1_b"][:, None, None] * np.ones((1, 5, 5)))


def test_recipes_are_selectable_by_name():
    assert model.RECIPE is model.RECIPES["fast"]
    assert {"fast", "paper"} <= set(model.RECIPES)
    paper = model.RECIPES["paper"]
    assert paper["batch_size"] == 1 and paper["rate_scale"] == 1 == paper["first_pass_scale"]
    assert paper["hessian"] == "loss" and paper["init"] == "fan_in" and paper["loss"] == "map"
    from scripts.train_lenet5 import parse_args, settings_of
    assert settings_of(parse_args(["--recipe", "paper"])) == paper
    assert settings_of(parse_args(["--recipe", "paper", "--j", "3"]))["j"] == 3
    with pytest.raises(TypeError):
        next(model.fit({}, np.zeros((1, 1, 32, 32)), np.zeros(1), np.random.default_rng(0),
                       recipe="paper", nonsense=1))


def test_paper_recipe_runs_a_few_hundred_patterns():
    """fit with a paper recipe (one update per pattern) on 400 patterns: the rule is applied
    pattern by pattern, the on-the-fly error is measured, and it does not diverge."""
    images, labels = load_mnist("test")
    x, y = model.to_input(images[:400]), labels[:400].astype(np.int64)
    rng = np.random.default_rng(0)
    params = model.init_params(rng, rule=model.RECIPES["paper_sqrt_init"]["init"])
    start = {k: v.copy() for k, v in params.items()}
    (r,) = list(model.fit(params, x, y, rng, passes=1, recipe="paper_sqrt_init"))
    assert r["pass"] == 1 and r["eta"] == model.learning_rate(1) and r["patterns"] == 400
    assert not r["diverged"] and np.isfinite(r["loss"]) and r["loss"] < 60
    assert 0 <= r["on_the_fly_error"] < 0.9 and len(r["block_errors"]) == 1
    assert r["rates"]["all"][2] <= model.learning_rate(1) / model.MU
    assert any(not np.array_equal(params[k], start[k]) for k in params)
    assert np.all(params["C3_w"][~model.C3_TABLE.T] == 0)


def test_sqrt_init_scales_the_same_draws():
    a = model.init_params(3, np.float64)
    b = model.init_params(3, np.float64, rule="sqrt_fan_in")
    assert np.allclose(b["C5_w"], a["C5_w"] * 20) and np.allclose(b["C1_w"], a["C1_w"] * 5)
    assert np.allclose(b["S2_coeff"], a["S2_coeff"] * 2)
