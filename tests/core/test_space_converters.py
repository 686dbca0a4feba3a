"""Every kind of search-space variable is declared once, and every external library's converter
(``tunefleet.sweep.search``: Ray Tune, Optuna, hyperopt, ConfigSpace) knows every kind."""

import importlib

import pytest

from tunefleet.space import KINDS, METHODS, VARIABLE_KINDS, Space

CONVERTERS = [
    ("ray_tune", "DOMAINS", "ray"),
    ("optuna", "SUGGEST", "optuna"),
    ("hyperopt", "DISTRIBUTIONS", "hyperopt"),
    ("bohb", "HYPERPARAMETERS", "ConfigSpace"),
]

ONE_OF_EACH = Space.from_hpogrid(
    {
        "c": {"method": "categorical", "dimension": {"categories": ["a", "b"]}},
        "u": {"method": "uniform", "dimension": {"low": 0, "high": 1}},
        "i": {"method": "uniformint", "dimension": {"low": 1, "high": 5}},
        "qu": {"method": "quniform", "dimension": {"low": 0, "high": 1, "q": 0.1}},
        "lu": {"method": "loguniform", "dimension": {"low": 1e-4, "high": 1}},
        "qlu": {"method": "qloguniform", "dimension": {"low": 1, "high": 100, "q": 1}},
        "n": {"method": "normal", "dimension": {"mu": 0, "sigma": 1}},
        "qn": {"method": "qnormal", "dimension": {"mu": 0, "sigma": 1, "q": 0.5}},
        "ln": {"method": "lognormal", "dimension": {"mu": 0, "sigma": 1}},
        "qln": {"method": "qlognormal", "dimension": {"mu": 0, "sigma": 1, "q": 0.1}},
    }
)


def test_each_vocabulary_names_every_kind_once():
    assert sorted(METHODS.values(), key=KINDS.index) == list(KINDS)
    assert sorted(VARIABLE_KINDS.values(), key=KINDS.index) == list(KINDS)
    assert sorted({type(v) for v in ONE_OF_EACH.variables}, key=KINDS.index) == list(KINDS)


@pytest.mark.parametrize("module, table, library", CONVERTERS, ids=[c[0] for c in CONVERTERS])
def test_every_converter_covers_every_kind(module, table, library):
    pytest.importorskip(library)
    from tunefleet.sweep.search.codec import MODES

    converter = getattr(importlib.import_module(f"tunefleet.sweep.search.{module}"), table)
    assert set(converter) == set(METHODS), f"{module} has no converter for {set(METHODS) - set(converter)}"
    for method, entry in converter.items():
        if isinstance(entry, tuple):  # (how the codec shows the kind, the library's definition)
            assert entry[0] in MODES, f"{module}: {method} has mode {entry[0]!r}"


@pytest.mark.parametrize("module, table, library", CONVERTERS, ids=[c[0] for c in CONVERTERS])
def test_every_converter_converts_one_variable_of_each_kind(module, table, library):
    pytest.importorskip(library)
    converter = getattr(importlib.import_module(f"tunefleet.sweep.search.{module}"), table)
    for variable in ONE_OF_EACH.variables:
        entry = converter[variable.method]
        build = entry[1] if isinstance(entry, tuple) else entry
        if module == "optuna":  # define-by-run: the definition is a call on a trial
            import optuna

            trial = optuna.create_study().ask()
            build(trial, variable)
            assert variable.name in trial.params
        else:
            assert build(variable) is not None
