"""Figures of chapter 10: the three networks trained side by side (data/results/)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter

#: One colour per network, the same in every figure of the chapter.
COLOURS = {"lenet5": "tab:blue", "seed": "tab:green", "modern": "tab:orange"}
LABELS = {"lenet5": "LeNet-5", "seed": "seed article's model", "modern": "modern variant"}


def show_comparison(results: dict, paper_error: float | None = None):
    """Test error against passes (left) and against training CPU seconds (right), every
    seed drawn thin and the mean over the seeds thick; the CPU budget as a dashed line.

    results: the JSON of scripts/compare_modern.py. Errors are fractions, drawn in percent.
    """
    settings = results["settings"]
    passes = settings["passes"]
    fig, (ax_p, ax_t) = plt.subplots(1, 2, figsize=(9.2, 3.8), sharey=True)
    for key, m in results["models"].items():
        runs = list(m["runs"].values())
        colour, label = COLOURS[key], LABELS[key]
        per_pass = 100 * np.array([r["test_error"][:passes] for r in runs])
        x = np.arange(1, passes + 1)
        for row in per_pass:
            ax_p.plot(x, row, "-", color=colour, alpha=0.35, linewidth=0.9)
        ax_p.plot(x, per_pass.mean(axis=0), "o-", color=colour, linewidth=2,
                  label=f"{label} (mean of {len(runs)} seeds)")
        for r in runs:
            ax_t.plot(r["cpu_seconds"], 100 * np.array(r["test_error"]), ".-", color=colour,
                      alpha=0.45, linewidth=0.9)
            b = r["at_cpu_budget"]
            ax_t.plot([b["cpu_seconds"]], [100 * b["test_error"]], "x", color=colour,
                      markersize=7)
        ax_t.plot([], [], ".-", color=colour, label=f"{label}, each seed")
    ax_t.axvline(settings["cpu_budget"], color="gray", linestyle="--", linewidth=1)
    ax_t.plot([], [], "x", color="gray", label="error at the CPU budget")
    if paper_error is not None:
        ax_p.axhline(100 * paper_error, color="gray", linestyle=":", linewidth=1)
        ax_p.annotate(f"paper, LeNet-5 after 20 passes over 60,000: {100 * paper_error:.2f}%",
                      (1, 100 * paper_error), xytext=(0, 3), textcoords="offset points",
                      fontsize=7, color="gray")
    ax_p.set_xticks(np.arange(1, passes + 1))
    ax_p.set_xlabel(f"passes over the {settings['train_size']:,} training images")
    ax_t.set_xlabel("training time (CPU seconds, one thread)")
    ax_p.set_ylabel("test error (%)")
    ax_p.set_ylim(0, None)
    for ax in (ax_p, ax_t):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
    ax_p.set_title(f"Budget in passes ({passes})", fontsize=10)
    ax_t.set_title(f"Budget in CPU time ({settings['cpu_budget']:g} s, dashed)", fontsize=10)
    fig.tight_layout()
    return fig


def show_tuning(results: dict):
    """Held-out error after the pass budget for each step factor of the grid, per network
    (a diverged run shows as an error near 90%)."""
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    for key, m in results["models"].items():
        factors = sorted(m["tuning"], key=float)
        errors = [100 * m["tuning"][f]["heldout_error"][-1] for f in factors]
        ax.plot([float(f) for f in factors], errors, "o-", color=COLOURS[key], label=LABELS[key])
        chosen = m["step_factor"]
        ax.plot([chosen], [100 * m["tuning"][f"{chosen:g}"]["heldout_error"][-1]], "o",
                markersize=12, markerfacecolor="none", color=COLOURS[key])
    ax.set_xscale("log", base=2)
    ax.set_xticks([float(f) for f in factors], labels=factors)
    ax.set_xlabel("factor on the default step\n(LeNet-5: the paper's schedule of eta; "
                  "the others: Adam's 0.001)", fontsize=9)
    ax.set_ylabel("held-out error (%, log scale)")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(
        lambda v, _: f"{v:g}" if f"{v:g}"[0] in "25" else ""))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, title="circled: the factor chosen", title_fontsize=7)
    ax.set_title("Step size tuned alike, on held-out training images", fontsize=10)
    fig.tight_layout()
    return fig
