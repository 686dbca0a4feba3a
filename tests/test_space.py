"""The search-space schema: validation messages, told-point checks, encoding and sampling."""

import json
import math

import numpy as np
import pytest

from tunefleet.space import Space, SpaceError

SEED_COVARS = {
    "v1": {"vtype": "int", "guess": 2, "min": 0, "max": 5},
    "color": {"vtype": "cat", "guess": "red", "options": ["red", "green", "blue"]},
    "weight": {"vtype": "cont", "guess": 6.6, "min": -3.0, "max": 200.0},
}


@pytest.fixture
def space():
    return Space.from_covars(SEED_COVARS)


def _with(name: str, **spec) -> dict:
    return {name: spec}


@pytest.mark.parametrize(
    "covars, message",
    [
        ({}, "covars: the space has no variables"),
        ([1, 2], "covars must be an object"),
        (_with("x", vtype="cont", min=2.0, max=1.0), "x: min (2.0) is greater than max (1.0)"),
        (_with("x", vtype="int", guess=7, min=0, max=5), "x: guess is invalid: 7 is outside [0, 5]"),
        (_with("x", vtype="cont", guess=-0.5, min=0.0, max=1.0), "x: guess is invalid: -0.5 is outside [0.0, 1.0]"),
        (_with("x", vtype="int", guess=2.5, min=0, max=5), "x: guess is invalid: 2.5 is not an integer"),
        (_with("x", vtype="cont", guess="a", min=0, max=1), "x: guess is invalid: 'a' is not a number"),
        (_with("c", vtype="cat", guess="pink", options=["red"]), "c: guess is invalid: 'pink' is not one of the options"),
        (_with("c", vtype="cat", options=["red", "blue", "red"]), "c: duplicate option 'red'"),
        (_with("c", vtype="cat", options=[1, 1.0]), "c: duplicate option 1.0"),
        (_with("c", vtype="cat", options=[]), "c: a cat variable needs a non-empty list of options"),
        (_with("c", vtype="cat", options="red"), "c: a cat variable needs a non-empty list of options"),
        (_with("c", vtype="cat", options=["a", None]), "c: options must be strings, finite numbers or booleans"),
        (_with("c", vtype="cat", options=["a", math.nan]), "c: options must be strings, finite numbers or booleans"),
        (_with("x", vtype="float", min=0, max=1), "x: unknown vtype 'float'; use one of int, cont, cat"),
        (_with("x", min=0, max=1), "x: unknown vtype None"),
        (_with("x", vtype="int", max=5), "x: min is required for vtype int"),
        (_with("x", vtype="cont", min=0.0), "x: max is required for vtype cont"),
        (_with("x", vtype="cont", min="0", max=1), "x: min must be a finite number, got '0'"),
        (_with("x", vtype="cont", min=0, max=True), "x: max must be a finite number, got True"),
        (_with("x", vtype="cont", min=0, max=math.inf), "x: max must be a finite number, got inf"),
        (_with("x", vtype="cont", min=math.nan, max=1), "x: min must be a finite number, got nan"),
        (_with("x", vtype="int", min=0.5, max=3), "x: min of an int variable must be an integer, got 0.5"),
        (_with("x", vtype="int", min=0, max=1, options=[1]), "x: unexpected field(s) options for vtype int"),
        (_with("c", vtype="cat", options=["a"], max=1), "c: unexpected field(s) max for vtype cat"),
        ({"x": "cont"}, "x: must be an object"),
        ({"": {"vtype": "cont", "min": 0, "max": 1}}, "'': a variable name must start with a letter"),
        ({"a b": {"vtype": "cont", "min": 0, "max": 1}}, "'a b': a variable name must start with a letter"),
        ({3: {"vtype": "cont", "min": 0, "max": 1}}, "3: a variable name must start with a letter"),
    ],
)
def test_invalid_spaces_are_rejected_naming_the_variable(covars, message):
    with pytest.raises(SpaceError) as raised:
        Space.from_covars(covars)
    assert message in str(raised.value)


def test_space_error_is_a_value_error():
    assert issubclass(SpaceError, ValueError)


def test_defaults_and_normalised_types():
    space = Space.from_covars(
        {
            "n": {"vtype": "int", "min": 1.0, "max": 10},
            "x": {"vtype": "cont", "min": 0, "max": 3},
            "c": {"vtype": "cat", "options": ["b", "a"]},
        }
    )
    assert space.guess() == {"n": 6, "x": 1.5, "c": "b"}  # middle of the range, first option
    n = space.variables[0]
    assert (n.low, n.high) == (1, 10) and isinstance(n.low, int)
    assert space.names == ("n", "x", "c") and space.dim == 4


def test_space_is_immutable_and_round_trips_through_json(space):
    with pytest.raises(AttributeError):
        space.variables = ()
    again = Space.from_covars(json.loads(json.dumps(space.to_dict())))
    assert again == space
    assert again.to_dict() == SEED_COVARS


