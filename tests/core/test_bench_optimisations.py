"""Optimisations: each candidate really changes the model as named, and its drift is reported."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.support.bench import TREE_CASES, candidate, case, info, onnx_upload
from tunefleet.bench import BenchError, Candidate, NotApplicable, OptimisationSpec, describe, load_model, make_candidate
from tunefleet.bench.trees import estimators


def _thresholds(model) -> np.ndarray:
    return np.concatenate([tree.tree_.threshold[tree.tree_.children_left != -1] for tree in estimators(model)])


@pytest.mark.parametrize("name", TREE_CASES)
def test_none_and_float32_keep_every_prediction_of_tree_ensembles(name):
    for optimisation in ("none", "float32"):
        result = candidate(name, optimisation)
        assert result.agreement == 1.0
        assert result.drift == pytest.approx(0.0, abs=1e-6)
    thresholds = _thresholds(candidate(name, "float32").model())
    np.testing.assert_array_equal(thresholds, thresholds.astype(np.float32))


@pytest.mark.parametrize("name", TREE_CASES)
def test_float16_rounds_thresholds_and_reports_a_small_drift(name):
    result = candidate(name, "float16")
    thresholds = _thresholds(result.model())
    np.testing.assert_array_equal(thresholds, thresholds.astype(np.float16))
    assert not np.array_equal(thresholds, _thresholds(case(name).model))
    assert abs(result.drift) < 0.05
    if case(name).task == "classification":  # drift: accuracy lost
        assert result.score == pytest.approx(result.original_score - result.drift)
    else:  # drift: relative MSE increase
        assert result.score == pytest.approx(result.original_score * (1 + result.drift))


def test_prune_keeps_the_first_half_of_the_trees():
    result = candidate("rf_multiclass", "prune")
    original = case("rf_multiclass").model
    pruned = result.model()
    assert result.optimisation.params == {"tree_fraction": 0.5, "max_depth": None}
    assert result.forest["n_trees"] == len(pruned.estimators_) == 5
    for kept, source in zip(pruned.estimators_, original.estimators_):
        np.testing.assert_array_equal(kept.tree_.threshold, source.tree_.threshold)
    assert result.drift == pytest.approx(result.original_score - result.score)
    staged = candidate("gb_regression", "prune").model()
    np.testing.assert_allclose(
        staged.predict(case("gb_regression").X),
        list(case("gb_regression").model.staged_predict(case("gb_regression").X))[4],
    )


def test_prune_depth_cut_predicts_what_the_node_at_that_depth_holds():
    c = case("rf_binary")
    spec = OptimisationSpec.parse({"name": "prune", "params": {"tree_fraction": 1.0, "max_depth": 2}})
    result = make_candidate(c.model, spec, c.X, c.y, info("rf_binary"))
    assert result.forest["max_depth"] == 2 and result.forest["n_trees"] == 9
    tree, cut = c.model.estimators_[0], result.model().estimators_[0]
    depth = np.zeros(tree.tree_.node_count, dtype=int)
    for node in range(tree.tree_.node_count):
        for child in (tree.tree_.children_left[node], tree.tree_.children_right[node]):
            if child != -1:
                depth[child] = depth[node] + 1
    paths = tree.decision_path(c.X.astype(np.float32)).toarray().astype(bool)
    expected = []
    for path in paths:
        nodes = np.flatnonzero(path)
        node = nodes[depth[nodes] == min(2, depth[nodes].max())][0]
        expected.append(tree.tree_.value[node, 0] / tree.tree_.value[node, 0].sum())
    np.testing.assert_allclose(cut.predict_proba(c.X), expected)
    assert cut.tree_.node_count <= 7


def test_int8_quantises_linear_models_and_mlps_with_onnx_runtime():
    for name in ("logistic", "mlp"):
        result = candidate(name, "int8")
        assert result.format == "onnx"
        assert b"MatMulInteger" in result.payload
        assert result.agreement > 0.9
        assert abs(result.drift) < 0.05
        with pytest.raises(BenchError, match="is an onnx model, not a scikit-learn one"):
            result.model()


def test_precision_rounds_linear_weights():
    coefficients = candidate("logistic", "float16").model().coef_
    np.testing.assert_array_equal(coefficients, coefficients.astype(np.float16))
    assert abs(candidate("linear_regression", "float16").drift) < 0.01


@pytest.mark.parametrize(
    ("name", "optimisation", "reason"),
    [
        ("rf_binary", "int8", "int8 does not apply to tree ensembles"),
        ("logistic", "prune", "prune applies to tree ensembles, not LogisticRegression"),
        ("knn", "float16", "float16 applies to tree ensembles, linear models and MLPs, not KNeighborsClassifier"),
        ("knn", "int8", "int8 applies to linear models and MLPs .*, not KNeighborsClassifier"),
        ("gb_binary", {"name": "prune", "params": {"max_depth": 2}}, "a depth cut does not apply to gradient boosting"),
    ],
)
def test_inapplicable_optimisations_say_why(name, optimisation, reason):
    c = case(name)
    with pytest.raises(NotApplicable, match=reason):
        make_candidate(c.model, OptimisationSpec.parse(optimisation), c.X, c.y, info(name))


def test_only_none_applies_to_an_onnx_upload():
    c = case("logistic")
    model = load_model(onnx_upload("logistic"))
    described = describe(model, c.X, c.y, "classification")
    for name in ("float32", "float16", "int8", "prune"):
        with pytest.raises(
            NotApplicable, match=f"^{name} transforms scikit-learn models; this model was uploaded as ONNX$"
        ):
            make_candidate(model, OptimisationSpec.parse(name), c.X, c.y, described)
    unchanged = make_candidate(model, OptimisationSpec.parse("none"), c.X, c.y, described)
    assert unchanged.format == "onnx" and unchanged.payload == onnx_upload("logistic")
    assert unchanged.original_score == pytest.approx(np.mean(c.model.predict(c.X) == c.y), abs=0.01)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("float8", "unknown optimisation 'float8' \\(known: none, float32, float16, int8, prune\\)"),
        ({"name": "prune", "params": {"trees": 3}}, "optimisation 'prune' has no parameter\\(s\\) trees"),
        ({"name": "prune", "params": {"tree_fraction": 0}}, "tree_fraction must be a number in \\(0, 1\\]"),
        ({"name": "prune", "params": {"max_depth": 0}}, "max_depth must be a positive integer or null"),
        ({"name": "none", "params": {"x": 1}}, "optimisation 'none' has no parameter\\(s\\) x \\(allowed: none\\)"),
        (["float16"], "an optimisation is a name or"),
    ],
)
def test_optimisation_spec_errors(item, message):
    with pytest.raises(BenchError, match=message):
        OptimisationSpec.parse(item)


def test_candidate_round_trips_through_json_and_bytes():
    result = candidate("rf_regression", "float16")
    meta = json.loads(json.dumps(result.to_dict()))
    assert meta["size_bytes"] == len(result.payload) and meta["max_abs_difference"] > 0
    restored = Candidate.from_dict(meta, result.payload)
    assert restored == result
    assert (
        OptimisationSpec.parse({"name": "prune", "params": {"tree_fraction": 0.25}}).label
        == "prune(tree_fraction=0.25)"
    )


@pytest.mark.parametrize(
    ("name", "metric"), [("rf_multiclass", "f1"), ("rf_multiclass", "recall"), ("rf_regression", "mae"), ("rf_regression", "r2")]
)  # fmt: skip
def test_drift_is_judged_on_the_metric_the_config_picks(name, metric):
    from tunefleet.bench import metrics

    c = case(name)
    pruned = make_candidate(c.model, OptimisationSpec.parse("prune"), c.X, c.y, info(name), drift_metric=metric)
    original = metrics.usual(c.task, c.y, c.model.predict(c.X))[metric]
    value = metrics.usual(c.task, c.y, load_model(pruned.payload).predict(c.X))[metric]
    assert pruned.metric == metric and pruned.original_score == pytest.approx(original)
    expected = (value - original) / original if metric in ("mse", "mae") else original - value  # errors: relative
    assert pruned.score == pytest.approx(value) and pruned.drift == pytest.approx(expected)


def test_a_drift_metric_of_another_task_is_refused():
    c = case("rf_regression")
    with pytest.raises(ValueError, match="drift_metric 'accuracy' is not a regression metric"):
        make_candidate(
            c.model, OptimisationSpec.parse("none"), c.X, c.y, info("rf_regression"), drift_metric="accuracy"
        )
