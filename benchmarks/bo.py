"""tunefleet's BO engine against Optuna's GPSampler and TPE, Ax's Client and random search, in one run.

Same budget for every method (40 evaluations, 5 seeds), minimising Branin, Hartmann6, a
10-d Ackley and a mixed integer / categorical / continuous function whose optimum is
known, and two objectives at once on BraninCurrin and a 6-d DTLZ2. Prints the median best
value per method and problem (wall seconds for all seeds in brackets), the median
hypervolume the evaluated points span from a fixed reference point on the two-objective
problems (each method's points measured the same way), the seconds of one ask at 10 / 100 /
1,000 observations for tunefleet and Optuna's GP, the bo-tuning flow's overhead per round, and last one line
``bo: <ratio>x vs Optuna GP``: Optuna GP's median gap to the optimum on Hartmann6 divided
by tunefleet's (> 1: tunefleet is better).

Ax runs when the ``bo-bench`` extra is installed beside the project's pins
(``.venv/bin/pip install -c requirements.lock -e '.[bo-bench]'``); without it its column says so.

    python benchmarks/bo.py            # the full comparison, about 20 minutes on 2 cores
    python benchmarks/bo.py --quick    # 2 seeds, 20 evaluations: a smoke run
    python benchmarks/bo.py --multi    # the two-objective table alone
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import optuna

from tunefleet.bo.engine import Optimizer
from tunefleet.bo.outcomes import Outcomes
from tunefleet.objectives import branin, branin_currin, hartmann6
from tunefleet.space import Space

CATEGORY_PENALTY = {"linear": 1.0, "rbf": 0.0, "poly": 0.5}


def ackley(**x: float) -> float:
    """Ackley's function on any number of coordinates: minimum 0 at the origin."""
    values = list(x.values())
    mean_square = sum(v * v for v in values) / len(values)
    mean_cos = sum(math.cos(2 * math.pi * v) for v in values) / len(values)
    return -20 * math.exp(-0.2 * math.sqrt(mean_square)) - math.exp(mean_cos) + 20 + math.e


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
        "Ackley 10-d",
        # Not the usual symmetric box: its centre, where tunefleet's guess and Ax's first point lie, is the optimum.
        {f"x{i}": {"vtype": "cont", "min": -10.0, "max": 30.0} for i in range(1, 11)},
        ackley,
        0.0,
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


def dtlz2(**x: float) -> dict[str, float]:
    """DTLZ2 with two objectives (Deb et al. 2002), both to minimise: its front is the quarter circle
    f1^2 + f2^2 = 1, reached where every coordinate but the first is 0.5."""
    values = list(x.values())
    g = sum((v - 0.5) ** 2 for v in values[1:])
    angle = values[0] * math.pi / 2
    return {"f1": (1 + g) * math.cos(angle), "f2": (1 + g) * math.sin(angle)}


@dataclass(frozen=True)
class TwoObjectives:
    """Two metrics to minimise; ``best`` is the hypervolume a perfect front spans from ``reference``."""

    name: str
    covars: dict
    objective: Callable[..., dict[str, float]]
    reference: dict[str, float]
    best: float

    @property
    def outcomes(self) -> Outcomes:
        return Outcomes.parse({m: {"direction": "minimize", "reference": r} for m, r in self.reference.items()}, None)

    def hypervolume(self, told: list[dict[str, float]]) -> float:
        return self.outcomes.hypervolume(told, self.reference)


MULTI_PROBLEMS = [
    TwoObjectives(  # BoTorch's reference point and maximum hypervolume
        "BraninCurrin",
        {"x1": {"vtype": "cont", "min": 0.0, "max": 1.0}, "x2": {"vtype": "cont", "min": 0.0, "max": 1.0}},
        branin_currin,
        {"branin": 18.0, "currin": 6.0},
        59.36011874867746,
    ),
    TwoObjectives(
        "DTLZ2 6-d",
        {f"x{i}": {"vtype": "cont", "min": 0.0, "max": 1.0} for i in range(1, 7)},
        dtlz2,
        {"f1": 1.1, "f2": 1.1},
        1.1**2 - math.pi / 4,
    ),
]


def tunefleet_front(problem: TwoObjectives, budget: int, seed: int) -> list[dict]:
    optimizer = Optimizer(Space.from_covars(problem.covars), seed=seed, outcomes=problem.outcomes)
    told = []
    for _ in range(budget):
        points = optimizer.ask()
        values = [problem.objective(**p) for p in points]
        optimizer.tell(points, values)
        told += values
    return told


def random_front(problem: TwoObjectives, budget: int, seed: int) -> list[dict]:
    return [problem.objective(**p) for p in Space.from_covars(problem.covars).random(budget, seed)]


