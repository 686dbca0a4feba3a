"""tunefleet's hw-tuning flow against the two-stage practice and Optuna's multi-objective samplers, in one run.

The same problem for every method: a random forest classifier on scikit-learn's
``make_classification`` (20,000 rows, 20 features, 10 informative; 15,000 train, 5,000 validation
rows, split the same way for all), its hyperparameters (trees, depth, leaf size, features per split)
and its serving choice (scikit-learn, scikit-learn pruned, ONNX Runtime in double and single
precision, Treelite's interpreter, PyTorch) tuned for validation accuracy (as served: the
optimisation's drift counted) and the median batch-1 latency on this machine's cpu, 40 evaluations
each:

1. tunefleet: the ``hw-tuning`` flow (20 rounds of 2) on its embedded defaults, against a temporary
   Prefect server: every candidate trained, stored, and measured as a one-cell benchmark run;
2. two-stage: Optuna (TPE) tunes accuracy alone on scikit-learn for 40 - 6 trials, then the winner
   is measured on each of the 6 serving choices (the remaining budget), as teams do today;
3. Optuna's multi-objective ``GPSampler`` and ``TPESampler`` over the same joint space, each trial
   trained and measured by the same code the flow's tasks run (``tunefleet.hwtune.training``,
   ``tunefleet.bench``: the candidate, the cell, the same timing settings).

Treelite's compiled libraries are left out: compiling a 150-tree, depth-14 forest took 384 s
here (the interpreter, GTIL, is in). The hypervolume of each method's measured points is taken in
(accuracy, log10 latency): latencies span three orders of magnitude (ONNX Runtime ~0.01 ms, the
scikit-learn forest ~5 ms at batch 1), and on a linear scale the fastest platform's 1 ms
differences vanish beside scikit-learn's range. The reference point is the nadir of every method's
points together (the worst accuracy, the slowest latency), so all are measured from the same
point; the linear-latency hypervolume is printed too. The last line is
``hw_tuning: <ratio>x vs two-stage`` (tunefleet's log-latency hypervolume over two-stage's;
targets: > 1, and >= each Optuna sampler's).

    python benchmarks/hw_tuning.py             # about 25 minutes on 2 cores
    python benchmarks/hw_tuning.py --quick     # 2,000 rows, 10 evaluations: a smoke run
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

import optuna
import pandas as pd
from sweep import setup_environment, start_prefect

SERVING = [
    "sklearn+none",
    "sklearn+prune",
    "onnxruntime+none",
    "onnxruntime+float32",
    "treelite-gtil+none",
    "torch+none",
]
COVARS = {
    "n_estimators": {"vtype": "int", "guess": 50, "min": 5, "max": 200},
    "max_depth": {"vtype": "int", "guess": 8, "min": 2, "max": 16},
    "min_samples_leaf": {"vtype": "int", "guess": 1, "min": 1, "max": 40},
    "max_features": {"vtype": "cont", "guess": 0.3, "min": 0.05, "max": 1.0},
}
TIMING = {"budget_s": 0.2, "warmup_s": 0.05, "rounds": 3}  # the flow's default per candidate
SEED = 0


def dataset(rows: int) -> pd.DataFrame:
    from sklearn.datasets import make_classification

    X, y = make_classification(rows, 20, n_informative=10, random_state=SEED)
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(20)]).assign(label=y)


def problem_fields(data_uri: str) -> dict:
    return {
        "estimator": "sklearn:RandomForestClassifier",
        "data_uri": data_uri,
        "target": "label",
        "covars": COVARS,
        "serving": SERVING,
        "timing": TIMING,
        "validation_fraction": 0.25,
    }


class Evaluator:
    """One candidate trained and measured by the code the flow's tasks run, on the flow's own split."""

    def __init__(self, fields: dict, data: bytes):
        from tunefleet.hwtune import training
        from tunefleet.hwtune.problem import HwProblem

        self.problem = HwProblem.parse(**fields)
        self.train_csv, self.validation_csv = training.split(self.problem, data, SEED)

    def __call__(self, point: dict) -> dict[str, float]:
        from tunefleet.bench.models import describe, read_validation_csv
        from tunefleet.bench.optimisations import make_candidate
        from tunefleet.bench.registry import BenchmarkConfig, plan
        from tunefleet.bench.runner import run_cell
        from tunefleet.hwtune import training

        model = training.train(self.problem, point, self.train_csv, SEED)
        X, y, _ = read_validation_csv(self.validation_csv, self.problem.target, model)
        config = BenchmarkConfig.from_dict(self.problem.benchmark_config(point["serving"]))
        info = describe(model, X, y, self.problem.task)
        [cell] = plan(config, info, ["cpu"]).cells
        candidate = make_candidate(model, cell.optimisation, X, y, info, config.drift_metric)
        with tempfile.TemporaryDirectory() as folder:
            result = run_cell(cell, candidate, X, y, config, Path(folder))
        return training.response(self.problem, result.to_dict())

    def accuracy_only(self, point: dict) -> float:
        """The first stage's objective: validation accuracy on scikit-learn, nothing timed."""
        from tunefleet.bench.metrics import score
        from tunefleet.bench.models import read_validation_csv
        from tunefleet.hwtune import training

        model = training.train(self.problem, point, self.train_csv, SEED)
        X, y, _ = read_validation_csv(self.validation_csv, self.problem.target, model)
        return score("classification", y, model.predict(X), "accuracy")


