"""``run_trial``: one trial of a trainable in this process, for every engine (Ray Tune, Dask, here)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from tunefleet.sweep.trainables.errors import MetricNotReported, TrainableError, TrialError
from tunefleet.sweep.trainables.loading import (
    MODEL_DIR_PARAMS,
    Trainable,
    is_ray_trainable,
    parameters_of,
    required_keywords,
    takes_config,
)
from tunefleet.sweep.trainables.results import TrialOutcome, normalise_result
from tunefleet.validation import is_int

log = logging.getLogger(__name__)

_STATE_FILE = "tunefleet_trial.json"
_PACKAGE = Path(__file__).parent  # the trainable's traceback starts at the first frame outside it


def _call_function(trainable: Trainable, config: dict, model_dir: str | None):
    fn, parameters = trainable.obj, parameters_of(trainable.obj)
    extra = {}
    if model_dir is not None:
        if "model_dir" in parameters:
            extra["model_dir"] = model_dir
        else:  # Auptimizer's spelling
            extra.update(save_model=True, folder_name=model_dir)
    if takes_config(fn, config):
        return fn(config, **extra)
    missing = [name for name in required_keywords(fn) if name not in config]
    if missing:
        raise TrialError(
            f"{trainable.name} needs {', '.join(missing)}, missing from the trial's config "
            f"(it has {', '.join(sorted(config)) or 'nothing'})"
        )
    takes_any = any(p.kind == p.VAR_KEYWORD for p in parameters.values())
    kwargs = {k: v for k, v in config.items() if takes_any or (k in parameters and k not in MODEL_DIR_PARAMS)}
    return fn(**kwargs, **extra)


class _Run:
    """The bookkeeping of one trial: numbering, timing, stop decisions, reporting."""

    def __init__(self, trainable: Trainable, report, max_epochs, should_stop, start_iteration: int = 0):
        if max_epochs is not None and not is_int(max_epochs, low=1):
            raise TrainableError(f"max_epochs must be a positive integer or None, got {max_epochs!r}")
        self.trainable, self.report, self.max_epochs, self.should_stop = trainable, report, max_epochs, should_stop
        self.history: list[dict] = []
        self.iteration = start_iteration
        self.started = time.monotonic()
        self.stopped = False

    def record(self, value) -> tuple[dict, bool]:
        """The result as metrics, and whether the trial ends after it."""
        where = f"{self.trainable.kind} {self.trainable.name} (result {len(self.history) + 1})"
        metrics = normalise_result(value, self.trainable.metric, self.trainable.spec.multi_res_labels, where)
        done = bool(metrics.pop("done", False))
        self.iteration += 1
        metrics.setdefault("training_iteration", self.iteration)
        metrics.setdefault("time_total_s", time.monotonic() - self.started)
        self.history.append(metrics)
        limit = self.max_epochs is not None and len(self.history) >= self.max_epochs
        stop = limit or (self.should_stop is not None and bool(self.should_stop(metrics)))
        self.stopped = self.stopped or stop
        return metrics, done or stop

    def emit(self, metrics: dict, checkpoint_dir: str | None = None) -> None:
        if self.report is None:
            return
        if checkpoint_dir is None:
            self.report(metrics)
        else:
            self.report(metrics, checkpoint_dir)

    def outcome(self, model_dir: str | None) -> TrialOutcome:
        if not self.history:
            raise MetricNotReported(
                f"{self.trainable.kind} {self.trainable.name} reported nothing; it must report the metric "
                f"{self.trainable.metric!r} (return or yield a result)"
            )
        return TrialOutcome(self.history[-1], self.history, self.stopped, model_dir)


def _user_traceback(exc: BaseException) -> str:
    """The exception's traceback from the first frame outside this module (the user's code)."""
    tb = exc.__traceback__
    while tb is not None and Path(tb.tb_frame.f_code.co_filename).parent == _PACKAGE:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def _user_code(trainable: Trainable, what: str, call, *args, **kwargs):
    """Call the trainable's code; its exceptions become a TrialError carrying the traceback."""
    try:
        return call(*args, **kwargs)
    except TrialError:
        raise
    except Exception as exc:
        text = _user_traceback(exc)
        raise TrialError(
            f"{trainable.kind} {trainable.name} raised in {what}: {type(exc).__name__}: {exc}\n{text}", text
        ) from exc


def _advance(generator) -> tuple[bool, Any]:
    """(finished, value): the next result, or the generator's return value once it ends."""
    try:
        return False, next(generator)
    except StopIteration as stop:
        return True, stop.value


def _run_function(trainable: Trainable, run: _Run, config: dict, model_dir: str | None) -> None:
    result = _user_code(trainable, trainable.name, _call_function, trainable, config, model_dir)
    if not isinstance(result, Iterator):
        if result is not None:
            run.emit(run.record(result)[0])
        return
    finished = False
    try:
        while not finished:
            finished, value = _user_code(trainable, f"epoch {len(run.history) + 1}", _advance, result)
            if finished and value is None:
                return
            metrics, end = run.record(value)
            run.emit(metrics)
            if end:
                return
    finally:
        if not finished:
            _close_generator(trainable, result)


