"""The HTTP API (FastAPI). Every response is JSON; every error is ``{"error": "..."}``."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from interfaces.launch import LaunchError, launcher_for
from tasks.context import artifact_store, current_settings, database
from tunefleet import ridge_service
from tunefleet.records import RecordNotFound, StatusConflict
from tunefleet.ridge import RidgeInputError
from tunefleet.settings import Settings
from tunefleet.storage import ArtifactNotFound
from tunefleet.tabular import TabularError

log = logging.getLogger(__name__)


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


def create_app(settings: Settings | None = None, launcher=None) -> FastAPI:
    settings = settings or current_settings()
    db = database(settings)
    store = artifact_store(settings)
    launcher = launcher or launcher_for(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        launcher.recover(db)
        yield
        launcher.shutdown()

    app = FastAPI(title="tunefleet", description="Ridge regression training and prediction", lifespan=lifespan)
    _install_error_handlers(app)

    @app.post("/train", status_code=201)
    def train(request: TrainRequest) -> dict:
        """Store the data and queue a model; training runs as a Prefect flow run."""
        if request.data is not None:
            model = ridge_service.submit_csv(db, store, request.data, request.params())
        else:
            model = ridge_service.submit_uri(db, settings, request.data_uri, request.params())
        try:
            launcher.train(model.id)
        except LaunchError as exc:
            ridge_service.fail(db, model.id, str(exc))
            raise
        return {"model_id": model.id, "status": model.status.value}

    @app.get("/model/{model_id}")
    def show(model_id: int) -> dict:
        return ridge_service.view(db.ridge_model(model_id))

    @app.post("/model/{model_id}/predict")
    def predict(model_id: int, request: PredictRequest) -> dict:
        if request.model_id is not None and request.model_id != model_id:
            raise RidgeInputError(f"model_id in the body ({request.model_id}) differs from the path ({model_id})")
        return {"result": ridge_service.predict(db.ridge_model(model_id), request.data)}

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    return app


_STATUS_BY_ERROR = [
    (RecordNotFound, 404),
    (StatusConflict, 409),
    (TabularError, 422),
    (RidgeInputError, 422),
    (ArtifactNotFound, 422),
    (LaunchError, 503),
]


def _install_error_handlers(app: FastAPI) -> None:
    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse(status_code=status, content={"error": message})

    for exc_type, status in _STATUS_BY_ERROR:
        app.add_exception_handler(exc_type, lambda _r, exc, status=status: error(status, str(exc)))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        if any(p["type"] == "json_invalid" for p in problems):
            return error(400, f"request body is not valid JSON: {problems[0].get('ctx', {}).get('error', '')}".strip())
        return error(422, "; ".join(_describe(p) for p in problems))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error(500, f"internal error: {type(exc).__name__}")


def _describe(problem: dict) -> str:
    where = ".".join(str(part) for part in problem["loc"] if part != "body")
    message = problem["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
