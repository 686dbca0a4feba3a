"""What a trainable reports: each result as a dict of metrics, the stop criteria, the trial's outcome."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tunefleet.sweep.trainables.errors import InvalidResult, MetricNotReported
from tunefleet.validation import is_real


def _plain(value):
    """numpy scalars as Python numbers; everything else as it is."""
    if type(value).__module__ == "numpy" and hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    return value


def normalise_result(value, metric: str, multi_res_labels=(), where: str = "the trainable") -> dict:
    """One result as a dict of metrics (see the module's docstring), or MetricNotReported / InvalidResult."""
    value = _plain(value)
    labels = tuple(multi_res_labels)
    if isinstance(value, Mapping):
        bad_keys = [k for k in value if not isinstance(k, str)]
        if bad_keys:
            raise InvalidResult(f"{where} reported metric names that are not strings: {bad_keys!r}")
        metrics = {k: _plain(v) for k, v in value.items()}
    elif is_real(value):
        metrics = {metric: value}
    elif isinstance(value, (list, tuple)):
        if len(value) != 1 + len(labels):
            expected = f"[{metric}, {', '.join(labels)}]" if labels else f"one value ({metric}); set multi_res_labels"
            raise InvalidResult(
                f"{where} returned {len(value)} value(s); multi_res_labels {list(labels)} make a result {expected}"
            )
        metrics = {metric: _plain(value[0]), **{label: _plain(v) for label, v in zip(labels, value[1:])}}
    else:
        raise InvalidResult(
            f"{where} gave a {type(value).__name__} ({value!r:.80}); a result is a dict of metrics, a number, "
            "or [main, extra, ...]"
        )
    if metric not in metrics:
        raise MetricNotReported(
            f"{where} did not report the metric {metric!r}; it reported {', '.join(map(repr, metrics)) or 'no keys'}"
        )
    if not is_real(metrics[metric]):
        raise InvalidResult(f"{where} reported {metric} = {metrics[metric]!r}; the metric must be a number")
    return metrics


def stop_condition(stop: Mapping | None) -> Callable[[dict], bool] | None:
    """hpogrid's / Ray Tune's stop dict as a ``should_stop(metrics)``: true once any reported
    value reaches its bound (``metrics[key] >= bound``). None for no criteria."""
    if not stop:
        return None
    bounds = dict(stop)

    def should_stop(metrics: dict) -> bool:
        return any(is_real(metrics.get(key)) and metrics[key] >= bound for key, bound in bounds.items())

    return should_stop


@dataclass
class TrialOutcome:
    """What a trial reported. ``metrics`` is its last result; ``stopped`` says the runner ended
    it (max_epochs or should_stop) before the trainable finished; ``model_dir`` is where its
    model files are (None when none were asked for or written)."""

    metrics: dict
    history: list[dict]
    stopped: bool = False
    model_dir: str | None = None

    @property
    def iterations(self) -> int:
        return len(self.history)

    def to_dict(self) -> dict:
        return {
            "metrics": self.metrics,
            "history": self.history,
            "iterations": self.iterations,
            "stopped": self.stopped,
            "model_dir": self.model_dir,
        }