def test_options_keep_their_given_order():
    space = Space.from_covars({"c": {"vtype": "cat", "options": ["zeta", "alpha", "mid"]}})
    assert space.to_dict()["c"]["options"] == ["zeta", "alpha", "mid"]
    assert space.encode([{"c": "alpha"}]).tolist() == [[0.0, 1.0, 0.0]]


def test_validate_point_coerces_types(space):
    point = space.validate_point({"weight": np.float64(7), "color": "blue", "v1": 3.0})
    assert point == {"v1": 3, "color": "blue", "weight": 7.0}
    assert type(point["v1"]) is int and type(point["weight"]) is float
    assert list(point) == ["v1", "color", "weight"]  # the space's order
    assert space.validate_point({"v1": np.int64(0), "color": "red", "weight": 200})["v1"] == 0


@pytest.mark.parametrize(
    "change, message",
    [
        ({"v1": 6}, "v1: 6 is outside [0, 5]"),
        ({"v1": -1}, "v1: -1 is outside [0, 5]"),
        ({"v1": 2.5}, "v1: 2.5 is not an integer"),
        ({"v1": "2"}, "v1: '2' is not a number"),
        ({"v1": True}, "v1: True is not a number"),
        ({"weight": None}, "weight: None is not a number"),
        ({"weight": math.nan}, "weight: nan is not finite"),
        ({"weight": math.inf}, "weight: inf is not finite"),
        ({"weight": 200.5}, "weight: 200.5 is outside [-3.0, 200.0]"),
        ({"color": "pink"}, "color: 'pink' is not one of the options ['red', 'green', 'blue']"),
        ({"color": 1}, "color: 1 is not one of the options"),
        ({"height": 3}, "height: not a variable of this space (v1, color, weight)"),
    ],
)
def test_invalid_points_are_rejected_naming_the_field(space, change, message):
    with pytest.raises(SpaceError) as raised:
        space.validate_point({"v1": 2, "color": "red", "weight": 1.0} | change)
    assert message in str(raised.value)


def test_missing_variable_and_non_dict_points(space):
    with pytest.raises(SpaceError, match="weight: missing from the point"):
        space.validate_point({"v1": 2, "color": "red"})
    with pytest.raises(SpaceError, match="a point must be an object"):
        space.validate_point([2, "red", 1.0])


def test_boolean_and_numeric_options_are_told_apart():
    space = Space.from_covars({"flag": {"vtype": "cat", "options": [True, False]}, "k": {"vtype": "cat", "options": [1, 2]}})
    assert space.validate_point({"flag": False, "k": 2.0}) == {"flag": False, "k": 2}
    with pytest.raises(SpaceError, match="flag: 1 is not one of the options"):
        space.validate_point({"flag": 1, "k": 1})
    with pytest.raises(SpaceError, match="k: True is not one of the options"):
        space.validate_point({"flag": True, "k": True})


def test_encoding_is_the_unit_cube_and_round_trips(space):
    points = [{"v1": 0, "color": "red", "weight": -3.0}, {"v1": 5, "color": "blue", "weight": 200.0}, space.guess()]
    X = space.encode(points)
    assert X.shape == (3, 5)
    np.testing.assert_allclose(X[:2], [[0, 1, 0, 0, 0], [1, 0, 0, 1, 1]])
    assert X.min() >= 0 and X.max() <= 1
    assert space.decode(X) == points


def test_decode_rounds_integers_argmaxes_categories_and_clips(space):
    assert space.decode(np.array([0.31, 0.2, 0.7, 0.1, 1.4])) == [{"v1": 2, "color": "green", "weight": 200.0}]
    assert space.decode(np.array([[-0.2, 0.9, 0.0, 0.0, -1.0]])) == [{"v1": 0, "color": "red", "weight": -3.0}]


def test_a_fixed_variable_encodes_to_zero():
    space = Space.from_covars({"k": {"vtype": "int", "min": 4, "max": 4}, "x": {"vtype": "cont", "min": 1, "max": 1}})
    assert space.encode([{"k": 4, "x": 1.0}]).tolist() == [[0.0, 0.0]]
    assert space.decode(np.array([0.7, 0.3])) == [{"k": 4, "x": 1.0}]


def test_sobol_is_seeded_valid_and_continues_where_it_left_off(space):
    first = space.sobol(8, seed=3)
    assert first == space.sobol(8, seed=3) and first != space.sobol(8, seed=4)
    assert space.sobol(5, seed=3, skip=3) == first[3:]
    assert all(space.validate_point(p) == p for p in first)


def test_samples_cover_every_integer_and_category(space):
    for points in (space.sobol(64, seed=0), space.random(200, seed=0)):
        assert {p["v1"] for p in points} == set(range(6))
        assert {p["color"] for p in points} == {"red", "green", "blue"}
        assert all(-3.0 <= p["weight"] <= 200.0 for p in points)
    assert space.random(5, seed=1) == space.random(5, seed=np.random.default_rng(1))
