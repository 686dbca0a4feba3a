"""Reports from cell results: a table, a heat map PNG and a markdown summary.

Speed-ups and ratios are against the baseline cell (scikit-learn, no optimisation) at the
same batch size. "Within the accuracy budget" means drift <= budget (see metrics.drift).
One cell is called faster than another only when their medians' 95 % confidence intervals
(``LatencyStats.interval``) separate; where they overlap the two are indistinguishable here, and
the summary says so instead of naming a winner the next run may not repeat.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd

from tunefleet.bench.errors import BenchError
from tunefleet.bench.metrics import drift_meaning
from tunefleet.bench.registry import SkippedCell
from tunefleet.bench.runner import FAILED, OK, SKIPPED, CellResult
from tunefleet.reports import compact

BASELINE = ("sklearn", "none")
COLUMNS = [
    "platform", "optimisation", "hardware", "batch_size", "median_ms", "median_low_ms", "median_high_ms", "p95_ms",
    "cv", "throughput_rows_per_s", "speedup", "thread_cpu_ms", "metric", "score", "drift", "usual_metrics",
    "size_bytes", "peak_rss_bytes", "energy_j_per_batch", "load_1m", "threads",
]  # fmt: skip
FASTER, SLOWER, INDISTINGUISHABLE = "faster", "slower", "indistinguishable"


def _results(results: list[CellResult | dict]) -> list[CellResult]:
    return [r if isinstance(r, CellResult) else CellResult.from_dict(r) for r in results]


def results_table(results: list[CellResult | dict], baseline: tuple[str, str] = BASELINE) -> pd.DataFrame:
    """One row per measured cell and batch size; ``speedup`` = baseline median / median."""
    rows = []
    for result in _results(results):
        if result.status != OK:
            continue
        memory = result.memory or {}
        for stats in result.latency:
            rows.append(
                {
                    "platform": result.platform,
                    "optimisation": result.optimisation,
                    "hardware": result.hardware,
                    "batch_size": stats.batch_size,
                    "median_ms": stats.median_ms,
                    "median_low_ms": stats.median_low_ms,
                    "median_high_ms": stats.median_high_ms,
                    "p95_ms": stats.p95_ms,
                    "cv": stats.cv,
                    "throughput_rows_per_s": stats.throughput_rows_per_s,
                    "thread_cpu_ms": stats.thread_cpu_ms,
                    "metric": result.metric,
                    "score": result.score,
                    "drift": result.drift,
                    "usual_metrics": compact(result.usual_metrics or {}),
                    "size_bytes": result.size_bytes,
                    "peak_rss_bytes": memory.get("peak_rss_bytes"),
                    "energy_j_per_batch": stats.energy_j_per_batch,
                    "load_1m": result.machine.get("load_1m"),
                    "threads": ", ".join(f"{k}={v}" for k, v in result.threads.items()),
                }
            )
    table = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "speedup"])
    base = table[(table.platform == baseline[0]) & (table.optimisation == baseline[1])].set_index("batch_size")[
        "median_ms"
    ]
    table.insert(COLUMNS.index("speedup"), "speedup", table.batch_size.map(base) / table.median_ms)
    return table


DECIDING = ["platform", "optimisation", "hardware", "batch_size", "median_ms", "speedup", "drift"]
"""The columns that decide between cells: first in the table people read."""


def readable(table: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    """``results_table`` as people read it: the deciding columns first, every number rounded to
    ``digits`` significant digits (the store's CSV keeps them whole)."""
    readable = table[[*DECIDING, *(c for c in table.columns if c not in DECIDING)]].copy()
    for column in readable.select_dtypes("float").columns:
        readable[column] = readable[column].map(lambda v: float(f"{v:.{digits}g}") if math.isfinite(v) else v)
    return readable


def verdict(low_a: float, high_a: float, low_b: float, high_b: float) -> str | None:
    """A against B from their medians' intervals: faster, slower, or indistinguishable (overlapping);
    None where either has no interval (a record measured before intervals were)."""
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (low_a, high_a, low_b, high_b)):
        return None
    if high_a < low_b:
        return FASTER
    return SLOWER if low_a > high_b else INDISTINGUISHABLE


