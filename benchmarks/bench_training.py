"""Training throughput of the NumPy reference LeNet-5 versus PyTorch eager on this CPU.

    python -m benchmarks.bench_training                  # one thread each (the default)
    python -m benchmarks.bench_training --threads 2 --time-to-accuracy

Both sides train the *same* network on the same MNIST images: Table-I sparse C3 (PyTorch: a
dense conv whose weight is multiplied by the 0/1 mask in every forward pass), trainable 2x2
subsampling (sum * coefficient + bias, then the squashing function), C5 as a 5x5 convolution,
F6 dense, fixed RBF output, eq. 9 loss, and an SDLM-style update ``p -= step * grad`` with a
per-parameter step tensor.  One "sample" = forward + backward + update for one pattern.

Implementations timed at each batch size:

* ``numpy``: the reference model; at batch 1 its per-pattern fast path
  (``model.PatternTrainer``, what the paper's recipe trains with), else ``Workspace``;
* ``numpy-ws`` (batch 1 only): the general ``Workspace`` path on a batch of one;
* ``torch``: PyTorch eager, default settings (oneDNN convolutions on);
* ``torch-no-onednn``: the same inside ``torch.backends.mkldnn.flags(enabled=False)``.

The trials of all implementations are *interleaved* (round-robin, 15 trials each by
default), so that a change in the machine's load hits them alike; each figure is the
*median* trial, in samples per second of wall-clock and per CPU-second of this process.
Ratios NumPy / PyTorch are printed for both PyTorch settings, wall-clock and CPU.  NumPy's
BLAS and PyTorch use ``--threads`` threads each (default 1; threadpoolctl, when installed,
sets NumPy's and shows the BLAS kernel).

It also prints the float32 GEMM GFLOP/s that NumPy reaches here and the epoch-time floor
implied by the arithmetic: multiply-accumulates per sample for forward + weight and input
gradients, with C3 counted dense (as PyTorch and the reference compute it, ~1.13 M) and as
the paper counts it, with Table I's 60 of 96 links (~0.86 M).  Optionally
(``--time-to-accuracy``) the wall time the NumPy reference needs, from scratch, with
``model.RECIPE``, to reach 1.0% test error.

This is a benchmark, not a test: nothing is asserted.  PyTorch is optional (not in
requirements.txt): ``.venv/bin/pip install torch==2.13.0`` (a CPU wheel); without it the
script says "PyTorch not installed" and measures NumPy only.
"""
from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from contextlib import contextmanager

import numpy as np

from reference import model
from lenet5.data import load_mnist

try:
    import torch
except ImportError:          # the benchmark still runs, NumPy only
    torch = None

# Multiply-accumulates per sample: forward + weight gradient + input gradient (none for C1).
_FWD_MACS = {"C1": 28 * 28 * 6 * 25, "C3": 10 * 10 * 16 * 6 * 25, "C5": 120 * 400, "F6": 84 * 120}
MACS_PER_SAMPLE = 3 * sum(_FWD_MACS.values()) - _FWD_MACS["C1"]        # ~1.13 M, C3 dense
#: The same with C3 counted as the paper does, Table I's 60 links of 25 weights (not 96).
MACS_PER_SAMPLE_SPARSE = MACS_PER_SAMPLE - 3 * 10 * 10 * (96 - 60) * 25   # ~0.86 M


# ------------------------------------------------------------------------------ numpy

def numpy_trainer(x, labels, batch):
    """One SDLM step of the NumPy reference on batch ``i``: the per-pattern fast path at
    batch 1, ``Workspace`` otherwise."""
    if batch == 1:
        return numpy_pattern_trainer(x, labels)
    return numpy_workspace_trainer(x, labels, batch)


def numpy_pattern_trainer(x, labels):
    params = model.init_params(np.random.default_rng(0))
    trainer = model.PatternTrainer(params, x, labels)
    trainer.set_steps(model.sdlm_steps(model.estimate_hessian(params, x[:500]), 1e-4))
    return trainer.step


