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

Modules: ``loading`` (the script and its function or class), ``results`` (what a result is),
``running`` (``run_trial``), ``tune`` (``as_tune_trainable``), ``errors``.
"""

from tunefleet.sweep.trainables.errors import (
    InvalidResult,
    MetricNotReported,
    ModelNotFound,
    ScriptNotFound,
    TrainableError,
    TrialError,
)
from tunefleet.sweep.trainables.loading import Trainable, TrainableSpec, load_trainable, resolve_script
from tunefleet.sweep.trainables.results import TrialOutcome, normalise_result, stop_condition
from tunefleet.sweep.trainables.running import run_trial
from tunefleet.sweep.trainables.tune import as_tune_trainable

__all__ = [
    "InvalidResult",
    "MetricNotReported",
    "ModelNotFound",
    "ScriptNotFound",
    "Trainable",
    "TrainableError",
    "TrainableSpec",
    "TrialError",
    "TrialOutcome",
    "as_tune_trainable",
    "load_trainable",
    "normalise_result",
    "resolve_script",
    "run_trial",
    "stop_condition",
]
