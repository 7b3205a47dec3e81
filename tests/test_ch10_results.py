"""Chapter 10's three networks and the comparison it shows (no training here: the results
JSON written by scripts/compare_modern.py is read)."""
from __future__ import annotations

import json

import nbformat
import numpy as np
import pytest

from autograder import course
from reference import modern

RESULTS = course.REPO / "data" / "results" / "modern_vs_lenet5.json"
MODELS = {"lenet5", "seed", "modern"}


@pytest.fixture(scope="module")
def results():
    return json.loads(RESULTS.read_text())


def test_the_seed_articles_model_has_its_44426_parameters():
    assert modern.VARIANTS["seed"] == ("tanh", "avg")
    assert modern.VARIANTS["modern"] == ("relu", "max")
    assert sum(modern.layer_params(28).values()) == 44_426
    assert modern.count_parameters(modern.init_params(0)) == 44_426


@pytest.mark.parametrize("variant", ["seed", "modern"])
def test_the_keras_style_gradients_match_finite_differences(variant):
    gen = np.random.default_rng(3)
    params = modern.init_params(gen, dtype=np.float64)
    for value in params.values():
        value += gen.normal(0, 0.05, value.shape)
    x, labels = gen.uniform(0, 1, (2, 1, 28, 28)), np.array([3, 8])
    scores, cache = modern.forward(x, params, variant)
    assert scores.shape == (2, 10)
    grads = modern.backward(modern.softmax_cross_entropy(scores, labels)[1], cache)
    for name, value in params.items():
        i = tuple(int(gen.integers(0, n)) for n in value.shape)
        old, eps, losses = value[i], 1e-6, []
        for shift in (eps, -eps):
            value[i] = old + shift
            losses.append(modern.softmax_cross_entropy(modern.forward(x, params, variant)[0],
                                                       labels)[0])
        value[i] = old
        numeric = (losses[0] - losses[1]) / (2 * eps)
        assert abs(numeric - grads[name][i]) <= 1e-6 + 1e-4 * abs(numeric), (name, variant)


def test_the_results_hold_three_networks_three_seeds_and_both_budgets(results):
    settings = results["settings"]
    assert set(results["models"]) == MODELS
    assert len(settings["seeds"]) >= 3
    assert settings["train_size"] + settings["heldout"] <= 60_000     # held-out never trained on
    assert results["script_wall_seconds"] > 0
    for key, m in results["models"].items():
        assert sorted(m["runs"]) == sorted(str(s) for s in settings["seeds"]), key
        # the step factor: the grid's best held-out error (the same grid for every network)
        assert sorted(map(float, m["tuning"])) == sorted(settings["grid"]), key
        best = min(m["tuning"].values(), key=lambda t: t["heldout_error"][-1])
        assert m["tuning"][f"{m['step_factor']:g}"]["heldout_error"][-1] == \
            best["heldout_error"][-1], key
        for seed, run in m["runs"].items():
            n = len(run["test_error"])
            assert n >= settings["passes"], (key, seed)
            assert len(run["cpu_seconds"]) == len(run["wall_seconds"]) == n, (key, seed)
            assert all(0 <= e <= 1 for e in run["test_error"]), (key, seed)
            assert np.all(np.diff(run["cpu_seconds"]) > 0), (key, seed)
            assert run["cpu_seconds"][-1] >= settings["cpu_budget"], (key, seed)
            budget = run["at_cpu_budget"]
            assert settings["cpu_budget"] <= budget["cpu_seconds"] <= run["cpu_seconds"][-1]
            assert run["machine_at_start"]["cpus"] >= 1 and run["machine_at_start"]["cpu"]


def _spread(values, fmt="{:.2f}%", scale=100):
    v = scale * np.asarray(values, dtype=float)
    return f"{fmt.format(v.mean())} ({fmt.format(v.min())}–{fmt.format(v.max())})"


def test_the_chapter_shows_these_results(results):
    """The released chapter's table holds, per network, the mean and range over the seeds of
    the test error after each pass and at the CPU budget, computed from the JSON."""
    nb = nbformat.read(course.BOOK / "ch10_modern" / "ch10_modern.ipynb", 4)
    shown = "\n".join(str(out.get("data", {}).get("text/html", "")) + str(out.get("text", ""))
                      for cell in nb.cells if cell.cell_type == "code"
                      for out in cell.get("outputs", []))
    passes = results["settings"]["passes"]
    for key, m in results["models"].items():
        runs = list(m["runs"].values())
        for p in range(passes):
            assert _spread([r["test_error"][p] for r in runs]) in shown, (key, p)
        assert _spread([r["at_cpu_budget"]["test_error"] for r in runs]) in shown, key
        assert _spread([r["cpu_seconds"][passes - 1] for r in runs], "{:.1f}", 1) in shown, key
