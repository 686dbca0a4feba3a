"""Ridge regression: train, inspect, predict (the seed's /train, /model/ID, /model/ID/predict)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from interfaces.routes.common import Services, ridge_caller, services
from interfaces.runs import LaunchError
from tunefleet.db import Caller
from tunefleet.errors import AuthError
from tunefleet.ridge import service as ridge_service
from tunefleet.ridge.cv import MAX_ALPHAS, RidgeInputError
from tunefleet.validation import MAX_ID

ModelId = Path(ge=1, le=MAX_ID, description="the model's id")

router = APIRouter(tags=["ridge"])


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: str | None = Field(default=None, description="CSV text with a header row")
    data_uri: str | None = Field(
        default=None,
        max_length=2048,
        description="s3:// URI (or path) in this service's data store of a CSV too big to send",
    )
    target: str = Field(min_length=1, max_length=1000)
    n_folds: StrictInt = 5
    fit_intercept: StrictBool = True
    l2_coef: list[float] = Field(
        default=[1.0], description=f"L2 coefficients (alphas) to cross-validate, at most {MAX_ALPHAS}"
    )
    shuffle: StrictBool = False
    random_state: StrictInt | None = Field(default=None, ge=0, le=2**32 - 1, description="KFold's seed")

    @model_validator(mode="after")
    def one_data_source(self):
        if (self.data is None) == (self.data_uri is None):
            raise ValueError("give exactly one of data (CSV text) and data_uri")
        return self

    def params(self) -> ridge_service.TrainParams:
        return ridge_service.TrainParams(
            self.target, self.n_folds, self.l2_coef, self.fit_intercept, self.shuffle, self.random_state
        )


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: str = Field(description="CSV text; columns are matched to the model's features by name")
    model_id: StrictInt | None = Field(default=None, ge=1, le=MAX_ID, description="optional; must match the path")


@router.post("/train", status_code=201)
def train(request: TrainRequest, caller: Caller = Depends(ridge_caller), svc: Services = Depends(services)) -> dict:
    """Store the data and queue a model; training runs as a Prefect flow run."""
    if request.data is not None:
        model = ridge_service.create(svc.db, svc.store, request.data, request.params(), caller.user_id)
    elif caller.anonymous:
        raise AuthError("data_uri needs a signed-in user; without a token, send the CSV inline as data")
    else:
        model = ridge_service.create_from_uri(svc.db, svc.settings, request.data_uri, request.params(), caller.user_id)
    try:
        svc.launcher.submit("ridge", model_id=model.id)
    except LaunchError as exc:
        ridge_service.fail(svc.db, model.id, str(exc))
        raise
    return {"model_id": model.id, "status": model.status.value}


@router.get("/model/{model_id}")
def show(model_id: int = ModelId, caller: Caller = Depends(ridge_caller), svc: Services = Depends(services)) -> dict:
    return ridge_service.view(ridge_service.get(svc.db, model_id, caller))


@router.post("/model/{model_id}/predict")
def predict(
    request: PredictRequest,
    model_id: int = ModelId,
    caller: Caller = Depends(ridge_caller),
    svc: Services = Depends(services),
) -> dict:
    if request.model_id is not None and request.model_id != model_id:
        raise RidgeInputError(f"model_id in the body ({request.model_id}) differs from the path ({model_id})")
    return {"result": ridge_service.predict(ridge_service.get(svc.db, model_id, caller), request.data)}