def _optuna_front(sampler: optuna.samplers.BaseSampler, problem: TwoObjectives, budget: int) -> list[dict]:
    metrics = list(problem.reference)
    study = optuna.create_study(directions=["minimize"] * len(metrics), sampler=sampler)
    told = []

    def evaluate(trial: optuna.Trial) -> list[float]:
        told.append(problem.objective(**{name: _suggest(trial, name, spec) for name, spec in problem.covars.items()}))
        return [told[-1][m] for m in metrics]

    study.optimize(evaluate, n_trials=budget)
    return told


def optuna_gp_front(problem: TwoObjectives, budget: int, seed: int) -> list[dict]:
    return _optuna_front(optuna.samplers.GPSampler(seed=seed), problem, budget)


def optuna_tpe_front(problem: TwoObjectives, budget: int, seed: int) -> list[dict]:
    return _optuna_front(optuna.samplers.TPESampler(seed=seed), problem, budget)


def ax_front(problem: TwoObjectives, budget: int, seed: int) -> list[dict]:
    client = _ax_client(problem.covars, seed)
    client.configure_optimization(objective=", ".join(f"-{m}" for m in problem.reference))
    told = []
    for _ in range(budget):
        for index, point in client.get_next_trials(max_trials=1).items():
            told.append(problem.objective(**point))
            client.complete_trial(index, raw_data=told[-1])
    return told


def tunefleet_best(problem: Problem, budget: int, seed: int) -> float:
    optimizer = Optimizer(Space.from_covars(problem.covars), maximize=False, seed=seed)
    for _ in range(budget):
        points = optimizer.ask()
        optimizer.tell(points, [problem.objective(**p) for p in points])
    return optimizer.best_response


def random_best(problem: Problem, budget: int, seed: int) -> float:
    return min(problem.objective(**p) for p in Space.from_covars(problem.covars).random(budget, seed))


def _suggest(trial: optuna.Trial, name: str, spec: dict):
    if spec["vtype"] == "int":
        return trial.suggest_int(name, spec["min"], spec["max"])
    if spec["vtype"] == "cat":
        return trial.suggest_categorical(name, spec["options"])
    return trial.suggest_float(name, spec["min"], spec["max"])


def _optuna_best(sampler: optuna.samplers.BaseSampler, problem: Problem, budget: int) -> float:
    study = optuna.create_study(direction="minimize", sampler=sampler)
    study.optimize(
        lambda trial: problem.objective(**{name: _suggest(trial, name, spec) for name, spec in problem.covars.items()}),
        n_trials=budget,
    )
    return study.best_value


def optuna_gp_best(problem: Problem, budget: int, seed: int) -> float:
    return _optuna_best(optuna.samplers.GPSampler(seed=seed), problem, budget)


def optuna_tpe_best(problem: Problem, budget: int, seed: int) -> float:
    return _optuna_best(optuna.samplers.TPESampler(seed=seed), problem, budget)


def _ax_client(covars: dict, seed: int):
    """An Ax ``Client`` over the covariates."""
    from ax.api.client import Client
    from ax.api.configs import ChoiceParameterConfig, RangeParameterConfig

    def parameter(name: str, spec: dict):
        if spec["vtype"] == "cat":
            return ChoiceParameterConfig(name, spec["options"], "str", is_ordered=False)
        kind = "int" if spec["vtype"] == "int" else "float"
        return RangeParameterConfig(name, (spec["min"], spec["max"]), kind)

    client = Client(random_seed=seed)
    client.configure_experiment(parameters=[parameter(name, spec) for name, spec in covars.items()])
    return client


def ax_best(problem: Problem, budget: int, seed: int) -> float:
    client = _ax_client(problem.covars, seed)
    client.configure_optimization(objective="-y")
    best = math.inf
    for _ in range(budget):
        for index, point in client.get_next_trials(max_trials=1).items():
            value = problem.objective(**point)
            client.complete_trial(index, raw_data={"y": value})
            best = min(best, value)
    return best


def ax_missing() -> str | None:
    """Why Ax cannot run here, or None."""
    try:
        import ax.api.client  # noqa: F401
    except ImportError as exc:
        return f"Ax not installed ({exc.name}): install the bo-bench extra"
    logging.getLogger("ax").setLevel(logging.WARNING)
    return None


METHODS = {
    "tunefleet BO": tunefleet_best,
    "Optuna GP": optuna_gp_best,
    "Optuna TPE": optuna_tpe_best,
    "Ax Client": ax_best,
    "random search": random_best,
}


MULTI_METHODS = {
    "tunefleet BO": tunefleet_front,
    "Optuna GP": optuna_gp_front,
    "Optuna TPE": optuna_tpe_front,
    "Ax Client": ax_front,
    "random search": random_front,
}


