"""Train the reference LeNet-5 from scratch and write the shipped weights.

    python -m scripts.train_lenet5            # ~20 passes; writes data/weights/lenet5.npz

Full 60,000 MNIST training images, no distortions; the paper's SDLM optimiser (diagonal
Gauss-Newton Hessian re-estimated on 500 patterns before each pass, mu = 0.02) with its
20-pass learning-rate schedule and the eq. 9 (MAP) loss, in the mini-batch form of
``reference.model.RECIPE`` (what differs from the paper: see the docstring of reference/model.py).
After every pass it prints the mean training loss, the training and test error and the
training seconds so far (wall-clock and CPU; evaluation excluded), and at the end it writes

* ``data/weights/lenet5.npz``: the parameters plus metadata (passes, seconds, test error,
  seed, settings), read by ``lenet5.data.load_weights()`` and ``reference.model.load_trained()``;
* ``data/weights/lenet5_training_log.json``: the settings, then per pass (lists indexed
  like ``passes``) eta, mean training loss, train/test error, wall-clock and CPU seconds
  (plotted in chapter 9).

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
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from reference import model  # noqa: E402
from lenet5.data import load_mnist  # noqa: E402


def parse_args(argv=None):
    r = model.RECIPE
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--passes", type=int, default=20, help="passes over the training set (20)")
    ap.add_argument("--batch-size", type=int, default=r["batch_size"],
                    help=f"patterns per update; 1 = the paper ({r['batch_size']})")
    ap.add_argument("--rate-scale", type=float, default=r["rate_scale"],
                    help=f"factor on the paper's eta schedule ({r['rate_scale']})")
    ap.add_argument("--first-pass-scale", type=float, default=r["first_pass_scale"],
                    help=f"extra factor on eta in pass 1 ({r['first_pass_scale']})")
    ap.add_argument("--loss", choices=sorted(model.LOSSES), default=r["loss"],
                    help="map = eq. 9, mle = eq. 8")
    ap.add_argument("--j", type=float, default=r["j"], help=f"j of eq. 9 ({r['j']})")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=model.WEIGHTS_PATH)
    ap.add_argument("--log", type=Path, default=None,
                    help="training log (default: <out stem>_training_log.json)")
    ap.add_argument("--train-error", action=argparse.BooleanOptionalAction, default=True,
                    help="measure the error on the 60,000 training images after each pass")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    log_path = args.log or args.out.with_name(args.out.stem + "_training_log.json")
    train_images, train_labels = load_mnist("train")
    test_images, test_labels = load_mnist("test")
    x_train = model.to_input(train_images)
    y_train = train_labels.astype(np.int64)

    rng = np.random.default_rng(args.seed)
    params = model.init_params(rng)
    settings = {"seed": args.seed, "batch_size": args.batch_size, "rate_scale": args.rate_scale,
                "first_pass_scale": args.first_pass_scale, "loss": args.loss, "j": args.j,
                "mu": model.MU, "hessian_patterns": model.HESSIAN_PATTERNS,
                "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS")}
    log = dict(settings, **{k: [] for k in ("passes", "eta", "train_loss", "train_error",
                                            "test_error", "seconds", "cpu_seconds")})
    print(f"LeNet-5, {model.count_parameters(params):,} parameters; SDLM, batch "
          f"{args.batch_size}, {args.passes} passes, seed {args.seed}", flush=True)
    print(f"{'pass':>4} {'eta':>9} {'loss':>8} {'train err':>9} {'test err':>8} {'seconds':>8} "
          f"{'cpu s':>7}", flush=True)
    elapsed, t0 = 0.0, time.perf_counter()
    cpu, c0 = 0.0, time.process_time()          # CPU time: unaffected by other jobs waiting
    passes = model.fit(params, x_train, y_train, rng, passes=args.passes,
                       batch_size=args.batch_size, rate_scale=args.rate_scale,
                       first_pass_scale=args.first_pass_scale, loss=args.loss, j=args.j)
    for p, eta, loss in passes:
        elapsed += time.perf_counter() - t0
        cpu += time.process_time() - c0
        test_err = model.error_rate(params, test_images, test_labels)
        train_err = (model.error_rate(params, train_images, train_labels)
                     if args.train_error else None)
        for key, value in (("passes", p), ("eta", eta), ("train_loss", loss),
                           ("train_error", train_err), ("test_error", test_err),
                           ("seconds", round(elapsed, 2)), ("cpu_seconds", round(cpu, 2))):
            log[key].append(value)
        train_txt = f"{100 * train_err:8.2f}%" if train_err is not None else f"{'-':>9}"
        print(f"{p:4d} {eta:9.2e} {loss:8.4f} {train_txt} {100 * test_err:7.2f}% "
              f"{elapsed:8.1f} {cpu:7.1f}", flush=True)
        t0, c0 = time.perf_counter(), time.process_time()

    first = next(((p, s, c) for p, s, c, e in zip(log["passes"], log["seconds"],
                                                  log["cpu_seconds"], log["test_error"])
                  if e <= 0.01), (None, None, None))
    log["first_pass_at_1pct_test_error"] = first[0]
    log["seconds_to_1pct_test_error"], log["cpu_seconds_to_1pct_test_error"] = first[1:]
    meta = dict(settings, passes=args.passes, seconds=round(elapsed, 1),
                cpu_seconds=round(cpu, 1), test_error=log["test_error"][-1],
                train_error=log["train_error"][-1], seconds_to_1pct_test_error=first[1],
                cpu_seconds_to_1pct_test_error=first[2], numpy=np.__version__)
    model.save_params(args.out, params, **meta)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(json.dumps(log, indent=1) + "\n")
    print(f"final test error {100 * log['test_error'][-1]:.2f}% after {args.passes} passes, "
          f"{elapsed:.0f} s of training ({cpu:.0f} s CPU); test error <= 1.0% first after pass "
          f"{first[0]} ({first[1]} s, {first[2]} s CPU)")
    print(f"wrote {args.out} and {log_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
