"""Training throughput of the NumPy reference LeNet-5 versus PyTorch eager on this CPU.

    python -m benchmarks.bench_training                  # numpy only if torch is missing
    /tmp/venv-bench/bin/python -m benchmarks.bench_training --time-to-accuracy

Both sides train the *same* network on the same MNIST images: Table-I sparse C3 (PyTorch: a
dense conv whose weight is multiplied by the 0/1 mask in every forward pass), trainable 2x2
subsampling (sum * coefficient + bias, then the squashing function), C5 as a 5x5 convolution,
F6 dense, fixed RBF output, eq. 9 loss, and an SDLM-style update ``p -= step * grad`` with a
per-parameter step tensor.  One "sample" = forward + backward + update for one pattern.

It prints samples/second for both at batch sizes 1, 32 and 128 and their ratio, the float32
GEMM GFLOP/s that NumPy reaches here, the epoch-time floor implied by the arithmetic
(~1.13 M multiply-accumulates per sample for forward + weight and input gradients, with C3
counted dense as PyTorch computes it: ~136 GFLOP per 60,000-sample epoch) against the
measured epoch time, and optionally (``--time-to-accuracy``) the wall time the NumPy
reference needs, from scratch, to reach 1.0% test error.

Samples/second are reported as the best of 20 short trials (the closest to an unloaded
machine when other jobs share the CPU), their median, and per CPU-second of this process.
This is a benchmark, not a test: nothing is asserted.  PyTorch is optional; install it in a
separate venv (``torch==2.13.0``, CPU wheel) -- without it the script measures NumPy only.
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from reference import model
from lenet5.data import load_mnist

try:
    import torch
except ImportError:          # the benchmark still runs, NumPy only
    torch = None

# Multiply-accumulates per sample: forward + weight gradient + input gradient (none for C1).
_FWD_MACS = {"C1": 28 * 28 * 6 * 25, "C3": 10 * 10 * 16 * 6 * 25, "C5": 120 * 400, "F6": 84 * 120}
MACS_PER_SAMPLE = 3 * sum(_FWD_MACS.values()) - _FWD_MACS["C1"]        # ~1.13 M


# ------------------------------------------------------------------------------ numpy

def numpy_trainer(x, labels, batch):
    """A closure running one SDLM step of the NumPy reference on batch ``i``."""
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

def throughput(make_step, x, labels, batch, seconds, trials=20):
    """Samples/second of one training step, after a warm-up, over ~``seconds``.

    The time is split into ``trials`` short trials; returns (best wall-clock, median
    wall-clock, best per CPU-second of this process).  On a shared machine the best trial is
    the closest to an unloaded one; CPU time ignores the waiting altogether.
    """
    step = make_step(x, labels, batch)
    n_batches = len(x) // batch
    t0 = time.perf_counter()
    done = 0
    while done < 3 or time.perf_counter() - t0 < 0.05 * seconds:      # warm-up
        step(done % n_batches)
        done += 1
    iters = max(1, int(done / (time.perf_counter() - t0) * seconds / trials))
    wall, cpu = [], []
    for _ in range(trials):
        w, c = time.perf_counter(), time.process_time()
        for _ in range(iters):
            step(done % n_batches)
            done += 1
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    per = iters * batch
    return per / min(wall), per / float(np.median(wall)), per / min(cpu)


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
                f"{os.environ.get('OPENBLAS_NUM_THREADS', '(unset: all cores)')}")
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
    for p, _, _ in model.fit(params, x, y, rng, passes=max_passes):
        err = model.error_rate(params, test_images, test_labels)
        print(f"  pass {p}: test error {100 * err:.2f}%  ({time.perf_counter() - t0:.1f} s)",
              flush=True)
        if err <= target:
            return time.perf_counter() - t0, p
    return None, max_passes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 32, 128])
    ap.add_argument("--seconds", type=float, default=6.0, help="measuring time per case (6)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="threads for both libraries (default: all cores)")
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
        print("PyTorch: not installed -- measuring NumPy only (install torch==2.13.0 in a "
              "separate venv to compare)")
    else:
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, eager, float32; "
              f"same penalties and gradients as NumPy to {check_same_network(x[:64]):.0e} "
              f"(relative)")

    results = {}
    print(f"\nsamples/s (forward + backward + update), {args.threads} thread(s): best trial "
          f"wall-clock [median wall-clock] (per CPU-second)")
    print(f"{'batch':>5} {'numpy':>26} {'pytorch':>26} {'ratio':>6} (per CPU-second)")
    for b in args.batches:
        n = throughput(numpy_trainer, x, y, b, args.seconds)
        t = throughput(torch_trainer, x, y, b, args.seconds) if torch is not None else None
        results[b] = (n, t)

        def fmt(r):
            return f"{r[0]:8.0f} [{r[1]:6.0f}] ({r[2]:6.0f})" if r else f"{'-':>26}"
        ratio = f"{n[0] / t[0]:5.2f}x ({n[2] / t[2]:5.2f}x)" if t else f"{'-':>6}"
        print(f"{b:5d} {fmt(n)} {fmt(t)} {ratio}", flush=True)

    gflops, gflops_cpu = gemm_gflops()
    epoch_gflop = 2 * MACS_PER_SAMPLE * 60_000 / 1e9
    print(f"\nfloat32 GEMM (2048x2048) in numpy: {gflops:.0f} GFLOP/s wall-clock, "
          f"{gflops_cpu:.0f} GFLOP per CPU-second")
    print(f"arithmetic: {MACS_PER_SAMPLE / 1e6:.2f} M MACs per sample (forward + weight and "
          f"input gradients) = {epoch_gflop:.0f} GFLOP per 60,000-sample epoch")
    print(f"epoch-time floor at GEMM speed: {epoch_gflop / gflops:.2f} s wall-clock, "
          f"{epoch_gflop / gflops_cpu:.2f} CPU-seconds")
    for b, (n, t) in results.items():
        line = (f"  batch {b:3d}: numpy epoch {60_000 / n[0]:6.1f} s wall, "
                f"{60_000 / n[2]:5.1f} CPU-s = {epoch_gflop / gflops_cpu / (60_000 / n[2]):4.0%}"
                f" of GEMM speed")
        if t:
            line += f"; pytorch epoch {60_000 / t[0]:6.1f} s wall, {60_000 / t[2]:5.1f} CPU-s"
        print(line)

    if args.time_to_accuracy:
        print("\ntime to 1.0% test error, NumPy reference, model.RECIPE, from scratch:")
        secs, passes = time_to_accuracy()
        print(f"  {secs:.0f} s ({passes} passes)" if secs else "  not reached")


if __name__ == "__main__":
    main()
