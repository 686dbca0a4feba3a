"""HPO sweeps in hpogrid's and Auptimizer's vocabularies: the core under the ``hpo-sweep`` flow.

- ``tables``      the records: named configs, sweeps, trials
- ``service``     the verbs over them (configs, projects, sweeps, trials) and what a sweep runs
- ``configs``     the named configurations (search_space, hpo_config, model_config,
                  compute_config, project) as validated models, their CLI options, update/merge
- ``auptimizer``  an Auptimizer ``experiment.json`` translated to the same configurations
- ``trainables``  the user's function or class loaded from a script, and one trial runner for
                  Ray Tune and for a plain process (Dask)
- ``search``      Ray Tune searchers and schedulers, one module per search library
- ``tune_run``    a sweep's trials on Ray Tune, recorded as they happen
- ``report``      sweep reports: JSON, CSV, HTML, a parallel-coordinates PNG, a markdown summary

Nothing here imports Prefect; Ray is imported by ``tune_run``, the searchers' modules and the
trials of ``trainables.as_tune_trainable``.
"""
