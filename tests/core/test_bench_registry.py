"""Registry, configs and the plan: runnable cells, and a reason for every skipped one."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.support.bench import FAST, candidate, case, info
from tunefleet.bench import BUILTIN, BenchError, BenchmarkConfig, Cell, Registry, plan, run_cell
from tunefleet.bench.platforms import Platform, Predictor


class ConstantPlatform(Platform):
    """A user-defined benchmark test: predicts the first class (or 0) for every row."""

    def __init__(self, fail: bool = False):
        self.fail = fail

    def prepare(self, candidate, workdir: Path, threads: int) -> Predictor:
        if self.fail:
            raise RuntimeError("prepare failed on purpose")
        first = candidate.model().classes_[0]
        artifact = workdir / "constant.txt"
        artifact.write_text(str(first))
        return Predictor(predict=lambda X: np.full(len(X), first), threads={"threads": threads}, artifact=artifact)


CONSTANT = "tests.core.test_bench_registry:ConstantPlatform"
CPU_ENTRIES = ["sklearn", "onnxruntime", "treelite", "treelite-gtil", "torch"]
CPU_ENTRIES += ["nvforest-cpu"] if importlib.util.find_spec("nvforest") else []  # with the gpu extra


def _skipped(the_plan) -> dict[tuple[str, str], str]:
    return {(s.platform, s.optimisation): s.reason for s in the_plan.skipped}


def test_default_plan_for_a_forest_on_a_cpu_machine():
    the_plan = plan(BenchmarkConfig.from_dict({}), info("rf_binary"), ["cpu"])
    runnable = {(c.entry.name, c.optimisation.label) for c in the_plan.cells}
    assert runnable == {(p, o) for p in CPU_ENTRIES for o in ("none", "float32", "float16", "prune(tree_fraction=0.5)")}
    skipped = _skipped(the_plan)
    assert skipped[("onnxruntime-cuda", "none")] == "onnxruntime-cuda needs gpu hardware (available: cpu)"
    assert skipped[("torch-cuda", "float16")] == "torch-cuda needs gpu hardware (available: cpu)"
    assert skipped[("treelite", "int8")].startswith("int8 does not apply to tree ensembles")
    assert len(the_plan.cells) + len(the_plan.skipped) == len(BUILTIN) * 5
    assert [o.label for o in the_plan.optimisations()] == ["none", "float32", "float16", "prune(tree_fraction=0.5)"]
    assert json.loads(json.dumps(the_plan.to_dict()))["cells"][0]["hardware"] == "cpu"


def test_gpu_cells_on_a_gpu_tag_check_this_machine(tmp_path):
    import onnxruntime
    import torch

    if torch.cuda.is_available() or "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this machine has CUDA: the GPU cells would run")
    skipped = _skipped(plan(BenchmarkConfig.from_dict({"hardware": ["gpu"]}), info("rf_binary"), ["cpu", "gpu"]))
    assert (
        skipped[("torch-cuda", "none")] == f"torch-cuda: CUDA not available on this machine (torch {torch.__version__})"
    )
    assert skipped[("onnxruntime-cuda", "none")].startswith(
        "onnxruntime-cuda: ONNX Runtime has no CUDA kernels for tree ensembles"
    )
    linear = _skipped(plan(BenchmarkConfig.from_dict({"hardware": ["gpu"]}), info("logistic"), ["gpu"]))
    assert (
        "onnxruntime-cuda: this onnxruntime build has no CUDAExecutionProvider" in linear[("onnxruntime-cuda", "int8")]
    )
    assert skipped[("nvforest", "none")].startswith("nvforest: ")  # not installed, or no CUDA device
    assert skipped[("sklearn", "none")] == "sklearn runs on cpu; the config asks for gpu only"
    unprobed = plan(BenchmarkConfig.from_dict({"hardware": ["gpu"]}), info("rf_binary"), ["gpu"], probe_machine=False)
    assert {c.entry.name for c in unprobed.cells} == {"torch-cuda", "nvforest"}
    c = case("rf_binary")
    config = BenchmarkConfig.from_dict({"batch_sizes": [1], "timing": FAST.__dict__, "memory": False})
    result = run_cell(unprobed.cells[0], candidate("rf_binary"), c.X, c.y, config, tmp_path)
    assert (result.status, result.reason) == ("skipped", skipped[("torch-cuda", "none")])


def test_plan_for_a_linear_model_and_an_unsupported_model_type():
    skipped = _skipped(plan(BenchmarkConfig.from_dict({"hardware": ["cpu"]}), info("logistic"), ["cpu"]))
    assert skipped[("treelite", "none")] == "treelite: cannot take LogisticRegression (takes tree_ensemble)"
    assert skipped[("sklearn", "int8")] == "sklearn takes scikit-learn models, not ONNX models (the int8 candidate)"
    assert ("onnxruntime", "int8") not in skipped
    assert (
        skipped[("onnxruntime", "prune(tree_fraction=0.5)")]
        == "prune applies to tree ensembles, not LogisticRegression"
    )
    knn = plan(BenchmarkConfig.from_dict({"hardware": ["cpu"]}), info("knn"), ["cpu"])
    assert [(c.entry.name, c.optimisation.label) for c in knn.cells] == [("sklearn", "none")]
    assert _skipped(knn)[("onnxruntime", "none")].startswith("onnxruntime: cannot take KNeighborsClassifier")


def test_a_user_test_registered_by_module_and_class_runs_as_a_cell(tmp_path):
    registry = Registry()
    registry.register("constant", CONSTANT, allowed_tests=[CONSTANT])
    config = BenchmarkConfig.from_dict(
        {
            "entries": ["sklearn", "constant"],
            "optimisations": ["none"],
            "batch_sizes": [4],
            "timing": FAST.__dict__,
            "memory": False,
        },
        registry,
    )
    cells = plan(config, info("rf_binary"), ["cpu"]).cells
    assert [c.entry.name for c in cells] == ["sklearn", "constant"]
    c = case("rf_binary")
    result = run_cell(
        Cell.from_dict(json.loads(json.dumps(cells[1].to_dict()))), candidate("rf_binary"), c.X, c.y, config, tmp_path
    )
    assert result.status == "ok" and result.threads == {"threads": 1}
    assert result.score == pytest.approx(np.mean(c.y == c.model.classes_[0]))
    assert result.drift == pytest.approx(candidate("rf_binary").original_score - result.score)
    with pytest.raises(BenchError, match="a benchmark test named 'constant' is already registered"):
        registry.register("constant", CONSTANT, allowed_tests=[CONSTANT])


@pytest.mark.parametrize(
    ("test", "message"),
    [
        ("no_such_module:Thing", "cannot import module 'no_such_module' of benchmark test"),
        ("tests.core.test_bench_registry:Nothing", "module 'tests.core.test_bench_registry' has no class 'Nothing'"),
        ("tests.core.test_bench_registry", "a benchmark test is named 'module:Class'"),
        (
            "tests.core.test_bench_registry:Registry",
            "tests.core.test_bench_registry:Registry is not a subclass of tunefleet.bench.platforms.Platform",
        ),
    ],
)
def test_registering_a_bad_allowed_test_says_why(test, message):
    with pytest.raises(BenchError, match=message):
        Registry().register("mine", test, allowed_tests=[test])


def _marker_module(folder: Path, monkeypatch) -> None:
    """A module ``tunefleet_marker`` in ``folder`` (put on sys.path) that writes the file ``imported``
    there when it is imported, and ``built`` when its class ``NotAPlatform`` is instantiated."""
    (folder / "tunefleet_marker.py").write_text(
        "from pathlib import Path\n"
        f"Path({str(folder)!r}, 'imported').touch()\n\n\n"
        "class NotAPlatform:\n"
        "    def __init__(self):\n"
        f"        Path({str(folder)!r}, 'built').touch()\n"
    )
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "tunefleet_marker", raising=False)


def test_a_test_off_the_allow_list_is_refused_without_importing_it(tmp_path, monkeypatch):
    _marker_module(tmp_path, monkeypatch)
    entry = {"name": "mine", "test": "tunefleet_marker:NotAPlatform"}
    message = (
        "benchmark test 'mine' \\(tunefleet_marker:NotAPlatform\\) is not a built-in platform, "
        "and only the operator's allow-list of benchmark tests may add platforms"
    )
    with pytest.raises(BenchError, match=message):
        BenchmarkConfig.from_dict({"entries": ["sklearn", entry]})
    with pytest.raises(BenchError, match=message):
        BenchmarkConfig.from_dict({"entries": [entry]}, allowed_tests=[CONSTANT])
    with pytest.raises(BenchError, match="only the operator's allow-list"):
        Registry().register("mine", "tunefleet_marker:NotAPlatform")
    assert not (tmp_path / "imported").exists() and "tunefleet_marker" not in sys.modules


def test_an_allowed_class_that_is_not_a_platform_is_refused_before_it_is_built(tmp_path, monkeypatch):
    _marker_module(tmp_path, monkeypatch)
    for test in ("collections:OrderedDict", "tunefleet_marker:NotAPlatform"):
        with pytest.raises(BenchError, match=f"{test} is not a subclass of tunefleet.bench.platforms.Platform"):
            BenchmarkConfig.from_dict({"entries": [{"name": "mine", "test": test}]}, allowed_tests=[test])
    assert (tmp_path / "imported").exists() and not (tmp_path / "built").exists()


def test_configs_stored_with_builtin_tests_need_no_allow_list():
    stored = BenchmarkConfig.from_dict({"entries": ["sklearn", "torch-cuda"]}).to_dict()
    assert stored["entries"][1] == {
        "name": "torch-cuda",
        "test": "tunefleet.bench.platforms:TorchTreePlatform",
        "params": {"device": "cuda"},
    }
    assert [e.name for e in BenchmarkConfig.from_dict(stored).entries] == ["sklearn", "torch-cuda"]


def test_an_allow_list_given_as_one_string_is_refused():
    with pytest.raises(TypeError, match="allowed_tests is a collection of 'module:Class' names, not a string"):
        BenchmarkConfig.from_dict({"entries": [{"name": "c", "test": CONSTANT}]}, allowed_tests=CONSTANT + ",x:Y")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"platforms": ["sklearn"]}, "unknown benchmark config key\\(s\\) platforms"),
        ({"entries": ["sklearn", "mxnet"]}, "unknown benchmark test 'mxnet' \\(registered: sklearn, onnxruntime"),
        ({"entries": ["sklearn", "sklearn"]}, "benchmark test listed twice: sklearn"),
        ({"optimisations": ["none", "none"]}, "optimisation listed twice: none"),
        ({"batch_sizes": [1, 0]}, "batch_sizes must be positive integers, not \\[1, 0\\]"),
        ({"hardware": ["tpu"]}, "hardware tags must be among cpu, gpu"),
        ({"threads": 0}, "threads must be a positive integer"),
        ({"timing": {"budget": 1}}, "timing takes budget_s, warmup_s"),
        ({"drift_metric": "roc_auc"}, "drift_metric must be one of accuracy, precision, recall, f1, mse, mae, r2"),
        (
            {
                "entries": [
                    {"name": "x", "test": "tunefleet.bench.platforms:TorchTreePlatform", "params": {"device": "tpu"}}
                ]
            },
            "rejects params",
        ),
    ],
)
def test_config_errors(data, message):
    with pytest.raises(BenchError, match=message):
        BenchmarkConfig.from_dict(data)


def test_config_round_trips_and_unknown_hardware_tags_are_refused():
    config = BenchmarkConfig.from_dict(
        {"optimisations": ["none", {"name": "prune", "params": {"max_depth": 4}}], "threads": 2}
    )
    assert BenchmarkConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(BenchError, match="hardware tags must be among cpu, gpu, not \\['fpga'\\]"):
        plan(config, info("rf_binary"), ["fpga"])


def test_the_drift_metric_must_be_one_of_the_models_task():
    config = BenchmarkConfig.from_dict({"drift_metric": "f1"})
    assert config.to_dict()["drift_metric"] == "f1"
    config.check_task("classification")
    with pytest.raises(
        BenchError, match="drift_metric 'f1' is not a regression metric \\(choose one of mse, mae, r2\\)"
    ):
        config.check_task("regression")
    BenchmarkConfig.from_dict({}).check_task("regression")  # none chosen: accuracy or MSE, as before
