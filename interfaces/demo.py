"""``tunefleet demo``: a tour of the four capabilities on the embedded defaults, each a small run
that prints what it found and where to look (the Prefect UI's runs and artifacts).

1. ridge regression with 5-fold CV on scikit-learn's diabetes data, then predictions;
2. Bayesian optimisation of Branin (minimum 0.397887) in 12 evaluations;
3. an HPO sweep, random search over hpogrid's example 1, on a local Dask cluster;
4. an inference benchmark of a small random forest across three CPU platforms.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Ridge

from blocks.context import artifact_store, current_settings, database
from interfaces import local_prefect, runs
from tunefleet import reports
from tunefleet.bench import service as benchmarking
from tunefleet.bench.models import dump_model
from tunefleet.db import RecordNotFound
from tunefleet.db.columns import Status
from tunefleet.ridge import service as ridge_service
from tunefleet.sweep import service as sweeps

BRANIN = {"x1": {"vtype": "cont", "guess": 0.5, "min": -5, "max": 10}, "x2": {"vtype": "cont", "guess": 0.5, "min": 0, "max": 15}}  # fmt: skip
SWEEP_CONFIGS = {
    "search_space": {"height": {"method": "uniform", "dimension": {"low": -100, "high": 100}},
                     "width": {"method": "uniform", "dimension": {"low": 0, "high": 20}}},
    "hpo_config": {"algorithm": "random", "metric": "loss", "mode": "min", "scheduler": "fifo", "num_trials": 8,
                   "seed": 0},
    "model_config": {"script": "demo_trainable.py", "model": "demo_objective"},
    "compute_config": {"engine": "dask", "n_jobs": 2},
}  # fmt: skip
BENCHMARK = {
    "entries": ["sklearn", "onnxruntime", "treelite-gtil"],
    "optimisations": ["none", "float32"],
    "batch_sizes": [1, 64],
    "timing": {"budget_s": 0.05, "warmup_s": 0.01, "min_repeats": 5},
    "memory": False,
}
KEYS = {"bo": "demo branin", "sweep": "demo", "benchmark": "demo-forest"}


def run_demo() -> int:
    console = Console()
    settings = current_settings()
    db, store = database(settings), artifact_store(settings)
    console.print(f"records: [bold]{settings.database}[/]  artifacts: [bold]{settings.artifacts}[/]")
    launcher = runs.Launcher(settings)
    frame = load_diabetes(as_frame=True).frame  # 442 rows, 10 features, target "target"
    for title, step in (
        ("1. ridge regression", lambda: _ridge(console, db, store, launcher, frame)),
        ("2. Bayesian optimisation", lambda: _bo(console, launcher)),
        ("3. HPO sweep", lambda: _sweep(console, db)),
        ("4. inference benchmark", lambda: _benchmark(console, db, store, frame)),
    ):
        console.rule(title)
        if not step():
            return 1
    _where_to_look(console, settings)
    return 0


def _ridge(console: Console, db, store, launcher: runs.Launcher, frame) -> bool:
    params = ridge_service.TrainParams("target", n_folds=5, l2_coef=[0.001, 0.01, 0.1, 1.0, 10.0, 100.0])
    model = ridge_service.create(db, store, frame.to_csv(index=False), params)
    console.print(f"queued ridge model {model.id}; training it as a Prefect flow run ...")
    launcher.submit("ridge", model_id=model.id)
    launcher.wait()
    model = ridge_service.get(db, model.id)
    if model.status is not Status.succeeded:
        console.print(f"[red]training failed:[/] {model.error}")
        return False
    table = Table(title=f"ridge model {model.id}: 5-fold CV")
    table.add_column("L2 coefficient", justify="right")
    table.add_column("mean MSE", justify="right")
    for row in model.cv_results:
        best = " (best)" if row["param_value"] == model.best_alpha else ""
        table.add_row(f"{row['param_value']:g}{best}", f"{row['mean_mse']:.2f}")
    console.print(table)
    # Predict with the columns in reverse order: the service matches them by name.
    features = model.model["features"]
    sample = frame[list(reversed(features))].head(5)
    predictions = ridge_service.predict(model, sample.to_csv(index=False))
    reference = Ridge(alpha=model.best_alpha).fit(frame[features], frame["target"]).predict(frame[features].head(5))
    console.print(f"predictions for 5 rows (columns reversed): {np.round(predictions, 2).tolist()}")
    console.print(
        f"largest difference from scikit-learn Ridge: {np.max(np.abs(np.array(predictions) - reference)):.2e}"
    )
    console.print(f"model artifact: {model.artifact_uri}; CV table: artifact [bold]ridge-model-{model.id}-cv[/]")
    return True


def _bo(console: Console, launcher: runs.Launcher) -> bool:
    console.print(
        "minimising Branin (its minimum is 0.397887) in 12 evaluations: 4 initial points, then rounds of 2 ..."
    )
    report = launcher.run_here(
        "bo", covars=BRANIN, objective="tunefleet.objectives:branin", name=KEYS["bo"], direction="minimize",
        iterations=6, batch_size=2, initial_points=4, seed=0,
    )  # fmt: skip
    if report["best_response"] is None:
        console.print("[red]no evaluation completed[/]")
        return False
    console.print(
        f"best {report['best_response']:.4g} at {reports.compact(report['covars_best_response'])} after "
        f"{report['n_told']} evaluations; summary and plot: artifact [bold]{reports.artifact_key('bo', KEYS['bo'])}[/]"
    )
    return True


def _sweep(console: Console, db) -> bool:
    for kind, body in SWEEP_CONFIGS.items():
        sweeps.create_config(db, kind, f"demo_{kind}", body, replace_existing=True)
    project = {kind: f"demo_{kind}" for kind in SWEEP_CONFIGS}
    sweeps.create_project(db, KEYS["sweep"], replace_existing=True, scripts_path=str(Path(__file__).parent), **project)
    console.print("random search, 8 trials of hpogrid's example 1 (3 steps each) on a local Dask cluster ...")
    outcome = runs.run_sweep_here(db, runs.sweep_parameters(db, KEYS["sweep"], None, check=True), KEYS["sweep"])
    if outcome.error:
        console.print(f"[red]the sweep failed:[/] {outcome.error}")
        return False
    best = outcome.result["best"]
    console.print(
        f"sweep {outcome.result['sweep_id']}: {outcome.result['counts']}; best trial {best['trial_id']} "
        f"(loss {best['metrics']['loss']:.4g} at {reports.compact(best['config'])}); "
        f"report: artifact [bold]{reports.artifact_key('sweep', KEYS['sweep'])}[/]"
    )
    return True


def _benchmark(console: Console, db, store, frame) -> bool:
    try:
        model = benchmarking.get_model(db, KEYS["benchmark"])
    except RecordNotFound:
        forest = RandomForestRegressor(n_estimators=20, max_depth=6, random_state=0)
        forest.fit(frame.drop(columns="target").to_numpy(), frame["target"].to_numpy())  # as it is measured: arrays
        data = io.StringIO()
        frame.to_csv(data, index=False)
        model = benchmarking.upload(
            db, store, KEYS["benchmark"], dump_model(forest), data.getvalue().encode(), "target", "regression"
        )
    run = benchmarking.create(db, model, BENCHMARK)
    console.print(f"benchmark run {run.id} of {model.name}: {', '.join(BENCHMARK['entries'])} × none, float32 ...")
    run = runs.run_benchmark_here(db, run)
    if run.status is not Status.succeeded:
        console.print(f"[red]the benchmark failed:[/] {run.error}")
        return False
    for row in run.report["fastest"]:
        versus = "indistinguishable here from" if row["versus_baseline"] == "indistinguishable" else "vs"
        console.print(
            f"batch {row['batch_size']}: fastest within the accuracy budget is {row['platform']} + "
            f"{row['optimisation']}, {row['median_ms']:.3g} ms, {row['speedup']:.3g}× ({versus} scikit-learn)"
        )
    console.print(f"summary and heat map: artifact [bold]{reports.artifact_key('benchmark', model.name)}[/]")
    return True


def _where_to_look(console: Console, settings) -> None:
    console.rule("where to look")
    url = local_prefect.api_url()
    if url:
        ui = os.environ.get("PREFECT_UI_URL") or url.removesuffix("/").removesuffix("/api")
        console.print(f"the runs, their logs and artifacts: {ui}/runs and {ui}/artifacts")
        if local_prefect.running():
            console.print("that is tunefleet's local Prefect server: it runs until `tunefleet server stop`")
        if not settings.public_url:
            console.print("set TUNEFLEET_PUBLIC_URL to `tunefleet api`'s address to see the plots inline there")
    else:
        console.print(
            "these runs are in Prefect's local database (PREFECT_HOME, ~/.prefect): `tunefleet server start` "
            "serves them in a UI, at the address it prints"
        )
