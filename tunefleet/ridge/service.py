"""Ridge training jobs and predictions: what the flows, the HTTP API and the CLI share.

Verbs: ``create`` (inline CSV) / ``create_from_uri``, ``get``, ``list``, ``start``,
``finish`` / ``fail``, ``view``, and ``predict``.

A training job is a ``RidgeModel`` record. It is created ``queued`` once its request has
been validated and its data stored; a flow run then moves it to ``running`` and to
``succeeded`` (model, CV results and artifact written in one update) or ``failed`` (with
the reason). Nothing here knows about Prefect.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field

import numpy as np
from sqlmodel import select

from tunefleet import tabular
from tunefleet.db import OPERATOR, Caller, Database, StatusConflict, visible
from tunefleet.db.columns import Status, utcnow
from tunefleet.ridge import cv
from tunefleet.ridge.tables import Dataset, RidgeModel
from tunefleet.storage import ArtifactStore, read_data, read_header

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainParams:
    target: str
    n_folds: int = 5
    l2_coef: list[float] = field(default_factory=lambda: [1.0])
    fit_intercept: bool = True
    shuffle: bool = False
    random_state: int | None = None


@dataclass(frozen=True)
class TrainingData:
    X: np.ndarray
    y: np.ndarray
    features: list[str]


def create(
    db: Database, store: ArtifactStore, data: str | bytes, params: TrainParams, owner_id: int | None = None
) -> RidgeModel:
    """Validate inline CSV and the parameters, store the data, queue a model of ``owner_id``."""
    frame = tabular.read_csv(data)
    X, _, _ = tabular.training_matrix(frame, params.target)
    cv.validate_params(len(X), params.n_folds, params.l2_coef)
    raw = data.encode() if isinstance(data, str) else data
    digest = hashlib.sha256(raw).hexdigest()
    uri = store.put_bytes(f"datasets/{digest}.csv", raw)  # content-addressed: same bytes, one copy
    dataset = db.add(Dataset(owner_id=owner_id, uri=uri, sha256=digest, n_rows=len(frame), columns=[*frame.columns]))
    return _queue(db, dataset, params)


def create_from_uri(db: Database, settings, uri: str, params: TrainParams, owner_id: int | None = None) -> RidgeModel:
    """Queue a model on data referenced by URI (too big for a request); only its header is read now."""
    cv.validate_params(None, params.n_folds, params.l2_coef)  # the row count is known once the flow reads it
    header = read_header(uri, settings)
    columns = [name.strip() for name in header.strip().split(",")] if header.strip() else []
    if params.target not in columns:
        raise tabular.TabularError(f"target column {params.target!r} is not in the header of {uri}")
    dataset = db.add(Dataset(owner_id=owner_id, uri=uri, columns=columns))
    return _queue(db, dataset, params)


def _queue(db: Database, dataset: Dataset, params: TrainParams) -> RidgeModel:
    model = db.add(
        RidgeModel(
            owner_id=dataset.owner_id,
            dataset_id=dataset.id,
            target=params.target,
            n_folds=params.n_folds,
            l2_coef=[float(a) for a in params.l2_coef],
            fit_intercept=params.fit_intercept,
            shuffle=params.shuffle,
            random_state=params.random_state,
        )
    )
    log.info("queued ridge model %s on dataset %s", model.id, dataset.id)
    return model


def get(db: Database, model_id: int, caller: Caller = OPERATOR) -> RidgeModel:
    return db.get(RidgeModel, model_id, caller)


def list(  # noqa: A001 (the verb)
    db: Database, status: set[Status] | None = None, caller: Caller = OPERATOR
) -> list[RidgeModel]:
    """The models ``caller`` may see (with ``status``: those in it), by id."""
    query = visible(select(RidgeModel).order_by(RidgeModel.id), RidgeModel, caller)
    if status:
        query = query.where(RidgeModel.status.in_(status))
    with db.session() as session:
        return session.exec(query).all()


def start(db: Database, model_id: int, flow_run_id: str | None = None) -> RidgeModel:
    """Move a model to running; a run interrupted earlier (running) or failed may start again."""
    return db.transition(
        RidgeModel,
        model_id,
        {Status.queued, Status.running, Status.failed},
        status=Status.running,
        started_at=utcnow(),
        finished_at=None,
        error=None,
        flow_run_id=flow_run_id,
    )


def load_training_data(db: Database, settings, model: RidgeModel) -> TrainingData:
    dataset = db.get(Dataset, model.dataset_id)
    frame = tabular.read_csv(read_data(dataset.uri, settings))
    X, y, features = tabular.training_matrix(frame, model.target)
    return TrainingData(X, y, features)


def cross_validate(model: RidgeModel, data: TrainingData) -> cv.RidgeCVResult:
    return cv.ridge_cv(
        data.X,
        data.y,
        model.l2_coef,
        n_folds=model.n_folds,
        fit_intercept=model.fit_intercept,
        shuffle=model.shuffle,
        random_state=model.random_state,
    )


def model_document(model: RidgeModel, features: list[str], result: cv.RidgeCVResult) -> dict:
    """The fitted model as stored: intercept and coefficients by feature name."""
    return {
        "target": model.target,
        "features": features,
        "intercept": result.intercept,
        "coef": {name: float(w) for name, w in zip(features, result.coef)},
        "best_alpha": result.best_alpha,
    }


def store_artifact(store: ArtifactStore, model: RidgeModel, document: dict, result: cv.RidgeCVResult) -> str:
    payload = {**document, "cv_results": result.cv_results(), "fold_sizes": result.fold_sizes}
    return store.put_bytes(f"models/ridge/{model.id}.json", json.dumps(payload, indent=2).encode())


def finish(db: Database, model_id: int, document: dict, result: cv.RidgeCVResult, artifact_uri: str) -> RidgeModel:
    """Write the model, its CV results and artifact URI together with the final status."""
    return db.transition(
        RidgeModel,
        model_id,
        {Status.running},
        status=Status.succeeded,
        finished_at=utcnow(),
        model=document,
        cv_results=result.cv_results(),
        best_alpha=result.best_alpha,
        artifact_uri=artifact_uri,
    )


def fail(db: Database, model_id: int, reason: str) -> RidgeModel:
    return db.transition(
        RidgeModel,
        model_id,
        {Status.queued, Status.running},
        status=Status.failed,
        finished_at=utcnow(),
        error=reason,
        model=None,
        cv_results=None,
        best_alpha=None,
        artifact_uri=None,
    )


def predict(model: RidgeModel, data: str | bytes) -> list[float]:
    """Predictions in row order; columns are matched to the model's features by name."""
    if model.status is not Status.succeeded:
        raise StatusConflict(f"model {model.id} is {model.status.value}; only a succeeded model can predict")
    features = model.model["features"]
    X = tabular.feature_matrix(tabular.read_csv(data), features)
    coef = np.array([model.model["coef"][name] for name in features])
    predictions = cv.predict(X, coef, model.model["intercept"])
    if not np.isfinite(predictions).all():
        raise tabular.TabularError("predictions overflow float64 for these rows; their values are too large")
    return predictions.tolist()


def view(model: RidgeModel, internal: bool = False) -> dict:
    """The JSON shape of a model for the API and CLI (the seed's, plus status and timings); the
    artifact's URI only ``internal``ly (the CLI): API answers name no server paths."""
    document = None
    if model.model is not None:
        document = {"intercept": model.model["intercept"], "coef": model.model["coef"]}
    return {
        "model_id": model.id,
        "status": model.status.value,
        "error": model.error,
        "target": model.target,
        "n_folds": model.n_folds,
        "fit_intercept": model.fit_intercept,
        "l2_coef": model.l2_coef,
        "best_alpha": model.best_alpha,
        "model": document,
        "cv_results": model.cv_results or [],
        "flow_run_id": model.flow_run_id,
        "created_at": model.created_at.isoformat() if model.created_at else None,
        "started_at": model.started_at.isoformat() if model.started_at else None,
        "finished_at": model.finished_at.isoformat() if model.finished_at else None,
        **({"artifact_uri": model.artifact_uri} if internal else {}),
    }
