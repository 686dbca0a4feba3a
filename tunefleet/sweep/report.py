"""Sweep reports from a list of trials: JSON, CSV, HTML, a parallel-coordinates PNG, markdown.

A trial is a dict::

    {"trial_id": "simple_objective_00003",
     "config": {"height": 13.2, "width": 7.9},               # hyperparameters (nested dicts allowed)
     "status": "TERMINATED",                                  # any string: TERMINATED, ERROR, RUNNING, ...
     "history": [{"loss": 6.4, "training_iteration": 1}, ...],  # every result, in order (optional)
     "metrics": {"loss": 2.4, "training_iteration": 5},       # the last result ({} or None if none)
     "error": None}                                           # the failure's text, if it failed

The best trial is the one whose final ``metrics[metric]`` is the smallest (mode min) or the
largest (mode max) finite number; trials without one are never best.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from tunefleet.bo.outcomes import Outcomes
from tunefleet.errors import InvalidInput
from tunefleet.validation import is_finite, is_real

LOG_METHODS = ("loguniform", "qloguniform", "lognormal", "qlognormal")
LOG_RATIO = 100.0
"""Without a space to say so, a positive numeric axis spanning this factor or more is drawn in log scale."""

_MODES = ("min", "max")


class ReportError(InvalidInput):
    """The trials or the report's arguments are malformed; the message says which."""


# -- reading trials -------------------------------------------------------------------------------
def _check(trials, metric: str, mode: str) -> list[dict]:
    if mode not in _MODES:
        raise ReportError(f"mode must be 'min' or 'max', got {mode!r}")
    if not isinstance(metric, str) or not metric:
        raise ReportError(f"metric must be a non-empty name, got {metric!r}")
    trials = list(trials)
    for i, trial in enumerate(trials):
        if not isinstance(trial, Mapping):
            raise ReportError(f"trial {i} must be a dict, got {type(trial).__name__}")
        if "trial_id" not in trial:
            raise ReportError(f"trial {i} has no trial_id")
        for key in ("config", "metrics"):
            if trial.get(key) is not None and not isinstance(trial[key], Mapping):
                raise ReportError(f"trial {trial['trial_id']}: {key} must be a dict, got {type(trial[key]).__name__}")
    return trials


def metric_value(trial: Mapping, metric: str) -> float | None:
    """The trial's final value of ``metric`` when it is a finite number, else None."""
    value = (trial.get("metrics") or {}).get(metric)
    return float(value) if is_finite(value) else None


def best_trial(trials: Iterable[Mapping], metric: str, mode: str) -> dict | None:
    """The trial with the best final metric (the first of equals), or None if none has one."""
    trials = _check(trials, metric, mode)
    scored = [(metric_value(t, metric), i) for i, t in enumerate(trials)]
    scored = [(v if mode == "min" else -v, i) for v, i in scored if v is not None]
    return dict(trials[min(scored)[1]]) if scored else None


def pareto_trials(trials: Iterable[Mapping], outcomes: Outcomes) -> list[dict]:
    """The trials on the feasible Pareto front of ``outcomes`` (one objective under constraints: the
    best feasible trial), in order; trials missing one of their metrics are never on it."""
    scored = [t for t in trials if all(metric_value(t, name) is not None for name in outcomes.metrics)]
    rows = [{name: metric_value(t, name) for name in outcomes.metrics} for t in scored]
    return [dict(scored[i]) for i in outcomes.pareto(rows)]


def status_counts(trials: Iterable[Mapping]) -> dict[str, int]:
    """How many trials have each status, in order of first appearance."""
    return dict(Counter(str(t.get("status") or "UNKNOWN") for t in trials))


def summary(trials: Iterable[Mapping], metric: str, mode: str) -> dict:
    """``{"metric", "mode", "n_trials", "counts": {status: n}, "best": {"trial_id", "config", "value"} | None}``."""
    trials = _check(trials, metric, mode)
    best = best_trial(trials, metric, mode)
    return {
        "metric": metric,
        "mode": mode,
        "n_trials": len(trials),
        "counts": status_counts(trials),
        "best": None
        if best is None
        else {"trial_id": best["trial_id"], "config": best.get("config") or {}, "value": metric_value(best, metric)},
    }


