"""Figures of chapter 9 (training): learning curves (after each pass and on the fly), the
confusion matrix, a loss trace."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter


def _plain_log_labels(axis) -> None:
    """Label a log axis 0.5, 1, 2, 5, 10 ... instead of 5x10^-1, 10^0 ..."""
    def major(v, _):
        return f"{v:g}"

    def minor(v, _):
        lead = v / 10 ** np.floor(np.log10(v)) if v > 0 else 0
        return f"{v:g}" if round(lead) in (2, 5) and abs(lead - round(lead)) < 1e-6 else ""
    axis.set_major_formatter(FuncFormatter(major))
    axis.set_minor_formatter(FuncFormatter(minor))


def show_learning_curves(log: dict, paper_error: float | None = None, title=None,
                         paper_eta=None):
    """Training and test error per pass from a training log (scripts/train_lenet5.py).

    log: dict with lists ``passes``, ``test_error``, ``train_error`` (entries may be None)
    and ``eta``.  Errors are fractions; they are drawn in percent, on a log scale.
    ``paper_error``: a fraction to draw as a horizontal reference line; ``paper_eta``: the
    paper's eta of each pass of the log, drawn dashed next to the run's.
    """
    passes = np.asarray(log["passes"])
    fig, (ax, ax_eta) = plt.subplots(2, 1, figsize=(7.2, 4.8), sharex=True,
                                     gridspec_kw={"height_ratios": [3, 1]})
    test = np.asarray(log["test_error"], dtype=float) * 100
    ax.plot(passes, test, "o-", color="tab:red", label="test error (10,000 digits)")
    train = [np.nan if e is None else 100 * e for e in log.get("train_error", [])]
    if train and not np.all(np.isnan(train)):
        ax.plot(passes, train, "s-", color="tab:blue",
                label="training error (60,000 digits, after the pass)")
    fly = [np.nan if e is None else 100 * e for e in log.get("train_error_on_the_fly", [])]
    if fly and not np.all(np.isnan(fly)):
        ax.plot(passes, fly, "^--", color="tab:purple",
                label="training error on the fly (during the pass, as Fig. 5)")
    if paper_error is not None:
        ax.axhline(100 * paper_error, color="gray", linestyle="--",
                   label=f"paper, test: {100 * paper_error:.2f}%")
    ax.set_yscale("log")
    _plain_log_labels(ax.yaxis)
    ax.set_ylabel("error (%)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or "Learning curves of the reference run", fontsize=10)
    ax_eta.step(passes, log["eta"], where="mid", color="tab:green", label="this run")
    if paper_eta is not None:
        ax_eta.step(passes, paper_eta, where="mid", color="gray", linestyle="--", label="paper")
        ax_eta.legend(fontsize=7, loc="lower left")
    ax_eta.set_yscale("log")
    ax_eta.set_ylabel("$\\eta$")
    ax_eta.set_xlabel("pass over the training set")
    ax_eta.set_xticks(passes)
    ax_eta.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig


def show_on_the_fly(logs: dict, paper_test=None, paper_train=None, title=None):
    """The training error measured on the fly, per block of patterns, across the passes of
    one or more training logs (``block_errors``), with each log's test error after every pass.

    logs: label -> log (scripts/train_lenet5.py); a run that diverged ends where it stopped.
    ``paper_test``, ``paper_train``: the paper's final errors (fractions), drawn as lines.
    """
    fig, ax = plt.subplots(figsize=(7.2, 3.8))
    colours = ["tab:purple", "tab:orange", "tab:green", "tab:brown"]
    for (label, log), colour in zip(logs.items(), colours):
        xs, ys = [], []
        for p, blocks in zip(log["passes"], log["block_errors"]):
            n = len(blocks)
            per_pass = max(n, round(60_000 / 1000))
            xs += [p - 1 + (k + 1) / per_pass for k in range(n)]
            ys += [100 * max(e, 1e-3) for e in blocks]
        ax.plot(xs, ys, color=colour, linewidth=0.8, marker="x" if len(xs) < 10 else None,
                label=f"{label}: training error on the fly, per 1,000 digits"
                      + (" (diverged)" if log.get("diverged") else ""))
        tests = [(p, 100 * e) for p, e in zip(log["passes"], log["test_error"]) if e is not None]
        if tests:
            ax.plot(*zip(*tests), "o", color=colour, markersize=4,
                    label=f"{label}: test error after each pass")
    if paper_test is not None:
        ax.axhline(100 * paper_test, color="gray", linestyle="--",
                   label=f"paper, test error after 20 passes: {100 * paper_test:.2f}%")
    if paper_train is not None:
        ax.axhline(100 * paper_train, color="gray", linestyle=":",
                   label=f"paper, training error after 19 passes: {100 * paper_train:.2f}%")
    ax.set_yscale("log")
    _plain_log_labels(ax.yaxis)
    ax.set_xlabel("passes over the training set")
    ax.set_ylabel("error (%)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(title or "Training error measured on the fly", fontsize=10)
    fig.tight_layout()
    return fig


def show_confusion(confusion: np.ndarray, title=None):
    """A 10x10 confusion matrix: rows = true digit, columns = predicted digit, counts.

    Off-diagonal cells (the errors) get their own colour scale, so that they stay visible
    next to diagonal counts of about a thousand.
    """
    confusion = np.asarray(confusion)
    k = len(confusion)
    off = confusion.astype(float).copy()
    np.fill_diagonal(off, np.nan)
    fig, ax = plt.subplots(figsize=(5.6, 5.0))
    im = ax.imshow(off, cmap="Reds", vmin=0, vmax=max(1, np.nanmax(off)))
    for i in range(k):
        for j in range(k):
            count = confusion[i, j]
            if i == j:
                ax.text(j, i, f"{count}", ha="center", va="center", fontsize=7, color="gray")
            elif count:
                ax.text(j, i, f"{count}", ha="center", va="center", fontsize=8,
                        color="white" if count > 0.6 * np.nanmax(off) else "black")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="errors")
    ax.set_title(title or "Confusion matrix (diagonal: correct, in grey)", fontsize=10)
    fig.tight_layout()
    return fig


def show_loss_trace(losses, batches_per_pass=None, errors=None, title=None):
    """Mini-batch losses of a short training run, with a running mean.

    losses: (K,) loss of each mini-batch; batches_per_pass: draw a line at each pass end;
    errors: optional list of (batch index, error fraction) to annotate.
    """
    losses = np.asarray(losses, dtype=float)
    fig, ax = plt.subplots(figsize=(7.2, 3.0))
    ax.plot(losses, color="tab:blue", alpha=0.35, linewidth=0.8, label="mini-batch loss")
    window = max(1, len(losses) // 25)
    if len(losses) >= window:
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        ax.plot(np.arange(window - 1, len(losses)), smooth, color="tab:blue",
                label=f"running mean of {window}")
    if batches_per_pass:
        for b in range(batches_per_pass, len(losses), batches_per_pass):
            ax.axvline(b, color="gray", linestyle=":")
    for b, err in errors or []:
        ax.annotate(f"test error {100 * err:.1f}%", (b, losses[max(0, b - 1)]),
                    xytext=(0, 25), textcoords="offset points", ha="right", fontsize=8,
                    arrowprops={"arrowstyle": "->", "color": "gray"})
    ax.set_xlabel("mini-batch")
    ax.set_ylabel("loss (eq. 9)")
    ax.set_yscale("log")
    _plain_log_labels(ax.yaxis)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or "A short training run", fontsize=10)
    fig.tight_layout()
    return fig


def show_mosaic(images, labels, ncols=14, title=None, pad=4):
    """Many small images as one picture, each with a label under it (fast for ~100 images),
    in grey, dark = ink, with a colour bar (the book's convention for pictures).

    images: (K, H, W) (0 = background), labels: K strings.
    """
    images = np.asarray(images, dtype=float)
    k, h, w = images.shape
    nrows = -(-k // ncols)
    cell_h, cell_w = h + pad + 8, w + pad
    canvas = np.zeros((nrows * cell_h, ncols * cell_w))
    fig, ax = plt.subplots(figsize=(0.62 * ncols, 0.78 * nrows + 0.5))
    for i in range(k):
        r, c = divmod(i, ncols)
        canvas[r * cell_h: r * cell_h + h, c * cell_w: c * cell_w + w] = images[i] / max(images[i].max(), 1)
    shown = ax.imshow(canvas, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    for i, label in enumerate(labels):
        r, c = divmod(i, ncols)
        ax.text(c * cell_w + w / 2, r * cell_h + h + 1, label, ha="center", va="top", fontsize=7)
    ax.set_axis_off()
    fig.colorbar(shown, ax=ax, fraction=0.02, pad=0.01,
                 label="ink (each digit / its darkest pixel)")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
