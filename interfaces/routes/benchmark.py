"""Inference benchmark: upload a model with its validation data, queue runs, read results."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from interfaces.routes.common import Services, services
from interfaces.runs import LaunchError
from tunefleet.bench import service as benchmarking
from tunefleet.bench.metrics import TASKS

router = APIRouter(tags=["benchmark"])


@router.post("/models", status_code=201)
async def upload_model(
    name: str = Form(description="a unique name: letters, digits, '_', '.', '-'"),
    task: str = Form(description=" | ".join(TASKS)),
    target: str = Form(description="the target column of the validation CSV"),
    model: UploadFile = File(description="a fitted scikit-learn estimator, pickle or joblib"),
    data: UploadFile = File(description="validation CSV with a header row"),
    svc: Services = Depends(services),
) -> dict:
    """Check the model against its task and validation data, then store both and describe the model."""
    record = benchmarking.upload(svc.db, svc.store, name, await model.read(), await data.read(), target, task)
    return benchmarking.model_view(record)


@router.get("/models")
def list_models(svc: Services = Depends(services)) -> list[dict]:
    return [benchmarking.model_view(record) for record in benchmarking.list_models(svc.db)]


@router.get("/models/{ref}")
def show_model(ref: str, svc: Services = Depends(services)) -> dict:
    """A model by id or name."""
    return benchmarking.model_view(benchmarking.get_model(svc.db, ref))


class BenchmarkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | StrictInt = Field(description="the uploaded model's name or id")
    config: dict = Field(default_factory=dict, description="entries, optimisations, batch_sizes, hardware, timing, ...")


@router.post("/benchmarks", status_code=201)
def queue_benchmark(request: BenchmarkRequest, svc: Services = Depends(services)) -> dict:
    """Queue a benchmark run; it runs as a Prefect flow run (the ``benchmark`` deployment in production)."""
    run = benchmarking.create(svc.db, benchmarking.get_model(svc.db, request.model), request.config)
    try:
        svc.launcher.submit("benchmark", run_id=run.id)
    except LaunchError as exc:
        benchmarking.fail(svc.db, run.id, str(exc))
        raise
    return {"run_id": run.id, "status": run.status.value}


@router.get("/benchmarks")
def list_benchmarks(model: str | None = None, svc: Services = Depends(services)) -> list[dict]:
    model_id = benchmarking.get_model(svc.db, model).id if model else None
    return [benchmarking.view(svc.db, run, with_cells=False) for run in benchmarking.list(svc.db, model_id)]


@router.get("/benchmarks/{run_id}")
def show_benchmark(run_id: int, svc: Services = Depends(services)) -> dict:
    """A run with every cell: measured (metrics), skipped or failed (reason)."""
    return benchmarking.view(svc.db, benchmarking.get(svc.db, run_id))
