"""Hardware-aware tuning over HTTP: queue a tuning, follow it, read its Pareto front, pick a candidate.

The problem is checked whole (estimator from the allow-list, hyperparameters, serving choices
from the registry, data under the data roots, each choice against the estimator) before anything
is stored; then the tuning runs as a Prefect flow run: the ``hw-tuning`` deployment in production
(``TUNEFLEET_HW_TUNING_DEPLOYMENT``), a job of this process otherwise. Every record it makes —
the experiment, the candidate models, their benchmark runs — belongs to the caller.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints
from starlette.concurrency import run_in_threadpool

from interfaces.routes.common import Services, services, signed_in
from interfaces.runs import LaunchError
from tunefleet.bench.registry import HARDWARE, MAX_BATCH
from tunefleet.bo.outcomes import MAX_CONSTRAINTS
from tunefleet.db import Caller
from tunefleet.hwtune import service as tunings
from tunefleet.hwtune.problem import MAX_SERVING, HwProblem
from tunefleet.space import MAX_VARIABLES
from tunefleet.validation import MAX_ID

router = APIRouter(tags=["hardware-aware tuning"])

Text = Annotated[str, StringConstraints(max_length=200)]


class NewTuning(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="letters, digits, '_', '.', '-'")
    estimator: str = Field(max_length=100, description="sklearn:RandomForestClassifier, ... (the allow-list)")
    data_uri: str = Field(max_length=1000, description="the numeric training data, a CSV under a data root")
    target: str = Field(max_length=200, description="the data's target column")
    covars: dict[str, dict[str, Any]] = Field(max_length=MAX_VARIABLES, description="the hyperparameters to tune")
    serving: list[Text] = Field(min_length=1, max_length=MAX_SERVING, description="platform+optimisation choices")
    fixed: dict[str, Any] | None = Field(default=None, max_length=MAX_VARIABLES, description="hyperparameters set")
    batch_size: StrictInt = Field(default=1, ge=1, le=MAX_BATCH, description="latency is measured at this batch")
    hardware: str = Field(default="cpu", max_length=20, description=" | ".join(HARDWARE))
    metric: str | None = Field(default=None, max_length=20, description="accuracy, f1, ..., mse, r2")
    objectives: list[Text] | None = Field(default=None, max_length=3, description="the metric, latency_ms, size_bytes")
    constraints: list[Text] | None = Field(default=None, max_length=MAX_CONSTRAINTS, description="latency_ms <= 2")
    validation_fraction: float = Field(default=0.25, description="rows held out to judge and time candidates")
    timing: dict[str, Any] | None = Field(default=None, max_length=10, description="budget_s, warmup_s, rounds, ...")
    iterations: StrictInt = Field(default=10, ge=1, le=tunings.MAX_ITERATIONS, description="rounds")
    batch: StrictInt = Field(default=2, ge=1, le=tunings.MAX_BATCH, description="candidates per round")
    initial_points: StrictInt = Field(default=5, ge=1, le=1000, description="guess + Sobol points before the GP")
    seed: StrictInt = Field(default=0, ge=0, le=2**32 - 1)


class Pick(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_latency_ms: float | None = Field(default=None, gt=0, description="the latency bound at the batch size")
    name: str | None = Field(default=None, max_length=100, description="the stored model's name")


TuningId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("/hw-tunings", status_code=201)
async def queue_tuning(
    request: NewTuning, caller: Caller = Depends(signed_in), svc: Services = Depends(services)
) -> dict:
    """Check and store a tuning, then run it (a Prefect flow run); its record at once."""
    search = request.model_dump(include={"name", "seed", "initial_points", "iterations", "batch"})
    fields = request.model_dump(exclude={*search, "name"}, exclude_none=True)
    problem = HwProblem.parse(**fields)
    here = svc.launcher.runs_here("hw-tuning")
    record = await run_in_threadpool(  # reading the data and training the serving check's probe: off the loop
        tunings.create, svc.db, svc.store, problem, tunings.Settings(**search), svc.settings, caller.user_id, here
    )
    try:
        svc.launcher.submit("hw-tuning", tuning=str(record.id), iterations=request.iterations, batch=request.batch)
    except LaunchError as exc:
        tunings.fail(svc.db, record.id, str(exc))
        raise
    return tunings.view(svc.db, record)


@router.get("/hw-tunings")
def list_tunings(caller: Caller = Depends(signed_in), svc: Services = Depends(services)) -> list[dict]:
    return [tunings.view(svc.db, record) for record in tunings.list(svc.db, caller)]


@router.get("/hw-tunings/{tuning_id}")
def show_tuning(tuning_id: TuningId, caller: Caller = Depends(signed_in), svc: Services = Depends(services)) -> dict:
    """The tuning: its problem, status, trial counts, Pareto front (each point's model and run) and picks."""
    return tunings.view(svc.db, tunings.get(svc.db, tuning_id, caller))


@router.post("/hw-tunings/{tuning_id}/pick", status_code=201)
async def pick(
    tuning_id: TuningId, request: Pick, caller: Caller = Depends(signed_in), svc: Services = Depends(services)
) -> dict:
    """Store the front's best point on the metric under ``max_latency_ms`` as one of your models."""
    record = tunings.get(svc.db, tuning_id, caller)
    return await run_in_threadpool(tunings.pick, svc.db, svc.store, record, request.max_latency_ms, request.name)
