"""HPO sweeps in hpogrid's and Auptimizer's vocabularies: the core under the ``hpo_sweep`` flow.

- ``configs``     the named configurations (search_space, hpo_config, model_config,
                  compute_config, project) as validated models, their CLI options, update/merge
- ``auptimizer``  an Auptimizer ``experiment.json`` translated to the same configurations
- ``trainables``  the user's function or class loaded from a script, and one trial runner for
                  Ray Tune and for a plain process (Dask)
- ``report``      sweep reports: JSON, CSV, HTML, a parallel-coordinates PNG, a markdown summary

Nothing here imports Prefect; Ray is imported only by ``trainables.as_tune_trainable``'s trials.
"""
