"""Ask / tell Bayesian optimisation over HTTP, in the seed's shapes (JWT-authenticated)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from interfaces.routes.common import Services, services, signed_in
from tunefleet.bo import pandas_json
from tunefleet.bo import service as experiments
from tunefleet.bo.outcomes import MAX_CONSTRAINTS, MAX_OBJECTIVES
from tunefleet.db import Caller
from tunefleet.space import MAX_VARIABLES

router = APIRouter(tags=["experiments"])

ConstraintText = Annotated[str, StringConstraints(max_length=300)]


class NewExperiment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    covars: dict[str, dict[str, Any]] = Field(
        max_length=MAX_VARIABLES, description="{name: {vtype: int|cont|cat, guess, min, max, options}}"
    )
    model_type: str = Field(default="SingleTaskGP", max_length=100)
    acq_func: str = Field(default="ExpectedImprovement", max_length=100)
    maximize: StrictBool = Field(default=True, description="false to minimise the response")
    responses: dict[str, Any] | None = Field(
        default=None,
        max_length=MAX_OBJECTIVES,
        description="several objectives: {name: {direction: maximize|minimize, reference?: number}}",
    )
    constraints: list[ConstraintText] | None = Field(
        default=None, max_length=MAX_CONSTRAINTS, description='outcome constraints: ["latency_ms <= 5", ...]'
    )
    seed: StrictInt = Field(default=0, ge=0, le=2**32 - 1)
    initial_points: StrictInt = Field(default=5, ge=1, le=1000, description="guess + Sobol points before the GP")
    warm_start: str | None = Field(
        default=None, max_length=200,
        description=f"seed with the complete trials of {experiments.WARM_START_FORMS} that fit this space",
    )  # fmt: skip
    pending_lease_s: StrictInt = Field(
        default=experiments.DEFAULT_LEASE_S, ge=1, le=experiments.MAX_LEASE_S,
        description="seconds an asked point counts as pending (others are asked for other points) until told",
    )  # fmt: skip


class Tell(BaseModel):
    model_config = ConfigDict(extra="forbid")

    covars_tell: Any = Field(description="covariates as pandas to_json (any orient) or JSON rows")
    response_tell: Any = Field(
        description="one 'Response' column (or one column per declared metric) as pandas to_json, or a list of numbers"
    )
    exp_uuid: str | None = Field(default=None, max_length=64, description="optional; must match the path if given")
    trial_ids: list[StrictInt | None] | None = Field(
        default=None, max_length=100_000,
        description="optional: per row, the trial id the ask returned (null: a point nobody asked for)",
    )  # fmt: skip


@router.post("/experiment/new", status_code=201)
def new(body: NewExperiment, caller: Caller = Depends(signed_in), svc: Services = Depends(services)) -> dict:
    spec = experiments.ExperimentSpec(**body.model_dump())
    return experiments.view(svc.db, experiments.create(svc.db, spec, owner_id=caller.user_id, caller=caller))


@router.get("/experiment/ask/{exp_uuid}")
def ask(
    exp_uuid: str,
    n: int = Query(default=1, ge=1, le=experiments.MAX_ASK, description="how many points to propose (q)"),
    caller: Caller = Depends(signed_in),
    svc: Services = Depends(services),
) -> dict:
    exp = experiments.get(svc.db, exp_uuid, caller)
    asked = experiments.ask(svc.db, exp, n)
    return {
        "exp_uuid": exp.uuid,
        "time_updated": experiments.summary(svc.db, exp).time_updated,
        "covars_next_exp": json.dumps([t.covars for t in asked]),  # records orient, as the seed's clients read it
        "trial_ids": [t.id for t in asked],  # to tell with; the points are pending until then or the lease ends
        "lease_until": asked[0].lease_until.isoformat(),
    }


@router.post("/experiment/tell/{exp_uuid}")
def tell(exp_uuid: str, body: Tell, caller: Caller = Depends(signed_in), svc: Services = Depends(services)) -> dict:
    if body.exp_uuid is not None and body.exp_uuid != exp_uuid:
        raise experiments.TellError(f"exp_uuid in the body ({body.exp_uuid}) differs from the path ({exp_uuid})")
    exp = experiments.get(svc.db, exp_uuid, caller)
    points = pandas_json.rows(body.covars_tell, "covars_tell", set(exp.covars))
    responses = experiments.told_responses(exp, body.response_tell)
    told = experiments.tell(svc.db, exp, points, responses, body.trial_ids)
    result = experiments.summary(svc.db, exp)
    if (declared := experiments.outcomes(exp)).plain:  # one objective ("Response"): the seed's shapes
        column = declared.objectives[0].name
        metrics = [{column: t.response} for t in told]
        best, best_covars = [{column: result.best_response}], [result.covars_best_response]
    else:  # the best rows: the feasible Pareto front
        front = experiments.front(svc.db, exp)
        metrics, best, best_covars = (
            [t.metrics for t in told],
            [p["metrics"] for p in front],
            [p["covars"] for p in front],
        )
    return {
        "exp_uuid": exp.uuid,
        "covars_tell": json.dumps(points),
        "response_tell": json.dumps(metrics),
        "best_response": pandas_json.to_columns_json(best),
        "covars_best_response": pandas_json.to_columns_json(best_covars),
        "covars_sampled_iter": result.n_told,
        "response_sampled_iter": result.n_told,
        "time_updated": result.time_updated,
    }


@router.get("/experiment/{exp_uuid}")
def show(exp_uuid: str, caller: Caller = Depends(signed_in), svc: Services = Depends(services)) -> dict:
    return experiments.view(svc.db, experiments.get(svc.db, exp_uuid, caller), with_trials=True)


@router.get("/experiment/{exp_uuid}/pareto")
def pareto(exp_uuid: str, caller: Caller = Depends(signed_in), svc: Services = Depends(services)) -> dict:
    """The feasible trials no other dominates, and the hypervolume they span from the reference point."""
    return experiments.pareto(svc.db, experiments.get(svc.db, exp_uuid, caller))


@router.get("/experiments")
def mine(caller: Caller = Depends(signed_in), svc: Services = Depends(services)) -> list[dict]:
    return [experiments.view(svc.db, exp) for exp in experiments.list(svc.db, caller)]
