"""Inference latency of a 100-tree, depth-12 random forest (or a 500-tree gradient-boosting model)
on each platform vs scikit-learn.

Run: .venv/bin/python benchmarks/inference.py [--task classification|regression] [--model forest|boosting]
     [--hardware cpu|gpu] [--budget 1.0] [--threads 1] [--optimisations none ...]
     [--batch-sizes 1 64 1024] [--repeat 1] [--rounds 5] [--workdir DIR]
``--hardware gpu`` adds the GPU platforms (torch-cuda, nvforest: the ``gpu`` extra) to scikit-learn and
ONNX Runtime on the same machine's CPU, at batch sizes 1, 64, 1,024 and 100,000; cells a machine
cannot run are listed with the reason.
Every platform runs with the same thread count (default 1: scikit-learn n_jobs=1, ORT
intra-op 1, tl2cgen/GTIL nthread 1, torch 1 thread), the fair comparison for single rows.
Treelite compiles the forest with gcc first (2 to 5 minutes on 2 cores); with --workdir the
library is kept there and reused by the next run (the forest is the same, seeded).
With ``--repeat N`` every cell is measured N times, one whole pass after the other as N
benchmark runs would. Each pass's verdicts (cell A faster than, slower than or
indistinguishable from cell B, by their medians' 95 % intervals) are compared with the first
pass's: how many agree (target: all) and how many contradict it (A faster in one, slower in the
other); and how many medians fall inside the other pass's interval (target: at least 95 %).
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
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)

from tunefleet.bench import BenchmarkConfig, describe, fastest, make_candidate, plan, results_table, run_cells
from tunefleet.bench.report import INDISTINGUISHABLE, verdicts

PLATFORMS = {
    "cpu": ["sklearn", "onnxruntime", "treelite", "treelite-gtil", "torch", "nvforest-cpu"],
    "gpu": ["sklearn", "onnxruntime", "nvforest-cpu", "torch-cuda", "nvforest"],
}
BATCH_SIZES = {"cpu": [1, 64, 1024], "gpu": [1, 64, 1024, 100_000]}
MODELS = {  # what each model is, and how it is built
    "forest": ("random forest: 100 trees, depth 12", {"n_estimators": 100, "max_depth": 12, "n_jobs": -1}),
    "boosting": ("gradient boosting: 500 trees, depth 3", {"n_estimators": 500, "max_depth": 3}),
}
INSIDE_TARGET = 0.95


def trained(task: str, kind: str):
    """The seeded model and its validation rows."""
    if task == "classification":
        X, y = make_classification(n_samples=20_000, n_features=20, n_informative=10, random_state=0)
        estimator = RandomForestClassifier if kind == "forest" else GradientBoostingClassifier
    else:
        X, y = make_regression(n_samples=20_000, n_features=20, n_informative=10, noise=10.0, random_state=0)
        estimator = RandomForestRegressor if kind == "forest" else GradientBoostingRegressor
    model = estimator(random_state=0, **MODELS[kind][1]).fit(X[:15_000], y[:15_000])
    return model, X[15_000:], y[15_000:]


def measure_pass(cells, candidates, X, y, config, workdir: Path) -> list:
    """Every cell, timed together in interleaved rounds as the benchmark flow times a machine's cells."""
    started = time.perf_counter()
    results = run_cells(cells, candidates, X, y, config, workdir)
    for result in results:
        if result.status != "ok":
            raise SystemExit(f"{result.platform}/{result.optimisation} {result.status}: {result.reason}")
        print(f"{result.platform}/{result.optimisation}: threads {result.threads}")
    print(f"{len(cells)} cells prepared and measured in {time.perf_counter() - started:.1f} s")
    return results


