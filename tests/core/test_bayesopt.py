"""The BO engine: finds optima of small mixed problems within stated budgets, reproducibly."""

import json
import math

import pytest
import torch

from tunefleet.bo.engine import ACQUISITIONS, MODELS, Observation, Optimizer
from tunefleet.objectives import branin
from tunefleet.space import Space, SpaceError

BRANIN = Space.from_covars(
    {"x1": {"vtype": "cont", "min": -5, "max": 10, "guess": 2.5}, "x2": {"vtype": "cont", "min": 0, "max": 15}}
)
# A categorical, an integer and a continuous variable: best 10.0 at kind="b", n=7, x=0.3.
MIXED = Space.from_covars(
    {
        "n": {"vtype": "int", "guess": 2, "min": 0, "max": 10},
        "kind": {"vtype": "cat", "guess": "a", "options": ["a", "b", "c"]},
        "x": {"vtype": "cont", "guess": 0.9, "min": 0.0, "max": 1.0},
    }
)


def mixed(n: int, kind: str, x: float) -> float:
    return 10.0 + {"a": -2.0, "b": 0.0, "c": -1.0}[kind] - 0.1 * (n - 7) ** 2 - 5.0 * (x - 0.3) ** 2


def run(optimizer: Optimizer, objective, evaluations: int, q: int | None = None) -> Optimizer:
    while len(optimizer.observations) < evaluations:
        points = optimizer.ask(q)
        optimizer.tell(points, [objective(**p) for p in points])
    return optimizer


def test_initial_design_is_the_guess_then_seeded_sobol_points():
    optimizer = Optimizer(MIXED, initial_points=4, seed=5)
    assert optimizer.ask() == [MIXED.guess()]
    assert optimizer.ask(4) == [MIXED.guess(), *MIXED.sobol(3, seed=5)]
    optimizer.tell([MIXED.guess()], [1.0])
    assert optimizer.ask(3) == MIXED.sobol(3, seed=5)  # the design goes on from the observations' count


def test_a_batch_larger_than_the_design_without_observations_stays_in_the_design():
    points = Optimizer(MIXED, initial_points=2, seed=1).ask(5)
    assert points == [MIXED.guess(), *MIXED.sobol(4, seed=1)]


def test_batch_mixing_the_end_of_the_design_and_gp_proposals():
    optimizer = Optimizer(MIXED, initial_points=4, seed=3)
    optimizer.tell(MIXED.sobol(3, seed=9), [1.0, 2.0, 3.0])
    points = optimizer.ask(3)
    assert points[0] == MIXED.guess() and len(points) == 3  # the design's first point nobody evaluated
    assert all(MIXED.validate_point(p) == p for p in points)


def test_one_dimensional_integer_quadratic_reaches_its_minimum_within_12_evaluations():
    space = Space.from_covars({"k": {"vtype": "int", "min": -20, "max": 20, "guess": -15}})
    optimizer = run(Optimizer(space, maximize=False, initial_points=3), lambda k: (k - 7) ** 2, 12)
    assert optimizer.covars_best_response == {"k": 7} and optimizer.best_response == 0


def test_categorical_and_continuous_function_within_15_evaluations():
    space = Space.from_covars(
        {"kind": {"vtype": "cat", "options": ["a", "b", "c"]}, "x": {"vtype": "cont", "min": 0.0, "max": 1.0}}
    )
    optimizer = run(Optimizer(space, seed=4), lambda kind, x: mixed(7, kind, x), 15)
    assert optimizer.covars_best_response["kind"] == "b"
    assert optimizer.best_response > 9.9  # optimum 10.0 at x = 0.3


def test_minimises_branin_within_30_evaluations():
    optimizer = run(Optimizer(BRANIN, maximize=False, seed=0), branin, 30)
    assert optimizer.best_response < 0.5  # optimum 0.397887; random search reaches ~1.8 in 30
    assert branin(**optimizer.covars_best_response) == optimizer.best_response


def test_maximises_a_mixed_function_in_six_batches_of_four():
    optimizer = run(Optimizer(MIXED, initial_points=4, seed=2, q=4), mixed, 24)
    assert len(optimizer.observations) == 24
    assert optimizer.best_response > 9.8
    best = optimizer.covars_best_response
    assert best["kind"] == "b" and abs(best["n"] - 7) <= 1


@pytest.mark.parametrize("acquisition", ACQUISITIONS)
def test_every_acquisition_proposes_valid_points_singly_and_in_batches(acquisition):
    optimizer = run(Optimizer(MIXED, acquisition=acquisition, initial_points=4, seed=1), mixed, 4)
    for q in (1, 3):  # an analytic acquisition asked for 3 points runs as its q-version
        points = optimizer.ask(q)
        assert len(points) == q and all(MIXED.validate_point(p) == p for p in points)


@pytest.mark.parametrize("model", MODELS)
def test_every_model_proposes_valid_points(model):
    optimizer = run(Optimizer(MIXED, model=model, initial_points=4, seed=1), mixed, 5)
    assert MIXED.validate_point(optimizer.ask()[0])