def _random_tells(problem: Problem, observations: int) -> list[tuple[dict, float]]:
    points = Space.from_covars(problem.covars).random(observations, seed=observations)
    return [(p, problem.objective(**p)) for p in points]


def _median_seconds(ask: Callable[[], object], repeats: int) -> float:
    ask()  # first-call costs (lazy imports, allocator warm-up) are not per-ask costs
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        ask()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def tunefleet_ask_seconds(problem: Problem, observations: int, repeats: int = 3) -> float:
    """Median seconds of one ask (GP fit + acquisition) after ``observations`` random tells."""
    optimizer = Optimizer(Space.from_covars(problem.covars), maximize=False, seed=0)
    told = _random_tells(problem, observations)
    optimizer.tell([p for p, _ in told], [v for _, v in told])
    return _median_seconds(optimizer.ask, repeats)


def optuna_gp_ask_seconds(problem: Problem, observations: int, repeats: int = 3) -> float:
    """The same for Optuna's GPSampler: one ``study.ask`` samples every parameter of a trial."""
    distributions = {
        name: optuna.distributions.FloatDistribution(spec["min"], spec["max"]) for name, spec in problem.covars.items()
    }
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.GPSampler(seed=0))
    study.add_trials(
        [
            optuna.trial.create_trial(params=point, distributions=distributions, value=value)
            for point, value in _random_tells(problem, observations)
        ]
    )

    def ask() -> None:  # the asked trial fails at once: a running trial would count as pending in the next ask
        study.tell(study.ask(distributions), state=optuna.trial.TrialState.FAIL)

    return _median_seconds(ask, repeats)


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


def median_table(problems, methods: dict, seeds: range, budget: int, missing: dict, reference: str, score) -> dict:
    """Print a row per problem: its ``reference`` attribute, then each method's median ``score(problem,
    result)`` over the seeds (wall seconds for all seeds in brackets); the medians by (problem, method)."""
    print(f"{'problem':<20} {reference:>9} " + " ".join(f"{method:>22}" for method in methods))
    medians = {}
    for problem in problems:
        cells = []
        for method, run in methods.items():
            if missing.get(method):
                cells.append(f"{'not run':>22}")
                continue
            start = time.perf_counter()
            median = statistics.median(score(problem, run(problem, budget, seed)) for seed in seeds)
            cells.append(f"{median:>14.4f} ({time.perf_counter() - start:>5.1f})")
            medians[problem.name, method] = median
        print(f"{problem.name:<20} {getattr(problem, reference):>9.4f} " + " ".join(cells), flush=True)
    return medians


def multi_objective_table(seeds: range, budget: int, missing: dict[str, str | None]) -> None:
    print(
        f"median hypervolume of {len(seeds)} seeds after {budget} evaluations (both minimised; best: a perfect front)"
    )
    median_table(MULTI_PROBLEMS, MULTI_METHODS, seeds, budget, missing, "best", lambda p, told: p.hypervolume(told))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds and 20 evaluations instead of 5 and 40")
    parser.add_argument("--multi", action="store_true", help="the two-objective problems alone")
    args = parser.parse_args()
    seeds, budget = (range(2), 20) if args.quick else (range(5), 40)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.basicConfig(level=logging.WARNING)
    missing = {"Ax Client": ax_missing()}
    if args.multi:
        multi_objective_table(seeds, budget, missing)
        return

    print(f"median best of {len(seeds)} seeds after {budget} evaluations (minimising); wall seconds in brackets")
    best = median_table(PROBLEMS, METHODS, seeds, budget, missing, "optimum", lambda problem, value: value)
    for method, reason in missing.items():
        if reason:
            print(f"{method}: {reason}")

    multi_objective_table(seeds, budget, missing)

    hartmann = next(p for p in PROBLEMS if p.name == "Hartmann6")
    print("seconds per ask on Hartmann6 after random observations (fit + acquisition), median of 3:")
    print(f"  {'observations':>12} {'tunefleet':>10} {'Optuna GP':>10}")
    for observations in (10, 100, 1000):
        ours, theirs = tunefleet_ask_seconds(hartmann, observations), optuna_gp_ask_seconds(hartmann, observations)
        print(f"  {observations:>12} {ours:>10.3f} {theirs:>10.3f}", flush=True)
    rounds = 5 if args.quick else 15
    print(
        f"bo-tuning flow, seconds per round over {rounds} rounds (objective ~free): {flow_seconds_per_round(rounds):.2f} s"
    )
    gap = {method: best["Hartmann6", method] - hartmann.optimum for method in ("Optuna GP", "tunefleet BO")}
    ratio = gap["Optuna GP"] / max(gap["tunefleet BO"], 1e-9)
    print(f"bo: {ratio:.2f}x vs Optuna GP")


if __name__ == "__main__":
    main()
