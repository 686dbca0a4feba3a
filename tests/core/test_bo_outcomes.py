"""Several objectives and outcome constraints: declarations, told values, the Pareto front and its
hypervolume, and the engine's proposals for them."""

import json
import math

import numpy as np
import pytest
import torch
from botorch.utils.multi_objective.box_decompositions.dominated import DominatedPartitioning

from tunefleet.bo.engine import Optimizer
from tunefleet.bo.outcomes import MAX_OBJECTIVES, OutcomeError, Outcomes
from tunefleet.objectives import branin_currin
from tunefleet.space import Space

UNIT_SQUARE = Space.from_covars(
    {
        "x1": {"vtype": "cont", "guess": 0.5, "min": 0, "max": 1},
        "x2": {"vtype": "cont", "guess": 0.5, "min": 0, "max": 1},
    }
)
# BoTorch's reference point for BraninCurrin; the largest hypervolume is 59.36.
BRANIN_CURRIN = {
    "branin": {"direction": "minimize", "reference": 18},
    "currin": {"direction": "minimize", "reference": 6},
}
ACCURACY_LATENCY = Outcomes.parse({"accuracy": "maximize", "latency_ms": {"direction": "minimize"}}, ["memory <= 100"])


def test_an_experiment_that_declares_nothing_has_the_seeds_one_response():
    outcomes = Outcomes.parse(None, None, maximize=False)
    assert outcomes.plain and outcomes.metrics == ("Response",) and not outcomes.objectives[0].maximize


def test_constraints_may_name_other_metrics_which_every_tell_then_carries():
    assert ACCURACY_LATENCY.metrics == ("accuracy", "latency_ms", "memory")
    assert ACCURACY_LATENCY.constraint_texts() == ["memory <= 100"]
    assert Outcomes.parse(ACCURACY_LATENCY.responses(), ACCURACY_LATENCY.constraint_texts()) == ACCURACY_LATENCY


@pytest.mark.parametrize(
    "responses,constraints,message",
    [
        ({}, None, "with 1 to 8 objectives"),
        ({f"m{i}": "maximize" for i in range(MAX_OBJECTIVES + 1)}, None, "at most 8 objectives"),
        ({"acc": "up"}, None, "responses['acc'].direction must be 'maximize' or 'minimize', got 'up'"),
        ({"1acc": "maximize"}, None, "response name '1acc' must be a letter"),
        ({"acc": {"direction": "maximize", "weight": 2}}, None, "responses['acc'] must be"),
        ({"acc": {"direction": "maximize", "reference": "nan"}}, None, "reference must be a number within ±1e+30"),
        ({"acc": {"direction": "maximize", "reference": 1e31}}, None, "reference must be a number within ±1e+30"),
        (None, ["latency_ms < 5"], "must look like 'metric <= number'"),
        (None, ["latency_ms <= inf"], "the bound 'inf' is not a number within ±1e+30"),
        (None, ["latency_ms <= 1e40"], "the bound '1e40' is not a number within ±1e+30"),
        (None, "latency_ms <= 5", "constraints must be a list"),
        (None, ["m <= 1"] * 17, "at most 16 constraints"),
        ({"t": {"direction": "minimize", "scale": "ln"}}, None, "responses['t'].scale must be 'linear' or 'log'"),
        ({"t": {"direction": "minimize", "scale": "log", "reference": 0}}, None, "must be > 0 on a log scale"),
        ({"t": {"direction": "minimize", "scale": "log"}}, ["t <= -1"], "t is on a log scale, > 0"),
    ],
)
def test_bad_declarations_are_refused_with_the_field_and_the_fix(responses, constraints, message):
    with pytest.raises(OutcomeError) as refused:
        Outcomes.parse(responses, constraints)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    "told,message",
    [
        (0.9, "give every metric by name (accuracy, latency_ms, memory)"),
        ({"accuracy": 0.9, "latency_ms": 3}, "missing memory"),
        ({"accuracy": 0.9, "latency_ms": 3, "memory": 5, "os": 1}, "unknown os"),
        ({"accuracy": "high", "latency_ms": 3, "memory": 5}, "accuracy = 'high' is not a number"),
        ({"accuracy": float("inf"), "latency_ms": 3, "memory": 5}, "accuracy = inf is not finite"),
        ({"accuracy": 0.9, "latency_ms": -1e200, "memory": 5}, "latency_ms = -1e+200 is beyond ±1e+30; rescale it"),
    ],
)
def test_told_values_must_give_every_metric_as_a_finite_number(told, message):
    with pytest.raises(OutcomeError) as refused:
        ACCURACY_LATENCY.values(told, "response_tell row 3")
    assert str(refused.value).startswith("response_tell row 3: ") and message in str(refused.value)