def numpy_workspace_trainer(x, labels, batch):
    params = model.init_params(np.random.default_rng(0))
    steps = model.sdlm_steps(model.estimate_hessian(params, x[:500]), 1e-4)
    workspace = model.Workspace(batch)

    def step(i):
        sl = slice(i * batch, (i + 1) * batch)
        y, cache = model.forward(x[sl], params, workspace)
        _, dy = model.map_loss(y, labels[sl])
        model.sdlm_update(params, model.backward(dy, cache), steps)
    return step


# ---------------------------------------------------------------------------- pytorch

def torch_lenet5():
    """The same LeNet-5 in PyTorch: (module, per-parameter step tensors)."""
    nn, F = torch.nn, torch.nn.functional
    centres = torch.from_numpy(model.rbf_centres(np.float32).copy())
    mask = torch.from_numpy(model.C3_TABLE.T[:, :, None, None].astype(np.float32))
    init = {k: torch.from_numpy(v) for k, v in model.init_params(np.random.default_rng(0)).items()}

    def squash(a):
        return model.A_SQUASH * torch.tanh(model.S_SQUASH * a)

    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.p = nn.ParameterDict({k: nn.Parameter(v.clone()) for k, v in init.items()})

        @staticmethod
        def subsample(x, coeff, bias):
            s = 4.0 * F.avg_pool2d(x, 2)                       # sum of each 2x2 block
            return squash(s * coeff[:, None, None] + bias[:, None, None])

        def forward(self, x):
            p = self.p
            x = squash(F.conv2d(x, p["C1_w"], p["C1_b"]))
            x = self.subsample(x, p["S2_coeff"], p["S2_bias"])
            x = squash(F.conv2d(x, p["C3_w"] * mask, p["C3_b"]))
            x = self.subsample(x, p["S4_coeff"], p["S4_bias"])
            x = squash(F.conv2d(x, p["C5_w"], p["C5_b"])).flatten(1)
            x = squash(x @ p["F6_w"] + p["F6_b"])
            return (x * x).sum(1, keepdim=True) - 2 * x @ centres.T + (centres ** 2).sum(1)

    net = LeNet5()
    steps = {k: torch.full_like(v, 1e-4 / model.MU) for k, v in net.p.items()}
    return net, steps


def torch_map_loss(y, labels, j=model.MAP_J):
    """Eq. 9 in PyTorch (mean over the batch)."""
    z = torch.cat([-y, torch.full((len(y), 1), -j)], dim=1)
    return (y.gather(1, labels[:, None])[:, 0] + torch.logsumexp(z, dim=1)).mean()


def torch_trainer(x, labels, batch):
    net, steps = torch_lenet5()
    xt, yt = torch.from_numpy(x), torch.from_numpy(labels)

    def step(i):
        sl = slice(i * batch, (i + 1) * batch)
        loss = torch_map_loss(net(xt[sl]), yt[sl])
        net.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            for k, p in net.p.items():
                p.sub_(steps[k] * p.grad)
    return step


# ---------------------------------------------------------------------------- helpers

def interleaved(makers: dict, x, labels, batch, seconds, trials=15):
    """Samples/second of one training step of each implementation, trials interleaved.

    ``makers``: name -> (make_step, context) where ``context()`` is entered around each
    trial.  After a warm-up, every implementation gets ``trials`` trials of about
    ``seconds / trials / len(makers)`` each, taken in turns (the order rotating).  Returns
    name -> (median wall-clock samples/s, median samples per CPU-second, all wall trials).
    """
    steps, iters = {}, {}
    n_batches = len(x) // batch
    for name, (make, context) in makers.items():
        step = make(x, labels, batch)
        with context():
            t0, done = time.perf_counter(), 0
            while done < 3 or time.perf_counter() - t0 < 0.3:              # warm-up
                step(done % n_batches)
                done += 1
            rate = done / (time.perf_counter() - t0)
        steps[name] = step
        iters[name] = max(1, int(rate * seconds / trials / len(makers)))
    wall = {name: [] for name in makers}
    cpu = {name: [] for name in makers}
    names = list(makers)
    counter = 0
    for t in range(trials):
        for name in names[t % len(names):] + names[:t % len(names)]:
            step, n = steps[name], iters[name]
            with makers[name][1]():
                w, c = time.perf_counter(), time.process_time()
                for _ in range(n):
                    step(counter % n_batches)
                    counter += 1
                wall[name].append(time.perf_counter() - w)
                cpu[name].append(time.process_time() - c)
    out = {}
    for name in names:
        per = iters[name] * batch
        out[name] = (per / float(np.median(wall[name])), per / float(np.median(cpu[name])),
                     [per / w for w in wall[name]])
    return out


