"""The user's trainable, read from its script and loaded as a module, and what its signature takes."""

from __future__ import annotations

import hashlib
import inspect
import logging
import os
import sys
import threading
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path

from tunefleet.sweep.trainables.errors import ModelNotFound, ScriptNotFound, TrainableError

log = logging.getLogger(__name__)

MODEL_DIR_PARAMS = ("model_dir", "save_model", "folder_name")
_LOADING = threading.Lock()  # one thread runs a script at a time; the others reuse its module


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


def is_ray_trainable(cls) -> bool:
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
        parameters = parameters_of(self.obj)
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
        if self.kind != "function" or takes_config(self.obj, given):
            return
        missing = [p for p in required_keywords(self.obj) if p not in given]
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


def parameters_of(fn) -> dict[str, inspect.Parameter]:
    try:
        return dict(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return {}


def takes_config(fn, keys=()) -> bool:
    """``fn(config)`` rather than ``fn(x=..., y=...)``: a parameter named config, or a single
    parameter that is not one of the hyperparameters ``keys``."""
    parameters = {k: p for k, p in parameters_of(fn).items() if k not in MODEL_DIR_PARAMS}
    if "config" in parameters:
        return True
    positional = [p for p in parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    keywords_only = [p for p in parameters.values() if p.kind == p.KEYWORD_ONLY]
    has_var_keyword = any(p.kind == p.VAR_KEYWORD for p in parameters.values())
    single = len(positional) == 1 and not keywords_only and not has_var_keyword
    return single and positional[0].name not in keys


def required_keywords(fn) -> list[str]:
    return [
        name
        for name, p in parameters_of(fn).items()
        if name not in MODEL_DIR_PARAMS and p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
