"""tunefleet's BO engine (``tunefleet.bo.engine``) as a Ray Tune searcher: the sweep's ``bayesian``."""

from __future__ import annotations

import json
import random

from ray.tune.search import Searcher

from tunefleet.bo.engine import Observation, Optimizer
from tunefleet.space import Space, SpaceError
from tunefleet.sweep.search.names import SearchError
from tunefleet.validation import is_finite


class TunefleetBOSearch(Searcher):
    """tunefleet's BO engine (tunefleet.bo.engine.Optimizer) as a Ray Tune Searcher.

    ``suggest`` hands out ``points_to_evaluate`` first, then the engine's initial design
    (the guess, then scrambled Sobol points) for the first ``initial_points`` trials (and
    until two results are in), then the GP's proposals. Results are told when trials
    complete: ``mode="min"`` minimises. While trials run, the GP is given each pending
    point with the mean response so far (the "constant liar"), so concurrent trials get
    different points; a failed trial (error, no metric, or a non-finite one) is given the
    worst response seen, so the model steers away from it and it is never proposed again.
    Its whole state is JSON (``get_state`` / ``save``): a restored searcher continues the
    same sequence, and trials running at the pause complete into it.
    """

    def __init__(
        self,
        space: Space,
        metric: str | None = None,
        mode: str | None = None,
        seed: int | None = None,
        points_to_evaluate: list[dict] | None = None,
        initial_points: int = 5,
        model: str = "SingleTaskGP",
        acquisition: str = "ExpectedImprovement",
    ):
        super().__init__(metric=metric, mode=mode)
        if space.grid_variables:
            names = ", ".join(v.name for v in space.grid_variables)
            raise SpaceError(f"{names}: grid_search is for the algorithms random and grid, not bayesian")
        seed = random.SystemRandom().randrange(2**31) if seed is None else seed
        try:  # validates model, acquisition, initial_points and seed as the engine does
            Optimizer(space, model=model, acquisition=acquisition, initial_points=initial_points, seed=seed)
        except ValueError as exc:
            raise SearchError(f"algorithm bayesian: {exc}") from exc
        self._space = space
        self._settings = {
            "seed": seed,
            "initial_points": initial_points,
            "model": model,
            "acquisition": acquisition,
        }
        self._to_evaluate = [space.validate_point(p) for p in points_to_evaluate or []]
        self._observations: list[tuple[dict, float]] = []
        self._failed: list[dict] = []
        self._live: dict[str, dict] = {}
        self._suggested = 0
        self._designed = 0

    # Ray's interface ----------------------------------------------------------------------
    def set_search_properties(self, metric, mode, config, **spec) -> bool:
        from ray.tune.search.variant_generator import parse_spec_vars

        _, domains, grids = parse_spec_vars(config or {})
        if domains or grids:
            return False  # the space is ours; Ray then explains that param_space must not hold one
        if metric and not self._metric:
            self._metric = metric
        if mode and not self._mode:
            self._mode = mode
        return True

    def suggest(self, trial_id: str) -> dict | None:
        if not self._metric or self._mode not in ("min", "max"):
            raise RuntimeError("TunefleetBOSearch needs metric and mode (min or max)")
        if self._to_evaluate:
            point = self._to_evaluate.pop(0)
        else:
            point = self._next_point()
        self._live[trial_id] = point
        self._suggested += 1
        return dict(point)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        point = self._live.pop(trial_id, None)
        if point is None:
            return
        value = (result or {}).get(self._metric)
        if error or not is_finite(value):
            self._failed.append(point)
        else:
            self._observations.append((point, float(value)))

    def add_evaluated_point(self, parameters, value, error=False, pruned=False, intermediate_values=None):
        point = self._space.validate_point(parameters)
        if error or not is_finite(value):
            self._failed.append(point)
        else:
            self._observations.append((point, float(value)))

    def get_state(self) -> dict:
        return {
            "version": 1,
            "covars": self._space.to_dict(),
            "metric": self._metric,
            "mode": self._mode,
            **self._settings,
            "to_evaluate": self._to_evaluate,
            "observations": [{"point": p, "response": y} for p, y in self._observations],
            "failed": self._failed,
            "live": self._live,
            "suggested": self._suggested,
            "designed": self._designed,
        }

    def set_state(self, state: dict) -> None:
        space = Space.from_covars(state["covars"])
        self._space = space
        self._metric, self._mode = state["metric"], state["mode"]
        self._settings = {k: state[k] for k in ("seed", "initial_points", "model", "acquisition")}
        self._to_evaluate = [space.validate_point(p) for p in state["to_evaluate"]]
        self._observations = [(space.validate_point(o["point"]), float(o["response"])) for o in state["observations"]]
        self._failed = [space.validate_point(p) for p in state["failed"]]
        self._live = {trial_id: space.validate_point(p) for trial_id, p in state["live"].items()}
        self._suggested, self._designed = state["suggested"], state["designed"]

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "w") as file:
            json.dump(self.get_state(), file)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path) as file:
            self.set_state(json.load(file))

    # results --------------------------------------------------------------------------------
    @property
    def observations(self) -> list[tuple[dict, float]]:
        return list(self._observations)

    @property
    def best(self) -> tuple[dict, float] | None:
        if not self._observations:
            return None
        pick = max if self._mode == "max" else min
        return pick(self._observations, key=lambda o: o[1])

    # the engine ------------------------------------------------------------------------------
    def _next_point(self) -> dict:
        if self._suggested < self._settings["initial_points"] or len(self._observations) < 2:
            return self._design_point()
        responses = [y for _, y in self._observations]
        worst = (min if self._mode == "max" else max)(responses)
        lie = sum(responses) / len(responses)
        told = [Observation(p, y) for p, y in self._observations]
        told += [Observation(p, lie) for p in self._live.values()]
        told += [Observation(p, worst) for p in self._failed]
        optimizer = Optimizer(
            self._space,
            model=self._settings["model"],
            acquisition=self._settings["acquisition"],
            maximize=self._mode == "max",
            initial_points=1,
            seed=self._settings["seed"],
            observations=told,
        )
        return optimizer.ask(1)[0]

    def _design_point(self) -> dict:
        """Point ``designed`` of the engine's initial design: the guess, then Sobol points."""
        index, self._designed = self._designed, self._designed + 1
        if index == 0:
            return self._space.guess()
        return self._space.sobol(1, self._settings["seed"], skip=index - 1)[0]
