"""hpogrid's named configurations as validated models, and what a CLI needs to edit them.

Five config types, stored by name (the name is not part of the config)::

    search_space    {"lr": {"method": "loguniform", "dimension": {"low": 1e-5, "high": 1e-2}}, ...}
                    (parsed by tunefleet.space.Space.from_hpogrid)
    hpo_config      {"algorithm": "random", "metric": "loss", "mode": "min", "scheduler": "asynchyperband",
                     "num_trials": 200, "max_concurrent": 4, "stop": {"training_iteration": 1}, ...}
    model_config    {"script": "simple_objective.py", "model": "simple_objective", "param": {}}
    compute_config  {"work_pool": "cpu", "engine": "ray", "address": null, "n_jobs": null,
                     "resources_per_trial": {"cpu": 1}}      (in place of hpogrid's grid_config)
    project         {"name": "simple_objective", "search_space": "simple_objective_space",
                     "hpo_config": "random_search_min_loss", "model_config": "simple_objective_model",
                     "compute_config": null, "scripts_path": "/path/to/scripts"}

Field names are hpogrid's stored names (``num_trials``, set by the ``--trials`` option);
defaults are hpogrid's documented ones (algorithm random, metric accuracy, mode max,
scheduler asynchyperband, 100 trials, at most 4 at once, stop after one training iteration).
``validate(config_type, data)`` gives the model or a ``ConfigError`` naming every bad field;
``merge(config_type, old, changes)`` is hpogrid's ``update``; ``options(config_type)`` lists
each option's name, flags, type, default and help for generating a CLI; ``SweepConfig.build``
combines the four configs of a project and checks them against each other.

Modules: ``fields`` (the error, option fields, JSON and name checks), ``models`` (the five
types), ``schema`` (validate, dump, merge, options), ``sweep_config`` (``SweepConfig``).
"""

from tunefleet.sweep.configs.fields import CONFIG_TYPES, ENGINES, MODES, MOVED_KEYS, ConfigError, Option, check_name
from tunefleet.sweep.configs.models import MODELS, ComputeConfig, HpoConfig, ModelConfig, Project, SearchSpace
from tunefleet.sweep.configs.schema import dump, merge, model_class, options, validate
from tunefleet.sweep.configs.sweep_config import SweepConfig

__all__ = [
    "CONFIG_TYPES",
    "ENGINES",
    "MODELS",
    "MODES",
    "MOVED_KEYS",
    "ComputeConfig",
    "ConfigError",
    "HpoConfig",
    "ModelConfig",
    "Option",
    "Project",
    "SearchSpace",
    "SweepConfig",
    "check_name",
    "dump",
    "merge",
    "model_class",
    "options",
    "validate",
]
