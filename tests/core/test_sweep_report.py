"""Sweep reports: JSON, CSV and HTML that parse, a real PNG, the markdown summary, the best trial."""

from __future__ import annotations

import base64
import io
import json
import math
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from tests.support.paths import EXAMPLES
from tunefleet.space import Space
from tunefleet.sweep import report
from tunefleet.sweep.report import ReportError
from tunefleet.sweep.trainables import TrialError, load_trainable, run_trial

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MLP_SPACE = Space.from_hpogrid(
    {
        "hidden": {"method": "categorical", "dimension": {"categories": [32, 64, 128]}},
        "batchsize": {"method": "categorical", "dimension": {"categories": [32, 64, 128, 256, 512]}},
        "lr": {"method": "loguniform", "dimension": {"low": 4.5e-05, "high": 1.83e-2}},
        "beta": {"method": "uniform", "dimension": {"low": 0.5, "high": 1.0}},
    }
)


@pytest.fixture(scope="module")
def mlp_trials() -> list[dict]:
    """Real trials of the seed's third example (the MLP on digits), one of them failing."""
    trainable = load_trainable({"script": "mlp_classifier.py", "model": "mlp_classifier"}, EXAMPLES, metric="accuracy")
    trials = []
    for i, config in enumerate(MLP_SPACE.random(6, seed=3)):
        outcome = run_trial(trainable, {**config, "epochs": 2})
        trials.append(
            {
                "trial_id": f"mlp_{i:05d}",
                "config": config,
                "status": "TERMINATED",
                "history": outcome.history,
                "metrics": outcome.metrics,
                "error": None,
            }
        )
    try:
        run_trial(trainable, {"hidden": 0, "batchsize": 32, "lr": 1e-3, "beta": 0.9})
    except TrialError as exc:
        error = str(exc)
    trials.append(
        {
            "trial_id": "mlp_00006",
            "config": {"hidden": 0, "batchsize": 32, "lr": 1e-3, "beta": 0.9},
            "status": "ERROR",
            "history": [],
            "metrics": {},
            "error": error,
        }
    )
    return trials


class _Table(HTMLParser):
    """The cells of the page's tables, row by row."""

    def __init__(self):
        super().__init__()
        self.tables, self.rows, self._cell = 0, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables += 1
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.rows[-1].append(self._cell.strip())
            self._cell = None


def _trial(trial_id, config, value, status="TERMINATED", **extra) -> dict:
    metrics = {} if value is None else {"loss": value, "training_iteration": 3, **extra}
    return {"trial_id": trial_id, "config": config, "status": status, "history": [metrics] * 3, "metrics": metrics}


def test_best_trial_and_summary(mlp_trials):
    best = report.best_trial(mlp_trials, "accuracy", "max")
    values = [t["metrics"].get("accuracy") for t in mlp_trials]
    assert best["metrics"]["accuracy"] == max(v for v in values if v is not None)
    assert report.best_trial(mlp_trials, "loss", "min")["metrics"]["loss"] == min(
        t["metrics"]["loss"] for t in mlp_trials if t["metrics"]
    )
    facts = report.summary(mlp_trials, "accuracy", "max")
    assert facts["n_trials"] == 7 and facts["counts"] == {"TERMINATED": 6, "ERROR": 1}
    assert facts["best"] == {
        "trial_id": best["trial_id"],
        "config": best["config"],
        "value": best["metrics"]["accuracy"],
    }


def test_nan_and_missing_metrics_are_never_best_and_ties_go_to_the_first():
    trials = [
        _trial("a", {"x": 1}, float("nan")),
        _trial("b", {"x": 2}, 2.0),
        _trial("c", {"x": 3}, 2.0),
        _trial("d", {"x": 4}, None, status="ERROR"),
        _trial("e", {"x": 5}, float("inf")),
    ]
    assert report.best_trial(trials, "loss", "min")["trial_id"] == "b"
    assert report.best_trial(trials, "loss", "max")["trial_id"] == "b"
    assert report.best_trial([trials[0], trials[3]], "loss", "min") is None
    assert report.summary([], "loss", "min") == {
        "metric": "loss",
        "mode": "min",
        "n_trials": 0,
        "counts": {},
        "best": None,
    }


def test_json_report_parses_and_is_strict(mlp_trials):
    trials = [*mlp_trials, _trial("nan", {"hidden": 32}, float("nan"), extra=np.float32(1.5))]
    text = report.to_json(trials, "accuracy", "max")
    document = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in strict JSON"))
    assert document["summary"]["n_trials"] == 8
    assert document["summary"]["best"]["trial_id"] == report.best_trial(mlp_trials, "accuracy", "max")["trial_id"]
    assert [t["trial_id"] for t in document["trials"]] == [t["trial_id"] for t in trials]
    assert document["trials"][0]["history"] == json.loads(json.dumps(mlp_trials[0]["history"]))
    assert document["trials"][-1]["metrics"]["loss"] is None and document["trials"][-1]["metrics"]["extra"] == 1.5
    assert "Traceback" in document["trials"][6]["error"]


