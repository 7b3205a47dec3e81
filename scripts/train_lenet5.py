"""Train the reference LeNet-5 from scratch with a named recipe and write weights and a log.

    python -m scripts.train_lenet5                          # recipe "fast": the shipped weights
    nice python -m scripts.train_lenet5 --recipe paper_sqrt_init \\
        --out data/results/lenet5_paper_sqrt_init.npz       # the paper's rule, one pattern at a time

Full 60,000 MNIST training images, no distortions; the paper's SDLM optimiser (diagonal
Gauss-Newton Hessian re-estimated on 500 patterns before each pass, mu = 0.02) with its
20-pass learning-rate schedule and the eq. 9 (MAP) loss, in the form of one of
``reference.model.RECIPES`` (``--recipe``; the options below override single settings):

* ``fast``: mini-batches of 16, eta x0.5 in pass 1 and x2 after, h_kk seeded with eq. 8's
  curvature (the shipped weights);
* ``paper``: the paper's procedure as printed: one update per pattern, the schedule as
  printed, h_kk with the loss's own curvature, init U(+-2.4/F_i) -- it diverges in pass 1
  (``scripts/investigate_divergence.py`` shows why);
* ``paper_sqrt_init``: the same with the initial weights divided by sqrt(F_i) instead of F_i.

After every pass it prints the mean training loss, the training error measured on the fly
(each pattern scored when presented, before its update: the paper's Fig. 5), the training
and test error after the pass, and the training seconds so far (wall-clock and CPU;
evaluation excluded), and at the end it writes

* ``--out`` (default ``data/weights/lenet5.npz``): the parameters plus metadata (recipe,
  passes, seconds, errors, seed, settings), read by ``lenet5.data.load_weights()`` and
  ``reference.model.load_trained()`` when it is the default path;
* ``<out stem>_training_log.json``: the settings, then per pass (lists indexed like
  ``passes``) eta, mean training loss, on-the-fly and after-pass training error, test error,
  wall-clock and CPU seconds, the effective step sizes eta/(mu + h_kk) per layer
  (min, median, max) and the on-the-fly error of every block of 1,000 patterns.

A run that diverges (``reference.model.run_pass``) stops, and its log says so.
Deterministic for a given seed on a given machine.  BLAS runs single-threaded unless
OPENBLAS_NUM_THREADS is set (robust on a shared machine, and float32 sums depend on the
BLAS kernel and thread count: another machine can differ in the last bits and, after 20
passes, in a few test digits).
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")     # before NumPy is imported

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from reference import model  # noqa: E402
from lenet5.data import load_mnist  # noqa: E402


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipe", choices=sorted(model.RECIPES), default="fast",
                    help="named settings of reference.model.RECIPES (fast)")
    ap.add_argument("--passes", type=int, default=20, help="passes over the training set (20)")
    ap.add_argument("--batch-size", type=int, help="patterns per update; 1 = the paper")
    ap.add_argument("--rate-scale", type=float, help="factor on the paper's eta schedule")
    ap.add_argument("--first-pass-scale", type=float, help="extra factor on eta in pass 1")
    ap.add_argument("--loss", choices=sorted(model.LOSSES), help="map = eq. 9, mle = eq. 8")
    ap.add_argument("--j", type=float, help="j of eq. 9")
    ap.add_argument("--hessian", choices=model.HESSIAN_SEEDS,
                    help="seed of the h_kk estimate: mle (2) or loss (its curvature)")
    ap.add_argument("--init", choices=model.INIT_RULES, help="initial weights: 2.4/F or "
                    "2.4/sqrt(F)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=model.WEIGHTS_PATH)
    ap.add_argument("--log", type=Path, default=None,
                    help="training log (default: <out stem>_training_log.json)")
    ap.add_argument("--train-error", action=argparse.BooleanOptionalAction, default=True,
                    help="measure the error on the 60,000 training images after each pass")
    return ap.parse_args(argv)


def settings_of(args) -> dict:
    """The recipe's settings with the command-line overrides applied."""
    settings = dict(model.RECIPES[args.recipe])
    for key in settings:
        value = getattr(args, key, None)
        if value is not None:
            settings[key] = value
    return settings


