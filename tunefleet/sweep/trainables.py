"""The user's trainable, loaded from a script, and one way to run a trial of it anywhere.

A trainable is named by ``model_config``: ``script`` (relative to the project's
``scripts_path``, which may be the folder of scripts or one script), ``model`` (a function
or a class in it) and ``param`` (fixed values merged under every trial's config).

How a trainable reports results (one protocol for Ray Tune, Dask and a plain process):

- **a function** ``fn(config)``

  - *per epoch*: a generator that ``yield``\\s one result per epoch (a value it ``return``\\s,
    if not None, is one more result). The runner drives the loop, so it can stop the trial
    between epochs (stop criteria, ``max_epochs``); stopping closes the generator, so code in
    a ``finally`` block still runs;
  - *once*: it returns its result.

  It may take the hyperparameters as keywords instead (``def main(x, y)``, Auptimizer's
  style): a function whose parameters (other than ``model_dir``) are not one ``config``
  argument gets the config's matching keys as keywords.
- **a class** with ``setup(config)`` and ``step()`` (Ray Tune's Trainable API; subclassing
  ``ray.tune.Trainable`` works too): ``setup`` once, then ``step()`` returns one result per
  iteration until the runner stops the trial or a result holds ``"done": True``. A class
  trainable runs until a stop criterion ends it, so give ``max_epochs`` or ``should_stop``
  (hpogrid's default stop, one training iteration, does). Optional ``cleanup()``;
  ``save_checkpoint(dir)`` / ``load_checkpoint(dir)`` make it resumable (``checkpoint_every``).

A result is a dict of metrics, a number (the metric itself: Auptimizer's scripts), or a list
``[main, extra, ...]`` with ``multi_res_labels`` naming the extras. Every result must hold the
sweep's metric as a number; the runner adds ``training_iteration`` (1, 2, ...) and
``time_total_s`` unless the trainable reports them itself.

Models (``save_model``): a function that takes a ``model_dir`` parameter (or Auptimizer's
``save_model`` and ``folder_name``) is given a folder to write its model files into; a class
gets ``save_model(model_dir)`` called after its last step. As Auptimizer does, a sweep keeps
the best trial's model by running that trial's config once more with ``model_dir`` set
(``run_trial(..., model_dir=...)``), which works the same on every engine and scheduler.

``run_trial(trainable, config, report, max_epochs, should_stop)`` runs one trial in this
process, calling ``report(metrics)`` after each result (the Dask engine's runner);
``as_tune_trainable(trainable)`` is the same loop as a Ray Tune function trainable whose
``report`` is ``ray.tune.report``. A ``Trainable`` pickles as its script's text and names,
and loads again on the other side, so it travels to Ray and Dask workers that do not have
the script.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import logging
import numbers
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_MODEL_DIR_PARAMS = ("model_dir", "save_model", "folder_name")
_STATE_FILE = "tunefleet_trial.json"
_LOADING = threading.Lock()  # one thread runs a script at a time; the others reuse its module


# -- errors ----------------------------------------------------------------------------------
class TrainableError(ValueError):
    """The trainable cannot be loaded or cannot run as configured; raised before any trial starts."""


class ScriptNotFound(TrainableError):
    """The training script is not where model_config and scripts_path say; the message names the paths."""


class ModelNotFound(TrainableError):
    """The script does not define the function or class model_config names; the message names both."""


class TrialError(RuntimeError):
    """A trial failed. ``traceback`` holds the trainable's traceback text when it raised."""

    def __init__(self, message: str, traceback: str | None = None):
        super().__init__(message)
        self.traceback = traceback

    def __reduce__(self):
        return (type(self), (self.args[0], self.traceback))


class MetricNotReported(TrialError):
    """A result lacks the sweep's metric (or the trainable reported nothing); the message names
    the metric and the keys it did report."""


class InvalidResult(TrialError):
    """A result is not a dict of metrics, a number or [main, extra, ...] as multi_res_labels says."""