def gemm_gflops(n=2048, repeat=7):
    """float32 GFLOP/s of a large square NumPy matmul (the BLAS ceiling here): best of
    ``repeat`` by wall-clock, and per CPU-second of this process (robust to other jobs)."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    a @ a
    wall = cpu = float("inf")
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        a @ a
        wall = min(wall, time.perf_counter() - w)
        cpu = min(cpu, time.process_time() - c)
    return 2 * n ** 3 / wall / 1e9, 2 * n ** 3 / cpu / 1e9


def check_same_network(x):
    """Largest relative difference of the penalties and gradients of the two implementations
    on the same (initial weights x 10, to leave the near-linear regime) parameters."""
    net, _ = torch_lenet5()
    params = {k: v * 10 for k, v in model.init_params(np.random.default_rng(0)).items()}
    labels = np.arange(len(x)) % 10
    with torch.no_grad():
        for k, p in net.p.items():
            p.copy_(torch.from_numpy(params[k]))
    yt = net(torch.from_numpy(x))
    torch_map_loss(yt, torch.from_numpy(labels)).backward()
    y, cache = model.forward(x, params)
    grads = model.backward(model.map_loss(y, labels)[1], cache)
    diffs = [np.abs(yt.detach().numpy() - y).max() / np.abs(y).max()]
    diffs += [np.abs(net.p[k].grad.numpy() - g).max() / np.abs(g).max() for k, g in grads.items()]
    return float(max(diffs))


def limit_threads(n):
    """Use n threads in PyTorch and in NumPy's BLAS (via threadpoolctl when installed;
    otherwise OPENBLAS_NUM_THREADS decides).  Returns a note on NumPy's setting."""
    if torch is not None:
        torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return (f"numpy BLAS threads from OPENBLAS_NUM_THREADS="
                f"{os.environ.get('OPENBLAS_NUM_THREADS', '(unset: all cores)')} "
                f"(threadpoolctl not installed)")
    threadpool_limits(n)
    return f"numpy BLAS threads: {n}"


def blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    rows = [f"{d.get('internal_api')} {d.get('version')} kernel={d.get('architecture')} "
            f"threads={d.get('num_threads')}" for d in threadpool_info()
            if d.get("user_api") == "blas"]
    return "; ".join(rows) or "no BLAS found"


def time_to_accuracy(target=0.01, max_passes=20, seed=0):
    """Wall seconds (training plus the per-pass test evaluation) until the test error of the
    NumPy reference, trained from scratch with ``model.RECIPE``, is <= target."""
    train_images, train_labels = load_mnist("train")
    test_images, test_labels = load_mnist("test")
    x, y = model.to_input(train_images), train_labels.astype(np.int64)
    rng = np.random.default_rng(seed)
    params = model.init_params(rng)
    t0 = time.perf_counter()
    for r in model.fit(params, x, y, rng, passes=max_passes):
        p = r["pass"]
        err = model.error_rate(params, test_images, test_labels)
        print(f"  pass {p}: test error {100 * err:.2f}%  ({time.perf_counter() - t0:.1f} s)",
              flush=True)
        if err <= target:
            return time.perf_counter() - t0, p
    return None, max_passes


