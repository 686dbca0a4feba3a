"""Ridge regression: train, inspect, predict (the seed's /train, /model/ID, /model/ID/predict)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from interfaces.routes.common import Services, services
from interfaces.runs import LaunchError
from tunefleet.ridge import service as ridge_service
from tunefleet.ridge.cv import RidgeInputError

router = APIRouter(tags=["ridge"])


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: str | None = Field(default=None, description="CSV text with a header row")
    data_uri: str | None = Field(default=None, description="path or s3:// URI of a CSV too big to send")
    target: str = Field(min_length=1)
    n_folds: StrictInt = 5
    fit_intercept: StrictBool = True
    l2_coef: list[float] = Field(default=[1.0], description="L2 coefficients (alphas) to cross-validate")
    shuffle: StrictBool = False
    random_state: StrictInt | None = None

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
    model_id: StrictInt | None = Field(default=None, description="optional; must match the path if given")


@router.post("/train", status_code=201)
def train(request: TrainRequest, svc: Services = Depends(services)) -> dict:
    """Store the data and queue a model; training runs as a Prefect flow run."""
    if request.data is not None:
        model = ridge_service.create(svc.db, svc.store, request.data, request.params())
    else:
        model = ridge_service.create_from_uri(svc.db, svc.settings, request.data_uri, request.params())
    try:
        svc.launcher.submit("ridge", model_id=model.id)
    except LaunchError as exc:
        ridge_service.fail(svc.db, model.id, str(exc))
        raise
    return {"model_id": model.id, "status": model.status.value}


@router.get("/model/{model_id}")
def show(model_id: int, svc: Services = Depends(services)) -> dict:
    return ridge_service.view(ridge_service.get(svc.db, model_id))


@router.post("/model/{model_id}/predict")
def predict(model_id: int, request: PredictRequest, svc: Services = Depends(services)) -> dict:
    if request.model_id is not None and request.model_id != model_id:
        raise RidgeInputError(f"model_id in the body ({request.model_id}) differs from the path ({model_id})")
    return {"result": ridge_service.predict(ridge_service.get(svc.db, model_id), request.data)}
