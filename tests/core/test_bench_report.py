"""Reports: table, heat map PNG, and the markdown naming the fastest configuration within budget."""

from __future__ import annotations

import io

import matplotlib.image
import pytest

from tests.support.bench import FAST, candidate, case, info
from tunefleet.bench import (
    BenchError,
    BenchmarkConfig,
    CellResult,
    LatencyStats,
    fastest,
    heatmap_png,
    plan,
    readable,
    results_table,
    run_cell,
    summary_markdown,
)
from tunefleet.bench.report import DECIDING, verdict, verdicts


def _result(
    platform: str, optimisation: str, medians: dict[int, float], drift: float = 0.0, status: str = "ok",
    spread: float = 0.05,
) -> CellResult:  # fmt: skip
    """A measured cell whose medians' intervals reach ``spread`` (relative) either side."""
    latency = [
        LatencyStats(size, 10, ms, ms * 1.2, ms, ms * 0.9, 0.05, size / ms * 1e3, ms, None, ms * (1 - spread),
                     ms * (1 + spread))
        for size, ms in medians.items()
    ]  # fmt: skip
    usual = {"accuracy": 0.9 - drift, "precision": 0.85, "recall": 0.8, "f1": 0.825}
    return CellResult(
        platform, optimisation, "cpu", status, metric="accuracy", score=0.9 - drift, drift=drift,
        usual_metrics=usual, latency=latency,
    )  # fmt: skip


RESULTS = [
    _result("sklearn", "none", {1: 4.0, 256: 20.0}),
    _result("onnxruntime", "none", {1: 0.01, 256: 8.0}),
    _result("treelite", "none", {1: 0.02, 256: 10.0}),
    _result("treelite", "prune(tree_fraction=0.5)", {1: 0.005, 256: 2.0}, drift=0.05),  # fastest, but over budget
    _result("torch", "float16", {1: 0.5, 256: 5.0}, drift=0.004),
]


def test_table_has_a_row_per_cell_and_batch_size_with_speedups():
    table = results_table(RESULTS)
    assert len(table) == 10
    row = table[(table.platform == "onnxruntime") & (table.batch_size == 1)].iloc[0]
    assert row.speedup == pytest.approx(400.0)
    assert table[table.platform == "sklearn"].speedup.tolist() == [1.0, 1.0]
    assert row.usual_metrics == "accuracy=0.9, precision=0.85, recall=0.8, f1=0.825"  # each cell's usual metrics


def test_the_readable_table_puts_the_deciding_columns_first_and_rounds_to_four_digits():
    full = results_table([_result("sklearn", "none", {1: 4.0}), _result("onnxruntime", "none", {1: 3.0})])
    table = readable(full)
    assert list(table.columns[:7]) == DECIDING == ["platform", "optimisation", "hardware", "batch_size",
                                                  "median_ms", "speedup", "drift"]  # fmt: skip
    assert sorted(table.columns) == sorted(full.columns)  # nothing dropped
    onnx = table[table.platform == "onnxruntime"].iloc[0]
    assert onnx.speedup == 1.333 and onnx.throughput_rows_per_s == 333.3
    assert full[full.platform == "onnxruntime"].iloc[0].speedup == pytest.approx(4 / 3, rel=1e-12)


def test_fastest_respects_the_accuracy_budget():
    best = {row["batch_size"]: row for row in fastest(RESULTS, accuracy_budget=0.01)}
    assert (best[1]["platform"], best[1]["optimisation"]) == ("onnxruntime", "none")
    assert (best[256]["platform"], best[256]["optimisation"]) == ("torch", "float16")
    assert best[256]["speedup"] == pytest.approx(4.0)
    loose = {row["batch_size"]: row for row in fastest(RESULTS, accuracy_budget=0.1)}
    assert loose[1]["optimisation"] == "prune(tree_fraction=0.5)"


def test_markdown_names_the_fastest_and_lists_skipped_and_failed_cells():
    skipped = [
        {
            "platform": "torch-cuda",
            "optimisation": "none",
            "hardware": "gpu",
            "reason": "torch-cuda needs gpu hardware (available: cpu)",
        }
    ]
    failed = CellResult("treelite-gtil", "none", "cpu", "failed", reason="RuntimeError: boom | bang")
    text = summary_markdown([*RESULTS, failed], accuracy_budget=0.01, skipped=skipped)
    assert "| 1 | onnxruntime + none | cpu | 0.01 [0.0095, 0.0105] | 400.0× | 0 | none |" in text
    assert "| 256 | torch + float16 | cpu | 5 [4.75, 5.25] | 4.0× | 0.004 | none |" in text
    assert "drift ≤ 0.01 (accuracy lost)" in text
    assert "| torch-cuda | none | gpu | torch-cuda needs gpu hardware (available: cpu) |" in text
    assert "## Failed cells" in text and "RuntimeError: boom \\| bang" in text
    with pytest.raises(BenchError, match="no measured cells to draw a heat map of"):
        heatmap_png([failed])
    without_baseline = summary_markdown(RESULTS[1:], accuracy_budget=0.01)
    assert "| 1 | onnxruntime + none | cpu | 0.01 [0.0095, 0.0105] | n/a (no baseline) | 0 | none |" in without_baseline


