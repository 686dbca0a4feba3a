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
        (
            _with("c", vtype="cat", guess="pink", options=["red"]),
            "c: guess is invalid: 'pink' is not one of the options",
        ),
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
    space = Space.from_covars(
        {"flag": {"vtype": "cat", "options": [True, False]}, "k": {"vtype": "cat", "options": [1, 2]}}
    )
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


# -- hpogrid's sweep vocabulary -------------------------------------------------------------------
# The seed's search spaces (hpogrid README: examples 1-3 and the search_space example).
SEED_SPACES = [
    {
        "height": {"method": "uniform", "dimension": {"low": -100, "high": 100}},
        "width": {"method": "uniform", "dimension": {"low": 0, "high": 20}},
    },
    {
        "alpha": {"method": "uniform", "dimension": {"low": -10, "high": 10}},
        "beta": {"method": "categorical", "dimension": {"categories": [-1, 0, 1, 2, 3, 4, 5]}},
    },
    {
        "hidden": {"method": "categorical", "dimension": {"categories": [32, 64, 128]}},
        "batchsize": {"method": "categorical", "dimension": {"categories": [32, 64, 128, 256, 512]}},
        "lr": {"method": "loguniform", "dimension": {"low": 4.5e-05, "high": 1.83e-2}},
        "beta": {"method": "uniform", "dimension": {"low": 0.5, "high": 1.0}},
    },
    {
        "lr": {"method": "loguniform", "dimension": {"low": 1e-5, "high": 1e-2, "base": 10}},
        "batchsize": {"method": "categorical", "dimension": {"categories": [32, 64, 128, 256, 512, 1024]}},
        "num_layers": {"method": "uniformint", "dimension": {"low": 3, "high": 10}},
        "momentum": {"method": "uniform", "dimension": {"low": 0.5, "high": 1.0}},
    },
]

# One variable of every method, as hpogrid writes them.
EVERY_METHOD = {
    "c": {"method": "categorical", "dimension": {"categories": ["relu", "tanh"], "grid_search": 1}},
    "u": {"method": "uniform", "dimension": {"low": -1.0, "high": 1.0}},
    "i": {"method": "uniformint", "dimension": {"low": 3, "high": 10}},
    "qu": {"method": "quniform", "dimension": {"low": 0.05, "high": 1.0, "q": 0.1}},
    "lu": {"method": "loguniform", "dimension": {"low": 1e-5, "high": 1e-2, "base": 10}},
    "qlu": {"method": "qloguniform", "dimension": {"low": 1e-4, "high": 1e-2, "base": 10, "q": 1e-3}},
    "n": {"method": "normal", "dimension": {"mu": 1.0, "sigma": 2.0}},
    "qn": {"method": "qnormal", "dimension": {"mu": 0.0, "sigma": 2.0, "q": 0.5}},
    "ln": {"method": "lognormal", "dimension": {"mu": 0.0, "sigma": 1.0}},
    "qln": {"method": "qlognormal", "dimension": {"mu": 1.0, "sigma": 0.5, "base": 10, "q": 5}},
}


@pytest.fixture
def every():
    return Space.from_hpogrid(EVERY_METHOD)


@pytest.mark.parametrize("spec", SEED_SPACES)
def test_the_seeds_search_spaces_parse_and_round_trip(spec):
    space = Space.from_hpogrid(spec)
    assert space.names == tuple(spec)
    assert Space.from_hpogrid(json.loads(json.dumps(space.to_hpogrid()))) == space
    assert Space.from_covars(json.loads(json.dumps(space.to_dict()))) == space
    assert Space.parse(spec) == space
    # uniform, uniformint and categorical are the BO schema's cont, int and cat
    assert {v.vtype for v in space.variables} <= {"cont", "int", "cat", "loguniform"}


def test_every_method_round_trips_and_defaults_its_guess_to_the_median(every):
    assert [v.method for v in every.variables] == [spec["method"] for spec in EVERY_METHOD.values()]
    assert every.to_hpogrid()["lu"] == EVERY_METHOD["lu"]
    assert every.to_hpogrid()["c"]["dimension"] == {"categories": ["relu", "tanh"], "grid_search": True}
    assert every.to_hpogrid()["ln"]["dimension"]["base"] == pytest.approx(math.e)  # hyperopt's default
    again = Space.from_hpogrid(json.loads(json.dumps(every.to_hpogrid())))
    assert again == every and Space.from_covars(json.loads(json.dumps(every.to_dict()))) == every
    assert every.to_dict()["qu"] == {"vtype": "quniform", "guess": 0.6, "min": 0.05, "max": 1.0, "q": 0.1}
    guess = every.guess()
    assert guess["c"] == "relu" and guess["i"] == 6 and guess["n"] == 1.0 and guess["ln"] == 1.0
    assert guess["lu"] == pytest.approx(10**-3.5) and guess["qn"] == 0.0 and guess["qln"] == 10.0


