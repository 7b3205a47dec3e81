"""Train LeNet-5 (as published) and the modern Keras-style variant with the same budget.

    python -m scripts.compare_modern                  # writes data/results/modern_vs_lenet5.json
    python -m scripts.compare_modern --passes 2 --train-size 60000 --seed 0

Both models see the same training images (the first ``--train-size`` of MNIST's 60,000), in
the same order (one random permutation from ``--seed``, kept for every pass, as the paper
presents its patterns), in mini-batches of the same size, for the same number of passes, and
are scored on the same 10,000 test images after every pass.  Each keeps its own recipe:

* LeNet-5 (``reference.model``): 32x32 input scaled to -0.1 .. 1.175, scaled tanh, trainable
  subsampling, sparse C3, fixed RBF output, eq. 9 loss, SDLM with the paper's schedule of eta
  (passes 1, 2, ...), exactly as the shipped weights were trained (``model.RECIPE``: the
  mini-batch size, the factors on eta, j) except for the number of passes;
* the modern variant (``reference.modern``): 28x28 input scaled to 0 .. 1, ReLU, max pooling,
  dense conv2, softmax with cross-entropy, Adam (learning rate 0.001).

The passes of the two models alternate (LeNet-5 pass 1, modern pass 1, LeNet-5 pass 2, ...)
so that both run under the same machine load, and BLAS runs single-threaded
(``OPENBLAS_NUM_THREADS=1`` etc. are set before NumPy is imported) so that neither model is
favoured by multithreading of its matrix products.  Training time (wall-clock and CPU seconds
of the process, the latter unaffected by other jobs waiting for the CPU) excludes the
evaluations.
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
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from reference import model, modern  # noqa: E402
from lenet5.data import DATA_DIR, load_mnist  # noqa: E402

OUT = DATA_DIR / "results" / "modern_vs_lenet5.json"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=model.RECIPE["batch_size"],
                    help="patterns per update, both models (default: that of LeNet-5's "
                         f"shipped recipe, {model.RECIPE['batch_size']})")
    ap.add_argument("--train-size", type=int, default=60_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--adam-lr", type=float, default=1e-3)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    recipe = model.RECIPE          # LeNet-5 trained exactly as the shipped weights were

    load_at_start = [round(v, 2) for v in os.getloadavg()]
    train_images, train_labels = load_mnist("train")
    test_images, test_labels = load_mnist("test")
    train_images, train_labels = train_images[:args.train_size], train_labels[:args.train_size]
    y_train = train_labels.astype(np.int64)
    order = np.random.default_rng(args.seed).permutation(len(train_images))

    lenet_params = model.init_params(np.random.default_rng(args.seed))
    lenet_x = model.to_input(train_images)
    lenet_rng = np.random.default_rng(args.seed + 1)          # Hessian samples
    modern_params = modern.init_params(np.random.default_rng(args.seed))
    modern_x = modern.to_input(train_images)
    adam = modern.Adam(modern_params, lr=args.adam_lr)
    modern_rng = np.random.default_rng(args.seed + 1)

    def lenet_pass(p):
        eta = (model.learning_rate(p) * recipe["rate_scale"]
               * (recipe["first_pass_scale"] if p == 1 else 1.0))
        return model.train_pass(lenet_params, lenet_x, y_train, eta, lenet_rng,
                                batch_size=args.batch_size, loss=recipe["loss"], j=recipe["j"],
                                order=order)

    def modern_pass(p):
        return modern.train_pass(modern_params, modern_x, y_train, adam, modern_rng,
                                 batch_size=args.batch_size, order=order)

    runs = {
        # No parameter or connection counts: students read this file, and chapters 2-10 grade
        # those counts.
        "lenet5": {"name": "LeNet-5 (1998)",
                   "recipe": "32x32 input in -0.1..1.175; scaled tanh; trainable 2x2 "
                             "subsampling; C3 sparse (Table I); fixed RBF output; eq. 9 loss; "
                             f"SDLM, the paper's schedule of eta x {recipe['rate_scale']:g} (pass 1: "
                             f"x {recipe['rate_scale'] * recipe['first_pass_scale']:g}), "
                             f"mu {model.MU:g}, j {recipe['j']:g}",
                   "train": lenet_pass,
                   "error": lambda: model.error_rate(lenet_params, test_images, test_labels)},
        "modern": {"name": "modern variant (Keras-style)",
                   "recipe": "28x28 input in 0..1; ReLU; 2x2 max pooling; conv2 dense over "
                             "all 6 maps; softmax + cross-entropy; Adam, lr "
                             f"{args.adam_lr:g}, Glorot-uniform initialisation",
                   "train": modern_pass,
                   "error": lambda: modern.error_rate(modern_params, test_images, test_labels)},
    }
    for r in runs.values():
        r.update(train_loss=[], test_error=[], seconds=[], cpu_seconds=[], elapsed=0.0,
                 cpu=0.0)
        r["test_error_at_start"] = r["error"]()

    print(f"{args.passes} passes over {len(order):,} images, batch {args.batch_size}", flush=True)
    for p in range(1, args.passes + 1):
        for key, r in runs.items():
            t0, c0 = time.perf_counter(), time.process_time()
            loss = r["train"](p)
            r["elapsed"] += time.perf_counter() - t0
            r["cpu"] += time.process_time() - c0
            err = r["error"]()
            r["train_loss"].append(round(float(loss), 6))
            r["test_error"].append(err)
            r["seconds"].append(round(r["elapsed"], 2))
            r["cpu_seconds"].append(round(r["cpu"], 2))
            print(f"pass {p} {key:7s} loss {loss:9.4f}  test error {100 * err:5.2f}%  "
                  f"{r['elapsed']:7.1f} s  {r['cpu']:7.1f} s CPU", flush=True)

    result = {
        "script": "scripts/compare_modern.py",
        "settings": {"passes": args.passes, "batch_size": args.batch_size,
                     "train_size": len(order), "test_size": len(test_labels),
                     "seed": args.seed, "adam_lr": args.adam_lr,
                     "lenet5_recipe": {k: recipe[k] for k in sorted(recipe)},
                     "blas_threads": os.environ["OPENBLAS_NUM_THREADS"],
                     "numpy": np.__version__, "python": platform.python_version(),
                     "machine": platform.machine(), "cpus": os.cpu_count(),
                     "load_average_at_start": load_at_start},
        "models": {key: {k: v for k, v in r.items()
                         if k not in ("train", "error", "elapsed", "cpu")}
                   for key, r in runs.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