def repeatability(passes: list[list]) -> None:
    """Each later pass against the first: medians inside the other's interval, verdicts that agree."""
    keys = ["platform", "optimisation", "batch_size"]
    first = results_table(passes[0]).set_index(keys)
    first_verdicts = verdicts(passes[0])
    for n, results in enumerate(passes[1:], start=2):
        other = results_table(results).set_index(keys)
        columns = ["median_ms", "median_low_ms", "median_high_ms"]
        pair = first[columns].join(other[columns].add_suffix(f"_{n}"))
        inside_first = pair[f"median_ms_{n}"].between(pair.median_low_ms, pair.median_high_ms)
        inside_other = pair.median_ms.between(pair[f"median_low_ms_{n}"], pair[f"median_high_ms_{n}"])
        pair["inside"] = (
            inside_first.map({True: "yes", False: "no"}) + "/" + inside_other.map({True: "yes", False: "no"})
        )
        print(pair.reset_index().to_string(index=False, float_format=lambda v: f"{v:,.4f}"))
        inside = int(inside_first.sum() + inside_other.sum())
        later = verdicts(results)
        shared = first_verdicts.keys() & later.keys()
        agree = sum(first_verdicts[k] == later[k] for k in shared)
        decided = [k for k in shared if INDISTINGUISHABLE not in (first_verdicts[k], later[k])]
        contradict = sum(first_verdicts[k] != later[k] for k in decided)
        print(f"run 1 vs run {n}: {inside}/{2 * len(pair)} medians inside the other run's 95 % interval "
              f"({inside / (2 * len(pair)):.0%}; target {INSIDE_TARGET:.0%})")  # fmt: skip
        print(f"run 1 vs run {n}: verdicts agree on {agree}/{len(shared)} pairs of cells; "
              f"{contradict} of the {len(decided)} pairs both runs called faster/slower contradict each other")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", choices=["classification", "regression"], default="classification")
    parser.add_argument("--model", choices=list(MODELS), default="forest")
    parser.add_argument("--hardware", choices=list(PLATFORMS), default="cpu", help="gpu: add the GPU platforms")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds of timed runs per platform and batch size")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--platforms", nargs="+", help="registry entries (default: the --hardware's list)")
    parser.add_argument("--optimisations", nargs="+", default=["none"])
    parser.add_argument("--batch-sizes", nargs="+", type=int, help="(default: the --hardware's list)")
    parser.add_argument("--repeat", type=int, default=1, help="measure every cell this many times")
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds the cells are interleaved in")
    parser.add_argument("--workdir", type=Path, help="keep prepared artifacts here (default: a temporary folder)")
    args = parser.parse_args()
    model, X_valid, y_valid = trained(args.task, args.model)
    info = describe(model, X_valid, y_valid, args.task)
    hardware = ["cpu", "gpu"] if args.hardware == "gpu" else ["cpu"]
    config = BenchmarkConfig.from_dict(
        {
            "entries": args.platforms or PLATFORMS[args.hardware],
            "optimisations": args.optimisations,
            "batch_sizes": args.batch_sizes or BATCH_SIZES[args.hardware],
            "hardware": hardware,
            "threads": args.threads,
            "timing": {"budget_s": args.budget, "warmup_s": 0.3, "rounds": args.rounds},
            "memory": False,
        }
    )
    planned = plan(config, info, hardware)
    for skipped in planned.skipped:
        print(f"skipped {skipped.platform}/{skipped.optimisation} @ {skipped.hardware}: {skipped.reason}")
    cells = list(planned.cells)
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
        "hardware",
        "batch_size",
        "median_us",
        "p95_us",
        "cv",
        "thread_cpu_us",
        "throughput_rows_per_s",
        "speedup",
    ]
    score = candidates[config.optimisations[0].label].original_score
    print(f"{MODELS[args.model][0]} ({args.task}), {info.n_features} features; score {score:.4f}")
    print(table[columns].to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    if len(passes) > 1:
        repeatability(passes)
    best = fastest(results, accuracy_budget=0.0)[0]
    if best["batch_size"] != 1:
        raise SystemExit("no batch-1 measurement")
    batch_1 = table[table.batch_size == 1].set_index(["platform", "optimisation"]).thread_cpu_ms
    cpu_ratio = batch_1["sklearn", "none"] / batch_1[best["platform"], best["optimisation"]]
    print(
        f"fastest at batch 1: {best['platform']} / {best['optimisation']} ({best['median_ms'] * 1e3:.1f} us, "
        f"{best['versus_baseline'] or 'the baseline itself'} vs scikit-learn by the 95 % intervals); "
        f"by thread CPU time {cpu_ratio:.1f}x"
    )
    print(f"inference: {best['speedup']:.1f}x vs scikit-learn")


if __name__ == "__main__":
    main()