def test_samples_stay_in_each_kinds_support_and_follow_its_distribution(every):
    points = every.random(4000, seed=0)
    assert all(every.validate_point(p) == p for p in points[:200])
    column = {name: np.array([p[name] for p in points]) for name in every.names}
    assert set(column["qu"]) <= {round(0.1 * k, 10) for k in range(1, 11)} and column["qu"].min() == 0.1
    assert set(column["i"]) == set(range(3, 11))
    assert 1e-5 <= column["lu"].min() and column["lu"].max() <= 1e-2
    assert np.mean(np.log10(column["lu"]) < -3.5) == pytest.approx(0.5, abs=0.03)  # log-uniform
    assert set(column["qlu"]) <= {round(0.001 * k, 10) for k in range(1, 11)}
    assert column["n"].mean() == pytest.approx(1.0, abs=0.1) and column["n"].std() == pytest.approx(2.0, abs=0.1)
    assert np.all(np.isclose(column["qn"] / 0.5, np.round(column["qn"] / 0.5)))
    assert np.median(column["ln"]) == pytest.approx(1.0, abs=0.06) and column["ln"].min() > 0
    assert np.std(np.log(column["ln"])) == pytest.approx(1.0, abs=0.05)
    assert np.all(column["qln"] % 5 == 0) and np.median(column["qln"]) == 10.0


def test_quantised_values_are_clean_multiples():
    space = Space.from_hpogrid({"x": {"method": "quniform", "dimension": {"low": 0, "high": 1, "q": 0.1}}})
    assert space["x"].grid_values() == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert space.validate_point({"x": 3 * 0.1}) == {"x": 0.3}  # 0.30000000000000004 is 0.3
    with pytest.raises(SpaceError, match=r"x: 0.25 is not a multiple of q=0.1"):
        space.validate_point({"x": 0.25})
    with pytest.raises(SpaceError, match=r"x: 1.1 is outside \[0.0, 1.0\]"):
        space.validate_point({"x": 1.1})
    # bounds are rounded inwards to multiples of q, as Ray Tune does
    inner = Space.from_hpogrid({"y": {"method": "qloguniform", "dimension": {"low": 0.15, "high": 0.95, "q": 0.2}}})
    assert inner["y"].bounds == (0.2, 0.8) and inner["y"].grid_values() == [0.2, 0.4, 0.6, 0.8]


def test_the_unit_cube_encoding_of_every_kind(every):
    """Numbers are encoded as their quantile: decode(encode(x)) is x, the normal kinds' faces are mu ± 6 sigma."""
    points = every.random(50, seed=3)
    X = every.encode(points)
    assert X.shape == (50, every.dim) and X.min() >= 0 and X.max() <= 1
    for decoded, point in zip(every.decode(X), points):
        assert decoded.keys() == point.keys()
        for name in point:
            assert decoded[name] == (point[name] if name == "c" else pytest.approx(point[name], rel=1e-9, abs=1e-12))
    n = every["n"]
    assert n.encode(1.0) == [0.5] and n.decode(np.array([0.0])) == pytest.approx(1.0 - 6 * 2.0)
    assert every["ln"].decode(np.array([1.0])) == pytest.approx(math.exp(6.0))
    assert every["lu"].encode(1e-4) == [pytest.approx(1 / 3)]
    assert every["qu"].steps == 9 and every["i"].steps == 7 and every["n"].steps is None


