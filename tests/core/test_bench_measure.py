"""Measurement: latency statistics, energy counters, memory in a separate process, whole cells."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.support.bench import FAST, candidate, case, info
from tunefleet.bench import BenchError, BenchmarkConfig, CellResult, TimingSettings, plan, run_cell
from tunefleet.bench.measure import (
    Rapl,
    batch_of,
    energy_status,
    measure_memory,
    median_interval,
    time_together,
)  # fmt: skip


def test_timing_reports_each_batch_size():
    model, X = case("rf_binary").model, case("rf_binary").X
    (stats,) = time_together([model.predict], X, [1, 16, 300], FAST)
    assert [s.batch_size for s in stats] == [1, 16, 300]
    for s in stats:
        assert FAST.min_repeats <= s.repeats <= FAST.max_repeats
        assert 0 < s.min_ms <= s.median_ms <= s.p95_ms
        assert s.cv >= 0 and s.energy_j_per_batch is None
        assert s.thread_cpu_ms > 0
        assert s.throughput_rows_per_s == pytest.approx(s.batch_size / (s.median_ms / 1e3))
        assert set(json.loads(json.dumps(s.to_dict()))) >= {"median_ms", "p95_ms", "cv", "throughput_rows_per_s"}
        assert s.median_low_ms <= s.median_ms <= s.median_high_ms and s.interval == (s.median_low_ms, s.median_high_ms)


def test_the_median_interval_resamples_whole_rounds():
    rng = np.random.default_rng(3)
    steady = [rng.normal(1.0, 0.01, 400) for _ in range(5)]
    drifting = [rng.normal(1.0 + 0.05 * i, 0.01, 400) for i in range(5)]  # each round slower: a busy neighbour
    low, high = median_interval(steady)
    assert low < 1.0 < high and high - low < 0.01
    low, high = median_interval(drifting)
    assert low < 1.08 and high > 1.12  # the rounds' spread, not the runs'
    assert median_interval(drifting) == (low, high)  # seeded
    one_round = median_interval([np.concatenate(drifting)])  # cut into consecutive blocks
    assert one_round[0] < 1.08 and one_round[1] > 1.12
    many = [rng.normal(1.0, 0.01, 20_000) for _ in range(5)]  # summarised by quantiles, same answer
    assert median_interval(many) == pytest.approx(_exact_interval(many), abs=1e-4)


def _exact_interval(rounds):
    picks = np.random.default_rng(0).integers(len(rounds), size=(1000, len(rounds)))
    medians = [np.median(np.concatenate([rounds[i] for i in pick])) for pick in picks]
    return tuple(np.quantile(medians, [0.025, 0.975]))


def test_repeats_follow_the_time_budget():
    calls = []
    (stats,) = time_together(
        [calls.append],
        np.zeros((4, 2)),
        [2],
        TimingSettings(budget_s=0.02, warmup_s=0.0, min_warmup=2, min_repeats=5, max_repeats=40),
    )
    assert stats[0].repeats == 40  # a no-op fits many runs in the budget: capped at max_repeats
    assert len(calls) == 2 + 40 and all(batch.shape == (2, 2) for batch in calls)


def test_timed_runs_visit_every_batch_size_in_rounds():
    calls = []
    settings = TimingSettings(budget_s=1e-9, warmup_s=0.0, min_warmup=1, min_repeats=4, max_repeats=4, rounds=2)
    (stats,) = time_together([lambda batch: calls.append(len(batch))], np.zeros((4, 2)), [1, 3], settings)
    assert calls == [1, 3] + [1, 1, 3, 3] * 2  # a warm-up run of each, then two rounds of two timed runs each
    assert [s.repeats for s in stats] == [4, 4]


def test_cells_timed_together_take_turns_round_by_round_and_one_failing_spares_the_others():
    calls = []

    def predictor(name: str, fail_at: int | None = None):
        def predict(batch):
            calls.append(name)
            if fail_at is not None and calls.count(name) > fail_at:
                raise RuntimeError(f"{name} broke")

        return predict

    settings = TimingSettings(budget_s=1e-9, warmup_s=0.0, min_warmup=1, min_repeats=3, max_repeats=3, rounds=3)
    rounds = []
    timed = time_together(
        [predictor("a"), predictor("b"), predictor("c", fail_at=1)], np.zeros((2, 2)), [1], settings,
        on_round=rounds.append,
    )  # fmt: skip
    assert calls[:3] == ["a", "b", "c"]  # a warm-up run each
    timed_runs = calls[3:]
    assert timed_runs[:3] == ["a", "b", "c"]  # round 1: one run of each, and c's fails ...
    assert sorted(timed_runs[3:]) == ["a", "a", "b", "b"]  # ... then a and b go on without c
    assert rounds == [1, 2, 3]
    assert [s.repeats for s in timed[0]] == [3] and [s.repeats for s in timed[1]] == [3]
    assert isinstance(timed[2], RuntimeError) and str(timed[2]) == "c broke"


def test_batches_larger_than_the_data_repeat_its_rows():
    X = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(batch_of(X, 5), X[[0, 1, 2, 0, 1]])
    assert batch_of(X, 5).flags.c_contiguous


def test_timing_settings_are_checked():
    with pytest.raises(BenchError, match="min_repeats <= max_repeats"):
        TimingSettings(min_repeats=10, max_repeats=5)
    with pytest.raises(BenchError, match="rounds >= 1"):
        TimingSettings(rounds=0)
    with pytest.raises(BenchError, match="budget_s must be > 0"):
        TimingSettings(budget_s=0)


def test_energy_is_read_from_rapl_or_recorded_as_unavailable():
    rapl, status = energy_status()
    if rapl is None:
        assert status["available"] is False and "RAPL" in status["reason"]
    else:
        assert status["available"] is True and status["domains"]


def test_rapl_energy_allows_a_counter_wrap(tmp_path):
    domain = tmp_path / "intel-rapl:0"
    domain.mkdir()
    (domain / "max_energy_range_uj").write_text("1000000\n")
    (domain / "energy_uj").write_text("999000\n")
    rapl = Rapl([domain])
    start = rapl.read()
    (domain / "energy_uj").write_text("4000\n")
    assert rapl.joules_between(start, rapl.read()) == pytest.approx(0.005)


def test_memory_is_measured_in_a_separate_process(tmp_path):
    result = candidate("rf_binary")
    memory = measure_memory(
        "tunefleet.bench.platforms:SklearnPlatform",
        {},
        result.to_dict(),
        result.payload,
        case("rf_binary").X,
        1,
        tmp_path,
    )
    assert memory["peak_rss_bytes"] >= memory["baseline_rss_bytes"] > 0
    assert memory["prepare_predict_bytes"] > 0  # scikit-learn is first imported there, by preparing
    with pytest.raises(BenchError, match="memory probe of tunefleet.bench.platforms:Missing failed"):
        measure_memory(
            "tunefleet.bench.platforms:Missing", {}, result.to_dict(), result.payload, case("rf_binary").X, 1, tmp_path
        )


def _config(allowed_tests=(), **overrides) -> BenchmarkConfig:
    data = {"batch_sizes": [1, 8], "timing": FAST.__dict__, "memory": False, **overrides}
    return BenchmarkConfig.from_dict(data, allowed_tests=allowed_tests)


def test_run_cell_returns_every_documented_field(tmp_path):
    config = _config(entries=["treelite"], optimisations=["prune"], memory=True)
    cell = plan(config, info("rf_regression"), ["cpu"]).cells[0]
    c = case("rf_regression")
    result = run_cell(cell, candidate("rf_regression", "prune"), c.X, c.y, config, tmp_path)
    assert (result.status, result.reason) == ("ok", None)
    assert (result.platform, result.optimisation, result.hardware) == ("treelite", "prune(tree_fraction=0.5)", "cpu")
    assert result.threads == {"nthread": 1} and result.details["toolchain"] == "gcc"
    assert result.metric == "mse" and result.drift == pytest.approx(candidate("rf_regression", "prune").drift, abs=1e-6)
    assert result.size_bytes > 0 and result.artifact.endswith(".so")
    assert [s.batch_size for s in result.latency] == [1, 8]
    assert result.memory["prepare_predict_bytes"] > 0
    assert result.forest["n_trees"] == 4 and len(result.forest["feature_importances"]) == 6
    assert "available" in result.energy and result.machine["logical_cores"] >= 1
    assert list(result.usual_metrics) == ["mse", "mae", "r2"] and result.usual_metrics["mse"] == result.score
    restored = CellResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert restored == result


@pytest.mark.parametrize(
    ("task", "y", "predictions", "expected"),
    [  # worked by hand: per-class precision 1/2, 2/3, 1; recall 1/2, 1, 1/2; F1 1/2, 4/5, 2/3
        ("classification", [0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0],
         {"accuracy": 4 / 6, "precision": (1 / 2 + 2 / 3 + 1) / 3, "recall": (1 / 2 + 1 + 1 / 2) / 3,
          "f1": (1 / 2 + 4 / 5 + 2 / 3) / 3}),
        ("regression", [1.0, 2.0, 3.0], [1.0, 2.0, 5.0], {"mse": 4 / 3, "mae": 2 / 3, "r2": 1 - 4 / 2}),
    ],
)  # fmt: skip
def test_a_cell_reports_its_tasks_usual_metrics(task, y, predictions, expected):
    from tunefleet.bench import metrics

    found = metrics.usual(task, np.array(y), np.array(predictions))
    assert list(found) == list(expected) and found == pytest.approx(expected)


def test_run_cell_records_a_failing_adapter_instead_of_raising(tmp_path):
    constant = "tests.core.test_bench_registry:ConstantPlatform"
    config = _config(entries=[{"name": "broken", "test": constant, "params": {"fail": True}}], allowed_tests=[constant])
    cell = plan(config, info("rf_binary"), ["cpu"]).cells[0]
    c = case("rf_binary")
    result = run_cell(cell, candidate("rf_binary"), c.X, c.y, config, tmp_path)
    assert result.status == "failed" and result.reason == "RuntimeError: prepare failed on purpose"
    assert result.latency == []
