"""Ridge regression flows: k-fold CV training and batch prediction."""

from __future__ import annotations

import posixpath

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from flows import names
from tasks import ridge as ridge_tasks
from tunefleet.errors import InvalidInput
from tunefleet.ridge import service as ridge


@flow(name="ridge-cv", flow_run_name=names.ridge)
def ridge_cv(
    model_id: int | None = None,
    data_uri: str | None = None,
    target: str | None = None,
    n_folds: int = 5,
    l2_coef: list[float] = [1.0],  # noqa: B006 (Prefect shows defaults; never mutated)
    fit_intercept: bool = True,
    shuffle: bool = False,
    random_state: int | None = None,
) -> dict:
    """Train a queued ridge model (``model_id``), or queue and train one on ``data_uri``.

    Status moves queued → running → succeeded | failed; a failure records its reason and
    leaves no partial model.

    Args:
        model_id: a model the API or CLI queued; leave empty to train one on ``data_uri``.
        data_uri: training CSV with a header row (the artifact store, or a root of TUNEFLEET_DATA_ROOTS).
        target: the column to predict (with ``data_uri``).
        n_folds: k of the k-fold cross-validation (2 to 1000, at most the rows).
        l2_coef: the L2 coefficients (alphas) to compare; the best by mean MSE is kept.
        fit_intercept: fit an intercept (otherwise the data is assumed centred).
        shuffle: shuffle the rows before splitting them into folds.
        random_state: the shuffle's seed (0 to 2^32-1), for repeatable folds.
    """
    logger = get_run_logger()
    if model_id is None:
        if not (data_uri and target):
            raise InvalidInput("give model_id, or data_uri and target")
        params = ridge.TrainParams(target, n_folds, list(l2_coef), fit_intercept, shuffle, random_state)
        model_id = ridge_tasks.queue_from_uri(data_uri, params)
    model = ridge_tasks.start_training(model_id)
    source = f" from {posixpath.basename(data_uri)}" if data_uri else ""
    names.label(f"ridge {model.id}: {model.target}{source}", "ridge", f"ridge-model-{model.id}")
    try:
        data = ridge_tasks.load_training_data(model)
        result = ridge_tasks.cross_validate(model, data)
        model = ridge_tasks.store_model(model, data, result)
    except Exception as exc:
        ridge_tasks.fail_training(model_id, f"{type(exc).__name__}: {exc}")
        raise
    ridge_tasks.publish_cv_table(model)
    logger.info("ridge model %s: best alpha %s", model.id, model.best_alpha)
    return ridge.view(model, internal=True)


@flow(name="ridge-predict", flow_run_name=names.ridge_predict)
def ridge_predict(model_id: int, data_uri: str) -> str:
    """Predict every row of the CSV at ``data_uri``; store the predictions, return their URI.

    Args:
        model_id: a trained ridge model.
        data_uri: CSV of rows to predict, with the model's feature columns (any order, by name).
    """
    model, predictions = ridge_tasks.predict_from_uri(model_id, data_uri)
    uri = ridge_tasks.store_predictions(model, predictions, str(flow_run.id or "local"))
    get_run_logger().info("%d predictions of model %s stored at %s", len(predictions), model_id, uri)
    return uri