def test_grid_values_and_grid_points(every):
    assert every.grid_variables == (every["c"],) and every.grid_size() == 2
    assert every["i"].grid_values() == list(range(3, 11))
    with pytest.raises(SpaceError, match="u: a uniform variable has infinitely many values"):
        every["u"].grid_values()
    with pytest.raises(SpaceError, match="n: a normal variable has infinitely many values"):
        every["n"].grid_values()
    two = Space.from_hpogrid(
        {
            "act": {"method": "categorical", "dimension": {"categories": ["relu", "tanh"], "grid_search": True}},
            "lr": {"method": "loguniform", "dimension": {"low": 1e-4, "high": 1e-1}},
            "bs": {"method": "categorical", "dimension": {"categories": [16, 32, 64], "grid_search": 1}},
        }
    )
    points = two.grid_points(seed=1)
    assert [(p["act"], p["bs"]) for p in points] == [(a, b) for a in ("relu", "tanh") for b in (16, 32, 64)]
    assert len({p["lr"] for p in points}) == 6  # the random variable is drawn afresh at each grid point
    assert all(list(p) == ["act", "lr", "bs"] and two.validate_point(p) == p for p in points)
    assert two.grid_points(seed=1) == points and two.grid_points(seed=2) != points
    assert len(Space.from_hpogrid(SEED_SPACES[0]).grid_points(seed=0)) == 1  # no grid variable: one point


def test_to_tune_gives_ray_domains_that_sample_valid_values(every):
    from ray.tune.search.sample import Categorical as TuneCategorical
    from ray.tune.search.sample import Float, Integer, Quantized

    from tunefleet.sweep.search.ray_tune import param_space

    domains = param_space(every)
    assert domains["c"] == {"grid_search": ["relu", "tanh"]}
    assert isinstance(domains["i"], Integer) and (domains["i"].lower, domains["i"].upper) == (3, 11)  # upper exclusive
    assert isinstance(domains["qu"].get_sampler(), Quantized) and domains["qu"].get_sampler().q == 0.1
    assert isinstance(domains["lu"], Float) and type(domains["lu"].get_sampler()).__name__ == "_LogUniform"
    assert type(domains["n"].get_sampler()).__name__ == "_Normal"
    plain = Space.from_hpogrid({"c": {"method": "categorical", "dimension": {"categories": [1, 2]}}})
    assert isinstance(param_space(plain)["c"], TuneCategorical)
    rng = np.random.default_rng(0)
    for name, domain in domains.items():
        if name != "c":
            for value in (domain.sample(random_state=rng) for _ in range(100)):
                every[name].check(value)


def _hp(name, method, **dimension):
    return {name: {"method": method, "dimension": dimension}}