# -- loading ----------------------------------------------------------------------------------
def resolve_script(script: str, scripts_path: str | os.PathLike | None = None) -> Path:
    """The script's absolute path: ``script`` relative to ``scripts_path`` (a folder, or a
    script whose folder is meant, as hpogrid's projects give it; default: the current folder).
    ``.py`` may be left out."""
    base = Path(scripts_path) if scripts_path is not None else Path.cwd()
    if not base.exists():
        raise ScriptNotFound(f"scripts_path {base} does not exist")
    folder = base.parent if base.is_file() else base
    candidate = Path(script) if Path(script).is_absolute() else folder / script
    candidates = [candidate] if candidate.suffix == ".py" else [candidate, candidate.with_name(candidate.name + ".py")]
    for path in candidates:
        if path.is_file():
            return path.resolve()
    raise ScriptNotFound(f"training script {script!r} not found: no file {' or '.join(str(p) for p in candidates)}")


@dataclass(frozen=True)
class TrainableSpec:
    """What a trainable is made from; enough to load it again anywhere."""

    script: str  # the absolute path it was read from (for messages and tracebacks)
    source: str  # the script's text
    model: str
    metric: str
    param: dict = field(default_factory=dict)
    multi_res_labels: tuple[str, ...] = ()


def _module_for(spec: TrainableSpec) -> types.ModuleType:
    """The script run as a module, once per process for each (path, text)."""
    with _LOADING:
        return _load_module(spec)


def _load_module(spec: TrainableSpec) -> types.ModuleType:
    digest = hashlib.sha1(f"{spec.script}\0{spec.source}".encode()).hexdigest()[:12]
    name = f"tunefleet_script_{Path(spec.script).stem}_{digest}"  # no dots: pickle finds it by name
    if name in sys.modules:
        return sys.modules[name]
    try:
        code = compile(spec.source, spec.script, "exec")
    except SyntaxError as exc:
        raise TrainableError(f"training script {spec.script}: syntax error at line {exc.lineno}: {exc.msg}") from None
    module = types.ModuleType(name)
    module.__file__ = spec.script
    folder = str(Path(spec.script).parent)
    if folder not in sys.path and Path(folder).is_dir():
        sys.path.insert(0, folder)  # the script's own helper modules, as hpogrid imported them
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except Exception as exc:
        del sys.modules[name]
        raise TrainableError(
            f"training script {spec.script} raised while loading: {type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        ) from None
    return module


def _defined_names(module: types.ModuleType) -> list[str]:
    return sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and getattr(value, "__module__", None) == module.__name__
    )


def _find_model(spec: TrainableSpec):
    module = _module_for(spec)
    obj = getattr(module, spec.model, None)
    if obj is None:
        defined = _defined_names(module)
        listed = ", ".join(defined) if defined else "no functions or classes"
        raise ModelNotFound(f"{spec.model!r} is not defined in training script {spec.script} (it defines {listed})")
    if inspect.isclass(obj):
        if not callable(getattr(obj, "step", None)):
            raise TrainableError(
                f"class {spec.model} in {spec.script} has no step() method: a class trainable defines "
                "setup(config) and step()"
            )
        return obj
    if not callable(obj):
        raise TrainableError(f"{spec.model} in {spec.script} is a {type(obj).__name__}, not a function or class")
    return obj


def _is_ray_trainable(cls) -> bool:
    return any(base.__name__ == "Trainable" and base.__module__.startswith("ray.") for base in cls.__mro__)


def _own_method(cls, name: str) -> bool:
    method = getattr(cls, name, None)
    return callable(method) and not getattr(method, "__module__", "").startswith("ray.")


class Trainable:
    """A loaded trainable (a function or a class of the user's script) and how to call it."""

    def __init__(self, spec: TrainableSpec):
        self.spec = spec
        self.obj = _find_model(spec)
        self.kind = "class" if inspect.isclass(self.obj) else "function"

    def __getstate__(self) -> dict:
        return {"spec": self.spec}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["spec"])

    def __repr__(self) -> str:
        return f"Trainable({self.kind} {self.spec.model} from {self.spec.script}, metric {self.spec.metric})"

    @property
    def name(self) -> str:
        return self.spec.model

    @property
    def metric(self) -> str:
        return self.spec.metric

    @property
    def param(self) -> dict:
        return dict(self.spec.param)

    @property
    def can_save_model(self) -> bool:
        """Whether the trainable can be given a folder for its model files."""
        if self.kind == "class":
            return callable(getattr(self.obj, "save_model", None))
        parameters = _parameters(self.obj)
        return "model_dir" in parameters or {"save_model", "folder_name"} <= set(parameters)

    @property
    def can_checkpoint(self) -> bool:
        """Whether a class trainable saves and loads checkpoints of its own."""
        return (
            self.kind == "class"
            and _own_method(self.obj, "save_checkpoint")
            and _own_method(self.obj, "load_checkpoint")
        )

    def check_names(self, names) -> None:
        """A TrainableError if a keyword-style function needs a hyperparameter that neither the
        space (``names``) nor ``param`` gives; nothing to check for the other kinds."""
        given = set(names) | set(self.spec.param)
        if self.kind != "function" or _takes_config(self.obj, given):
            return
        missing = [p for p in _required_keywords(self.obj) if p not in given]
        if missing:
            raise TrainableError(
                f"{self.name} in {self.spec.script} needs {', '.join(missing)}, which neither the search space "
                f"nor model_config.param gives (they give {', '.join(sorted(given)) or 'nothing'})"
            )