def json_safe(value):
    """JSON-ready: NaN and infinities as null, numpy values (and other scalars with ``item()``, such as
    torch's) as Python ones, other objects as their text."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [json_safe(v) for v in value]
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return json_safe(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if is_real(value):
        return json_safe(float(value))
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return json_safe(item())
        except (TypeError, ValueError):
            pass
    return str(value)


def _flatten(config: Mapping | None, prefix: str = "") -> dict:
    """Nested config dicts as ``outer/inner`` keys (Ray Tune's convention)."""
    flat = {}
    for key, value in (config or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, f"{name}/"))
        else:
            flat[name] = value
    return flat


def _ordered_keys(dicts: Iterable[Mapping]) -> list[str]:
    keys: dict[str, None] = {}
    for d in dicts:
        keys.update(dict.fromkeys(d))
    return list(keys)


def _cell(value):
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(json_safe(value))
    return value


def _error_line(error) -> str | None:
    """The last non-empty line of an error's text (the exception itself, after any traceback)."""
    if not error:
        return None
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else None


def rows(
    trials: Iterable[Mapping], metric: str, mode: str = "min", extra_metrics: Sequence[str] | None = None
) -> list[dict]:
    """One flat row per trial: trial_id, status, the metric, other final metrics (all of them, or
    ``extra_metrics``), ``config/<name>`` per hyperparameter, iterations, error (its last line)."""
    trials = _check(trials, metric, mode)
    metric_keys = [
        metric,
        *(extra_metrics if extra_metrics is not None else _ordered_keys(t.get("metrics") or {} for t in trials)),
    ]
    metric_keys = list(dict.fromkeys(metric_keys))
    configs = [_flatten(t.get("config")) for t in trials]
    config_keys = _ordered_keys(configs)
    table = []
    for trial, config in zip(trials, configs):
        metrics = trial.get("metrics") or {}
        row = {"trial_id": trial["trial_id"], "status": trial.get("status")}
        row.update({key: _cell(metrics.get(key)) for key in metric_keys})
        row.update({f"config/{key}": _cell(config.get(key)) for key in config_keys})
        history = trial.get("history")
        row["iterations"] = len(history) if history is not None else metrics.get("training_iteration")
        row["error"] = _error_line(trial.get("error"))
        table.append(row)
    return table


def _frame(trials, metric, mode, extra_metrics):
    import pandas as pd

    table = rows(trials, metric, mode, extra_metrics)
    return pd.DataFrame(
        table, columns=list(table[0]) if table else ["trial_id", "status", metric, "iterations", "error"]
    )


# -- the formats ----------------------------------------------------------------------------------
def to_json(trials: Iterable[Mapping], metric: str, mode: str, *, indent: int | None = 2) -> str:
    """``{"summary": summary(...), "trials": [every trial, whole]}`` as strict JSON (NaN → null)."""
    trials = _check(trials, metric, mode)
    document = {"summary": summary(trials, metric, mode), "trials": trials}
    return json.dumps(json_safe(document), indent=indent, allow_nan=False)


def to_csv(
    trials: Iterable[Mapping], metric: str, mode: str = "min", extra_metrics: Sequence[str] | None = None
) -> str:
    """The rows of ``rows`` as CSV text, with a header; text that a spreadsheet would run as a formula
    (a config value, an error line) is neutralised (``tabular.safe_csv``)."""
    from tunefleet.tabular import safe_csv

    return safe_csv(_frame(trials, metric, mode, extra_metrics))


