"""What every config type shares: its error, the option fields it declares (with what a CLI needs to
offer them), the parsing of JSON given on a command line, and the checks of names and JSON values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tunefleet.errors import InvalidInput
from tunefleet.validation import is_name

CONFIG_TYPES = ("search_space", "hpo_config", "model_config", "compute_config", "project")
ENGINES = ("ray", "dask")
MODES = ("min", "max")

# Keys users bring from hpogrid that live elsewhere here.
MOVED_KEYS = {
    "resource": "resources per trial are compute_config.resources_per_trial",
    "grid_config": "tunefleet's project takes a compute_config in place of hpogrid's grid_config",
    "site": "tunefleet runs on a work pool: compute_config.work_pool",
    "container": "tunefleet runs on a work pool: compute_config.work_pool",
    "retry": "retries are hpo_config.job_retries",
}


class ConfigError(InvalidInput):
    """A configuration is invalid; ``problems`` holds one message per bad field, each naming it."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class Option:
    """One option of a config type, for generating CLI options.

    ``name`` is the key in the stored config; ``flags`` the CLI spellings (hpogrid's first;
    empty for the positional search-space JSON); ``type`` one of str, int, float, bool,
    json (an object given as a JSON string), list (a JSON list or comma-separated names)."""

    name: str
    flags: tuple[str, ...]
    type: str
    default: Any
    required: bool
    help: str
    choices: tuple[str, ...] | None = None


def option_field(default: Any = ..., help: str = "", *, type: str, flags: tuple[str, ...] = (), choices=None, **kwargs):
    extra = {"type": type, "flags": flags, "choices": choices}
    if isinstance(default, (dict, list)):
        value = default
        return Field(
            default_factory=lambda: json.loads(json.dumps(value)), description=help, json_schema_extra=extra, **kwargs
        )
    return Field(default, description=help, json_schema_extra=extra, **kwargs)


def flags(name: str, *more: str) -> tuple[str, ...]:
    """``--num-trials``, and hpogrid's own spelling ``--num_trials`` where that differs."""
    spellings = (*more, f"--{name.replace('_', '-')}", f"--{name}")
    return tuple(dict.fromkeys(spellings))


def check_name(name, what: str = "name") -> str:
    """A config or project name: letters, digits, ``_ . -``, starting with a letter or digit."""
    if not is_name(name):
        raise ConfigError(
            [f"{what} must start with a letter or digit and hold only letters, digits, _ . - (got {name!r})"]
        )
    return name


def json_value(value, field: str, kind: type):
    """A JSON string (as a CLI gives it) parsed; anything else as it is."""
    if not isinstance(value, str):
        return value
    if kind is list and not value.strip().startswith("["):
        return [part.strip() for part in value.split(",") if part.strip()]
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{field}: not valid JSON ({exc.msg} at position {exc.pos}): {value!r}") from None


def check_names(values: list) -> list[str]:
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"must hold non-empty names, got {value!r}")
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise ValueError(f"names {', '.join(duplicates)} more than once")
    return values


def check_json_safe(value):
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"must be JSON (strings, finite numbers, lists, objects): {exc}") from None
    return value


class ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, protected_namespaces=())
    config_type: ClassVar[str]

    @model_validator(mode="before")
    @classmethod
    def _parse_json_fields(cls, data):
        if isinstance(data, str):
            data = json_value(data, cls.config_type, dict)
        if not isinstance(data, dict):
            raise ValueError(f"must be an object of options, got {data!r}")
        data = dict(data)
        for name, field in cls.model_fields.items():
            key = field.alias or name
            kind = field.json_schema_extra["type"]
            if key in data and kind in ("json", "list"):
                data[key] = json_value(data[key], key, dict if kind == "json" else list)
        return data
