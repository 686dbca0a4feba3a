"""Prefect tasks around the ridge core: status changes, data loading, CV, artifacts."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.context import get_run_context

from tasks.context import RECORD_RETRIES, artifact_store, current_settings, database, retry_unless
from tunefleet import ridge_service
from tunefleet.records import RidgeModel
from tunefleet.ridge import RidgeInputError
from tunefleet.storage import ArtifactNotFound, open_uri
from tunefleet.tabular import TabularError

retry_unless_input_error = retry_unless(TabularError, RidgeInputError, ArtifactNotFound)


@task(**RECORD_RETRIES, retry_condition_fn=retry_unless_input_error)
def queue_from_uri(data_uri: str, params: ridge_service.TrainParams) -> int:
    settings = current_settings()
    return ridge_service.submit_uri(database(settings), settings, data_uri, params).id


@task(**RECORD_RETRIES)
def start_training(model_id: int) -> RidgeModel:
    flow_run = get_run_context().task_run.flow_run_id
    return ridge_service.start(database(), model_id, str(flow_run) if flow_run else None)


@task(retries=2, retry_delay_seconds=2, retry_condition_fn=retry_unless_input_error)
def load_training_data(model: RidgeModel) -> ridge_service.TrainingData:
    settings = current_settings()
    return ridge_service.load_training_data(database(settings), settings, model)


@task
def cross_validate(model: RidgeModel, data: ridge_service.TrainingData):
    return ridge_service.cross_validate(model, data)


@task(**RECORD_RETRIES)
def store_model(model: RidgeModel, data: ridge_service.TrainingData, result) -> RidgeModel:
    """Artifact first, then the record: a record never points at a missing artifact."""
    document = ridge_service.model_document(model, data.features, result)
    uri = ridge_service.store_artifact(artifact_store(), model, document, result)
    return ridge_service.succeed(database(), model.id, document, result, uri)


@task(**RECORD_RETRIES)
def fail_training(model_id: int, reason: str) -> RidgeModel:
    return ridge_service.fail(database(), model_id, reason)


@task
def publish_cv_table(model: RidgeModel) -> None:
    create_table_artifact(
        key=f"ridge-model-{model.id}-cv",
        table=[{k: row[k] for k in ("param_value", "mean_mse")} for row in model.cv_results],
        description=f"Ridge model {model.id}: mean MSE per L2 coefficient (best {model.best_alpha})",
    )


@task(retries=2, retry_delay_seconds=2, retry_condition_fn=retry_unless_input_error)
def predict_from_uri(model_id: int, data_uri: str) -> tuple[RidgeModel, list[float]]:
    settings = current_settings()
    model = database(settings).ridge_model(model_id)
    with open_uri(data_uri, settings, "rb") as handle:
        return model, ridge_service.predict(model, handle.read())


@task(**RECORD_RETRIES)
def store_predictions(model: RidgeModel, predictions: list[float], run_id: str) -> str:
    table = "\n".join([model.target, *map(repr, predictions)]) + "\n"
    return artifact_store().put_bytes(f"predictions/ridge/{model.id}/{run_id}.csv", table.encode())
