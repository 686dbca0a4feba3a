"""A trainable as a Ray Tune function trainable: ``run_trial`` reporting through ``ray.tune.report``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from tunefleet.sweep.trainables.loading import Trainable
from tunefleet.sweep.trainables.running import run_trial


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
