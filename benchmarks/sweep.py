"""tunefleet's hpo-sweep flow (ray and dask engines) against plain Ray Tune and Optuna, in one run.

The same trivial sweep everywhere: random search over three parameters (x uniform in
[-10, 10], y loguniform in [1e-4, 1], z categorical of a / b / c) whose objective returns a
number at once, so the wall time is the engines' overhead. In order:

1. tunefleet ``hpo-sweep`` with ``engine=ray`` on a local Ray (``ray.init(address="local")``,
   ``RAY_AUTH_MODE=disabled``) that is already up, as a deployment's worker would find it;
2. tunefleet ``hpo-sweep`` with ``engine=dask`` (the flow starts its own 2-worker LocalCluster,
   which is part of its wall time);
3. plain Ray Tune ``Tuner.fit`` (BasicVariantGenerator, ``num_samples=N``) on the same Ray;
4. Optuna ``study.optimize(n_jobs=2)`` with N trials (RandomSampler, in memory).

tunefleet runs on its embedded defaults in a temporary ``TUNEFLEET_HOME`` (SQLite + folder)
against a temporary Prefect server (``infra.services.PrefectServer``, ``PREFECT_API_URL``
pointing at it; not Prefect's ephemeral mode). Ray is started once and warmed by a small
untimed ``Tuner.fit`` before any timed run; the untimed costs are printed too. A tunefleet
wall time is the whole ``hpo_sweep`` call: flow run, config checks, every trial written to
the records, the progress artifact and the reports (JSON, CSV, HTML, parallel coordinates).

"per trial" is wall / trials, nothing subtracted (the objective itself takes microseconds).
The last line is ``sweep: <ratio>x vs Ray Tune``: plain Ray Tune's wall divided by tunefleet's
ray-engine wall (> 1: tunefleet is faster). Targets (issue 4): ratio >= 1/1.2, dask engine
<= 20 ms per trial.

    python benchmarks/sweep.py              # 500 trials each
    python benchmarks/sweep.py --quick      # 60 trials each: a smoke run
    python benchmarks/sweep.py --trials 200
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CPUS = 2  # the machine this runs on: Ray's num_cpus, Dask's workers, Optuna's n_jobs
sys.path.insert(0, str(ROOT))  # flows, tasks, infra: the repo's top-level packages

TRAINABLE = '''"""The benchmark's trivial trainable: one result at once."""
import math


def objective(config):
    x, y, z = config["x"], config["y"], config["z"]
    return {"loss": (x - 1.0) ** 2 + abs(math.log10(y) + 2.0) + {"a": 0.0, "b": 0.5, "c": 1.0}[z]}
