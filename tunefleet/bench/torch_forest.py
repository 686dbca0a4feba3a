"""A scikit-learn tree ensemble evaluated as tensors in PyTorch (CPU or CUDA).

Strategy: tree traversal as gathers (Hummingbird's "tree_trav"). All trees' nodes are laid
end to end; each (row, tree) pair holds a node index; every step gathers that node's
feature and threshold, compares, and moves to the left or right child. Leaves point to
themselves, so after as many steps as the deepest tree every index rests on its leaf,
whose values are summed over the trees. Memory is linear in the number of nodes, so it
works for deep trees where GEMM or perfect-tree encodings would blow up.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from tunefleet.bench import trees
from tunefleet.bench.errors import NotApplicable


class TensorForest:
    """The ensemble's nodes as tensors on ``device``; ``predict`` gives scikit-learn's predictions."""

    def __init__(self, model: Any, device: str):
        boosting = trees.is_gradient_boosting(model)
        if boosting and model.init not in (None, "zero"):
            raise NotApplicable(
                "torch: gradient boosting with a custom init estimator is not supported (its baseline depends on the input)"
            )
        estimators = trees.estimators(model)
        n_outputs = model.estimators_.shape[1] if boosting else _n_values(model)
        arrays = _node_arrays(model, estimators, n_outputs, boosting)
        self.device = torch.device(device)
        self.feature = torch.as_tensor(arrays["feature"], device=self.device)
        self.threshold = torch.as_tensor(arrays["threshold"], device=self.device)
        self.left = torch.as_tensor(arrays["left"], device=self.device)
        self.right = torch.as_tensor(arrays["right"], device=self.device)
        self.values = torch.as_tensor(arrays["values"], device=self.device)
        self.roots = torch.as_tensor(arrays["roots"], device=self.device)
        self.depth = max(tree.tree_.max_depth for tree in estimators)
        self.base = torch.as_tensor(
            _boosting_baseline(model, estimators) if boosting else np.zeros(n_outputs),
            dtype=torch.float32,
            device=self.device,
        )
        self.scale = 1.0 if boosting else 1.0 / len(estimators)
        self.classes = getattr(model, "classes_", None)

    def tensors(self) -> dict[str, torch.Tensor]:
        names = ("feature", "threshold", "left", "right", "values", "roots", "base")
        return {name: getattr(self, name) for name in names}

    @torch.inference_mode()
    def scores(self, X: torch.Tensor) -> torch.Tensor:
        """Per row: mean class fractions or value (forests), raw margins (boosting)."""
        node = self.roots.expand(X.shape[0], -1)
        for _ in range(self.depth):
            go_left = X.gather(1, self.feature[node]) <= self.threshold[node]
            node = torch.where(go_left, self.left[node], self.right[node])
        return self.values[node].sum(dim=1) * self.scale + self.base

    def predict(self, X: np.ndarray) -> np.ndarray:
        scores = self.scores(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).to(self.device))
        if self.classes is None:
            return scores[:, 0].cpu().numpy()
        if scores.shape[1] == 1:  # binary boosting: margin of the second class
            index = (scores[:, 0] > 0).long()
        else:
            index = scores.argmax(dim=1)
        return self.classes[index.cpu().numpy()]


def _n_values(model: Any) -> int:
    return len(model.classes_) if hasattr(model, "classes_") else 1


def _node_arrays(model: Any, estimators: list, n_outputs: int, boosting: bool) -> dict[str, np.ndarray]:
    """All trees' nodes end to end: children as global indices, leaves pointing to themselves."""
    features, thresholds, lefts, rights, values, roots = [], [], [], [], [], []
    offset = 0
    for position, estimator in enumerate(estimators):
        tree = estimator.tree_
        index = np.arange(tree.node_count) + offset
        leaf = tree.children_left == trees.LEAF
        features.append(np.where(leaf, 0, tree.feature))
        thresholds.append(np.where(leaf, 0.0, trees.floor_to(tree.threshold, np.float32)).astype(np.float32))
        lefts.append(np.where(leaf, index, tree.children_left + offset))
        rights.append(np.where(leaf, index, tree.children_right + offset))
        values.append(_leaf_values(model, tree, position, n_outputs, boosting))
        roots.append(offset)
        offset += tree.node_count
    return {
        "feature": np.concatenate(features).astype(np.int64),
        "threshold": np.concatenate(thresholds),
        "left": np.concatenate(lefts).astype(np.int64),
        "right": np.concatenate(rights).astype(np.int64),
        "values": np.concatenate(values).astype(np.float32),
        "roots": np.asarray(roots, dtype=np.int64),
    }


def _leaf_values(model: Any, tree: Any, position: int, n_outputs: int, boosting: bool) -> np.ndarray:
    """What each node adds to the sum over trees, one column per output."""
    value = tree.value[:, 0, :]
    if boosting:  # stage-major order: tree ``position`` serves output ``position % n_outputs``
        result = np.zeros((tree.node_count, n_outputs))
        result[:, position % n_outputs] = model.learning_rate * value[:, 0]
        return result
    if n_outputs == 1:
        return value[:, :1]
    totals = value.sum(axis=1, keepdims=True)
    return np.divide(value, totals, out=np.zeros_like(value), where=totals > 0)


def _boosting_baseline(model: Any, estimators: list) -> np.ndarray:
    """The constant raw prediction boosting starts from: model output minus the trees' sum at one point."""
    point = np.zeros((1, model.n_features_in_))
    raw = model.decision_function(point) if hasattr(model, "decision_function") else model.predict(point)
    n_outputs = model.estimators_.shape[1]
    tree_sum = np.zeros(n_outputs)
    for position, estimator in enumerate(estimators):
        tree_sum[position % n_outputs] += model.learning_rate * estimator.predict(point)[0]
    return np.asarray(raw, dtype=np.float64).reshape(n_outputs) - tree_sum