def main(argv=None) -> int:
    args = parse_args(argv)
    log_path = args.log or args.out.with_name(args.out.stem + "_training_log.json")
    train_images, train_labels = load_mnist("train")
    test_images, test_labels = load_mnist("test")
    x_train = model.to_input(train_images)
    y_train = train_labels.astype(np.int64)

    recipe = settings_of(args)
    rng = np.random.default_rng(args.seed)
    params = model.init_params(rng, rule=recipe["init"])
    settings = {"recipe": args.recipe, "seed": args.seed, **recipe, "mu": model.MU,
                "hessian_patterns": model.HESSIAN_PATTERNS,
                "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
                "machine": f"{platform.machine()}, {os.cpu_count()} logical CPUs, "
                           f"{platform.python_implementation()} {platform.python_version()}, "
                           f"NumPy {np.__version__}"}
    keys = ("passes", "eta", "train_loss", "train_error_on_the_fly", "train_error",
            "test_error", "seconds", "cpu_seconds", "rates", "block_errors", "patterns")
    log = dict(settings, **{k: [] for k in keys}, diverged=False)
    print(f"LeNet-5, {model.count_parameters(params):,} parameters; SDLM, recipe "
          f"{args.recipe}: {recipe}; {args.passes} passes, seed {args.seed}", flush=True)
    print(f"{'pass':>4} {'eta':>9} {'loss':>8} {'on the fly':>10} {'train err':>9} "
          f"{'test err':>8} {'seconds':>8} {'cpu s':>7}  eta/(mu+h_kk) min..max", flush=True)
    fit_args = {k: recipe[k] for k in recipe if k != "init"}
    elapsed, t0 = 0.0, time.perf_counter()
    cpu, c0 = 0.0, time.process_time()          # CPU time: unaffected by other jobs waiting
    for r in model.fit(params, x_train, y_train, rng, passes=args.passes, **fit_args):
        elapsed += time.perf_counter() - t0
        cpu += time.process_time() - c0
        p = r["pass"]
        if r["diverged"]:
            test_err = train_err = None
        else:
            test_err = model.error_rate(params, test_images, test_labels)
            train_err = (model.error_rate(params, train_images, train_labels)
                         if args.train_error else None)
        for key, value in (("passes", p), ("eta", r["eta"]), ("train_loss", r["loss"]),
                           ("train_error_on_the_fly", r["on_the_fly_error"]),
                           ("train_error", train_err), ("test_error", test_err),
                           ("seconds", round(elapsed, 2)), ("cpu_seconds", round(cpu, 2)),
                           ("rates", r["rates"]), ("block_errors", r["block_errors"]),
                           ("patterns", r["patterns"])):
            log[key].append(value)

        def pct(v):
            return f"{100 * v:.2f}%" if v is not None else "-"
        lo, _, hi = r["rates"]["all"]
        print(f"{p:4d} {r['eta']:9.2e} {r['loss']:8.4f} {pct(r['on_the_fly_error']):>10} "
              f"{pct(train_err):>9} {pct(test_err):>8} {elapsed:8.1f} {cpu:7.1f}  "
              f"{lo:.1e}..{hi:.1e}", flush=True)
        if r["diverged"]:
            log["diverged"] = True
            print(f"diverged in pass {p} after {r['patterns']:,} patterns (mean loss of a "
                  f"block of 1,000 above {model.DIVERGED_LOSS:g}); on-the-fly error per "
                  f"block: {' '.join(f'{e:.2f}' for e in r['block_errors'])}", flush=True)
        t0, c0 = time.perf_counter(), time.process_time()

    done = [(p, s, c) for p, s, c, e in zip(log["passes"], log["seconds"],
                                            log["cpu_seconds"], log["test_error"])
            if e is not None and e <= 0.01]
    first = done[0] if done else (None, None, None)
    log["first_pass_at_1pct_test_error"] = first[0]
    log["seconds_to_1pct_test_error"], log["cpu_seconds_to_1pct_test_error"] = first[1:]
    updates = sum(log["patterns"]) // recipe["batch_size"]
    meta = dict(settings, passes=len(log["passes"]), seconds=round(elapsed, 1),
                cpu_seconds=round(cpu, 1), test_error=log["test_error"][-1],
                train_error=log["train_error"][-1],
                train_error_on_the_fly=log["train_error_on_the_fly"][-1],
                diverged=log["diverged"], seconds_to_1pct_test_error=first[1],
                cpu_seconds_to_1pct_test_error=first[2], numpy=np.__version__)
    log["updates"] = updates
    log["updates_per_second"] = round(updates / elapsed, 1) if elapsed else None
    log["updates_per_cpu_second"] = round(updates / cpu, 1) if cpu else None
    if log["diverged"]:
        print(f"no weights written: the run diverged ({args.out} left as it was)")
    else:
        model.save_params(args.out, params, **meta)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(json.dumps(log, indent=1) + "\n")
    if log["test_error"][-1] is not None:
        print(f"final test error {100 * log['test_error'][-1]:.2f}% after "
              f"{len(log['passes'])} passes, {elapsed:.0f} s of training ({cpu:.0f} s CPU); "
              f"test error <= 1.0% first after pass {first[0]} ({first[1]} s, {first[2]} s CPU)")
    print(f"wrote {log_path}" if log["diverged"] else f"wrote {args.out} and {log_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