def _row_verdict(a, b) -> str | None:
    return verdict(a["median_low_ms"], a["median_high_ms"], b["median_low_ms"], b["median_high_ms"])


def fastest(
    results: list[CellResult | dict], accuracy_budget: float, baseline: tuple[str, str] = BASELINE
) -> list[dict]:
    """Per batch size, the fastest cell whose drift is within the budget (smallest median), with
    ``versus_baseline`` (its verdict against the baseline cell of its hardware, None without one)
    and ``tied_with`` (the other cells within budget it is indistinguishable from)."""
    table = results_table(results, baseline)
    within = table[table.drift <= accuracy_budget + 1e-12]
    best = within.loc[within.groupby("batch_size").median_ms.idxmin()] if len(within) else within
    rows = []
    for index, row in best.sort_values("batch_size").iterrows():
        same_size = within[(within.batch_size == row.batch_size) & (within.index != index)]
        base = table[
            (table.batch_size == row.batch_size)
            & (table.platform == baseline[0])
            & (table.optimisation == baseline[1])
            & (table.hardware == row.hardware)
        ]
        tied = [
            f"{other.platform}+{other.optimisation} @ {other.hardware}"
            for _, other in same_size.iterrows()
            if _row_verdict(row, other) == INDISTINGUISHABLE
        ]
        versus = None if base.empty or base.index[0] == index else _row_verdict(row, base.iloc[0])
        rows.append({**row.to_dict(), "versus_baseline": versus, "tied_with": tied})
    return rows


def verdicts(results: list[CellResult | dict]) -> dict[tuple, str]:
    """Every pair of measured cells at each batch size: ``(batch_size, cell_a, cell_b)`` → faster, slower
    or indistinguishable (cell names ``platform+optimisation @ hardware``, a before b in name order)."""
    table = results_table(results)
    table["cell"] = table.platform + "+" + table.optimisation + " @ " + table.hardware
    found = {}
    for size, rows in table.groupby("batch_size"):
        ordered = rows.sort_values("cell").to_dict("records")
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                said = _row_verdict(a, b)
                if said is not None:
                    found[(int(size), a["cell"], b["cell"])] = said
    return found


