"""``SweepConfig``: a project's four configs together, checked against each other."""

from __future__ import annotations

from dataclasses import dataclass

from tunefleet.sweep.configs.fields import ConfigError, check_name
from tunefleet.sweep.configs.models import ComputeConfig, HpoConfig, ModelConfig, SearchSpace
from tunefleet.sweep.configs.schema import dump, validate


@dataclass(frozen=True)
class SweepConfig:
    """Everything a sweep needs: the four configs of a project, checked against each other."""

    name: str
    search_space: SearchSpace
    hpo_config: HpoConfig
    model_config: ModelConfig
    compute_config: ComputeConfig
    scripts_path: str | None = None

    @classmethod
    def build(
        cls,
        name: str,
        search_space,
        hpo_config,
        model_config,
        compute_config=None,
        scripts_path: str | None = None,
    ) -> SweepConfig:
        """Validate each config (dicts or models) and their combination; a ConfigError lists every problem."""
        check_name(name, "project name")
        problems, parts = [], {}
        given = {
            "search_space": search_space,
            "hpo_config": hpo_config,
            "model_config": model_config,
            "compute_config": {} if compute_config is None else compute_config,
        }
        for config_type, data in given.items():
            try:
                parts[config_type] = validate(config_type, data)
            except ConfigError as exc:
                problems.extend(exc.problems)
        if problems:
            raise ConfigError(problems)
        sweep = cls(name=name, scripts_path=scripts_path, **parts)
        problems = sweep.problems()
        if problems:
            raise ConfigError(problems)
        return sweep

    @classmethod
    def from_dict(cls, data: dict) -> SweepConfig:
        """The inverse of ``to_dict``."""
        if not isinstance(data, dict):
            raise ConfigError([f"a sweep config must be an object, got {data!r}"])
        known = {"name", "search_space", "hpo_config", "model_config", "compute_config", "scripts_path"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError([f"sweep config: unknown key(s) {', '.join(unknown)}; it has {', '.join(sorted(known))}"])
        missing = sorted({"name", "search_space", "hpo_config", "model_config"} - set(data))
        if missing:
            raise ConfigError([f"sweep config: {key} is required" for key in missing])
        return cls.build(**data)

    def to_dict(self) -> dict:
        """The configs themselves (not their names), as hpogrid's project_config.json held them."""
        return {
            "name": self.name,
            "scripts_path": self.scripts_path,
            "search_space": dump(self.search_space),
            "hpo_config": dump(self.hpo_config),
            "model_config": dump(self.model_config),
            "compute_config": dump(self.compute_config),
        }

    def space(self):
        """The search space as a ``tunefleet.space.Space``."""
        return self.search_space.space()

    def problems(self) -> list[str]:
        """What does not fit together: constants that are also variables, an engine that cannot
        run the algorithm or the scheduler, grid variables for a model-based algorithm."""
        from tunefleet.sweep.search import algorithm_name, scheduler_name

        space, hpo, model = self.space(), self.hpo_config, self.model_config
        algorithm, scheduler = algorithm_name(hpo.algorithm), scheduler_name(hpo.scheduler)
        problems = []
        clash = [name for name in model.param if name in space.names]
        if clash:
            problems.append(f"model_config.param: {', '.join(clash)} also variable(s) of the search space")
        if hpo.metric in model.multi_res_labels:
            problems.append(f"model_config.multi_res_labels names the metric {hpo.metric} itself")
        grid = [v.name for v in space.grid_variables]
        if algorithm == "grid" and not grid:
            problems.append(
                "hpo_config.algorithm grid needs a categorical variable with grid_search in the search space"
            )
        if grid and algorithm not in ("random", "grid"):
            problems.append(
                f"search_space: {', '.join(grid)} use grid_search, which only random and grid take "
                f"(hpo_config.algorithm is {hpo.algorithm})"
            )
        if self.compute_config.engine == "dask":
            if algorithm not in ("random", "grid"):
                problems.append(
                    f"compute_config.engine dask runs random or grid search only (hpo_config.algorithm is "
                    f"{hpo.algorithm}); use engine ray"
                )
            if scheduler != "fifo":
                problems.append(
                    f"compute_config.engine dask runs trials without a scheduler (hpo_config.scheduler is "
                    f"{hpo.scheduler}); set scheduler fifo or use engine ray"
                )
        return problems
