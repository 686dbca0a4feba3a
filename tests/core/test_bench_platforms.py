"""Each platform adapter predicts what scikit-learn predicts, with its threads set and recorded."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier

from tests.support.bench import (
    FAST,
    TREE_CASES,
    assert_same_predictions,
    candidate,
    case,
    info,
    onnx_upload,
    validation_csv,
)
from tunefleet.bench import (
    BenchError,
    BenchmarkConfig,
    NotApplicable,
    OptimisationSpec,
    describe,
    load_model,
    make_candidate,
    metrics,
    plan,
    read_validation_csv,
    run_cell,
)
from tunefleet.bench.platforms import (
    NvForestPlatform,
    OnnxRuntimePlatform,
    SklearnPlatform,
    TorchTreePlatform,
    TreeliteGtilPlatform,
    TreelitePlatform,
)

CPU_PLATFORMS = {  # adapter and the thread count it records
    "sklearn": (SklearnPlatform, "blas_threads"),
    "onnxruntime": (OnnxRuntimePlatform, "intra_op_num_threads"),
    "treelite": (TreelitePlatform, "nthread"),
    "treelite-gtil": (TreeliteGtilPlatform, "nthread"),
    "torch": (TorchTreePlatform, "torch_num_threads"),
}


def _predict(platform, name, tmp_path, threads=2, optimisation="none"):
    predictor = platform.prepare(candidate(name, optimisation), tmp_path, threads)
    try:
        return predictor, predictor.predict(case(name).X)
    finally:
        predictor.close()


@pytest.mark.parametrize("name", TREE_CASES)
@pytest.mark.parametrize("platform_name", list(CPU_PLATFORMS))
def test_platform_matches_sklearn_on_tree_ensembles(platform_name, name, tmp_path):
    cls, thread_key = CPU_PLATFORMS[platform_name]
    platform = cls()
    assert platform.unavailable() is None
    assert platform.supports(info(name), "cpu") is None
    predictor, predictions = _predict(platform, name, tmp_path)
    assert_same_predictions(name, predictions)
    assert predictor.threads[thread_key] == 2
    if platform_name == "sklearn" and name.startswith(("rf", "et")):
        assert predictor.threads["n_jobs"] == 2
    assert predictor.artifact.is_file() and predictor.artifact.stat().st_size > 0


@pytest.mark.parametrize("name", ["logistic", "linear_regression", "mlp"])
def test_sklearn_and_onnxruntime_take_linear_models_and_mlps(name, tmp_path):
    for platform in (SklearnPlatform(), OnnxRuntimePlatform()):
        assert platform.supports(info(name), "cpu") is None
        _, predictions = _predict(platform, name, tmp_path, threads=1)
        if case(name).task == "regression":
            np.testing.assert_allclose(predictions, case(name).model.predict(case(name).X), rtol=1e-4, atol=1e-3)
        else:
            assert np.mean(predictions == case(name).model.predict(case(name).X)) > 0.99


def test_onnxruntime_runs_the_int8_candidate(tmp_path):
    predictor, predictions = _predict(OnnxRuntimePlatform(), "logistic", tmp_path, threads=1, optimisation="int8")
    assert predictor.artifact.read_bytes() == candidate("logistic", "int8").payload
    assert np.mean(predictions == case("logistic").model.predict(case("logistic").X)) > 0.9


@pytest.mark.parametrize("platform", [TreelitePlatform(), TreeliteGtilPlatform(), TorchTreePlatform()])
def test_tree_platforms_refuse_other_models_with_a_reason(platform):
    assert platform.supports(info("logistic"), "cpu") == "cannot take LogisticRegression (takes tree_ensemble)"
    assert platform.takes_format("onnx") == "takes scikit-learn models, not ONNX models"
    assert OnnxRuntimePlatform().supports(info("knn"), "cpu").startswith("cannot take KNeighborsClassifier")
    assert SklearnPlatform().supports(info("knn"), "gpu") == "needs cpu hardware, not gpu"


def test_gpu_adapters_say_what_this_machine_lacks():
    import onnxruntime
    import torch

    if not torch.cuda.is_available():
        assert (
            TorchTreePlatform("cuda").unavailable() == f"CUDA not available on this machine (torch {torch.__version__})"
        )
    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        assert "this onnxruntime build has no CUDAExecutionProvider" in OnnxRuntimePlatform("cuda").unavailable()
    assert TorchTreePlatform("cuda").hardware == OnnxRuntimePlatform("cuda").hardware == "gpu"
    with pytest.raises(ValueError, match="torch device must be cpu or cuda, not 'tpu'"):
        TorchTreePlatform("tpu")


def test_treelite_reuses_the_library_compiled_in_the_same_folder(tmp_path):
    first, _ = _predict(TreelitePlatform(), "gb_binary", tmp_path)
    built = first.artifact.stat().st_mtime_ns
    second, predictions = _predict(TreelitePlatform(), "gb_binary", tmp_path)
    assert second.artifact == first.artifact and second.artifact.stat().st_mtime_ns == built
    assert_same_predictions("gb_binary", predictions)
    c = case("gb_binary")  # the same model saved again (its skops bytes carry new timestamps): still reused
    remade = make_candidate(c.model, OptimisationSpec.parse("none"), c.X, c.y, info("gb_binary"))
    third = TreelitePlatform().prepare(remade, tmp_path, 1)
    assert third.artifact == first.artifact and third.artifact.stat().st_mtime_ns == built
    quantised, predictions = _predict(TreelitePlatform(quantize=1), "gb_binary", tmp_path)
    assert quantised.artifact != first.artifact and quantised.details["params"] == {"quantize": 1}
    assert_same_predictions("gb_binary", predictions)


def test_torch_refuses_boosting_from_a_custom_init_estimator(tmp_path):
    c = case("gb_binary")
    model = GradientBoostingClassifier(
        n_estimators=3, init=RandomForestClassifier(n_estimators=2, random_state=0), random_state=0
    )
    model.fit(c.X, c.y)
    custom = make_candidate(
        model, OptimisationSpec.parse("none"), c.X, c.y, describe(model, c.X, c.y, "classification")
    )
    with pytest.raises(NotApplicable, match="custom init estimator"):
        TorchTreePlatform().prepare(custom, tmp_path, 1)


@pytest.mark.parametrize("name", ["rf_binary", "linear_regression"])
def test_an_onnx_upload_is_measured_on_onnxruntime_and_skipped_elsewhere(name, tmp_path):
    c = case(name)
    model = load_model(onnx_upload(name))
    X, y, _ = read_validation_csv(validation_csv(c.X, c.y), "y", model)
    described = describe(model, X, y, c.task, size_bytes=len(onnx_upload(name)))
    config = BenchmarkConfig.from_dict({"hardware": ["cpu"], "batch_sizes": [1, 16], "timing": FAST.__dict__})
    the_plan = plan(config, described, ["cpu"])
    assert [(cell.entry.name, cell.optimisation.label) for cell in the_plan.cells] == [("onnxruntime", "none")]
    skipped = {(s.platform, s.optimisation): s.reason for s in the_plan.skipped}
    for platform in ("sklearn", "treelite", "treelite-gtil", "torch"):
        assert skipped[(platform, "none")] == f"{platform}: takes scikit-learn models; this model was uploaded as ONNX"
    assert (
        skipped[("onnxruntime", "float16")] == "float16 transforms scikit-learn models; this model was uploaded as ONNX"
    )
    assert skipped[("onnxruntime-cuda", "none")] == "onnxruntime-cuda runs on gpu; the config asks for cpu only"
    result = make_candidate(model, the_plan.optimisations()[0], X, y, described)
    assert (result.format, result.payload, result.drift, result.agreement) == ("onnx", onnx_upload(name), 0.0, 1.0)
    cell = run_cell(the_plan.cells[0], result, X, y, config, tmp_path)
    assert (cell.status, cell.reason, cell.threads["intra_op_num_threads"]) == ("ok", None, 1)
    assert [s.batch_size for s in cell.latency] == [1, 16] and cell.memory["prepare_predict_bytes"] > 0
    assert Path(cell.artifact).read_bytes() == onnx_upload(name) and cell.drift == 0.0
    assert cell.score == pytest.approx(metrics.score(c.task, c.y, c.model.predict(c.X)), rel=1e-5)
    assert list(cell.usual_metrics) == list(metrics.USUAL[c.task])  # the task's usual metrics, too
    assert cell.usual_metrics[cell.metric] == pytest.approx(cell.score)


NVFOREST = importlib.util.find_spec("nvforest") is not None
WITHOUT_NVFOREST = "nvforest is not installed here (tunefleet's gpu extra)"


@pytest.mark.skipif(not NVFOREST, reason=WITHOUT_NVFOREST)
@pytest.mark.parametrize("name", TREE_CASES)
def test_nvforest_cpu_mode_matches_sklearn_on_tree_ensembles(name, tmp_path):
    platform = NvForestPlatform("cpu", precision="double")  # float64 as scikit-learn: the same predictions
    assert platform.unavailable() is None and platform.hardware == "cpu"
    predictor, predictions = _predict(platform, name, tmp_path)
    assert_same_predictions(name, predictions)
    assert predictor.threads == {"openmp_threads": 2} and predictor.artifact.stat().st_size > 0
    assert predictor.details["layout"] == "depth_first" and predictor.details["device"] == "cpu"
    tuned, predictions = _predict(NvForestPlatform("cpu", precision="double", tune_batch_size=64), name, tmp_path)
    assert_same_predictions(name, predictions)
    assert tuned.details["layout"] in ("depth_first", "breadth_first", "layered") and tuned.details["chunk_size"]


def test_nvforest_says_what_it_needs_and_refuses_bad_params():
    if not NVFOREST:
        assert NvForestPlatform("cpu").unavailable() == (
            "Python module(s) nvforest not installed (install tunefleet with the gpu extra: pip install -e '.[gpu]')"
        )
    assert (NvForestPlatform("gpu").hardware, NvForestPlatform("cpu").hardware) == ("gpu", "cpu")
    assert (
        NvForestPlatform().supports(info("logistic"), "gpu") == "cannot take LogisticRegression (takes tree_ensemble)"
    )
    for params, message in [
        ({"device": "tpu"}, "nvforest device must be one of gpu, cpu, not 'tpu'"),
        ({"precision": "half"}, "nvforest precision must be one of single, double, native, not 'half'"),
        ({"layout": "random"}, "nvforest layout must be one of depth_first, breadth_first, layered"),
        ({"tune_batch_size": 0}, "tune_batch_size must be an integer from 1 to 1000000, not 0"),
        ({"tune_batch_size": True}, "tune_batch_size must be an integer from 1 to 1000000, not True"),
    ]:
        with pytest.raises(BenchError, match=re.escape(message)):
            NvForestPlatform(**params)


def _gpu_unavailable() -> str | None:
    import torch

    return None if torch.cuda.is_available() else "no CUDA GPU here (torch.cuda.is_available() is False)"


@pytest.mark.gpu
@pytest.mark.skipif(_gpu_unavailable() is not None, reason=str(_gpu_unavailable()))
@pytest.mark.parametrize("name", TREE_CASES)
def test_gpu_platforms_match_sklearn_on_tree_ensembles(name, tmp_path):
    platforms = [TorchTreePlatform("cuda")]
    if NVFOREST:
        platforms += [
            NvForestPlatform("gpu", precision="double"),
            NvForestPlatform("gpu", precision="double", tune_batch_size=1024),
        ]
    for platform in platforms:
        assert platform.unavailable() is None
        _, predictions = _predict(platform, name, tmp_path)
        assert_same_predictions(name, predictions)
