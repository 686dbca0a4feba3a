"""Inference benchmark: upload a model with its validation data, queue runs, read results.

Models arrive in safe formats only: skops (loaded with scikit-learn, numpy and scipy types alone)
or ONNX. Pickle and joblib run code when loaded, so they come only through the operator's CLI
(``tunefleet model upload --trust-pickle``). A benchmark config names registry entries; a
``module:Class`` platform only an admin may name, and only from the operator's allow-list.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Path, UploadFile
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from starlette.concurrency import run_in_threadpool

from interfaces.routes.common import Services, services, signed_in
from interfaces.runs import LaunchError
from tunefleet.bench import service as benchmarking
from tunefleet.bench.metrics import TASKS
from tunefleet.db import Caller
from tunefleet.validation import MAX_ID

router = APIRouter(tags=["benchmark"])


@router.post("/models", status_code=201)
async def upload_model(
    name: str = Form(max_length=100, description="unique among your models: letters, digits, '_', '.', '-'"),
    task: str = Form(max_length=20, description=" | ".join(TASKS)),
    target: str = Form(max_length=1000, description="the target column of the validation CSV"),
    model: UploadFile = File(description="a fitted scikit-learn estimator saved with skops, or an ONNX model"),
    data: UploadFile = File(description="validation CSV with a header row"),
    caller: Caller = Depends(signed_in),
    svc: Services = Depends(services),
) -> dict:
    """Check the model against its task and validation data, then store both and describe the model."""
    model_bytes, data_bytes = await model.read(), await data.read()
    record = await run_in_threadpool(  # loading and checking a model is CPU work: off the event loop
        benchmarking.upload, svc.db, svc.store, name, model_bytes, data_bytes, target, task, caller.user_id
    )
    return benchmarking.model_view(record)


@router.get("/models")
def list_models(caller: Caller = Depends(signed_in), svc: Services = Depends(services)) -> list[dict]:
    return [benchmarking.model_view(record) for record in benchmarking.list_models(svc.db, caller)]


@router.get("/models/{ref}")
def show_model(
    ref: str = Path(max_length=100), caller: Caller = Depends(signed_in), svc: Services = Depends(services)
) -> dict:
    """A model by id or name."""
    return benchmarking.model_view(benchmarking.get_model(svc.db, ref, caller))


class BenchmarkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | StrictInt = Field(description="the uploaded model's name or id")
    config: dict = Field(default_factory=dict, description="entries, optimisations, batch_sizes, hardware, timing, ...")


@router.post("/benchmarks", status_code=201)
def queue_benchmark(
    request: BenchmarkRequest, caller: Caller = Depends(signed_in), svc: Services = Depends(services)
) -> dict:
    """Queue a benchmark run; it runs as a Prefect flow run (the ``benchmark`` deployment in production)."""
    allowed = svc.settings.platform_allowlist_set if caller.admin else frozenset()
    record = benchmarking.get_model(svc.db, request.model, caller)
    run = benchmarking.create(svc.db, record, request.config, allowed_tests=allowed)
    try:
        svc.launcher.submit("benchmark", run_id=run.id)
    except LaunchError as exc:
        benchmarking.fail(svc.db, run.id, str(exc))
        raise
    return {"run_id": run.id, "status": run.status.value}


@router.get("/benchmarks")
def list_benchmarks(
    model: str | None = None, caller: Caller = Depends(signed_in), svc: Services = Depends(services)
) -> list[dict]:
    model_id = benchmarking.get_model(svc.db, model, caller).id if model else None
    runs = benchmarking.list(svc.db, model_id, caller=caller)
    return [benchmarking.view(svc.db, run, with_cells=False) for run in runs]


@router.get("/benchmarks/{run_id}")
def show_benchmark(
    run_id: int = Path(ge=1, le=MAX_ID), caller: Caller = Depends(signed_in), svc: Services = Depends(services)
) -> dict:
    """A run with every cell: measured (metrics), skipped or failed (reason)."""
    return benchmarking.view(svc.db, benchmarking.get(svc.db, run_id, caller))