def test_minimize_flag_picks_the_lowest_response():
    points = MIXED.sobol(3, seed=0)
    highest, lowest = Optimizer(MIXED), Optimizer(MIXED, maximize=False)
    for optimizer in (highest, lowest):
        optimizer.tell(points, [2.0, -1.0, 5.0])
    assert highest.best_response == 5.0 and highest.covars_best_response == points[2]
    assert lowest.best_response == -1.0 and lowest.covars_best_response == points[1]
    assert Optimizer(MIXED).best_response is None and Optimizer(MIXED).covars_best_response is None


def test_same_seed_and_observations_give_the_same_proposals():
    observed = run(Optimizer(MIXED, seed=11, initial_points=3), mixed, 5)
    rebuilt = Optimizer(MIXED, seed=11, initial_points=3, observations=observed.observations)
    assert rebuilt.ask(2) == observed.ask(2)
    assert observed.ask() == observed.ask()  # asking changes nothing


def test_state_round_trips_through_json_to_an_identical_next_ask():
    optimizer = run(
        Optimizer(MIXED, acquisition="UpperConfidenceBound", maximize=False, seed=7, initial_points=3), mixed, 5
    )
    restored = Optimizer.from_state(json.loads(json.dumps(optimizer.state())))
    assert restored.state() == optimizer.state()
    assert restored.ask() == optimizer.ask()


def test_asking_leaves_the_callers_torch_generator_and_threads_alone():
    optimizer = run(Optimizer(BRANIN, initial_points=2), branin, 3)
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    optimizer.ask()
    after_ask = torch.rand(1)
    torch.manual_seed(123)
    assert torch.equal(after_ask, torch.rand(1)) and torch.get_num_threads() == threads


def test_tell_accepts_points_that_were_not_proposed_and_coerces_them():
    optimizer = Optimizer(MIXED)
    optimizer.tell([{"x": 0.1, "kind": "c", "n": 9.0}], [1])
    assert optimizer.observations == (Observation({"n": 9, "kind": "c", "x": 0.1}, 1.0),)


@pytest.mark.parametrize("response", [math.nan, math.inf, -math.inf, "1.0", None, True])
def test_tell_rejects_responses_that_are_not_finite_numbers(response):
    optimizer = Optimizer(MIXED)
    with pytest.raises(ValueError, match=r"response .* \(row 1\) is not a finite number"):
        optimizer.tell([MIXED.guess(), MIXED.guess()], [1.0, response])
    assert optimizer.observations == ()  # all or nothing


def test_tell_rejects_invalid_points_and_mismatched_lengths():
    optimizer = Optimizer(MIXED)
    with pytest.raises(SpaceError, match=r"n: 11 is outside \[0, 10\]"):
        optimizer.tell([MIXED.guess(), {"n": 11, "kind": "c", "x": 0.1}], [1.0, 2.0])
    with pytest.raises(ValueError, match="2 points but 1 responses"):
        optimizer.tell([MIXED.guess(), MIXED.guess()], [1.0])
    with pytest.raises(SpaceError, match="x: missing from the point"):
        Optimizer(MIXED, observations=[Observation({"n": 1, "kind": "a"}, 1.0)])
    assert optimizer.observations == ()


def test_equal_responses_and_duplicate_points_still_give_valid_proposals():
    for model in ("SingleTaskGP", "FixedNoiseGP"):
        optimizer = Optimizer(BRANIN, model=model, initial_points=2)
        optimizer.tell(BRANIN.sobol(4, seed=1) * 2, [1.0] * 8)
        assert BRANIN.validate_point(optimizer.ask()[0])
        optimizer.tell([BRANIN.guess()] * 3, [0.0, 2.0, 5.0])
        assert BRANIN.validate_point(optimizer.ask()[0])


def test_a_fixed_variable_keeps_its_value():
    space = Space.from_covars(
        {"k": {"vtype": "int", "min": 3, "max": 3}, "x": {"vtype": "cont", "min": 0.0, "max": 1.0}}
    )
    optimizer = run(Optimizer(space, initial_points=2), lambda k, x: -((x - 0.4) ** 2), 4)
    assert optimizer.ask(2)[1]["k"] == 3


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"model": "GreatGP"}, "unknown model_type 'GreatGP'; known: SingleTaskGP, FixedNoiseGP"),
        ({"acquisition": "Luck"}, "unknown acq_func 'Luck'; known: ExpectedImprovement, LogExpectedImprovement"),
        ({"initial_points": 0}, "initial_points must be an integer of at least 1, got 0"),
        ({"q": 1.5}, "q must be an integer of at least 1, got 1.5"),
        ({"seed": "7"}, "seed must be an integer, got '7'"),
    ],
)
def test_bad_settings_are_rejected_with_what_is_allowed(settings, message):
    with pytest.raises(ValueError) as raised:
        Optimizer(MIXED, **settings)
    assert message in str(raised.value)


def test_asks_go_past_pending_points_in_the_design_and_condition_the_gp_on_them():
    optimizer = Optimizer(MIXED, initial_points=3, seed=3)
    first = optimizer.ask(1)
    second = optimizer.ask(1, pending=first)
    assert first == [MIXED.guess()] and second == MIXED.sobol(1, seed=3)
    optimizer.tell(first + second + MIXED.sobol(2, seed=3)[1:], [1.0, 2.0, 3.0])
    alone = optimizer.ask(1)
    assert optimizer.ask(1, pending=alone) != alone  # the GP knows that point is being evaluated
