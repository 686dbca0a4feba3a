"""Inference latency of a 100-tree, depth-12 random forest on each CPU platform vs scikit-learn.

Run: .venv/bin/python benchmarks/inference.py [--budget 1.0] [--threads 1] [--workdir DIR]
Every platform runs with the same thread count (default 1: scikit-learn n_jobs=1, ORT
intra-op 1, tl2cgen/GTIL nthread 1, torch 1 thread), the fair comparison for single rows.
Treelite compiles the forest with gcc first (2 to 5 minutes on 2 cores); with --workdir the
library is kept there and reused by the next run (the forest is the same, seeded).
The last line is ``inference: <ratio>x vs scikit-learn``: scikit-learn's batch-1 median
latency over the fastest platform's. The thread CPU time column (see LatencyStats) is the
steadier number when other processes share the machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

from tunefleet.bench import BenchmarkConfig, describe, fastest, make_candidate, plan, results_table, run_cell

PLATFORMS = ["sklearn", "onnxruntime", "treelite", "treelite-gtil", "torch"]
BATCH_SIZES = [1, 64, 1024]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=1.0, help="seconds of timed runs per platform and batch size")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="keep prepared artifacts here (default: a temporary folder)")
    args = parser.parse_args()
    X, y = make_classification(n_samples=20_000, n_features=20, n_informative=10, random_state=0)
    X_train, y_train, X_valid, y_valid = X[:15_000], y[:15_000], X[15_000:], y[15_000:]
    model = RandomForestClassifier(n_estimators=100, max_depth=12, random_state=0, n_jobs=-1).fit(X_train, y_train)
    info = describe(model, X_valid, y_valid, "classification")
    config = BenchmarkConfig.from_dict(
        {
            "entries": PLATFORMS,
            "optimisations": ["none"],
            "batch_sizes": BATCH_SIZES,
            "hardware": ["cpu"],
            "threads": args.threads,
            "timing": {"budget_s": args.budget, "warmup_s": 0.3},
            "memory": False,
        }
    )
    cells = plan(config, info, ["cpu"]).cells
    candidate = make_candidate(model, config.optimisations[0], X_valid, y_valid, info)
    results = []
    with tempfile.TemporaryDirectory(prefix="tunefleet-inference-") as temporary:
        workdir = args.workdir or Path(temporary)
        for cell in cells:
            started = time.perf_counter()
            result = run_cell(cell, candidate, X_valid, y_valid, config, workdir)
            if result.status != "ok":
                raise SystemExit(f"{cell.key} {result.status}: {result.reason}")
            print(
                f"{cell.entry.name}: prepared and measured in {time.perf_counter() - started:.1f} s, threads {result.threads}"
            )
            results.append(result)
    table = results_table(results)
    for column in ("median", "p95", "thread_cpu"):
        table[f"{column}_us"] = table[f"{column}_ms"] * 1e3
    columns = [
        "platform",
        "batch_size",
        "median_us",
        "p95_us",
        "cv",
        "thread_cpu_us",
        "throughput_rows_per_s",
        "speedup",
    ]
    print(f"random forest: 100 trees, depth 12, {info.n_features} features; accuracy {candidate.original_score:.4f}")
    print(table[columns].to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    best = fastest(results, accuracy_budget=0.0)[0]
    if best["batch_size"] != 1:
        raise SystemExit("no batch-1 measurement")
    batch_1 = table[table.batch_size == 1].set_index("platform").thread_cpu_ms
    cpu_ratio = batch_1["sklearn"] / batch_1[best["platform"]]
    print(
        f"fastest at batch 1: {best['platform']} ({best['median_ms'] * 1e3:.1f} us); by thread CPU time {cpu_ratio:.1f}x"
    )
    print(f"inference: {best['speedup']:.1f}x vs scikit-learn")


if __name__ == "__main__":
    main()