@pytest.mark.parametrize(
    "spec, message",
    [
        (
            _hp("x", "gaussian", mu=0, sigma=1),
            "x: unknown method 'gaussian'; use one of categorical, uniform, uniformint",
        ),
        ({"x": {"dimension": {"low": 0, "high": 1}}}, "x: no method; use one of categorical"),
        ({"x": {"method": "uniform"}}, "x: dimension is required for method uniform (with low, high)"),
        ({"x": {"method": "uniform", "dimension": [0, 1]}}, "x: dimension must be an object with low, high"),
        ({"x": {"method": "uniform", "dimension": {"low": 0, "high": 1}, "guess": 0}}, "x: unexpected field(s) guess"),
        (_hp("x", "uniform", low=5, high=1), "x: low (5) is greater than high (1)"),
        (_hp("x", "uniform", low=0), "x: high is required for method uniform"),
        (
            _hp("x", "uniform", low=0, hihg=1),
            "x: unexpected field(s) hihg in the dimension of method uniform (it takes low, high)",
        ),
        (_hp("x", "uniform", low="0", high=1), "x: low must be a finite number, got '0'"),
        (_hp("x", "uniform", low=math.nan, high=1), "x: low must be a finite number, got nan"),
        (_hp("x", "uniform", low=0, high=math.inf), "x: high must be a finite number, got inf"),
        (_hp("x", "uniform", low=0, high=True), "x: high must be a finite number, got True"),
        (_hp("n", "uniformint", low=0.5, high=3), "n: low of a uniformint variable must be an integer, got 0.5"),
        (_hp("c", "categorical"), "c: a categorical variable needs a non-empty list of categories"),
        (_hp("c", "categorical", categories=[]), "c: a categorical variable needs a non-empty list of categories"),
        (_hp("c", "categorical", categories="abc"), "c: a categorical variable needs a non-empty list of categories"),
        (_hp("c", "categorical", categories=[[1, 2]]), "c: categories must be strings, finite numbers or booleans"),
        (_hp("c", "categorical", categories=[1, 1]), "c: duplicate option 1"),
        (
            _hp("c", "categorical", categories=[1], grid_search="yes"),
            "c: grid_search must be true or false (or 1 or 0), got 'yes'",
        ),
        (_hp("c", "categorical", categories=[1], grid_search=2), "c: grid_search must be true or false"),
        (_hp("c", "categorical", options=[1]), "c: unexpected field(s) options in the dimension of method categorical"),
        (_hp("q", "quniform", low=0, high=1), "q: q is required for method quniform"),
        (_hp("q", "quniform", low=0, high=1, q=0), "q: q must be greater than 0, got 0"),
        (_hp("q", "qnormal", mu=0, sigma=1, q=-0.5), "q: q must be greater than 0, got -0.5"),
        (_hp("q", "quniform", low=0.1, high=0.2, q=0.5), "q: no multiple of q=0.5 lies in [0.1, 0.2]"),
        (
            _hp("lr", "loguniform", low=0, high=1),
            "lr: low must be greater than 0 for method loguniform (its logarithm is taken), got 0",
        ),
        (_hp("lr", "qloguniform", low=-1, high=1, q=0.1), "lr: low must be greater than 0 for method qloguniform"),
        (_hp("lr", "loguniform", low=1e-3, high=1, base=1), "lr: base must be greater than 1, got 1"),
        (_hp("lr", "loguniform", low=1e-3, high=1, base=-2), "lr: base must be greater than 1, got -2"),
        (_hp("n", "normal", mu=0), "n: sigma is required for method normal"),
        (_hp("n", "normal", sigma=1), "n: mu is required for method normal"),
        (_hp("n", "normal", mu=0, sigma=0), "n: sigma must be greater than 0, got 0"),
        (_hp("n", "lognormal", mu=0, sigma=-1), "n: sigma must be greater than 0, got -1"),
        (_hp("n", "normal", mu=math.nan, sigma=1), "n: mu must be a finite number, got nan"),
        (
            _hp("n", "normal", mu=0, sigma=1, low=0),
            "n: unexpected field(s) low in the dimension of method normal (it takes mu, sigma)",
        ),
        (_hp("n", "lognormal", mu=300, sigma=10, base=10), "n: base ** (mu ± 6 sigma) overflows a float"),
        ({"x": "uniform"}, "x: must be an object"),
        ({"a b": {"method": "uniform", "dimension": {"low": 0, "high": 1}}}, "'a b': a variable name must start"),
        ({}, "search space: no variables"),
        ([1], "search space must be an object"),
    ],
)
def test_invalid_hpogrid_spaces_are_rejected_naming_the_variable(spec, message):
    with pytest.raises(SpaceError) as raised:
        Space.from_hpogrid(spec)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    "covars, message",
    [
        (_with("lr", vtype="loguniform", min=0.0, max=1.0), "lr: min must be greater than 0 for vtype loguniform"),
        (_with("n", vtype="normal", mu=0, sigma=1, min=0), "n: unexpected field(s) min for vtype normal"),
        (
            _with("q", vtype="quniform", min=0, max=1, q=0.1, guess=0.25),
            "q: guess is invalid: 0.25 is not a multiple of q=0.1",
        ),
        (_with("n", vtype="lognormal", mu=0, sigma=1, guess=-1.0), "n: guess is invalid: -1.0 is not greater than 0"),
        (_with("c", vtype="cat", options=["a"], grid_search="no"), "c: grid_search must be true or false"),
    ],
)
def test_the_new_kinds_in_the_covariate_schema(covars, message):
    with pytest.raises(SpaceError) as raised:
        Space.from_covars(covars)
    assert message in str(raised.value)


def test_the_bo_engine_searches_every_kind(every):
    """The engine's unit cube covers the sweep vocabulary: its state round-trips through the covariate schema."""
    from tunefleet.bo.engine import Optimizer

    space = Space.from_covars({name: spec for name, spec in every.to_dict().items() if name != "c"})
    optimizer = Optimizer(space, maximize=False, initial_points=3, seed=1)
    for _ in range(2):  # the initial design, then a GP batch
        points = optimizer.ask(2)
        optimizer.tell(points, [(p["u"] - 0.5) ** 2 + abs(p["n"] - 1.0) + p["qu"] for p in points])
    assert all(space.validate_point(o.point) == o.point for o in optimizer.observations)
    again = Optimizer.from_state(json.loads(json.dumps(optimizer.state())))
    assert again.ask(1) == optimizer.ask(1)