ROWS = [
    {"accuracy": 0.90, "latency_ms": 4, "memory": 50},
    {"accuracy": 0.95, "latency_ms": 6, "memory": 50},
    {"accuracy": 0.80, "latency_ms": 2, "memory": 50},
    {"accuracy": 0.70, "latency_ms": 3, "memory": 50},  # dominated by row 2
    {"accuracy": 0.99, "latency_ms": 1, "memory": 500},  # dominates all, but breaks the memory budget
    {"accuracy": 0.80, "latency_ms": 2, "memory": 60},  # equal to row 2: the first one is kept
]


def test_the_pareto_front_is_the_feasible_rows_no_other_feasible_row_dominates():
    assert ACCURACY_LATENCY.pareto(ROWS) == [0, 1, 2]


def test_the_hypervolume_is_the_union_of_the_boxes_the_front_dominates():
    reference = {"accuracy": 0.5, "latency_ms": 10}
    # boxes 0.4 x 6, 0.45 x 4, 0.3 x 8; pairwise overlaps 0.4 x 4, 0.3 x 6, 0.3 x 4; all three 0.3 x 4
    expected = 2.4 + 1.8 + 2.4 - 1.6 - 1.8 - 1.2 + 1.2
    assert ACCURACY_LATENCY.hypervolume(ROWS, reference) == pytest.approx(expected)
    three = Outcomes.parse({"a": "maximize", "b": "maximize", "c": "maximize"}, None)
    rows = [{"a": 2, "b": 1, "c": 1}, {"a": 1, "b": 2, "c": 1}]
    assert three.hypervolume(rows, {"a": 0, "b": 0, "c": 0}) == pytest.approx(3.0)


def test_an_undeclared_reference_is_the_fronts_nadir_a_tenth_of_its_range_further():
    reference = ACCURACY_LATENCY.reference_point(ROWS)  # the front: rows 0, 1, 2
    assert reference == pytest.approx({"accuracy": 0.80 - 0.015, "latency_ms": 6 + 0.4})
    behind = [*ROWS, {"accuracy": -100, "latency_ms": 100, "memory": 1}]  # far behind the front
    assert ACCURACY_LATENCY.reference_point(behind) == reference


LOG_LATENCY = Outcomes.parse(
    {"accuracy": "maximize", "latency_ms": {"direction": "minimize", "scale": "log"}}, ["latency_ms <= 5"]
)


def test_a_log_scale_objective_is_measured_in_decades_and_must_be_positive():
    rows = [{"accuracy": 0.9, "latency_ms": 0.01}, {"accuracy": 0.95, "latency_ms": 1.0}]
    # from (0.5, 10 ms): boxes 0.4 x 3 decades and 0.45 x 1 decade, overlapping 0.4 x 1
    assert LOG_LATENCY.hypervolume(rows, {"accuracy": 0.5, "latency_ms": 10}) == pytest.approx(1.2 + 0.45 - 0.4)
    reference = LOG_LATENCY.reference_point(rows)  # a tenth of the front's 2 decades past the slowest: > 0
    assert reference["latency_ms"] == pytest.approx(10**0.2)
    assert LOG_LATENCY.responses()["latency_ms"] == {"direction": "minimize", "scale": "log"}
    assert Outcomes.parse(LOG_LATENCY.responses(), LOG_LATENCY.constraint_texts()) == LOG_LATENCY
    with pytest.raises(OutcomeError, match="latency_ms = 0 must be > 0: its scale is log"):
        LOG_LATENCY.values({"accuracy": 0.9, "latency_ms": 0}, "row 1")


def test_the_gp_models_a_log_scale_objective_as_its_log10_values():
    # The same search told 10**v on a log scale (bound 5 ms) and v on a linear one (bound log10 5): the same points.
    space = Space.from_covars({"x": {"vtype": "cont", "min": 0.0, "max": 1.0}})
    linear = Outcomes.parse({"accuracy": "maximize", "latency_ms": "minimize"}, [f"latency_ms <= {math.log10(5)!r}"])
    asked = {}
    for outcomes, latency in ((LOG_LATENCY, lambda v: 10**v), (linear, lambda v: v)):
        optimizer = Optimizer(space, outcomes=outcomes, seed=0, initial_points=3)
        while len(optimizer.observations) < 6:
            [point] = optimizer.ask(1)
            optimizer.tell([point], [{"accuracy": point["x"], "latency_ms": latency(4 * point["x"] - 3)}])
        asked[outcomes is LOG_LATENCY] = [o.point["x"] for o in optimizer.observations]
    assert asked[True] == pytest.approx(asked[False], abs=1e-6)


def test_a_constraints_bound_is_stored_as_the_exact_number_given():
    declared = Outcomes.parse({"acc": "maximize"}, ["cost <= 1234567", "acc >= 0.91234567", "t <= 2.5e-07"])
    assert declared.constraint_texts() == ["cost <= 1234567", "acc >= 0.91234567", "t <= 2.5e-07"]
    assert Outcomes.parse(declared.responses(), declared.constraint_texts()) == declared