def to_html(
    trials: Iterable[Mapping],
    metric: str,
    mode: str,
    *,
    title: str = "Sweep report",
    extra_metrics: Sequence[str] | None = None,
    log_axes: Iterable[str] | None = None,
    png: bytes | None = None,
) -> str:
    """A standalone page: the summary, the parallel-coordinates plot (embedded PNG; ``png`` when
    it is drawn already) and the table."""
    trials = _check(trials, metric, mode)
    png = png or parallel_coordinates_png(trials, metric, mode, log_axes=log_axes)
    image = base64.b64encode(png).decode("ascii")
    facts = summary(trials, metric, mode)
    counts = ", ".join(f"{html.escape(status)}: {n}" for status, n in facts["counts"].items()) or "none"
    best = facts["best"]
    best_text = (
        f"best trial <code>{html.escape(str(best['trial_id']))}</code>: {html.escape(metric)} = {best['value']:.6g}"
        if best
        else f"no trial reported {html.escape(metric)}"
    )
    table = _frame(trials, metric, mode, extra_metrics).to_html(index=False, na_rep="", border=0, classes="trials")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table.trials {{ border-collapse: collapse; font-size: 0.9em; }}
table.trials th, table.trials td {{ border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }}
img {{ max-width: 100%; }}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p>{facts["n_trials"]} trials ({counts}); {html.escape(mode)}imise {html.escape(metric)}; {best_text}.</p>
<img alt="parallel coordinates of the trials' hyperparameters and {html.escape(metric)}" src="data:image/png;base64,{image}">
{table}
</body>
</html>
"""


def summary_markdown(trials: Iterable[Mapping], metric: str, mode: str, *, title: str | None = None) -> str:
    """Markdown for a Prefect artifact: trials by status, the best trial and its hyperparameters."""
    trials = _check(trials, metric, mode)
    facts = summary(trials, metric, mode)
    lines = [f"### {title or 'Sweep'}: {facts['n_trials']} trials, {mode}imise `{metric}`", ""]
    lines += ["| status | trials |", "|---|---:|"]
    lines += [f"| {_md(status)} | {n} |" for status, n in facts["counts"].items()]
    lines.append("")
    best = facts["best"]
    if best is None:
        lines.append(f"No trial reported `{metric}`.")
        return "\n".join(lines) + "\n"
    lines += [f"**Best trial** `{_md(best['trial_id'])}`: `{metric}` = {best['value']:.6g}", ""]
    config = _flatten(best["config"])
    if config:
        lines += ["| hyperparameter | value |", "|---|---|"]
        lines += [f"| {_md(k)} | {_md(_format(v))} |" for k, v in config.items()]
    return "\n".join(lines) + "\n"


def _md(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _format(value) -> str:
    if is_real(value) and not isinstance(value, int):
        return f"{value:.6g}"
    return json.dumps(json_safe(value)) if isinstance(value, (list, dict)) else str(value)


# -- parallel coordinates ---------------------------------------------------------------------------
def log_axes_of(space) -> list[str]:
    """The variables of a ``tunefleet.space.Space`` drawn on a log axis (the log kinds)."""
    return [v.name for v in space.variables if getattr(v, "method", None) in LOG_METHODS]


class _Axis:
    """One vertical axis: a hyperparameter or the metric, with its values mapped to [0, 1]."""

    def __init__(self, name: str, values: list, log_scale: bool | None):
        self.name = name
        present = [v for v in values if v is not None]
        self.numeric = bool(present) and all(is_finite(v) for v in present)
        if self.numeric:
            low, high = min(present), max(present)
            automatic = low > 0 and high / low >= LOG_RATIO
            self.log = bool(low > 0 and (automatic if log_scale is None else log_scale))
            self.low, self.high = float(low), float(high)
            self.categories: list = []
        else:
            self.log = False
            self.categories = list(dict.fromkeys(_category(v) for v in present))
        self.positions = [self._position(v) for v in values]

    def _position(self, value) -> float:
        if value is None:
            return math.nan
        if not self.numeric:
            if len(self.categories) == 1:
                return 0.5
            return self.categories.index(_category(value)) / (len(self.categories) - 1)
        low, high, value = self.low, self.high, float(value)
        if self.log:
            low, high, value = math.log10(low), math.log10(high), math.log10(value)
        return 0.5 if high == low else (value - low) / (high - low)

    def ticks(self) -> list[tuple[float, str]]:
        if not self.numeric:
            if len(self.categories) == 1:
                return [(0.5, self.categories[0])]
            return [(i / (len(self.categories) - 1), c) for i, c in enumerate(self.categories)]
        if self.low == self.high:
            return [(0.5, f"{self.low:.4g}")]
        return [(0.0, f"{self.low:.4g}"), (1.0, f"{self.high:.4g}")]

    @property
    def varies(self) -> bool:
        return len(self.categories) > 1 if not self.numeric else self.low != self.high


def _category(value) -> str:
    return json.dumps(json_safe(value)) if isinstance(value, (list, dict)) else str(value)


def _hyperparameter_axes(trials: list[dict], log_axes: set[str] | None) -> list[_Axis]:
    configs = [_flatten(t.get("config")) for t in trials]
    names = _ordered_keys(configs)
    axes = [
        _Axis(name, [c.get(name) for c in configs], None if log_axes is None else name in log_axes) for name in names
    ]
    varying = [axis for axis in axes if axis.varies]
    return varying or axes  # constants (fixed params) say nothing, unless nothing varies


def parallel_coordinates_png(
    trials: Iterable[Mapping],
    metric: str,
    mode: str,
    *,
    log_axes: Iterable[str] | None = None,
    title: str | None = None,
) -> bytes:
    """A parallel-coordinates plot as PNG bytes: one axis per hyperparameter that varies (each
    normalised to its own range; categories evenly spaced; log scale for ``log_axes``, or,
    when None, for positive axes spanning a factor of 100 or more), the metric last; one line
    per trial coloured by its metric (the best colours are the brightest; trials without the
    metric in grey, dashed); the best trial drawn thick."""
    trials = _check(trials, metric, mode)
    logs = None if log_axes is None else set(log_axes)
    values = [metric_value(t, metric) for t in trials]
    axes = _hyperparameter_axes(trials, logs) if trials else []
    axes.append(_Axis(metric, values, None if logs is None else metric in logs))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # imported here: the CLI and the flows load this module without plotting

    figure, ax = plt.subplots(figsize=(max(6.0, 1.5 * len(axes) + 1.5), 4.8), dpi=100)
    try:
        _draw(ax, figure, trials, axes, values, metric, mode)
        ax.set_title(title or f"{len(trials)} trials: {mode}imise {metric}")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        plt.close(figure)
    return buffer.getvalue()


def _draw(ax, figure, trials, axes, values, metric, mode) -> None:
    xs = list(range(len(axes)))
    scored = [v for v in values if v is not None]
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    cmap = colormaps["viridis" if mode == "max" else "viridis_r"]
    norm = Normalize(min(scored), max(scored)) if scored else None
    best = None
    if scored:
        best = values.index(max(scored) if mode == "max" else min(scored))
    order = sorted(range(len(trials)), key=lambda i: (values[i] is not None, i == best))
    for i in order:
        ys = [axis.positions[i] for axis in axes]
        if values[i] is None:
            ax.plot(xs[:-1], ys[:-1], color="0.6", linestyle="--", linewidth=0.8, alpha=0.7)
        else:
            ax.plot(
                xs,
                ys,
                color=cmap(norm(values[i])),
                linewidth=2.6 if i == best else 1.0,
                alpha=1.0 if i == best else 0.8,
            )
    for x, axis in zip(xs, axes):
        ax.axvline(x, color="black", linewidth=0.8)
        for y, label in axis.ticks():
            ax.text(x + 0.03, y, label, fontsize=7, va="center", ha="left")
    ax.set_xticks(xs)
    ax.set_xticklabels([f"{a.name}\n(log)" if a.log else a.name for a in axes], rotation=20 if len(axes) > 6 else 0)
    ax.set_xlim(-0.2, max(len(axes) - 0.6, 0.8))
    ax.set_ylim(-0.05, 1.05)
    ax.set_yticks([])
    if not trials:
        ax.text(0.5, 0.5, "no trials", transform=ax.transAxes, ha="center", va="center")
    if norm is not None:
        figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=metric)