'''

SPACE = {
    "x": {"method": "uniform", "dimension": {"low": -10.0, "high": 10.0}},
    "y": {"method": "loguniform", "dimension": {"low": 1e-4, "high": 1.0}},
    "z": {"method": "categorical", "dimension": {"categories": ["a", "b", "c"]}},
}


def objective(config: dict) -> dict:
    """The same objective for plain Ray Tune and Optuna."""
    import math

    x, y, z = config["x"], config["y"], config["z"]
    return {"loss": (x - 1.0) ** 2 + abs(math.log10(y) + 2.0) + {"a": 0.0, "b": 0.5, "c": 1.0}[z]}


def setup_environment(workdir: Path) -> None:
    """Embedded tunefleet in ``workdir``, quiet Prefect and Ray; before prefect / ray are imported."""
    for name in ("TUNEFLEET_DATABASE_URL", "TUNEFLEET_ARTIFACT_ROOT", "TUNEFLEET_DATABASE_BLOCK"):
        os.environ.pop(name, None)
    os.environ.update(
        TUNEFLEET_HOME=str(workdir / "home"),
        TUNEFLEET_ENV_FILE=str(workdir / "no-env-file"),
        PREFECT_LOGGING_LEVEL="WARNING",
        PREFECT_LOGGING_TO_API_ENABLED="false",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        RAY_AUTH_MODE="disabled",
        RAY_DEDUP_LOGS="0",
        RAY_AIR_NEW_OUTPUT="0",
        RAY_TRAIN_V2_ENABLED="0",
        PYTHONWARNINGS="ignore",
    )


def start_prefect(workdir: Path):
    from infra.services import PrefectServer

    server = PrefectServer(home=workdir / "prefect").start()
    os.environ.update(server.env())
    return server


def make_project(trials: int, scripts: Path) -> None:
    from blocks.context import database
    from tunefleet.sweep import service as sweeps

    db = database()
    sweeps.create_config(db, "search_space", "bench_space", SPACE)
    sweeps.create_config(
        db,
        "hpo_config",
        "bench_hpo",
        {
            "algorithm": "random",
            "metric": "loss",
            "mode": "min",
            "scheduler": "fifo",
            "trials": trials,
            "stop": {},
            "seed": 0,
            "max_concurrent": 0,  # BasicVariantGenerator's default, as in the plain Ray Tune run
        },
    )
    sweeps.create_config(db, "model_config", "bench_model", {"script": "bench_objective.py", "model": "objective"})
    sweeps.create_project(
        db,
        "bench",
        search_space="bench_space",
        hpo_config="bench_hpo",
        model_config="bench_model",
        scripts_path=str(scripts),
    )


def run_tunefleet(engine: str, trials: int) -> float:
    from blocks.context import database
    from flows.sweep import hpo_sweep
    from tunefleet.sweep import service as sweeps

    start = time.perf_counter()
    result = hpo_sweep(project="bench", engine=engine, n_jobs=CPUS)
    wall = time.perf_counter() - start
    counts = sweeps.count_trials(database(), result["sweep_id"])
    if counts.get("complete") != trials or result["status"] != "succeeded":
        raise RuntimeError(f"tunefleet {engine}: {result['status']}, trials {counts} (expected {trials} complete)")
    return wall


def tune_space():
    from ray import tune

    return {"x": tune.uniform(-10.0, 10.0), "y": tune.loguniform(1e-4, 1.0), "z": tune.choice(["a", "b", "c"])}


def run_ray_tune(trials: int, storage: Path) -> float:
    from ray import tune
    from ray.tune.search import BasicVariantGenerator

    start = time.perf_counter()
    tuner = tune.Tuner(
        objective,
        param_space=tune_space(),
        tune_config=tune.TuneConfig(
            search_alg=BasicVariantGenerator(random_state=0), metric="loss", mode="min", num_samples=trials
        ),
        run_config=tune.RunConfig(name=f"plain-{trials}", storage_path=str(storage), verbose=0),
    )
    results = tuner.fit()
    wall = time.perf_counter() - start
    if len(results) != trials or results.errors:
        raise RuntimeError(f"Ray Tune: {len(results)} results, {len(results.errors)} errors")
    return wall


def run_optuna(trials: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def optuna_objective(trial) -> float:
        config = {
            "x": trial.suggest_float("x", -10.0, 10.0),
            "y": trial.suggest_float("y", 1e-4, 1.0, log=True),
            "z": trial.suggest_categorical("z", ["a", "b", "c"]),
        }
        return objective(config)["loss"]

    start = time.perf_counter()
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(optuna_objective, n_trials=trials, n_jobs=CPUS)
    wall = time.perf_counter() - start
    if len(study.trials) != trials:
        raise RuntimeError(f"Optuna: {len(study.trials)} trials")
    return wall


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=500, help="trials per method (default 500)")
    parser.add_argument("--quick", action="store_true", help="60 trials per method: a smoke run")
    args = parser.parse_args(argv)
    trials = 60 if args.quick else args.trials

    workdir = Path(tempfile.mkdtemp(prefix="tunefleet-bench-sweep-"))
    setup_environment(workdir)
    scripts = workdir / "scripts"
    scripts.mkdir()
    (scripts / "bench_objective.py").write_text(TRAINABLE)
    logging.getLogger("ray").setLevel(logging.ERROR)
    server = None
    try:
        t0 = time.perf_counter()
        server = start_prefect(workdir)
        prefect_start = time.perf_counter() - t0
        make_project(trials, scripts)

        import ray

        t0 = time.perf_counter()
        ray.init(address="local", num_cpus=CPUS, include_dashboard=False, log_to_driver=False)
        ray_start = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_ray_tune(4, workdir / "ray-warmup")
        warmup = time.perf_counter() - t0
        print(
            f"untimed: prefect server start {prefect_start:.1f} s, ray.init {ray_start:.1f} s, "
            f"Ray Tune warm-up (4 trials) {warmup:.1f} s; load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores",
            flush=True,
        )

        walls: dict[str, float] = {}
        for label, run in (
            ("tunefleet ray", lambda: run_tunefleet("ray", trials)),
            ("tunefleet dask", lambda: run_tunefleet("dask", trials)),
            ("plain Ray Tune", lambda: run_ray_tune(trials, workdir / "ray-plain")),
            ("Optuna n_jobs=2", lambda: run_optuna(trials)),
        ):
            walls[label] = run()
            print(
                f"{label:16s} {trials} trials  wall {walls[label]:7.2f} s  {1000 * walls[label] / trials:7.1f} ms/trial"
                f"  (load {os.getloadavg()[0]:.2f})",
                flush=True,
            )
        ray.shutdown()
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    ray_ratio = walls["plain Ray Tune"] / walls["tunefleet ray"]
    print(f"ratios (other / tunefleet ray wall): plain Ray Tune {ray_ratio:.2f}x, ", end="")
    print(
        f"tunefleet dask {walls['tunefleet dask'] / walls['tunefleet ray']:.2f}x, "
        f"Optuna {walls['Optuna n_jobs=2'] / walls['tunefleet ray']:.2f}x"
    )
    print(
        f"targets: tunefleet ray within 1.2x of Ray Tune (ratio >= 0.83): {'met' if ray_ratio >= 1 / 1.2 else 'MISSED'}; "
        f"dask <= 20 ms/trial: {'met' if 1000 * walls['tunefleet dask'] / trials <= 20 else 'MISSED'}"
    )
    print(f"dask engine: {1000 * walls['tunefleet dask'] / trials:.1f} ms/trial overhead (hpo_sweep wall / trials)")
    print(f"sweep: {ray_ratio:.2f}x vs Ray Tune")


if __name__ == "__main__":
    main()
