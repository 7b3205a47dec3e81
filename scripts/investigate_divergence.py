"""Why the paper's training rule, taken literally, diverges here: the evidence.

    nice python -m scripts.investigate_divergence      # ~2 minutes on one core

Writes ``data/results/investigate_divergence.txt`` (what it prints) and ``.json``.

1. The effective step sizes eta / (mu + h_kk) of the first pass (eta = 0.0005, mu = 0.02,
   h_kk on 500 patterns), per layer (min, median, max over the layer's real parameters),
   next to the paper's "between approximately 7 x 10^-5 and 0.016" (p. 10), for the ways
   of estimating h_kk and initialising the weights that the book considers.
2. The root-mean-square activation of every layer at the start, for both initialisations.
3. Short runs: the first ``--patterns`` patterns of pass 1, one update per pattern at the
   paper's eta, each changing *one* thing in the paper's recipe; for each, the on-the-fly
   error of every block of 1,000 patterns and its mean loss, and whether it diverged (a
   block's mean loss above 84, what an all-zero F6 output gives: ``model.DIVERGED_LOSS``).

4. Pass 2: the network that pass 1 of the ``sqrt_init`` run leaves (all 60,000 patterns,
   the paper's rule otherwise), then the first ``--patterns`` patterns of pass 2 at the
   paper's eta for pass 2 (0.0005) times 1, 0.5 and 0.25, with h_kk re-estimated before
   the pass with and without the loss's curvature; the effective steps of pass 2 and the
   on-the-fly error per 1,000 patterns, next to that of the end of pass 1.

Every run starts from the same random numbers (seed 0), presents the patterns in the same
order and estimates h_kk on the same 500 patterns.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")     # before NumPy is imported

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from reference import model  # noqa: E402
from lenet5.data import DATA_DIR, load_mnist  # noqa: E402

OUT = DATA_DIR / "results" / "investigate_divergence"
PAPER_RATES = (7e-5, 0.016)                   # p. 10: first-pass effective learning rates
ETA = model.learning_rate(1)

#: Connections sharing each parameter (positions of the unit it feeds), for the variant
#: that averages h_kk over a shared weight's connections instead of summing them.
SHARED = {"C1_w": 784, "C1_b": 784, "S2_coeff": 196, "S2_bias": 196, "C3_w": 100,
          "C3_b": 100, "S4_coeff": 25, "S4_bias": 25}



class Setup:
    """Data, the fixed order of presentation and the 500 patterns of the h_kk estimate."""

    def __init__(self, patterns: int):
        images, labels = load_mnist("train")
        self.x, self.y = model.to_input(images), labels.astype(np.int64)
        rng = np.random.default_rng(0)
        self.init_state = rng.bit_generator.state
        model.init_params(rng)                              # the draws of the weights
        self.order = rng.permutation(len(self.x))[:patterns]
        self.sample = rng.choice(len(self.x), size=model.HESSIAN_PATTERNS, replace=False)

    def params(self, rule="fan_in"):
        rng = np.random.default_rng(0)
        return model.init_params(rng, rule=rule)


def variant_steps(name: str, h: dict, eta: float) -> dict:
    """eta / (mu + h_kk), modified as the variant says."""
    steps = model.sdlm_steps(h, eta)
    if name == "shared_mean":
        steps = {k: (eta / (model.MU + h[k] / SHARED.get(k, 1))).astype(h[k].dtype)
                 for k in h}
    elif name == "subsample_mean":
        # S2/S4 coefficients multiply the *mean* of the 2x2 block (p. 6 "average"): in
        # units of the coefficient of the sum (c = c'/4) its step is eta / (16 mu + h_kk)
        for k in ("S2_coeff", "S4_coeff"):
            steps[k] = (eta / (16 * model.MU + h[k])).astype(h[k].dtype)
    elif name == "clip_0.016":
        steps = {k: np.minimum(v, PAPER_RATES[1]).astype(v.dtype) for k, v in steps.items()}
    elif name == "paper_range":
        steps = {k: np.clip(v, *PAPER_RATES).astype(v.dtype) for k, v in steps.items()}
    return steps


#: name -> (what changes, init rule, h seed, j, input standardised, steps variant,
#:          h re-estimated every this many patterns or None)
VARIANTS = {
    "literal": ("nothing: the paper's recipe", "fan_in", "loss", model.MAP_J, False, None, None),
    "mle_seed": ("h_kk without the loss's curvature (seed 2, the fast recipe's)", "fan_in",
                 "mle", model.MAP_J, False, None, None),
    "shared_mean": ("h_kk of a shared weight averaged over its connections, not summed",
                    "fan_in", "loss", model.MAP_J, False, "shared_mean", None),
    "subsample_mean": ("S2/S4 coefficients multiply the mean of the 4 inputs, not the sum",
                       "fan_in", "loss", model.MAP_J, False, "subsample_mean", None),
    "standardised_input": ("input standardised to mean 0, variance 1 over the training set",
                           "fan_in", "loss", model.MAP_J, True, None, None),
    "j_1": ("j = 1 in eq. 9", "fan_in", "loss", 1.0, False, None, None),
    "j_20": ("j = 20 in eq. 9", "fan_in", "loss", 20.0, False, None, None),
    "clip_0.016": ("every step clipped to the paper's largest, 0.016", "fan_in", "loss",
                   model.MAP_J, False, "clip_0.016", None),
    "paper_range": ("every step clipped into the paper's range 7e-5 .. 0.016", "fan_in",
                    "loss", model.MAP_J, False, "paper_range", None),
    "h_every_1000": ("h_kk re-estimated every 1,000 patterns (not once per pass)", "fan_in",
                     "loss", model.MAP_J, False, None, 1000),
    "sqrt_init": ("initial weights U(+-2.4/sqrt(F_i)) instead of U(+-2.4/F_i)",
                  "sqrt_fan_in", "loss", model.MAP_J, False, None, None),
    "sqrt_init_mle_seed": ("sqrt init, and h_kk without the loss's curvature", "sqrt_fan_in",
                           "mle", model.MAP_J, False, None, None),
}


def standardised(x: np.ndarray) -> np.ndarray:
    m, s = float(x.mean()), float(x.std())
    return ((x - m) / s).astype(x.dtype)


def rms_activations(setup: Setup, rule: str) -> dict:
    out = model.layer_outputs(setup.x[setup.sample[:200]], setup.params(rule))
    return {k: float(np.sqrt(np.mean(v ** 2))) for k, v in out.items() if k != "output"}


def first_pass_rates(setup: Setup, rule: str, seed: str) -> dict:
    params = setup.params(rule)
    h = model.estimate_hessian(params, setup.x[setup.sample], seed=seed)
    steps = model.sdlm_steps(h, ETA)
    stats = model.rate_stats(steps)
    flat = np.concatenate([model._real(k, v) for k, v in steps.items()])
    cap = ETA / model.MU
    stats["share_above_0.016"] = float(np.mean(flat > PAPER_RATES[1]))
    stats["share_at_cap"] = float(np.mean(flat >= 0.99 * cap))
    return stats


def short_run(setup: Setup, name: str) -> dict:
    what, rule, seed, j, std_input, steps_variant, every = VARIANTS[name]
    x = standardised(setup.x) if std_input else setup.x
    params = setup.params(rule)
    trainer = model.PatternTrainer(params, x, setup.y, j=j)

    def new_steps():
        h = model.estimate_hessian(trainer.params(), x[setup.sample], seed=seed, j=j)
        return variant_steps(steps_variant, h, ETA)

    steps = new_steps()
    trainer.set_steps(steps)
    first_rates = model.rate_stats(steps)["all"]
    errors, losses, diverged = [], [], False
    order = setup.order.tolist()
    t0 = time.process_time()
    for start in range(0, len(order), 1000):
        if every and start and start % every == 0:
            trainer.set_steps(new_steps())
        block = [trainer.step(i) for i in order[start:start + 1000]]
        loss = float(np.mean([b[0] for b in block]))
        errors.append(float(np.mean([b[1] for b in block])))
        losses.append(loss)
        if not loss <= model.DIVERGED_LOSS:
            diverged = True
            break
    return {"what": what, "rates": first_rates, "block_errors": errors, "block_losses": losses,
            "diverged": diverged, "cpu_seconds": round(time.process_time() - t0, 1)}


def pass_two(setup: Setup, say) -> dict:
    """Pass 1 in full with the sqrt init, then the start of pass 2 in several variants."""
    params = setup.params("sqrt_fan_in")
    rng = np.random.default_rng(0)
    model.init_params(rng)
    order = rng.permutation(len(setup.x))             # the order of the full runs (seed 0)
    first = model.run_pass(params, setup.x, setup.y, ETA, rng, order=order, hessian="loss")
    state = rng.bit_generator.state
    out = {"pass1": {"loss": first["loss"], "on_the_fly_error": first["on_the_fly_error"],
                     "last_blocks": first["block_errors"][-5:], "rates": first["rates"]}}
    say(f"   pass 1: on-the-fly error {100 * first['on_the_fly_error']:.2f}%, last five blocks "
        f"{' '.join(f'{e:.3f}' for e in first['block_errors'][-5:])}")
    eta2 = model.learning_rate(2)
    for seed in ("loss", "mle"):
        for factor in (1.0, 0.5, 0.25):
            p = {k: v.copy() for k, v in params.items()}
            r2 = np.random.default_rng()
            r2.bit_generator.state = state                  # the same 500 patterns each time
            r = model.run_pass(p, setup.x, setup.y, eta2 * factor, r2, hessian=seed,
                               order=order[:setup.order.size])
            out[f"{seed}/{factor:g}"] = {k: r[k] for k in ("loss", "on_the_fly_error",
                                                           "block_errors", "rates", "diverged")}
            lo, med, hi = r["rates"]["all"]
            say(f"   h_kk seed {seed:4s}, eta x{factor:<4g}: steps {lo:.1e} / {med:.1e} / "
                f"{hi:.1e} (min/median/max); errors "
                f"{' '.join(f'{e:.3f}' for e in r['block_errors'])}; mean loss {r['loss']:.2f}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--patterns", type=int, default=6000, help="patterns per short run")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS))
    args = ap.parse_args(argv)
    lines: list[str] = []

    def say(text=""):
        print(text, flush=True)
        lines.append(text)

    setup = Setup(args.patterns)
    result = {"eta": ETA, "mu": model.MU, "paper_rates": PAPER_RATES, "patterns": args.patterns}
    say(f"1. First-pass effective step sizes eta/(mu + h_kk), eta = {ETA}, mu = {model.MU} "
        f"(cap eta/mu = {ETA / model.MU:g}); paper (p. 10): {PAPER_RATES[0]:g} .. "
        f"{PAPER_RATES[1]:g}")
    result["rates"] = {}
    for rule, seed in (("fan_in", "loss"), ("fan_in", "mle"), ("sqrt_fan_in", "loss"),
                       ("sqrt_fan_in", "mle")):
        stats = first_pass_rates(setup, rule, seed)
        result["rates"][f"{rule}/{seed}"] = stats
        say(f"   init {rule}, h_kk seed {seed}: {100 * stats['share_at_cap']:.1f}% of the "
            f"parameters at the cap, {100 * stats['share_above_0.016']:.1f}% above 0.016")
        for layer in model.LAYER_PARAMS:
            lo, med, hi = stats[layer]
            say(f"      {layer:3s} {lo:9.2e} {med:9.2e} {hi:9.2e}")
        lo, med, hi = stats["all"]
        say(f"      all {lo:9.2e} {med:9.2e} {hi:9.2e}")
    say()
    say("2. Root-mean-square activation of each layer at the start (200 training digits)")
    result["rms"] = {rule: rms_activations(setup, rule) for rule in model.INIT_RULES}
    for rule, rms in result["rms"].items():
        say(f"   init {rule:12s} " + "  ".join(f"{k} {v:.3f}" for k, v in rms.items()))
    say()
    say(f"3. Short runs: the first {args.patterns:,} patterns of pass 1, one update per pattern, "
        f"eta = {ETA}; on-the-fly error per 1,000 patterns (mean loss)")
    result["runs"] = {}
    for name in args.variants:
        r = short_run(setup, name)
        result["runs"][name] = r
        errs = " ".join(f"{e:.2f}" for e in r["block_errors"])
        losses = " ".join(f"{v:.0f}" for v in r["block_losses"])
        verdict = "DIVERGED" if r["diverged"] else "learns"
        say(f"   {name:18s} {verdict:8s} steps {r['rates'][0]:.1e}..{r['rates'][2]:.1e}  "
            f"errors {errs}  (losses {losses})  -- {r['what']}")
    say()
    say(f"4. Pass 2 after a full pass 1 of sqrt_init (init U(+-2.4/sqrt(F_i)), the paper's "
        f"rule): first {args.patterns:,} patterns of pass 2")
    result["pass2"] = pass_two(setup, say)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".txt").write_text("\n".join(lines) + "\n")
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out.with_suffix('.txt')} and {args.out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
