"""How a third-party searcher sees a space, and a Ray ``Searcher`` that speaks in points of it.

Each library's converter (``optuna``, ``hyperopt``, ``bohb``) says how it takes each kind:

- ``index``: a categorical as its option's position;
- ``value``: the number itself, snapped to the variable afterwards;
- ``quantile``: u ∈ [0, 1], value = ``variable.from_unit(u)``, so the searcher's uniform prior
  on u is the variable's distribution (the normal kinds, for libraries without them).

Variables with a single value are constants the searcher never sees.
"""

from __future__ import annotations

import copy
import json

from ray.tune.search import Searcher

from tunefleet.space import Space
from tunefleet.validation import is_finite

MODES = ("index", "value", "quantile")


class Codec:
    """A space as one library sees it (``modes``: each kind's mode, by its hpogrid method), and back."""

    def __init__(self, space: Space, modes: dict[str, str]):
        self.space = space
        self.constants = {v.name: v.from_unit(0.5) for v in space.variables if v.is_fixed}
        self.exact = {}  # (name, quantile) -> the value it was made from: points to evaluate come back exact
        self.modes = {v.name: modes[v.method] for v in space.variables if not v.is_fixed}

    def to_space(self, config: dict) -> dict:
        """A searcher's suggestion as a point of the space (other keys pass through)."""
        out = dict(config)
        for name, mode in self.modes.items():
            if name not in config:
                continue
            variable, x = self.space[name], config[name]
            if mode == "index":
                out[name] = variable.options[int(x)]
            elif mode == "quantile":
                out[name] = self.exact.get((name, float(x)), None)
                if out[name] is None:
                    out[name] = variable.from_unit(float(x))
            else:
                out[name] = variable.nearest(x.item() if hasattr(x, "item") else x)
        out.update(self.constants)
        return {name: out[name] for name in (*self.space.names, *(k for k in out if k not in self.space.names))}

    def to_searcher(self, point: dict) -> dict:
        """A point of the space as the searcher sees it."""
        out = {}
        for name, mode in self.modes.items():
            variable, value = self.space[name], point[name]
            if mode == "index":
                out[name] = variable.position(value)
            elif mode == "quantile":
                out[name] = variable.encode(value)[0]
                self.exact[(name, out[name])] = value
            else:
                out[name] = value
        return out


def point_key(point: dict) -> str:
    return json.dumps({k: v.item() if hasattr(v, "item") else v for k, v in point.items()}, sort_keys=True)


class SpaceSearcher(Searcher):
    """A third-party searcher seen through a ``Codec``: its suggestions become points of the
    space, points to evaluate its own form; everything else is passed through."""

    def __init__(self, searcher, codec: Codec):
        self.searcher, self.codec = searcher, codec
        super().__init__(metric=searcher.metric, mode=searcher.mode)

    def suggest(self, trial_id: str):
        config = self.searcher.suggest(trial_id)
        return self.codec.to_space(config) if isinstance(config, dict) else config

    def replay(self, evaluated) -> None:
        """Tell the searcher trials that ran before it existed (``algorithms.Evaluated``). Built with
        their points first in its points_to_evaluate, it suggests each of them back (in its own
        order: hyperopt's is reversed) and is given its intermediate results and end as if it had
        run here."""
        waiting = {point_key(e.config): e for e in evaluated}
        time_attr = "training_iteration"
        for n in range(len(evaluated)):
            trial_id = f"evaluated_{n:05d}"
            trial = waiting.pop(point_key(self.suggest(trial_id)))
            for step in trial.history:
                value = step.get(self.metric)
                if time_attr in step and is_finite(value):
                    result = {**step, "hyperband_info": {"budget": step.get(time_attr, 1)}}  # BOHB's budget
                    self.searcher.on_trial_result(trial_id, result)
            final = None if trial.failed else {self.metric: trial.value}
            self.searcher.on_trial_complete(trial_id, result=final, error=trial.failed)

    def set_search_properties(self, metric, mode, config, **spec) -> bool:
        from ray.tune.search.variant_generator import parse_spec_vars

        _, domains, grids = parse_spec_vars(config or {})
        return not (domains or grids)

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        self.searcher.on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        self.searcher.on_trial_complete(trial_id, result=result, error=error)

    def on_pause(self, trial_id: str) -> None:  # HyperBandForBOHB
        self.searcher.on_pause(trial_id)

    def on_unpause(self, trial_id: str) -> None:
        self.searcher.on_unpause(trial_id)

    def set_max_concurrency(self, max_concurrent: int) -> bool:
        return self.searcher.set_max_concurrency(max_concurrent)

    # Ray saves a wrapper (anything with .searcher) by its get_state, and the searcher inside by its save.
    def get_state(self) -> dict:
        return {"codec": copy.deepcopy(self.codec)}

    def set_state(self, state: dict) -> None:
        self.codec = state["codec"]

    def save(self, checkpoint_path: str) -> None:
        self.searcher.save(checkpoint_path)

    def restore(self, checkpoint_path: str) -> None:
        self.searcher.restore(checkpoint_path)