def test_a_cell_is_faster_only_where_the_confidence_intervals_separate():
    results = [
        _result("sklearn", "none", {1: 1.0, 64: 10.0}, spread=0.1),
        _result("onnxruntime", "none", {1: 0.95, 64: 4.0}, spread=0.1),  # batch 1: inside sklearn's interval
        _result("treelite", "none", {1: 0.97, 64: 2.0}, spread=0.1),
    ]
    best = {row["batch_size"]: row for row in fastest(results, accuracy_budget=0.01)}
    assert (best[1]["platform"], best[1]["versus_baseline"]) == ("onnxruntime", "indistinguishable")
    assert best[1]["tied_with"] == ["sklearn+none @ cpu", "treelite+none @ cpu"]
    assert (best[64]["platform"], best[64]["versus_baseline"], best[64]["tied_with"]) == ("treelite", "faster", [])
    text = summary_markdown(results, accuracy_budget=0.01)
    assert "| 1 | onnxruntime + none | cpu | 0.95 [0.855, 1.045] | 1.1×, indistinguishable here | 0 | " \
           "sklearn+none @ cpu, treelite+none @ cpu |" in text  # fmt: skip
    assert "| 64 | treelite + none | cpu | 2 [1.8, 2.2] | 5.0× | 0 | none |" in text
    said = verdicts(results)
    assert said[(1, "onnxruntime+none @ cpu", "sklearn+none @ cpu")] == "indistinguishable"
    assert said[(64, "onnxruntime+none @ cpu", "treelite+none @ cpu")] == "slower"
    assert said[(64, "sklearn+none @ cpu", "treelite+none @ cpu")] == "slower"
    assert len(said) == 6  # three pairs at each of two batch sizes


def test_cells_recorded_without_intervals_get_no_verdict():
    old = _result("sklearn", "none", {1: 4.0})
    old.latency[0] = LatencyStats(1, 10, 4.0, 4.8, 4.0, 3.6, 0.05, 250.0, 4.0, None)  # a record from before intervals
    results = [old, _result("onnxruntime", "none", {1: 0.01})]
    assert verdicts(results) == {}
    assert fastest(results, accuracy_budget=0.01)[0]["versus_baseline"] is None
    assert verdict(1.0, 2.0, 3.0, 4.0) == "faster" and verdict(3.0, 4.0, 1.0, 2.0) == "slower"
    assert verdict(1.0, 3.0, 2.0, 4.0) == "indistinguishable" and verdict(None, 1.0, 2.0, 3.0) is None


def test_heatmap_of_measured_cells_is_a_png(tmp_path):
    config = BenchmarkConfig.from_dict(
        {
            "entries": ["sklearn", "onnxruntime", "treelite-gtil"],
            "optimisations": ["none", "prune"],
            "batch_sizes": [1, 32],
            "timing": FAST.__dict__,
            "memory": False,
        }
    )
    c = case("rf_multiclass")
    the_plan = plan(config, info("rf_multiclass"), ["cpu"])
    results = [
        run_cell(cell, candidate("rf_multiclass", cell.optimisation.name), c.X, c.y, config, tmp_path)
        for cell in the_plan.cells
    ]
    assert [r.status for r in results] == ["ok"] * 6
    png = heatmap_png([r.to_dict() for r in results])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert image.shape[0] > 100 and image.shape[1] > 300
    best = fastest(results, accuracy_budget=1.0)
    text = summary_markdown(results, accuracy_budget=1.0)
    for row in best:
        assert f"| {row['batch_size']} | {row['platform']} + {row['optimisation']} | cpu |" in text


def test_markdown_warns_of_cells_timed_on_a_busy_machine():
    quiet = summary_markdown(RESULTS, accuracy_budget=0.01)
    assert "load" not in quiet
    busy = _result("onnxruntime", "float32", {1: 0.02, 256: 9.0})
    busy.machine.update(logical_cores=2, load_1m=3.5)
    text = summary_markdown([*RESULTS, busy], accuracy_budget=0.01)
    assert "1 cell(s) were timed while the machine's 1-minute load was at or above its core count" in text
    assert "(up to 3.5 on 2 cores)" in text


def test_a_cell_says_in_one_line_what_it_measured_or_why_not():
    assert _result("onnxruntime", "none", {1: 0.01, 256: 8.0}, drift=0.004).summary() == (
        "onnxruntime+none @ cpu: ok, median 0.01 ms @ 1, 8 ms @ 256; drift 0.004"
    )
    skipped = CellResult("torch-cuda", "none", "gpu", "skipped", reason="torch-cuda: CUDA not available")
    assert skipped.summary() == "torch-cuda+none @ gpu: skipped: torch-cuda: CUDA not available"