def test_csv_report_reads_back(mlp_trials):
    frame = pd.read_csv(io.StringIO(report.to_csv(mlp_trials, "accuracy", "max")))
    assert list(frame.columns[:3]) == ["trial_id", "status", "accuracy"]
    assert {"loss", "config/hidden", "config/batchsize", "config/lr", "config/beta", "iterations", "error"} <= set(
        frame.columns
    )
    assert len(frame) == 7 and list(frame["status"]) == ["TERMINATED"] * 6 + ["ERROR"]
    assert frame["accuracy"].iloc[:6].tolist() == pytest.approx([t["metrics"]["accuracy"] for t in mlp_trials[:6]])
    assert frame["config/lr"].iloc[:6].tolist() == pytest.approx([t["config"]["lr"] for t in mlp_trials[:6]])
    assert frame["iterations"].iloc[:6].tolist() == [2] * 6
    assert frame["error"].iloc[6].startswith("ValueError: hidden_layer_sizes must be > 0")  # the exception's line
    assert math.isnan(frame["accuracy"].iloc[6])
    # only the named metrics, when asked
    narrow = pd.read_csv(io.StringIO(report.to_csv(mlp_trials, "accuracy", extra_metrics=[])))
    assert "loss" not in narrow.columns and "accuracy" in narrow.columns


def test_nested_configs_are_flattened_and_lists_kept_as_json():
    trials = [_trial("a", {"opt": {"name": "adam", "lr": 0.1}, "layers": [32, 16]}, 1.0)]
    rows = report.rows(trials, "loss")
    assert rows[0]["config/opt/name"] == "adam" and rows[0]["config/opt/lr"] == 0.1
    assert rows[0]["config/layers"] == "[32, 16]"


def test_html_report_holds_the_table_and_the_plot(mlp_trials):
    page = report.to_html(mlp_trials, "accuracy", "max", title="MNIST <cnn>", log_axes=report.log_axes_of(MLP_SPACE))
    assert page.startswith("<!DOCTYPE html>") and "<title>MNIST &lt;cnn&gt;</title>" in page
    found = re.search(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)">', page)
    assert found and base64.b64decode(found.group(1)).startswith(PNG_SIGNATURE)
    table = _Table()
    table.feed(page)
    assert table.tables == 1 and len(table.rows) == 1 + 7  # the header and a row per trial
    assert table.rows[0][:3] == ["trial_id", "status", "accuracy"] and "config/lr" in table.rows[0]
    assert [row[0] for row in table.rows[1:]] == [t["trial_id"] for t in mlp_trials]
    best = report.best_trial(mlp_trials, "accuracy", "max")
    assert f"best trial <code>{best['trial_id']}</code>" in page and "6 trials" not in page and "7 trials" in page


def test_parallel_coordinates_png(mlp_trials):
    import matplotlib.image

    png = report.parallel_coordinates_png(mlp_trials, "accuracy", "max", log_axes=["lr"])
    assert png.startswith(PNG_SIGNATURE)
    image = matplotlib.image.imread(io.BytesIO(png))
    assert image.shape[1] > image.shape[0] > 300  # a wide figure
    assert image[..., :3].std() > 0.05  # something is drawn
    # categorical and log axes normalised into [0, 1]; automatic log for wide positive ranges
    axes = report._hyperparameter_axes(mlp_trials, set(report.log_axes_of(MLP_SPACE)))
    by_name = {axis.name: axis for axis in axes}
    assert by_name["lr"].log and not by_name["beta"].log and not by_name["hidden"].log
    assert report._Axis("lr", [1e-5, 3e-4, 1e-2], None).log  # a positive range over a factor of 100
    assert not report._Axis("batch", [32, 512], None).log and not report._Axis("x", [-1.0, 1000.0], None).log
    for axis in axes:
        present = [p for p in axis.positions if not math.isnan(p)]
        assert min(present) >= 0.0 and max(present) <= 1.0
    colour = report._Axis("act", ["relu", "tanh", None, "relu"], None)
    assert not colour.numeric and colour.positions[:2] == [0.0, 1.0] and math.isnan(colour.positions[2])
    assert colour.ticks() == [(0.0, "relu"), (1.0, "tanh")]


def test_the_plot_draws_odd_inputs():
    odd = [
        _trial("a", {"act": "relu", "fixed": 1, "flag": True}, 1.0),
        _trial("b", {"act": "tanh", "fixed": 1, "flag": False}, None, status="ERROR"),
    ]
    for trials in (odd, odd[:1], odd[1:], []):
        assert report.parallel_coordinates_png(trials, "loss", "min").startswith(PNG_SIGNATURE)
    assert [a.name for a in report._hyperparameter_axes(odd, None)] == ["act", "flag"]  # the constant is left out


def test_summary_markdown(mlp_trials):
    text = report.summary_markdown(mlp_trials, "accuracy", "max", title="mnist_cnn")
    best = report.best_trial(mlp_trials, "accuracy", "max")
    assert text.startswith("### mnist_cnn: 7 trials, maximise `accuracy`\n")
    assert "| TERMINATED | 6 |" in text and "| ERROR | 1 |" in text
    assert f"**Best trial** `{best['trial_id']}`: `accuracy` = {best['metrics']['accuracy']:.6g}" in text
    assert f"| lr | {best['config']['lr']:.6g} |" in text and f"| hidden | {best['config']['hidden']} |" in text
    empty = report.summary_markdown([_trial("x", {}, None, status="ERROR")], "loss", "min")
    assert "No trial reported `loss`." in empty


@pytest.mark.parametrize(
    "trials, metric, mode, message",
    [
        ([], "loss", "lowest", "mode must be 'min' or 'max', got 'lowest'"),
        ([], "", "min", "metric must be a non-empty name"),
        ([["a"]], "loss", "min", "trial 0 must be a dict, got list"),
        ([{"config": {}}], "loss", "min", "trial 0 has no trial_id"),
        ([{"trial_id": "t", "config": [1]}], "loss", "min", "trial t: config must be a dict, got list"),
    ],
)
def test_malformed_trials_are_refused(trials, metric, mode, message):
    with pytest.raises(ReportError, match=re.escape(message)):
        report.to_json(trials, metric, mode)