def load_trainable(
    model_config,
    scripts_path: str | os.PathLike | None = None,
    *,
    metric: str,
    multi_res_labels=None,
) -> Trainable:
    """The trainable a model_config names (a ModelConfig or its dict), read from its script.

    ``metric`` is the sweep's metric (hpo_config.metric): the name a bare number result
    stands for, and the key every result must hold. ``multi_res_labels`` defaults to the
    model_config's. A TrainableError (ScriptNotFound, ModelNotFound, ...) says what is wrong."""
    from tunefleet.sweep.configs import ModelConfig, validate

    config = model_config if isinstance(model_config, ModelConfig) else validate("model_config", model_config)
    if not isinstance(metric, str) or not metric:
        raise TrainableError(f"metric must be a non-empty name, got {metric!r}")
    labels = tuple(config.multi_res_labels if multi_res_labels is None else multi_res_labels)
    if metric in labels:
        raise TrainableError(f"multi_res_labels names the metric {metric} itself")
    path = resolve_script(config.script, scripts_path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TrainableError(f"training script {path} cannot be read: {exc}") from None
    spec = TrainableSpec(
        script=str(path),
        source=source,
        model=config.model,
        metric=metric,
        param=dict(config.param),
        multi_res_labels=labels,
    )
    trainable = Trainable(spec)
    if config.save_model and not trainable.can_save_model:
        how = "a save_model(model_dir) method" if trainable.kind == "class" else "a model_dir parameter"
        raise TrainableError(
            f"model_config.save_model is true but {trainable.kind} {trainable.name} in {path} has no {how}"
        )
    log.debug("loaded %r", trainable)
    return trainable


# -- calling a function -------------------------------------------------------------------------
def _parameters(fn) -> dict[str, inspect.Parameter]:
    try:
        return dict(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return {}


def _takes_config(fn, keys=()) -> bool:
    """``fn(config)`` rather than ``fn(x=..., y=...)``: a parameter named config, or a single
    parameter that is not one of the hyperparameters ``keys``."""
    parameters = {k: p for k, p in _parameters(fn).items() if k not in _MODEL_DIR_PARAMS}
    if "config" in parameters:
        return True
    positional = [p for p in parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    keywords_only = [p for p in parameters.values() if p.kind == p.KEYWORD_ONLY]
    has_var_keyword = any(p.kind == p.VAR_KEYWORD for p in parameters.values())
    single = len(positional) == 1 and not keywords_only and not has_var_keyword
    return single and positional[0].name not in keys


def _required_keywords(fn) -> list[str]:
    return [
        name
        for name, p in _parameters(fn).items()
        if name not in _MODEL_DIR_PARAMS
        and p.default is p.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def _call_function(trainable: Trainable, config: dict, model_dir: str | None):
    fn, parameters = trainable.obj, _parameters(trainable.obj)
    extra = {}
    if model_dir is not None:
        if "model_dir" in parameters:
            extra["model_dir"] = model_dir
        else:  # Auptimizer's spelling
            extra.update(save_model=True, folder_name=model_dir)
    if _takes_config(fn, config):
        return fn(config, **extra)
    missing = [name for name in _required_keywords(fn) if name not in config]
    if missing:
        raise TrialError(
            f"{trainable.name} needs {', '.join(missing)}, missing from the trial's config "
            f"(it has {', '.join(sorted(config)) or 'nothing'})"
        )
    takes_any = any(p.kind == p.VAR_KEYWORD for p in parameters.values())
    kwargs = {k: v for k, v in config.items() if takes_any or (k in parameters and k not in _MODEL_DIR_PARAMS)}
    return fn(**kwargs, **extra)


# -- results -----------------------------------------------------------------------------------
def _plain(value):
    """numpy scalars as Python numbers; everything else as it is."""
    if type(value).__module__ == "numpy" and hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    return value


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def normalise_result(value, metric: str, multi_res_labels=(), where: str = "the trainable") -> dict:
    """One result as a dict of metrics (see the module's docstring), or MetricNotReported / InvalidResult."""
    value = _plain(value)
    labels = tuple(multi_res_labels)
    if isinstance(value, Mapping):
        bad_keys = [k for k in value if not isinstance(k, str)]
        if bad_keys:
            raise InvalidResult(f"{where} reported metric names that are not strings: {bad_keys!r}")
        metrics = {k: _plain(v) for k, v in value.items()}
    elif _is_number(value):
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
    if not _is_number(metrics[metric]):
        raise InvalidResult(f"{where} reported {metric} = {metrics[metric]!r}; the metric must be a number")
    return metrics


def stop_condition(stop: Mapping | None) -> Callable[[dict], bool] | None:
    """hpogrid's / Ray Tune's stop dict as a ``should_stop(metrics)``: true once any reported
    value reaches its bound (``metrics[key] >= bound``). None for no criteria."""
    if not stop:
        return None
    bounds = dict(stop)

    def should_stop(metrics: dict) -> bool:
        return any(_is_number(metrics.get(key)) and metrics[key] >= bound for key, bound in bounds.items())

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


class _Run:
    """The bookkeeping of one trial: numbering, timing, stop decisions, reporting."""

    def __init__(self, trainable: Trainable, report, max_epochs, should_stop, start_iteration: int = 0):
        if max_epochs is not None and (
            isinstance(max_epochs, bool) or not isinstance(max_epochs, int) or max_epochs < 1
        ):
            raise ValueError(f"max_epochs must be a positive integer or None, got {max_epochs!r}")
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
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
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
    if _is_ray_trainable(cls):
        return cls(config=dict(config))  # Ray's Trainable calls setup(config) itself
    instance = cls()
    if callable(getattr(instance, "setup", None)):
        instance.setup(config)
    return instance


def _finish_instance(trainable: Trainable, instance) -> None:
    ending = "stop" if _is_ray_trainable(trainable.obj) else "cleanup"
    method = getattr(instance, ending, None)
    if callable(method):
        try:
            method()
        except Exception:
            log.warning("%s %s failed in %s():\n%s", trainable.kind, trainable.name, ending, traceback.format_exc())
    logdir = getattr(instance, "logdir", None) if _is_ray_trainable(trainable.obj) else None
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


# -- Ray Tune ------------------------------------------------------------------------------------
def _tune_report(metrics: dict, checkpoint_dir: str | None = None) -> None:
    from ray import tune

    checkpoint = tune.Checkpoint.from_directory(checkpoint_dir) if checkpoint_dir else None
    tune.report(metrics, checkpoint=checkpoint)


def as_tune_trainable(
    trainable: Trainable,
    *,
    max_epochs: int | None = None,
    should_stop: Callable[[dict], bool] | None = None,
    checkpoint_every: int = 0,
) -> Callable[[dict], None]:
    """A Ray Tune function trainable running ``run_trial`` with ``ray.tune.report`` as its report.

    Pass it to ``tune.Tuner`` (the config Ray gives it already holds ``param`` when the
    param_space does; merging again changes nothing). Stop criteria may be given to Ray
    (``RunConfig(stop=...)``) or here (``should_stop``, ``max_epochs``: the trainable then
    ends cleanly). With ``checkpoint_every``, a class trainable with save/load_checkpoint
    reports Ray checkpoints and resumes from ``tune.get_checkpoint()`` (PBT, Tuner.restore).
    A failed trial raises TrialError, whose message Ray keeps as the trial's error."""

    def trial(config: dict) -> None:
        from ray import tune

        checkpoint = tune.get_checkpoint() if checkpoint_every and trainable.can_checkpoint else None
        with checkpoint.as_directory() if checkpoint else contextlib.nullcontext() as restore_dir:
            run_trial(
                trainable,
                config,
                _tune_report,
                max_epochs,
                should_stop,
                checkpoint_every=checkpoint_every,
                restore_dir=restore_dir,
            )

    trial.__name__ = trial.__qualname__ = trainable.name
    return trial
