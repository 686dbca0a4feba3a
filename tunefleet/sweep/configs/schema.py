"""What a CLI does with a config type: validate data into it, dump it as stored, merge changes
into it (hpogrid's ``update``), and list its options."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from tunefleet.sweep.configs.fields import CONFIG_TYPES, MOVED_KEYS, ConfigError, Option
from tunefleet.sweep.configs.models import MODELS, SearchSpace


def model_class(config_type: str) -> type:
    if config_type not in MODELS:
        raise ConfigError([f"unknown config type {config_type!r}; known: {', '.join(CONFIG_TYPES)}"])
    return MODELS[config_type]


def _describe(config_type: str, error: dict, known: list[str]) -> str:
    loc = ".".join(str(part) for part in error["loc"])
    where = f"{config_type}.{loc}" if loc else config_type
    kind, message = error["type"], error["msg"]
    if kind == "extra_forbidden":
        key = str(error["loc"][-1])
        hint = f" ({MOVED_KEYS[key]})" if key in MOVED_KEYS else ""
        return f"{where}: unknown option{hint}; {config_type} takes {', '.join(known)}"
    if kind == "missing":
        return f"{where}: is required"
    if kind in ("value_error", "assertion_error"):
        return f"{where}: {message.removeprefix('Value error, ').removeprefix('Assertion failed, ')}"
    shown = repr(error.get("input"))
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return f"{where}: {message} (got {shown})"


def _known_options(config_type: str) -> list[str]:
    return [option.name for option in options(config_type)] if config_type != "search_space" else []


def validate(config_type: str, data) -> BaseModel:
    """The config of ``config_type`` from ``data`` (a dict, a JSON string, or the model itself),
    defaults filled in; a ConfigError naming every bad field otherwise."""
    cls = model_class(config_type)
    if isinstance(data, cls):
        data = dump(data)
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        known = _known_options(config_type)
        raise ConfigError([_describe(config_type, error, known) for error in exc.errors()]) from None


def dump(config: BaseModel) -> dict:
    """A validated config as the JSON-ready dict it is stored as (hpogrid's key names)."""
    return config.model_dump(mode="json", by_alias=True)


def _option_key(config_type: str, key: str) -> str:
    """The stored name of an option given by a stored name, a flag or hpogrid's spelling."""
    spelled = key.lstrip("-").replace("-", "_")
    for option in options(config_type):
        names = {option.name, *(flag.lstrip("-").replace("-", "_") for flag in option.flags)}
        if spelled in names:
            return option.name
    raise ConfigError(
        [f"{config_type}: unknown option {key!r}; {config_type} takes {', '.join(_known_options(config_type))}"]
    )


def merge(config_type: str, old, changes: dict) -> BaseModel:
    """hpogrid's ``update``: ``old`` (stored dict or model) with ``changes`` applied, validated again.

    ``changes`` maps option names (stored names or CLI flags such as ``trials``) to new
    values; a value of None puts an option back to its default. An option's value is
    replaced whole (a new ``stop`` replaces the old one). For ``search_space`` the changes
    are variables: each replaces its namesake or is added; None removes it."""
    if not isinstance(changes, dict):
        raise ConfigError([f"{config_type}: changes must be an object of options, got {changes!r}"])
    current = dump(validate(config_type, old))
    if config_type == "search_space":
        for name, spec in changes.items():
            if spec is None:
                current.pop(name, None)
            else:
                current[name] = spec
        return validate(config_type, current)
    for key, value in changes.items():
        name = _option_key(config_type, key)
        if value is None:
            current.pop(name, None)
        else:
            current[name] = value
    return validate(config_type, current)


def options(config_type: str) -> list[Option]:
    """Every option of ``config_type``, in order: what a CLI needs to offer them."""
    cls = model_class(config_type)
    if cls is SearchSpace:
        return [
            Option(
                name="search_space",
                flags=(),
                type="json",
                default=None,
                required=True,
                help='the space as JSON: {"NAME": {"method": "uniform", "dimension": {"low": 0, "high": 1}}, ...}; '
                "methods: categorical (categories, grid_search), uniform, uniformint, quniform (q), loguniform "
                "(base), qloguniform, normal (mu, sigma), qnormal, lognormal, qlognormal",
            )
        ]
    listed = []
    for name, field in cls.model_fields.items():
        extra = field.json_schema_extra
        listed.append(
            Option(
                name=field.alias or name,
                flags=tuple(extra["flags"]),
                type=extra["type"],
                default=None if field.is_required() else field.get_default(call_default_factory=True),
                required=field.is_required(),
                help=field.description or "",
                choices=tuple(extra["choices"]) if extra["choices"] else None,
            )
        )
    return listed