def test_two_objectives_reach_most_of_the_branin_currin_hypervolume_in_16_evaluations():
    outcomes = Outcomes.parse(BRANIN_CURRIN, None)
    optimizer = Optimizer(UNIT_SQUARE, outcomes=outcomes, seed=1)
    while len(optimizer.observations) < 16:
        points = optimizer.ask(2)
        assert len({json.dumps(p, sort_keys=True) for p in points}) == 2  # a batch is distinct points
        optimizer.tell(points, [branin_currin(**p) for p in points])
    told = [o.response for o in optimizer.observations]
    sobol = [branin_currin(**p) for p in [UNIT_SQUARE.guess(), *UNIT_SQUARE.sobol(15, seed=1)]]
    reference = {"branin": 18, "currin": 6}
    assert outcomes.hypervolume(told, reference) > 45  # of 59.36; 16 Sobol points span 1.5
    assert outcomes.hypervolume(sobol, reference) < 5
    assert optimizer.best is None and len(optimizer.pareto) >= 3


def test_a_constrained_objective_finds_the_best_feasible_point():
    # Branin's three minima (0.3979): only the one at (0.543, 0.152) has currin >= 10.
    outcomes = Outcomes.parse({"branin": "minimize"}, ["currin >= 10"])
    optimizer = Optimizer(UNIT_SQUARE, outcomes=outcomes, seed=2)
    while len(optimizer.observations) < 20:
        points = optimizer.ask()
        optimizer.tell(points, [branin_currin(**p) for p in points])
    assert optimizer.best.response["currin"] >= 10 and optimizer.best_response < 0.5
    assert optimizer.best.point["x1"] == pytest.approx(0.543, abs=0.03)


def test_more_than_four_objectives_are_asked_by_parego_and_state_keeps_the_outcomes():
    outcomes = Outcomes.parse({f"f{i}": "minimize" for i in range(5)}, ["f0 <= 0.8"])
    optimizer = Optimizer(UNIT_SQUARE, outcomes=outcomes, initial_points=4, seed=3)
    while len(optimizer.observations) < 6:
        points = optimizer.ask()
        optimizer.tell(points, [{f"f{i}": (p["x1"] - i / 4) ** 2 + p["x2"] for i in range(5)} for p in points])
    again = Optimizer.from_state(json.loads(json.dumps(optimizer.state())))
    assert again.outcomes == outcomes and again.observations == optimizer.observations
    assert again.ask() == optimizer.ask()  # rebuilt, it proposes what it would have
    assert UNIT_SQUARE.validate_point(optimizer.ask()[0])


def test_a_tell_missing_a_metric_records_nothing():
    optimizer = Optimizer(UNIT_SQUARE, outcomes=ACCURACY_LATENCY)
    rows = [{"accuracy": 0.9, "latency_ms": 3, "memory": 5}, {"accuracy": 0.9, "latency_ms": 3}]
    with pytest.raises(OutcomeError, match="response row 1: .*missing memory"):
        optimizer.tell([{"x1": 0.1, "x2": 0.2}, {"x1": 0.3, "x2": 0.4}], rows)
    assert optimizer.observations == ()


def test_a_large_front_in_many_objectives_gets_a_seeded_estimate_within_two_percent():
    five = Outcomes.parse({f"f{i}": "maximize" for i in range(5)}, None)
    rng = np.random.default_rng(4)
    points = np.abs(rng.standard_normal((60, 5)))
    points /= np.linalg.norm(points, axis=1, keepdims=True)  # all on the front
    rows = [dict(zip([f"f{i}" for i in range(5)], p)) for p in points]
    origin = dict.fromkeys([f"f{i}" for i in range(5)], 0.0)
    assert five.exact_hypervolume(51) and not five.exact_hypervolume(60)
    estimate = five.hypervolume(rows, origin)
    assert five.hypervolume(rows, origin) == estimate  # seeded: the same every time
    exact = DominatedPartitioning(ref_point=torch.zeros(5, dtype=torch.double), Y=torch.as_tensor(points))
    assert estimate == pytest.approx(float(exact.compute_hypervolume()), rel=0.02)


def test_the_two_objective_area_is_exact_for_any_front_size():
    two = Outcomes.parse({"a": "maximize", "b": "maximize"}, None)
    rows = [{"a": (k + 1) / 1000, "b": 1 - k / 1000} for k in range(1000)]  # a staircase of 1,000 steps
    assert two.exact_hypervolume(1000)
    assert two.hypervolume(rows, {"a": 0, "b": 0}) == pytest.approx(sum(0.001 * (1 - k / 1000) for k in range(1000)))
