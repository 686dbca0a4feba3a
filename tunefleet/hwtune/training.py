"""The data of a hardware-aware tuning and the training of one candidate.

The training data is split once, seeded (stratified for classification), into the rows
candidates are trained on and the validation rows every candidate is judged and timed on;
both are stored, so each trial (on any worker) and a resumed run see the same rows. The
data is numeric, as the benchmark's platforms take it (``tabular.training_matrix``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tunefleet import tabular
from tunefleet.bench.metrics import CLASSIFICATION
from tunefleet.bench.models import describe, dump_model, read_validation_csv
from tunefleet.bench.registry import BenchmarkConfig, plan
from tunefleet.hwtune.errors import HwTuneError
from tunefleet.hwtune.problem import SERVING, HwProblem

MIN_ROWS = 20
PROBE_ROWS = 500  # the serving check trains the guess on at most this many rows


def split(problem: HwProblem, data: bytes, seed: int) -> tuple[bytes, bytes]:
    """The training and the validation rows of ``data`` as CSV texts."""
    from sklearn.model_selection import train_test_split

    frame = tabular.read_csv(data)
    _, y, _ = tabular.training_matrix(frame, problem.target)
    if len(frame) < MIN_ROWS:
        raise HwTuneError(f"the data has {len(frame)} rows; a tuning needs at least {MIN_ROWS}")
    stratify = None
    if problem.task == CLASSIFICATION:
        values, counts = np.unique(y, return_counts=True)
        if len(values) < 2:
            raise HwTuneError(f"target {problem.target!r} has one class ({values[0]:g}); a classifier needs two")
        stratify = y if counts.min() >= 2 else None
    train, validation = train_test_split(
        frame, test_size=problem.validation_fraction, random_state=seed, stratify=stratify
    )
    return tabular.safe_csv(train).encode(), tabular.safe_csv(validation).encode()


def train(problem: HwProblem, point: dict, train_csv: bytes, seed: int) -> Any:
    """The estimator at ``point`` (the serving choice aside), fitted on the training rows."""
    X, y, _ = tabular.training_matrix(tabular.read_csv(train_csv), problem.target)
    hyperparameters = {k: v for k, v in point.items() if k != SERVING}
    return problem.model.build(hyperparameters, problem.fixed, seed).fit(X, y)


def candidate_bytes(model: Any) -> bytes:
    """The fitted candidate in the store's safe format (skops), as the benchmark reads it."""
    return dump_model(model)


def check_serving(problem: HwProblem, train_csv: bytes, validation_csv: bytes, seed: int, probe_machine: bool) -> None:
    """Every serving choice can take the estimator (and, with ``probe_machine``, runs on this machine):
    the guess is trained on a few rows and planned as the benchmark plans its cells."""
    rows = tabular.read_csv(train_csv).head(PROBE_ROWS)
    model = train(problem, problem.space().guess(), tabular.safe_csv(rows).encode(), seed)
    X, y, _ = read_validation_csv(validation_csv, problem.target, model)
    info = describe(model, X, y, problem.task)
    refused = []
    for text in problem.serving:
        config = BenchmarkConfig.from_dict(problem.benchmark_config(text))
        skipped = plan(config, info, [problem.hardware], probe_machine=probe_machine).skipped
        refused += [f"{text}: {cell.reason}" for cell in skipped]
    if refused:
        raise HwTuneError(f"serving choices {problem.estimator} cannot be measured with: {'; '.join(refused)}")


def response(problem: HwProblem, cell: dict) -> dict[str, float]:
    """What a trial is told from its measured cell: the served model's metric (the optimisation's drift
    counted), the median latency at the batch size, the size and the drift, as the outcomes need them."""
    latency = {stats["batch_size"]: stats["median_ms"] for stats in cell.get("latency") or []}
    values = {
        problem.metric_name: cell.get("score"),
        "latency_ms": latency.get(problem.batch_size),
        "size_bytes": cell.get("size_bytes"),
        "drift": cell.get("drift"),
    }
    return {name: float(values[name]) for name in problem.outcomes().metrics}