def run_tunefleet(fields: dict, evaluations: int) -> list[dict]:
    from flows.hwtune import hw_tuning

    report = hw_tuning(**fields, name="bench", iterations=evaluations // 2, batch=2, initial_points=6, seed=SEED)
    from blocks.context import database
    from tunefleet.bo import service as experiments
    from tunefleet.hwtune import service as tunings

    db = database()
    tuning = tunings.get(db, report["tuning_id"])
    confirm_pick(tuning)
    return [t.metrics for t in experiments.trials(db, tunings.experiment(db, tuning))]


def confirm_pick(tuning) -> None:
    """Pick the most accurate point of the front under the front's median latency, benchmark the stored
    model again with the benchmark's default timing (5 rounds of 1 s), and print both measurements."""
    import statistics

    from blocks.context import artifact_store, database
    from flows.benchmark import benchmark
    from tunefleet.bench import service as benchmarking
    from tunefleet.hwtune import service as tunings

    db = database()
    front = tunings.front(db, tuning)["points"]
    bound = statistics.median(p["metrics"]["latency_ms"] for p in front)
    picked = tunings.pick(db, artifact_store(), tuning, max_latency_ms=bound, name="bench-pick")
    platform, optimisation = picked["serving"].split("+")
    config = {"entries": [platform], "optimisations": [optimisation], "batch_sizes": [1], "hardware": ["cpu"],
              "memory": False}  # fmt: skip
    [cell] = benchmarking.cells(db, benchmark("bench-pick", config)["run_id"])
    [stats] = cell.metrics["latency"]
    print(f"pick under {bound:.4g} ms: trial {picked['trial_id']} {picked['serving']}, accuracy "
          f"{picked['metrics']['accuracy']:.4f} at {picked['metrics']['latency_ms']:.4g} ms in the tuning; "
          f"benchmark run: accuracy {cell.metrics['score']:.4f}, median {stats['median_ms']:.4g} ms "
          f"(95% interval {stats['median_low_ms']:.4g}-{stats['median_high_ms']:.4g})", flush=True)  # fmt: skip


def suggest(trial: optuna.Trial) -> dict:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 5, 200),
        "max_depth": trial.suggest_int("max_depth", 2, 16),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 40),
        "max_features": trial.suggest_float("max_features", 0.05, 1.0),
    }


def run_two_stage(evaluate: Evaluator, evaluations: int) -> list[dict]:
    """Tune accuracy alone (scikit-learn, no latency measured), then time the winner on every platform."""
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=SEED))
    study.optimize(lambda trial: evaluate.accuracy_only(suggest(trial)), n_trials=evaluations - len(SERVING))
    winner = study.best_params
    return [evaluate({**winner, "serving": serving}) for serving in SERVING]


def run_optuna(evaluate: Evaluator, evaluations: int, sampler: optuna.samplers.BaseSampler) -> list[dict]:
    measured: list[dict] = []

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        values = evaluate({**suggest(trial), "serving": trial.suggest_categorical("serving", SERVING)})
        measured.append(values)
        return values["accuracy"], values["latency_ms"]

    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    study.optimize(objective, n_trials=evaluations)
    return measured