def makers_for(batch):
    """name -> (make_step, context) of the implementations timed at this batch size."""
    from contextlib import nullcontext
    makers = {"numpy": (numpy_trainer, nullcontext)}
    if batch == 1:
        makers["numpy-ws"] = (lambda x, y, b: numpy_workspace_trainer(x, y, b), nullcontext)
    if torch is not None:
        makers["torch"] = (torch_trainer, nullcontext)
        makers["torch-no-onednn"] = (torch_trainer, no_onednn)
    return makers


@contextmanager
def no_onednn():
    """PyTorch with oneDNN (mkldnn) convolutions off, its warning about Intel GPUs hushed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with torch.backends.mkldnn.flags(enabled=False):
            yield


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 32, 128])
    ap.add_argument("--seconds", type=float, default=12.0,
                    help="measuring time per batch size, all implementations (12)")
    ap.add_argument("--trials", type=int, default=15, help="trials per implementation (15)")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads for both libraries (default 1)")
    ap.add_argument("--time-to-accuracy", action="store_true",
                    help="also train the NumPy reference from scratch to 1.0%% test error")
    args = ap.parse_args(argv)
    thread_note = limit_threads(args.threads)

    images, labels = load_mnist("train")
    x, y = model.to_input(images[:12800]), labels[:12800].astype(np.int64)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}; numpy {np.__version__}")
    print(f"BLAS: {blas_info()}; OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; {thread_note}")
    if torch is None:
        print("PyTorch not installed -- measuring NumPy only (for the comparison: "
              ".venv/bin/pip install torch==2.13.0, a CPU wheel)")
    else:
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s), eager, "
              f"float32, oneDNN available: {torch.backends.mkldnn.is_available()}; same "
              f"penalties and gradients as NumPy to {check_same_network(x[:64]):.0e} "
              f"(relative)")

    print(f"\nsamples/s (forward + backward + update), {args.threads} thread(s) each, "
          f"{args.trials} interleaved trials each: median wall-clock (median per CPU-second)")
    results = {}
    for b in args.batches:
        r = interleaved(makers_for(b), x, y, b, args.seconds, args.trials)
        results[b] = r
        for name, (wall, cpu, _) in r.items():
            print(f"  batch {b:3d}  {name:16s} {wall:9.0f} ({cpu:9.0f})", flush=True)
        for t in ("torch", "torch-no-onednn"):
            if t in r:
                n = r["numpy"]
                print(f"  batch {b:3d}  numpy / {t:16s} {n[0] / r[t][0]:5.2f}x wall-clock, "
                      f"{n[1] / r[t][1]:5.2f}x per CPU-second", flush=True)

    gflops, gflops_cpu = gemm_gflops()
    print(f"\nfloat32 GEMM (2048x2048) in numpy: {gflops:.0f} GFLOP/s wall-clock, "
          f"{gflops_cpu:.0f} GFLOP per CPU-second")
    for label, macs in (("C3 dense (as computed)", MACS_PER_SAMPLE),
                        ("C3 sparse (Table I, as the paper counts)", MACS_PER_SAMPLE_SPARSE)):
        epoch_gflop = 2 * macs * 60_000 / 1e9
        print(f"arithmetic, {label}: {macs / 1e6:.2f} M MACs per sample (forward + weight "
              f"and input gradients) = {epoch_gflop:.0f} GFLOP per 60,000-sample epoch; "
              f"floor at GEMM speed {epoch_gflop / gflops_cpu:.2f} CPU-seconds")
    epoch_gflop = 2 * MACS_PER_SAMPLE_SPARSE * 60_000 / 1e9
    for b, r in results.items():
        parts = [f"{name} {60_000 / cpu:6.1f} CPU-s ({epoch_gflop / gflops_cpu / (60_000 / cpu):4.0%} "
                 f"of GEMM speed, sparse count)" for name, (_, cpu, _) in r.items()]
        print(f"  batch {b:3d} epoch: " + "; ".join(parts))

    if args.time_to_accuracy:
        print("\ntime to 1.0% test error, NumPy reference, model.RECIPE, from scratch:")
        secs, passes = time_to_accuracy()
        print(f"  {secs:.0f} s ({passes} passes)" if secs else "  not reached")


if __name__ == "__main__":
    main()
