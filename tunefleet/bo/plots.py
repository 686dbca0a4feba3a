"""Plots people would rather see than read, rendered to PNG bytes for the artifact store."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


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
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()
