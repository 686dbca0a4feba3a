"""tunefleet's BO engine against random search and Optuna's TPE, side by side in one run.

Same budget for every method (40 evaluations, 5 seeds), minimising Branin, Hartmann6
and a mixed integer / categorical / continuous function whose optimum is known. Prints
the median best value per method and problem, tunefleet's seconds per ask at 10 / 50 /
100 observations, and last one line ``bo: <ratio>x vs Optuna TPE``: Optuna TPE's median
gap to the optimum on Hartmann6 divided by tunefleet's (> 1: tunefleet is better).

    python benchmarks/bo.py            # the full comparison, a few minutes on 2 cores
    python benchmarks/bo.py --quick    # 2 seeds, 20 evaluations: a smoke run
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import optuna

from tunefleet.bo.engine import Optimizer
from tunefleet.objectives import branin, hartmann6
from tunefleet.space import Space

CATEGORY_PENALTY = {"linear": 1.0, "rbf": 0.0, "poly": 0.5}


def branin_with_int_and_cat(k: int, kernel: str, x1: float, x2: float) -> float:
    """Branin plus a quadratic in an integer (best at 13) and a penalty per category (none
    for "rbf"): its minimum is Branin's, 0.397887."""
    return branin(x1, x2) + 0.05 * (k - 13) ** 2 + CATEGORY_PENALTY[kernel]


@dataclass(frozen=True)
class Problem:
    name: str
    covars: dict
    objective: Callable[..., float]  # called with a point's values as keyword arguments
    optimum: float


PROBLEMS = [
    Problem(
        "Branin",
        {"x1": {"vtype": "cont", "min": -5.0, "max": 10.0}, "x2": {"vtype": "cont", "min": 0.0, "max": 15.0}},
        branin,
        0.397887,
    ),
    Problem(
        "Hartmann6",
        {f"x{i}": {"vtype": "cont", "min": 0.0, "max": 1.0} for i in range(1, 7)},
        hartmann6,
        -3.32237,
    ),
    Problem(
        "Mixed int/cat/cont",
        {
            "k": {"vtype": "int", "min": 0, "max": 20},
            "kernel": {"vtype": "cat", "options": list(CATEGORY_PENALTY)},
            "x1": {"vtype": "cont", "min": -5.0, "max": 10.0},
            "x2": {"vtype": "cont", "min": 0.0, "max": 15.0},
        },
        branin_with_int_and_cat,
        0.397887,
    ),
]


def tunefleet_best(problem: Problem, budget: int, seed: int) -> float:
    optimizer = Optimizer(Space.from_covars(problem.covars), maximize=False, seed=seed)
    for _ in range(budget):
        points = optimizer.ask()
        optimizer.tell(points, [problem.objective(**p) for p in points])
    return optimizer.best_response


def random_best(problem: Problem, budget: int, seed: int) -> float:
    return min(problem.objective(**p) for p in Space.from_covars(problem.covars).random(budget, seed))


def optuna_tpe_best(problem: Problem, budget: int, seed: int) -> float:
    def suggest(trial: optuna.Trial, name: str, spec: dict):
        if spec["vtype"] == "int":
            return trial.suggest_int(name, spec["min"], spec["max"])
        if spec["vtype"] == "cat":
            return trial.suggest_categorical(name, spec["options"])
        return trial.suggest_float(name, spec["min"], spec["max"])

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(
        lambda trial: problem.objective(**{name: suggest(trial, name, spec) for name, spec in problem.covars.items()}),
        n_trials=budget,
    )
    return study.best_value


METHODS = {"tunefleet BO": tunefleet_best, "random search": random_best, "Optuna TPE": optuna_tpe_best}


def ask_seconds(problem: Problem, observations: int, repeats: int = 3) -> float:
    """Median seconds of one ask (GP fit + acquisition) after ``observations`` random tells."""
    space = Space.from_covars(problem.covars)
    optimizer = Optimizer(space, maximize=False, seed=0)
    points = space.random(observations, seed=observations)
    optimizer.tell(points, [problem.objective(**p) for p in points])
    optimizer.ask()  # first-call costs (lazy imports, allocator warm-up) are not per-ask costs
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        optimizer.ask()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def flow_seconds_per_round(rounds: int) -> float:
    """Wall seconds per round of the bo-tuning flow (ask task, evaluation task, record task)
    on a Prefect server, with an objective that costs microseconds: the flow's own overhead."""
    os.environ.setdefault("TUNEFLEET_HOME", tempfile.mkdtemp(prefix="tunefleet-bench-"))
    from flows.bo import bo_tuning

    branin = next(p for p in PROBLEMS if p.name == "Branin")
    run = partial(
        bo_tuning, covars=branin.covars, objective="tunefleet.objectives:branin", direction="minimize", initial_points=2
    )
    run(iterations=1)  # warm-up: the Prefect server and the imports are not per-round costs
    start = time.perf_counter()
    run(iterations=rounds)
    return (time.perf_counter() - start) / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds and 20 evaluations instead of 5 and 40")
    args = parser.parse_args()
    seeds, budget = (range(2), 20) if args.quick else (range(5), 40)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.basicConfig(level=logging.WARNING)

    gaps: dict[tuple[str, str], float] = {}
    print(f"median best of {len(seeds)} seeds after {budget} evaluations (minimising); wall seconds in brackets")
    print(f"{'problem':<20} {'optimum':>9} " + " ".join(f"{method:>22}" for method in METHODS))
    for problem in PROBLEMS:
        cells = []
        for method, run in METHODS.items():
            start = time.perf_counter()
            median_best = statistics.median(run(problem, budget, seed) for seed in seeds)
            cells.append(f"{median_best:>14.4f} ({time.perf_counter() - start:>5.1f})")
            gaps[problem.name, method] = median_best - problem.optimum
        print(f"{problem.name:<20} {problem.optimum:>9.4f} " + " ".join(cells))

    hartmann = next(p for p in PROBLEMS if p.name == "Hartmann6")
    print("tunefleet seconds per ask on Hartmann6 (fit + acquisition):")
    for observations in (10, 50, 100):
        print(f"  {observations:>3} observations: {ask_seconds(hartmann, observations):.3f} s")
    rounds = 5 if args.quick else 15
    print(
        f"bo-tuning flow, seconds per round over {rounds} rounds (objective ~free): {flow_seconds_per_round(rounds):.2f} s"
    )
    ratio = gaps["Hartmann6", "Optuna TPE"] / max(gaps["Hartmann6", "tunefleet BO"], 1e-9)
    print(f"bo: {ratio:.2f}x vs Optuna TPE")


if __name__ == "__main__":
    main()
