"""Tree ensembles as arrays: walk, rewrite and summarise the trees of a scikit-learn forest.

scikit-learn keeps each tree in a ``Tree`` whose state is a structured node array plus a
value array; rewriting that state (then ``__setstate__``) is how thresholds are rounded
and trees are cut without refitting.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

LEAF = -1  # scikit-learn's TREE_LEAF child index
UNDEFINED = -2  # scikit-learn's TREE_UNDEFINED feature / threshold


def is_gradient_boosting(model: Any) -> bool:
    return type(model).__name__.startswith("GradientBoosting")


def estimators(model: Any) -> list[Any]:
    """The fitted decision trees of a forest or boosting model (boosting: stage by stage)."""
    return list(np.asarray(model.estimators_).ravel()) if is_gradient_boosting(model) else list(model.estimators_)


def map_trees(model: Any, rewrite: Callable[[dict], dict]) -> Any:
    """A copy of ``model`` with every tree's state passed through ``rewrite``."""
    from sklearn.tree._tree import Tree

    result = copy.deepcopy(model)
    for estimator in estimators(result):
        old = estimator.tree_
        new = Tree(old.n_features, np.asarray(old.n_classes, dtype=np.intp), old.n_outputs)
        new.__setstate__(rewrite(old.__getstate__()))
        estimator.tree_ = new
    return result


def round_state(state: dict, threshold_dtype: type, value_dtype: type, floor_thresholds: bool) -> dict:
    """Tree state with thresholds and node values representable in the given dtypes."""
    nodes = state["nodes"].copy()
    thresholds = (
        floor_to(nodes["threshold"], threshold_dtype)
        if floor_thresholds
        else nodes["threshold"].astype(threshold_dtype)
    )
    nodes["threshold"] = thresholds.astype(np.float64)
    values = state["values"].astype(value_dtype).astype(np.float64)
    return {**state, "nodes": nodes, "values": values}


def floor_to(values: np.ndarray, dtype: type) -> np.ndarray:
    """The largest ``dtype`` number <= each value.

    scikit-learn compares float32 inputs with float64 thresholds (x <= t). For float32
    x, ``x <= t`` holds exactly when ``x <= floor32(t)``, so flooring keeps every
    decision of the tree for float32 inputs, where round-to-nearest may flip a few.
    """
    rounded = values.astype(dtype)
    above = rounded.astype(np.float64) > values
    rounded[above] = np.nextafter(rounded[above], dtype(-np.inf))
    return rounded


def cut_state(state: dict, max_depth: int) -> dict:
    """Tree state with nodes at ``max_depth`` turned into leaves and their subtrees dropped.

    Inner nodes of scikit-learn forests hold the prediction of their samples (class
    fractions or mean), so a cut node predicts what a shallower tree would have.
    """
    nodes, values = state["nodes"], state["values"]
    left, right = nodes["left_child"], nodes["right_child"]
    keep, depth = [0], {0: 0}
    for index in keep:  # breadth first; ``keep`` grows while iterating
        if left[index] != LEAF and depth[index] < max_depth:
            for child in (int(left[index]), int(right[index])):
                depth[child] = depth[index] + 1
                keep.append(child)
    kept = np.asarray(keep)
    becomes_leaf = (left[kept] == LEAF) | (np.array([depth[i] for i in keep]) >= max_depth)
    new_index = np.full(len(nodes), LEAF, dtype=left.dtype)
    new_index[kept] = np.arange(len(kept))
    new_nodes = nodes[kept].copy()
    new_nodes["left_child"] = np.where(becomes_leaf, LEAF, new_index[left[kept]])
    new_nodes["right_child"] = np.where(becomes_leaf, LEAF, new_index[right[kept]])
    new_nodes["feature"] = np.where(becomes_leaf, UNDEFINED, new_nodes["feature"])
    new_nodes["threshold"] = np.where(becomes_leaf, UNDEFINED, new_nodes["threshold"])
    return {
        **state,
        "max_depth": min(int(state["max_depth"]), max_depth),
        "node_count": len(kept),
        "nodes": new_nodes,
        "values": values[kept].copy(),
    }


def keep_first_trees(model: Any, n_trees: int) -> Any:
    """A copy of ``model`` with only its first ``n_trees`` trees (boosting: stages)."""
    result = copy.deepcopy(model)
    result.estimators_ = result.estimators_[:n_trees]
    result.n_estimators = n_trees
    if is_gradient_boosting(result):
        result.n_estimators_ = n_trees
        result.train_score_ = result.train_score_[:n_trees]
    return result


def forest_properties(model: Any) -> dict:
    """Number of trees, their average and largest depth, node count, feature importances."""
    trees = estimators(model)
    depths = [tree.tree_.max_depth for tree in trees]
    return {
        "n_trees": len(trees),
        "average_depth": float(np.mean(depths)),
        "max_depth": int(max(depths)),
        "n_nodes": int(sum(tree.tree_.node_count for tree in trees)),
        "feature_importances": [float(v) for v in model.feature_importances_],
    }
