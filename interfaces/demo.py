"""``tunefleet demo``: the ridge service end to end on a dataset that ships with scikit-learn."""

from __future__ import annotations

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

from blocks.context import artifact_store, current_settings, database
from interfaces.runs import Launcher
from tunefleet.db.columns import Status
from tunefleet.ridge import service as ridge_service


def run_demo() -> int:
    console = Console()
    settings = current_settings()
    db, store = database(settings), artifact_store(settings)
    console.print(f"records: [bold]{settings.database}[/]  artifacts: [bold]{settings.artifacts}[/]")

    frame = load_diabetes(as_frame=True).frame  # 442 rows, 10 features, target "target"
    params = ridge_service.TrainParams("target", n_folds=5, l2_coef=[0.001, 0.01, 0.1, 1.0, 10.0, 100.0])
    model = ridge_service.create(db, store, frame.to_csv(index=False), params)
    console.print(f"queued ridge model {model.id}; training it as a Prefect flow run ...")
    launcher = Launcher()
    launcher.submit("ridge", model_id=model.id)
    launcher.wait()
    model = ridge_service.get(db, model.id)
    if model.status is not Status.succeeded:
        console.print(f"[red]training failed:[/] {model.error}")
        return 1

    table = Table(title=f"ridge model {model.id}: 5-fold CV")
    table.add_column("L2 coefficient", justify="right")
    table.add_column("mean MSE", justify="right")
    for row in model.cv_results:
        best = " (best)" if row["param_value"] == model.best_alpha else ""
        table.add_row(f"{row['param_value']:g}{best}", f"{row['mean_mse']:.2f}")
    console.print(table)

    # Predict with the columns in reverse order: the service matches them by name.
    features = model.model["features"]
    sample = frame[list(reversed(features))].head(5)
    predictions = ridge_service.predict(model, sample.to_csv(index=False))
    reference = Ridge(alpha=model.best_alpha).fit(frame[features], frame["target"]).predict(frame[features].head(5))
    console.print(f"predictions for 5 rows (columns reversed): {np.round(predictions, 2).tolist()}")
    console.print(
        f"largest difference from scikit-learn Ridge: {np.max(np.abs(np.array(predictions) - reference)):.2e}"
    )
    console.print(f"model artifact: {model.artifact_uri}")
    return 0
