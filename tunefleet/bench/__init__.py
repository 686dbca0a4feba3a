"""Inference benchmark core: a trained model × platforms × optimisations × batch sizes.

Typical use (each step is a plain function the flow wraps in a task)::

    model = load_model(model_bytes)  # skops or ONNX; pickle and joblib only with trust_pickle=True
    X, y, features = read_validation_csv(csv_bytes, target, model)
    info = describe(model, X, y, task, size_bytes=len(model_bytes))
    stored = dump_model(model)  # skops or ONNX: what is stored, read back later with load_model(stored)
    config = BenchmarkConfig.from_dict(config_dict, allowed_tests=operator_allow_list)
    the_plan = plan(config, info, hardware_tags=["cpu"])
    candidates = {spec.label: make_candidate(model, spec, X, y, info) for spec in the_plan.optimisations()}
    results = run_cells(list(the_plan.cells), candidates, X, y, config, workdir)  # timed together, in rounds
    png, markdown = heatmap_png(results), summary_markdown(results, config.accuracy_budget, the_plan.skipped)
"""

# The names below load their module on first use (PEP 562), so importing one light module
# (``tunefleet.bench.errors``) does not import pandas, scikit-learn and matplotlib with it.
_EXPORTS = {
    "BUILTIN": "registry",
    "BenchError": "errors",
    "BenchmarkConfig": "registry",
    "Candidate": "optimisations",
    "Cell": "registry",
    "CellResult": "runner",
    "DataError": "errors",
    "Entry": "registry",
    "LatencyStats": "measure",
    "ModelError": "errors",
    "ModelInfo": "models",
    "NotApplicable": "errors",
    "OnnxModel": "models",
    "OptimisationSpec": "optimisations",
    "Plan": "registry",
    "Registry": "registry",
    "SkippedCell": "registry",
    "TimingSettings": "measure",
    "describe": "models",
    "dump_model": "models",
    "fastest": "report",
    "heatmap_png": "report",
    "load_model": "models",
    "make_candidate": "optimisations",
    "model_format": "models",
    "plan": "registry",
    "read_validation_csv": "models",
    "readable": "report",
    "results_table": "report",
    "run_cell": "runner",
    "run_cells": "runner",
    "summary_markdown": "report",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tunefleet.bench' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"tunefleet.bench.{_EXPORTS[name]}"), name)