def hypervolumes(points: dict[str, list[dict]]) -> dict[str, tuple[float, float]]:
    """Each method's (log-latency, linear-latency) hypervolume from the nadir of every method's points."""
    from tunefleet.bo.outcomes import Outcomes

    pooled = [p for rows in points.values() for p in rows]
    worst_accuracy = min(p["accuracy"] for p in pooled)
    slowest = max(p["latency_ms"] for p in pooled)
    log_outcomes = Outcomes.parse(
        {"accuracy": {"direction": "maximize"}, "log_latency": {"direction": "minimize"}}, None
    )
    linear_outcomes = Outcomes.parse(
        {"accuracy": {"direction": "maximize"}, "latency_ms": {"direction": "minimize"}}, None
    )
    result = {}
    for method, rows in points.items():
        logged = [{"accuracy": p["accuracy"], "log_latency": math.log10(p["latency_ms"])} for p in rows]
        result[method] = (
            log_outcomes.hypervolume(logged, {"accuracy": worst_accuracy, "log_latency": math.log10(slowest)}),
            linear_outcomes.hypervolume(rows, {"accuracy": worst_accuracy, "latency_ms": slowest}),
        )
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 rows, 10 evaluations: a smoke run")
    parser.add_argument("--evaluations", type=int, default=40)
    args = parser.parse_args(argv)
    rows, evaluations = (2_000, 10) if args.quick else (20_000, args.evaluations)
    workdir = Path(tempfile.mkdtemp(prefix="tunefleet-bench-hw-"))
    setup_environment(workdir)
    os.environ["TUNEFLEET_DATA_ROOTS"] = str(workdir / "data")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("tunefleet").setLevel(logging.WARNING)
    server = None
    try:
        server = start_prefect(workdir)
        (workdir / "data").mkdir()
        data_path = workdir / "data" / "forest.csv"
        dataset(rows).to_csv(data_path, index=False)
        fields = problem_fields(str(data_path))
        evaluate = Evaluator(fields, data_path.read_bytes())
        print(f"{rows} rows, {evaluations} evaluations per method, {len(SERVING)} serving choices; "
              f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)  # fmt: skip
        methods = {
            "tunefleet hw-tuning": lambda: run_tunefleet(fields, evaluations),
            "two-stage (Optuna TPE, then fastest platform)": lambda: run_two_stage(evaluate, evaluations),
            "Optuna GPSampler (2 objectives)": lambda: run_optuna(
                evaluate, evaluations, optuna.samplers.GPSampler(seed=SEED)
            ),
            "Optuna TPESampler (2 objectives)": lambda: run_optuna(
                evaluate, evaluations, optuna.samplers.TPESampler(seed=SEED)
            ),
        }
        points, walls = {}, {}
        for method, run in methods.items():
            began = time.perf_counter()
            points[method] = run()
            walls[method] = time.perf_counter() - began
            best = max(points[method], key=lambda p: p["accuracy"])
            print(f"{method}: {len(points[method])} measured points in {walls[method]:.0f} s; most accurate "
                  f"{best['accuracy']:.4f} at {best['latency_ms']:.4g} ms, fastest "
                  f"{min(p['latency_ms'] for p in points[method]):.4g} ms", flush=True)  # fmt: skip
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    volumes = hypervolumes(points)
    print("\n| method | hypervolume (accuracy x log10 latency) | hypervolume (accuracy x ms) | wall s |")
    print("|---|---|---|---|")
    for method, (logged, linear) in volumes.items():
        print(f"| {method} | {logged:.5f} | {linear:.5f} | {walls[method]:.0f} |")
    ours = volumes["tunefleet hw-tuning"][0]
    two_stage = volumes["two-stage (Optuna TPE, then fastest platform)"][0]
    optuna_best = max(v[0] for m, v in volumes.items() if m.startswith("Optuna"))
    print(f"targets: > two-stage {'met' if ours > two_stage else 'MISSED'}; >= Optuna's best "
          f"{'met' if ours >= optuna_best else 'MISSED'} ({ours / optuna_best:.2f}x)")  # fmt: skip
    print(f"hw_tuning: {ours / two_stage:.2f}x vs two-stage")


if __name__ == "__main__":
    main()
