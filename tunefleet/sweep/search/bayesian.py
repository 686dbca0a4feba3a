"""tunefleet's BO engine (``tunefleet.bo.engine``) as a Ray Tune searcher: the sweep's ``bayesian``."""

from __future__ import annotations

import json
import random

from ray.tune.search import Searcher

from tunefleet.bo.engine import Observation, Optimizer
from tunefleet.bo.outcomes import Outcomes
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

    With ``outcomes`` (several objectives, or constraints: ``HpoConfig.outcomes``) a trial's result
    gives every metric they name; the engine fits a GP per metric and asks by qLogNEHVI (or the
    constrained qLogNEI), conditioned on the running and the failed points as pending
    (``X_pending``), which it then does not propose again.
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
        outcomes: Outcomes | None = None,
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
        self._outcomes = outcomes
        self._settings = {
            "seed": seed,
            "initial_points": initial_points,
            "model": model,
            "acquisition": acquisition,
        }
        self._to_evaluate = [space.validate_point(p) for p in points_to_evaluate or []]
        self._observations: list[tuple[dict, float | dict]] = []
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
        if self._outcomes is None:
            self._observe(point, (result or {}).get(self._metric), error)
        else:
            self._observe(point, {name: (result or {}).get(name) for name in self._outcomes.metrics}, error)

    def add_evaluated_point(self, parameters, value, error=False, pruned=False, intermediate_values=None):
        """A trial that ran elsewhere: ``value`` is the metric's, or {metric: value} with ``outcomes``."""
        self._observe(self._space.validate_point(parameters), value, error)

    def _observe(self, point: dict, value, error: bool) -> None:
        """Record a finished point: observed with its value(s), or failed (an error, or a value missing or not finite)."""
        values = value.values() if isinstance(value, dict) else (value,)
        if error or not all(is_finite(v) for v in values) or (self._outcomes is not None) != isinstance(value, dict):
            self._failed.append(point)
        elif self._outcomes is None:
            self._observations.append((point, float(value)))
        else:
            self._observations.append((point, {name: float(v) for name, v in value.items()}))

    def get_state(self) -> dict:
        return {
            "version": 1,
            "covars": self._space.to_dict(),
            "metric": self._metric,
            "mode": self._mode,
            "outcomes": None
            if self._outcomes is None
            else {"responses": self._outcomes.responses(), "constraints": self._outcomes.constraint_texts()},
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
        declared = state.get("outcomes")  # absent from the states of version-1 searchers of one metric
        self._outcomes = None if declared is None else Outcomes.parse(declared["responses"], declared["constraints"])
        self._settings = {k: state[k] for k in ("seed", "initial_points", "model", "acquisition")}
        self._to_evaluate = [space.validate_point(p) for p in state["to_evaluate"]]
        self._observations = [
            (space.validate_point(o["point"]), _response(o["response"])) for o in state["observations"]
        ]
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
    def observations(self) -> list[tuple[dict, float | dict]]:
        return list(self._observations)

    @property
    def best(self) -> tuple[dict, float] | None:
        """The best observation of one metric (None with ``outcomes``: their front is ``pareto``)."""
        if not self._observations or self._outcomes is not None:
            return None
        pick = max if self._mode == "max" else min
        return pick(self._observations, key=lambda o: o[1])

    @property
    def pareto(self) -> list[tuple[dict, dict]]:
        """With ``outcomes``: the feasible observations no other one dominates."""
        if self._outcomes is None:
            return []
        return [self._observations[i] for i in self._outcomes.pareto([v for _, v in self._observations])]

    # the engine ------------------------------------------------------------------------------
    def _next_point(self) -> dict:
        if self._suggested < self._settings["initial_points"] or len(self._observations) < 2:
            return self._design_point()
        if self._outcomes is not None:
            return self._optimizer([Observation(p, v) for p, v in self._observations], self._outcomes).ask(
                1, pending=[*self._live.values(), *self._failed]
            )[0]
        responses = [y for _, y in self._observations]
        worst = (min if self._mode == "max" else max)(responses)
        lie = sum(responses) / len(responses)
        told = [Observation(p, y) for p, y in self._observations]
        told += [Observation(p, lie) for p in self._live.values()]
        told += [Observation(p, worst) for p in self._failed]
        return self._optimizer(told, Outcomes.single(self._mode == "max")).ask(1)[0]

    def _optimizer(self, told: list[Observation], outcomes: Outcomes) -> Optimizer:
        return Optimizer(
            self._space,
            model=self._settings["model"],
            acquisition=self._settings["acquisition"],
            initial_points=1,
            seed=self._settings["seed"],
            observations=told,
            outcomes=outcomes,
        )

    def _design_point(self) -> dict:
        """Point ``designed`` of the engine's initial design: the guess, then Sobol points."""
        index, self._designed = self._designed, self._designed + 1
        if index == 0:
            return self._space.guess()
        return self._space.sobol(1, self._settings["seed"], skip=index - 1)[0]


def _response(stored) -> float | dict:
    return {name: float(v) for name, v in stored.items()} if isinstance(stored, dict) else float(stored)
