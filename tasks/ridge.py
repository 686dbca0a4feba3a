"""Prefect tasks around the ridge core: status changes, data loading, CV, artifacts."""

from __future__ import annotations

import time

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.context import get_run_context

from blocks.context import artifact_store, current_settings, database
from tasks.retries import DATA, RECORDS
from tunefleet.ridge import service as ridge
from tunefleet.ridge.tables import RidgeModel
from tunefleet.storage import read_data


@task(**RECORDS)
def queue_from_uri(data_uri: str, params: ridge.TrainParams) -> int:
    settings = current_settings()
    return ridge.create_from_uri(database(settings), settings, data_uri, params).id


@task(**RECORDS)
def start_training(model_id: int) -> RidgeModel:
    flow_run = get_run_context().task_run.flow_run_id
    return ridge.start(database(), model_id, str(flow_run) if flow_run else None)


@task(**DATA)
def load_training_data(model: RidgeModel) -> ridge.TrainingData:
    began, settings = time.perf_counter(), current_settings()
    data = ridge.load_training_data(database(settings), settings, model)
    get_run_logger().info(
        "read %d rows × %d features in %.2f s", len(data.y), len(data.features), time.perf_counter() - began
    )
    return data


@task
def cross_validate(model: RidgeModel, data: ridge.TrainingData):
    began = time.perf_counter()
    result = ridge.cross_validate(model, data)
    get_run_logger().info(
        "cross-validated %d L2 coefficients over %d folds in %.2f s",
        len(model.l2_coef),
        model.n_folds,
        time.perf_counter() - began,
    )
    return result


@task(**RECORDS)
def store_model(model: RidgeModel, data: ridge.TrainingData, result) -> RidgeModel:
    """Artifact first, then the record: a record never points at a missing artifact."""
    document = ridge.model_document(model, data.features, result)
    uri = ridge.store_artifact(artifact_store(), model, document, result)
    return ridge.finish(database(), model.id, document, result, uri)


@task(**RECORDS)
def fail_training(model_id: int, reason: str) -> RidgeModel:
    return ridge.fail(database(), model_id, reason)


@task
def publish_cv_table(model: RidgeModel) -> None:
    create_table_artifact(
        key=f"ridge-model-{model.id}-cv",
        table=[
            {
                "l2_coef": row["param_value"],
                "mean_mse": float(f"{row['mean_mse']:.6g}"),
                "best": "best" if row["param_value"] == model.best_alpha else "",
            }
            for row in model.cv_results
        ],  # fmt: skip
        description=f"Ridge model {model.id}: mean MSE per L2 coefficient (best {model.best_alpha})",
    )


@task(**DATA)
def predict_from_uri(model_id: int, data_uri: str) -> tuple[RidgeModel, list[float]]:
    settings = current_settings()
    model = ridge.get(database(settings), model_id)
    return model, ridge.predict(model, read_data(data_uri, settings))


@task(**RECORDS)
def store_predictions(model: RidgeModel, predictions: list[float], run_id: str) -> str:
    table = "\n".join([model.target, *map(repr, predictions)]) + "\n"
    return artifact_store().put_bytes(f"predictions/ridge/{model.id}/{run_id}.csv", table.encode())
