"""Plots people would rather see than read, rendered to PNG bytes for the artifact store."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tunefleet.bo.outcomes import Outcomes  # noqa: E402


def best_so_far_png(responses: list[float], maximize: bool, title: str) -> bytes:
    """Each evaluation's response and the running best, by evaluation number."""
    values = np.asarray(responses, dtype=float)
    best = np.maximum.accumulate(values) if maximize else np.minimum.accumulate(values)
    steps = np.arange(1, len(values) + 1)
    figure, axes = plt.subplots(figsize=(7, 4), dpi=100)
    axes.scatter(steps, values, s=14, color="tab:gray", label="response")
    axes.step(steps, best, where="post", color="tab:blue", linewidth=2, label="best so far")
    axes.set_xlabel("evaluation")
    axes.set_ylabel("response")
    axes.set_title(title)
    axes.legend()
    return _png(figure)


def pareto_png(told: list[dict], front: list[dict], outcomes: Outcomes, title: str) -> bytes:
    """Every told point in the plane of the first two objectives (infeasible ones crossed, log-scale
    objectives on log axes), the Pareto front as a staircase through its points."""
    x, y = (o.name for o in outcomes.objectives[:2])
    figure, axes = plt.subplots(figsize=(7, 5), dpi=100)
    feasible = [row for row in told if outcomes.feasible(row)]
    infeasible = [row for row in told if not outcomes.feasible(row)]
    axes.scatter([r[x] for r in feasible], [r[y] for r in feasible], s=14, color="tab:gray", label="feasible")
    if infeasible:
        axes.scatter([r[x] for r in infeasible], [r[y] for r in infeasible], s=18, marker="x", color="tab:red",
                     label="violates a constraint")  # fmt: skip
    ordered = sorted(front, key=lambda r: r[x])
    axes.step([r[x] for r in ordered], [r[y] for r in ordered], where="post", color="tab:blue", linewidth=1.5)
    axes.scatter([r[x] for r in ordered], [r[y] for r in ordered], s=30, color="tab:blue", label="Pareto front")
    axes.set_xlabel(f"{x} ({outcomes.objectives[0].direction})")
    axes.set_ylabel(f"{y} ({outcomes.objectives[1].direction})")
    if outcomes.objectives[0].scale == "log":  # an objective modelled in decades is shown in decades
        axes.set_xscale("log")
    if outcomes.objectives[1].scale == "log":
        axes.set_yscale("log")
    axes.set_title(title)
    axes.legend()
    return _png(figure)


def _png(figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()
