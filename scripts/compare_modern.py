"""Train chapter 10's three networks on the same data with the same budgets, over several seeds.

    python -m scripts.compare_modern          # writes data/results/modern_vs_lenet5.json and .log
    python -m scripts.compare_modern --train-size 20000 --passes 3 --cpu-budget 30 --seeds 0 1 2

The three networks:

* ``lenet5``: LeNet-5 as published (``reference.model``): 32x32 input in -0.1 .. 1.175, scaled
  tanh, trainable subsampling, sparse C3 (Table I), fixed RBF output, the loss of eq. 9 (j = 5),
  SDLM with the paper's schedule of eta (p. 10), the diagonal Hessian re-estimated on 500
  patterns before each pass, eta x 0.25 in pass 1 (the book's recipe, ``model.RECIPE``);
* ``seed``: the seed article's Keras model (``reference.modern``, ``variant="seed"``): 28x28
  input in 0 .. 1, tanh, 2x2 average pooling, dense conv2, dense layers 120, 84, 10 with a
  softmax and cross-entropy, Glorot-uniform initialisation, Adam;
* ``modern``: the same with ReLU and 2x2 max pooling (``variant="modern"``), Adam.

Same data: the first ``--train-size`` MNIST training images, in one random order per seed kept
for every pass, in mini-batches of ``--batch-size`` (16, the book's LeNet-5 recipe) for every
network; test error on all 10,000 test images.

Same budgets, two of them, from one run per network and seed: the test error after each of
the first ``--passes`` passes (budget in passes), and the test error when the network's training
has used ``--cpu-budget`` CPU seconds (``time.process_time``, one BLAS thread, evaluations not
counted; a network that is cheaper per pass makes more passes in that time).  Training goes on
until both budgets are spent.

One rule for the step size (said in the chapter): each network's step is its usual default
(LeNet-5: the paper's schedule of eta; the two Keras models: Adam's 0.001) times a factor from
``--grid``, the same factors for all three; the factor is chosen per network by the error on a
held-out part of the training set (the last ``--heldout`` training images, which the runs never
train on; never the test set) after ``--passes`` passes from a separate seed (``--tune-seed``).

Written: per network and seed the test error per pass and at the CPU budget, CPU and wall
seconds, the training loss, the machine and its load; the tuning grid's held-out errors; the
wall time of the whole script.  ``--jobs`` runs that many trainings at once (CPU seconds are
per process and do not depend on it; wall seconds do).
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from reference import model, modern  # noqa: E402
from lenet5.data import DATA_DIR, load_mnist  # noqa: E402

OUT = DATA_DIR / "results" / "modern_vs_lenet5.json"
MODELS = ("lenet5", "seed", "modern")
NAMES = {"lenet5": "LeNet-5 (1998)", "seed": "the seed article's model",
         "modern": "the modern variant"}
ADAM_LR = 1e-3                     # Keras' default
RECIPE = model.RECIPE


def describe(key: str, factor: float) -> str:
    """One line: what network ``key`` is and how it is trained with step factor ``factor``."""
    if key == "lenet5":
        return ("32x32 input in -0.1..1.175; scaled tanh; trainable 2x2 subsampling; C3 sparse "
                "(Table I); fixed RBF output; eq. 9 loss (j %g); SDLM (mu %g), the paper's "
                "schedule of eta x %g (pass 1: x %g)"
                % (RECIPE["j"], model.MU, factor, factor * RECIPE["first_pass_scale"]))
    act, pool = modern.VARIANTS[key]
    return (f"28x28 input in 0..1; {act}; 2x2 {'average' if pool == 'avg' else 'max'} pooling; "
            f"conv2 over all 6 maps; dense 120, 84, 10; softmax + cross-entropy; "
            f"Glorot-uniform initialisation; Adam, lr {ADAM_LR * factor:g}")


class LeNetTrainer:
    """LeNet-5 with SDLM, one mini-batch at a time (what ``model.train_pass`` does per pass)."""

    def __init__(self, images, labels, seed: int, factor: float):
        self.params = model.init_params(np.random.default_rng(seed))
        self.x, self.labels = model.to_input(images), labels
        self.rng = np.random.default_rng(seed + 1)                 # Hessian samples
        self.factor, self.steps, self.workspaces = factor, None, {}

    def start_pass(self, p: int) -> None:
        eta = (model.learning_rate(p) * self.factor
               * (RECIPE["first_pass_scale"] if p == 1 else 1.0))
        sample = self.rng.choice(len(self.x), size=model.HESSIAN_PATTERNS, replace=False)
        self.steps = model.sdlm_steps(model.estimate_hessian(self.params, self.x[sample]), eta)

    def step(self, idx) -> float:
        ws = self.workspaces.get(len(idx)) or self.workspaces.setdefault(
            len(idx), model.Workspace(len(idx), self.params["C1_w"].dtype))
        y, cache = model.forward(self.x[idx], self.params, ws)
        value, dy = model.LOSSES[RECIPE["loss"]](y, self.labels[idx], j=RECIPE["j"])
        model.sdlm_update(self.params, model.backward(dy, cache), self.steps)
        return value

    def error(self, images, labels) -> float:
        return model.error_rate(self.params, images, labels)


class KerasTrainer:
    """The seed article's model or the modern variant, with Adam."""

    def __init__(self, images, labels, seed: int, factor: float, variant: str):
        self.params = modern.init_params(np.random.default_rng(seed))
        self.x, self.labels, self.variant = modern.to_input(images), labels, variant
        self.adam = modern.Adam(self.params, lr=ADAM_LR * factor)

    def start_pass(self, p: int) -> None:
        pass

    def step(self, idx) -> float:
        return modern.train_step(self.params, self.x[idx], self.labels[idx], self.adam,
                                 self.variant)

    def error(self, images, labels) -> float:
        return modern.error_rate(self.params, images, labels, variant=self.variant)