def _close_generator(trainable: Trainable, generator) -> None:
    close = getattr(generator, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception:  # the trial's results stand; its clean-up failing is only worth a warning
        log.warning("%s %s failed while stopping:\n%s", trainable.kind, trainable.name, traceback.format_exc())


def _instantiate(trainable: Trainable, config: dict):
    cls = trainable.obj
    if is_ray_trainable(cls):
        return cls(config=dict(config))  # Ray's Trainable calls setup(config) itself
    instance = cls()
    if callable(getattr(instance, "setup", None)):
        instance.setup(config)
    return instance


def _finish_instance(trainable: Trainable, instance) -> None:
    ending = "stop" if is_ray_trainable(trainable.obj) else "cleanup"
    method = getattr(instance, ending, None)
    if callable(method):
        try:
            method()
        except Exception:
            log.warning("%s %s failed in %s():\n%s", trainable.kind, trainable.name, ending, traceback.format_exc())
    logdir = getattr(instance, "logdir", None) if is_ray_trainable(trainable.obj) else None
    if logdir:
        with contextlib.suppress(OSError):
            os.rmdir(logdir)  # the empty folder Ray's Trainable makes in ~/ray_results


def _restore(trainable: Trainable, instance, restore_dir: str) -> int:
    state_file = Path(restore_dir) / _STATE_FILE
    iteration = json.loads(state_file.read_text())["iteration"] if state_file.is_file() else 0
    _user_code(trainable, "load_checkpoint()", instance.load_checkpoint, restore_dir)
    return int(iteration)


def _save_checkpoint(trainable: Trainable, instance, iteration: int) -> str:
    folder = tempfile.mkdtemp(prefix="tunefleet-checkpoint-")
    _user_code(trainable, "save_checkpoint()", instance.save_checkpoint, folder)
    (Path(folder) / _STATE_FILE).write_text(json.dumps({"iteration": iteration}))
    return folder


def _run_class(
    trainable: Trainable,
    run: _Run,
    config: dict,
    model_dir: str | None,
    checkpoint_every: int,
    restore_dir: str | None,
) -> None:
    instance = _user_code(trainable, "setup()", _instantiate, trainable, config)
    try:
        if restore_dir is not None and trainable.can_checkpoint:
            run.iteration = _restore(trainable, instance, restore_dir)
        while True:
            metrics, end = run.record(_user_code(trainable, f"step() {len(run.history) + 1}", instance.step))
            due = (
                checkpoint_every
                and run.report is not None
                and trainable.can_checkpoint
                and (end or run.iteration % checkpoint_every == 0)
            )
            folder = _save_checkpoint(trainable, instance, run.iteration) if due else None
            try:
                run.emit(metrics, folder)
            finally:
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)
            if end:
                break
        if model_dir is not None:
            _user_code(trainable, "save_model()", instance.save_model, model_dir)
    finally:
        _finish_instance(trainable, instance)


def run_trial(
    trainable: Trainable,
    config: dict,
    report: Callable[..., None] | None = None,
    max_epochs: int | None = None,
    should_stop: Callable[[dict], bool] | None = None,
    *,
    model_dir: str | os.PathLike | None = None,
    checkpoint_every: int = 0,
    restore_dir: str | os.PathLike | None = None,
) -> TrialOutcome:
    """Run one trial of ``trainable`` with ``config`` (``param`` merged under it) in this process.

    ``report(metrics)`` is called after every result, in order; the trial ends when the
    trainable finishes, after ``max_epochs`` results, or when ``should_stop(metrics)`` is
    true (see ``stop_condition``). ``model_dir``: a folder (created) the trainable writes
    its model into. ``checkpoint_every`` (class trainables with save/load_checkpoint): every
    that many iterations, and at the end, the checkpoint is saved to a temporary folder and
    given as ``report(metrics, checkpoint_dir)`` (the folder is removed afterwards);
    ``restore_dir`` is such a folder to resume from (iterations continue from its count).

    Returns a TrialOutcome; raises TrialError (the trainable raised: ``traceback`` holds its
    text), MetricNotReported or InvalidResult. Exceptions from ``report`` pass through as they are.
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a dict of hyperparameters, got {type(config).__name__}")
    merged = {**trainable.spec.param, **config}
    run = _Run(trainable, report, max_epochs, should_stop)
    folder = None
    if model_dir is not None:
        folder = str(model_dir)
        Path(folder).mkdir(parents=True, exist_ok=True)
    if trainable.kind == "class":
        restore = str(restore_dir) if restore_dir is not None else None
        _run_class(trainable, run, merged, folder, checkpoint_every, restore)
    else:
        _run_function(trainable, run, merged, folder)
    if folder is not None and not any(Path(folder).iterdir()):
        log.warning("%s %s wrote no model files to %s", trainable.kind, trainable.name, folder)
        folder = None
    return run.outcome(folder)
