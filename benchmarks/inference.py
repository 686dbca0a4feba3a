"""Inference latency of a 100-tree, depth-12 random forest on each CPU platform vs scikit-learn.

Run: .venv/bin/python benchmarks/inference.py [--task classification|regression] [--budget 1.0]
     [--threads 1] [--optimisations none ...] [--batch-sizes 1 64 1024] [--repeat 1] [--workdir DIR]
Every platform runs with the same thread count (default 1: scikit-learn n_jobs=1, ORT
intra-op 1, tl2cgen/GTIL nthread 1, torch 1 thread), the fair comparison for single rows.
Treelite compiles the forest with gcc first (2 to 5 minutes on 2 cores); with --workdir the
library is kept there and reused by the next run (the forest is the same, seeded).
With ``--repeat N`` every cell is measured N times, one whole pass after the other as N
benchmark runs would, and a table gives each median's spread over the passes
((max - min) / min) with the count within 5 %.
The last line is ``inference: <ratio>x vs scikit-learn``: scikit-learn's batch-1 median
latency over the fastest platform's. The thread CPU time column (see LatencyStats) is the
steadier number when other processes share the machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from tunefleet.bench import BenchmarkConfig, describe, fastest, make_candidate, plan, results_table, run_cell

PLATFORMS = ["sklearn", "onnxruntime", "treelite", "treelite-gtil", "torch"]
BATCH_SIZES = [1, 64, 1024]
REPEATABLE = 0.05


def forest(task: str):
    """The seeded forest and its validation rows."""
    if task == "classification":
        X, y = make_classification(n_samples=20_000, n_features=20, n_informative=10, random_state=0)
        estimator = RandomForestClassifier
    else:
        X, y = make_regression(n_samples=20_000, n_features=20, n_informative=10, noise=10.0, random_state=0)
        estimator = RandomForestRegressor
    model = estimator(n_estimators=100, max_depth=12, random_state=0, n_jobs=-1).fit(X[:15_000], y[:15_000])
    return model, X[15_000:], y[15_000:]


def measure_pass(cells, candidates, X, y, config, workdir: Path) -> list:
    results = []
    for cell in cells:
        started = time.perf_counter()
        result = run_cell(cell, candidates[cell.optimisation.label], X, y, config, workdir)
        if result.status != "ok":
            raise SystemExit(f"{cell.key} {result.status}: {result.reason}")
        print(f"{cell.key}: prepared and measured in {time.perf_counter() - started:.1f} s, threads {result.threads}")
        results.append(result)
    return results


def repeatability(passes: list[list]) -> None:
    """Each cell's median over the passes: the spread and how many are within REPEATABLE."""
    tables = [
        results_table(results).set_index(["platform", "optimisation", "batch_size"]).median_ms for results in passes
    ]
    medians = tables[0].to_frame("run_1_ms")
    for n, table in enumerate(tables[1:], start=2):
        medians[f"run_{n}_ms"] = table
    spread = medians.max(axis=1) / medians.min(axis=1) - 1
    medians["spread_pct"] = spread * 100
    print(medians.reset_index().to_string(index=False, float_format=lambda v: f"{v:,.4f}"))
    within = int((spread <= REPEATABLE).sum())
    print(f"repeatability: {within}/{len(spread)} medians within {REPEATABLE:.0%} over {len(passes)} runs "
          f"(largest spread {spread.max():.1%})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", choices=["classification", "regression"], default="classification")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds of timed runs per platform and batch size")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--platforms", nargs="+", default=PLATFORMS)
    parser.add_argument("--optimisations", nargs="+", default=["none"])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=BATCH_SIZES)
    parser.add_argument("--repeat", type=int, default=1, help="measure every cell this many times")
    parser.add_argument("--workdir", type=Path, help="keep prepared artifacts here (default: a temporary folder)")
    args = parser.parse_args()
    model, X_valid, y_valid = forest(args.task)
    info = describe(model, X_valid, y_valid, args.task)
    config = BenchmarkConfig.from_dict(
        {
            "entries": args.platforms,
            "optimisations": args.optimisations,
            "batch_sizes": args.batch_sizes,
            "hardware": ["cpu"],
            "threads": args.threads,
            "timing": {"budget_s": args.budget, "warmup_s": 0.3},
            "memory": False,
        }
    )
    cells = plan(config, info, ["cpu"]).cells
    candidates = {spec.label: make_candidate(model, spec, X_valid, y_valid, info) for spec in config.optimisations}
    with tempfile.TemporaryDirectory(prefix="tunefleet-inference-") as temporary:
        workdir = args.workdir or Path(temporary)
        passes = [measure_pass(cells, candidates, X_valid, y_valid, config, workdir) for _ in range(args.repeat)]
    results = passes[0]
    table = results_table(results)
    for column in ("median", "p95", "thread_cpu"):
        table[f"{column}_us"] = table[f"{column}_ms"] * 1e3
    columns = [
        "platform",
        "optimisation",
        "batch_size",
        "median_us",
        "p95_us",
        "cv",
        "thread_cpu_us",
        "throughput_rows_per_s",
        "speedup",
    ]
    score = candidates[config.optimisations[0].label].original_score
    print(f"random forest ({args.task}): 100 trees, depth 12, {info.n_features} features; score {score:.4f}")
    print(table[columns].to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    if len(passes) > 1:
        repeatability(passes)
    best = fastest(results, accuracy_budget=0.0)[0]
    if best["batch_size"] != 1:
        raise SystemExit("no batch-1 measurement")
    batch_1 = table[table.batch_size == 1].set_index(["platform", "optimisation"]).thread_cpu_ms
    cpu_ratio = batch_1["sklearn", "none"] / batch_1[best["platform"], best["optimisation"]]
    print(
        f"fastest at batch 1: {best['platform']} / {best['optimisation']} ({best['median_ms'] * 1e3:.1f} us); "
        f"by thread CPU time {cpu_ratio:.1f}x"
    )
    print(f"inference: {best['speedup']:.1f}x vs scikit-learn")


if __name__ == "__main__":
    main()