def machine() -> dict:
    """What the run ran on: architecture, CPU model, CPU count, load average now."""
    cpu = platform.processor()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"machine": platform.machine(), "cpu": cpu, "cpus": os.cpu_count(),
            "load_average": [round(v, 2) for v in os.getloadavg()]}


_DATA: dict = {}           # filled by main() before the workers fork


def train(key: str, seed: int, factor: float, passes: int, cpu_budget: float | None,
          evaluate_on: str) -> dict:
    """Train network ``key`` from ``seed`` until ``passes`` passes and ``cpu_budget`` CPU
    seconds are both spent; error on ``evaluate_on`` ("test" or "heldout") after each pass
    (and at the budget)."""
    d = _DATA
    at_start = machine()
    if key == "lenet5":
        trainer = LeNetTrainer(d["train_images"], d["train_labels"], seed, factor)
    else:
        trainer = KerasTrainer(d["train_images"], d["train_labels"], seed, factor, key)
    eval_images, eval_labels = d[evaluate_on]
    order = np.random.default_rng(seed).permutation(len(d["train_labels"]))
    batch = d["batch_size"]
    cpu = wall = 0.0
    run = {"error_at_start": trainer.error(eval_images, eval_labels), "test_error": [],
           "train_loss": [], "cpu_seconds": [], "wall_seconds": []}
    p = 0
    while p < passes or (cpu_budget is not None and cpu < cpu_budget):
        p += 1
        total = 0.0
        c0, w0 = time.process_time(), time.perf_counter()
        trainer.start_pass(p)
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            total += trainer.step(idx) * len(idx)
            if cpu_budget is not None and "at_cpu_budget" not in run and (
                    cpu + time.process_time() - c0 >= cpu_budget):
                cpu += time.process_time() - c0
                wall += time.perf_counter() - w0
                run["at_cpu_budget"] = {"test_error": trainer.error(eval_images, eval_labels),
                                        "passes": round(p - 1 + (i + len(idx)) / len(order), 3),
                                        "cpu_seconds": round(cpu, 2),
                                        "wall_seconds": round(wall, 2)}
                c0, w0 = time.process_time(), time.perf_counter()
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
        run["test_error"].append(trainer.error(eval_images, eval_labels))
        run["train_loss"].append(round(total / len(order), 6))
        run["cpu_seconds"].append(round(cpu, 2))
        run["wall_seconds"].append(round(wall, 2))
    if evaluate_on == "heldout":          # tuning: the held-out error, not a test error
        run["heldout_error"] = run.pop("test_error")
    run["machine_at_start"] = at_start
    return run


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train-size", type=int, default=20_000)
    ap.add_argument("--heldout", type=int, default=10_000)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--cpu-budget", type=float, default=30.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--tune-seed", type=int, default=1000)
    ap.add_argument("--grid", type=float, nargs="+", default=[0.5, 1.0, 2.0, 4.0])
    ap.add_argument("--batch-size", type=int, default=RECIPE["batch_size"])
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if args.train_size + args.heldout > 60_000:
        ap.error("--train-size + --heldout must be at most 60,000 (they must not overlap)")

    wall0, started = time.perf_counter(), time.strftime("%Y-%m-%d %H:%M:%S %Z")
    log_path = args.out.with_suffix(".log")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    log_file = open(log_path, "w")

    def log(line: str) -> None:
        print(line, flush=True)
        log_file.write(line + "\n")
        log_file.flush()

    train_images, train_labels = load_mnist("train")
    test_images, test_labels = load_mnist("test")
    _DATA.update(train_images=train_images[:args.train_size],
                 train_labels=train_labels[:args.train_size].astype(np.int64),
                 heldout=(train_images[-args.heldout:], train_labels[-args.heldout:]),
                 test=(test_images, test_labels), batch_size=args.batch_size)
    log(f"started {started}; {machine()}")
    log(f"train on MNIST training images 0..{args.train_size - 1}, tune on "
        f"{60_000 - args.heldout}..59999, test on the 10,000 test images; mini-batches of "
        f"{args.batch_size}; budgets: {args.passes} passes, {args.cpu_budget:g} CPU s")

    with ProcessPoolExecutor(args.jobs) as pool:
        # 1. the step factor of each network, on the held-out images
        tuning = {(key, f): pool.submit(train, key, args.tune_seed, f, args.passes, None,
                                        "heldout")
                  for key in MODELS for f in args.grid}
        chosen, grid = {}, {}
        for key in MODELS:
            grid[key] = {}
            for f in args.grid:
                r = tuning[key, f].result()
                grid[key][f"{f:g}"] = {"heldout_error": r["heldout_error"],
                                       "cpu_seconds": r["cpu_seconds"][-1]}
                log(f"tune {key:7s} factor {f:4g}: held-out error after {args.passes} passes "
                    f"{100 * r['heldout_error'][-1]:6.2f}%  ({r['cpu_seconds'][-1]:.1f} CPU s)")
            chosen[key] = min(args.grid, key=lambda f: (grid[key][f"{f:g}"]["heldout_error"][-1],
                                                        abs(np.log(f))))
            log(f"tune {key:7s} -> factor {chosen[key]:g}")
        # 2. the runs, every seed, the seeds' trainings interleaved
        jobs = {(key, s): pool.submit(train, key, s, chosen[key], args.passes, args.cpu_budget,
                                      "test")
                for s in args.seeds for key in MODELS}
        runs = {key: {} for key in MODELS}
        for (key, s), job in jobs.items():
            r = runs[key][str(s)] = job.result()
            b = r["at_cpu_budget"]
            log(f"seed {s} {key:7s} test error per pass "
                + " ".join(f"{100 * e:.2f}%" for e in r["test_error"])
                + f"; CPU s {r['cpu_seconds']}; wall s {r['wall_seconds']}; at "
                  f"{args.cpu_budget:g} CPU s ({b['passes']:.2f} passes): {100 * b['test_error']:.2f}%")

    wall = time.perf_counter() - wall0
    log(f"whole script: {wall:.0f} s wall clock, {args.jobs} job(s) at once")
    result = {
        "script": "scripts/compare_modern.py",
        "started": started,
        "script_wall_seconds": round(wall, 1),
        "settings": {"train_size": args.train_size, "heldout": args.heldout,
                     "test_size": len(test_labels), "passes": args.passes,
                     "cpu_budget": args.cpu_budget, "seeds": args.seeds,
                     "tune_seed": args.tune_seed, "grid": args.grid,
                     "batch_size": args.batch_size, "jobs": args.jobs, "adam_lr": ADAM_LR,
                     "lenet5_recipe": {k: RECIPE[k] for k in sorted(RECIPE)},
                     "blas_threads": os.environ["OPENBLAS_NUM_THREADS"],
                     "numpy": np.__version__, "python": platform.python_version(),
                     "machine": machine()},
        # No parameter or connection counts: students read this file, and chapters 2-10 grade
        # those counts.
        "models": {key: {"name": NAMES[key], "recipe": describe(key, chosen[key]),
                         "step_factor": chosen[key], "tuning": grid[key], "runs": runs[key]}
                   for key in MODELS},
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    log(f"wrote {args.out} and {log_path}")
    log_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