# -- Auptimizer's parameter_config ------------------------------------------------------------------
AUPTIMIZER = [
    {"name": "x", "range": [-5, 5], "type": "float"},
    {"name": "n", "range": [1, 4], "type": "int"},
    {"name": "act", "range": ["relu", "tanh"], "type": "choice"},
]


def test_auptimizers_parameter_config():
    space = Space.from_auptimizer(AUPTIMIZER)
    assert space.to_hpogrid() == {
        "x": {"method": "uniform", "dimension": {"low": -5, "high": 5}},
        "n": {"method": "uniformint", "dimension": {"low": 1, "high": 4}},  # Auptimizer's int includes max
        "act": {"method": "categorical", "dimension": {"categories": ["relu", "tanh"]}},
    }
    assert Space.parse(AUPTIMIZER) == space
    assert {p["n"] for p in space.random(100, seed=0)} == {1, 2, 3, 4}


def test_auptimizers_sequence_proposer_is_a_grid():
    space = Space.from_auptimizer(
        [
            {"name": "x", "range": [0, 1], "type": "float", "n": 5},
            {"name": "k", "range": [2, 10], "type": "int", "interval": 4},
            {"name": "m", "range": [1, 3], "type": "int"},
            {"name": "c", "range": ["a", "b"], "type": "choice"},
        ],
        grid=True,
    )
    assert [v.grid_values() for v in space.grid_variables] == [
        [0.0, 0.25, 0.5, 0.75, 1.0],
        [2, 6, 10],
        [1, 2, 3],
        ["a", "b"],
    ]
    assert space.grid_size() == 5 * 3 * 3 * 2 == len(space.grid_points())
    tenths = Space.from_auptimizer([{"name": "x", "range": [0, 1], "type": "float", "interval": 0.1}], grid=True)
    assert tenths["x"].grid_values() == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


@pytest.mark.parametrize(
    "config, message",
    [
        ({"parameter_config": 1}, "parameter_config must be a list"),
        ([], "parameter_config: no parameters"),
        ([{"range": [0, 1], "type": "float"}], "parameter_config[0]: name is required"),
        (["x"], "parameter_config[0]: must be an object"),
        ([{"name": "x", "range": [0, 1], "type": "double"}], "x: unknown type 'double'; use one of float, int, choice"),
        ([{"name": "x", "range": [0, 1, 2], "type": "float"}], "x: range of a float parameter must be [min, max]"),
        ([{"name": "x", "range": [2, 1], "type": "float"}], "x: range[0] (2) is greater than range[1] (1)"),
        (
            [{"name": "x", "range": [0, 1.5], "type": "int"}],
            "x: range[1] of an int variable must be an integer, got 1.5",
        ),
        ([{"name": "x", "range": [0, "1"], "type": "float"}], "x: range[1] must be a finite number, got '1'"),
        (
            [{"name": "c", "range": [], "type": "choice"}],
            "c: a choice variable needs a non-empty list of values in range",
        ),
        ([{"name": "x", "range": [0, 1], "type": "float", "step": 1}], "x: unexpected field(s) step"),
        ([{"name": "x", "range": [0, 1], "type": "float", "n": 1}], "x: n must be an integer of at least 2, got 1"),
        (
            [{"name": "x", "range": [0, 1], "type": "float", "interval": 0}],
            "x: interval must be a number greater than 0",
        ),
        ([{"name": "k", "range": [0, 2], "type": "int", "n": 5}], "k: n=5 values do not fit in [0, 2]"),
        (
            [{"name": "x", "range": [0, 1], "type": "float"}, {"name": "x", "range": ["a"], "type": "choice"}],
            "x: defined twice",
        ),
    ],
)
def test_invalid_auptimizer_configs_are_rejected_naming_the_parameter(config, message):
    with pytest.raises(SpaceError) as raised:
        Space.from_auptimizer(config, grid=True)
    assert message in str(raised.value)


def test_parse_tells_the_vocabularies_apart():
    assert Space.parse(SEED_COVARS) == Space.from_covars(SEED_COVARS)
    with pytest.raises(SpaceError, match="mixes hpogrid variables"):
        Space.parse(
            {"a": {"method": "uniform", "dimension": {"low": 0, "high": 1}}, "b": {"vtype": "cont", "min": 0, "max": 1}}
        )