def heatmap_png(results: list[CellResult | dict], baseline: tuple[str, str] = BASELINE) -> bytes:
    """Platform × optimisation, colour = latency ratio to the baseline (log scale), a panel per batch size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = results_table(results, baseline)
    if table.empty:
        raise BenchError("no measured cells to draw a heat map of")
    table["ratio"] = 1.0 / table.speedup
    platforms = list(dict.fromkeys(table.platform))
    optimisations = list(dict.fromkeys(table.optimisation))
    sizes = sorted(table.batch_size.unique())
    finite = np.log10(table.ratio[np.isfinite(table.ratio)])
    limit = max(1.0, float(np.abs(finite).max())) if len(finite) else 1.0
    figure, axes = plt.subplots(
        1, len(sizes), figsize=(2.2 + 1.3 * len(optimisations) * len(sizes), 1.2 + 0.45 * len(platforms)), squeeze=False
    )
    for ax, size in zip(axes[0], sizes):
        grid = (
            table[table.batch_size == size]
            .pivot_table(index="platform", columns="optimisation", values="ratio", aggfunc="min")
            .reindex(index=platforms, columns=optimisations)
        )
        image = ax.imshow(np.log10(grid.to_numpy(dtype=float)), cmap="RdYlGn_r", vmin=-limit, vmax=limit, aspect="auto")
        for (i, j), value in np.ndenumerate(grid.to_numpy(dtype=float)):
            ax.text(j, i, "–" if math.isnan(value) else f"{value:.3g}", ha="center", va="center", fontsize=7)
        ax.set_title(f"batch {size}")
        ax.set_xticks(range(len(optimisations)), optimisations, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(platforms)), platforms if ax is axes[0][0] else [""] * len(platforms), fontsize=8)
    bar = figure.colorbar(image, ax=list(axes[0]), shrink=0.9)
    bar.set_label(f"log10 latency / {baseline[0]}+{baseline[1]}")
    figure.suptitle(f"Latency ratio to {baseline[0]} + {baseline[1]} (lower is faster)", fontsize=10, y=1.04)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def summary_markdown(
    results: list[CellResult | dict],
    accuracy_budget: float,
    skipped: list[SkippedCell | dict] = (),
    baseline: tuple[str, str] = BASELINE,
) -> str:
    """The fastest configuration per batch size within the budget, then skipped and failed cells."""
    results = _results(results)
    base = f"{baseline[0]} + {baseline[1]}"
    lines = [
        "# Inference benchmark",
        "",
        f"Fastest configuration per batch size with drift ≤ {accuracy_budget:g} "
        f"({_drift_meaning(results)}), speed-up over {base}. Medians with their 95 % "
        "confidence intervals; a cell is faster than another only where the intervals separate.",
        "",
        "| batch size | fastest | hardware | median ms [95 % CI] | speed-up | drift | indistinguishable here from |",
        "|---:|---|---|---:|---:|---:|---|",
    ]
    for row in fastest(results, accuracy_budget, baseline):
        tied = ", ".join(row["tied_with"]) or "none"
        lines.append(
            f"| {row['batch_size']} | {row['platform']} + {row['optimisation']} | {row['hardware']} | "
            f"{_median_text(row)} | {_speedup_text(row)} | {row['drift']:.3g} | {_cell_text(tied)} |"
        )
    lines += _busy_note(results)
    skipped_rows = [s if isinstance(s, dict) else s.to_dict() for s in skipped]
    skipped_rows += [r.to_dict() for r in results if r.status == SKIPPED]
    failed_rows = [r.to_dict() for r in results if r.status == FAILED]
    for title, rows in (("Skipped cells", skipped_rows), ("Failed cells", failed_rows)):
        if rows:
            lines += ["", f"## {title}", "", "| platform | optimisation | hardware | reason |", "|---|---|---|---|"]
            lines += [
                f"| {r['platform']} | {r['optimisation']} | {r['hardware']} | {_cell_text(r['reason'])} |" for r in rows
            ]
    return "\n".join(lines) + "\n"


def _drift_meaning(results: list[CellResult]) -> str:
    judged = sorted({r.metric for r in results if r.status == OK and r.metric})
    return ", ".join(drift_meaning(m) for m in judged) or "accuracy lost, or relative MSE increase"


def _median_text(row: dict) -> str:
    low, high = row["median_low_ms"], row["median_high_ms"]
    interval = "" if low is None or math.isnan(low) else f" [{low:.4g}, {high:.4g}]"
    return f"{row['median_ms']:.4g}{interval}"


def _speedup_text(row: dict) -> str:
    """The speed-up over the baseline where the intervals say it is one."""
    if math.isnan(row["speedup"]):
        return "n/a (no baseline)"
    if row["versus_baseline"] == INDISTINGUISHABLE:
        return f"{row['speedup']:.2g}×, indistinguishable here"
    return f"{row['speedup']:.1f}×"


def _busy_note(results: list[CellResult]) -> list[str]:
    """A warning when cells were timed while other work kept every core busy."""
    busy = [
        r.machine
        for r in results
        if r.status == OK and r.machine.get("load_1m", 0) >= (r.machine.get("logical_cores") or math.inf)
    ]
    if not busy:
        return []
    load = max(m["load_1m"] for m in busy)
    return [
        "",
        f"> {len(busy)} cell(s) were timed while the machine's 1-minute load was at or above its core count "
        f"(up to {load:g} on {busy[0]['logical_cores']} cores): other work shared the CPU, so their medians "
        "are high and will not repeat. Run benchmarks on a machine of their own.",
    ]


def _cell_text(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
