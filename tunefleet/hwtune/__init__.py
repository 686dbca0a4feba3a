"""Hardware-aware tuning: a model's hyperparameters and how it is served, tuned together.

A problem (``problem.HwProblem``) joins the BO engine's multi-objective experiments and the
inference benchmark: the search space is the estimator's hyperparameters plus one categorical
``serving`` variable (``platform+optimisation`` from the benchmark registry); each evaluation
trains a candidate, stores it as an uploaded model, and measures it as a one-cell benchmark run
on the target hardware; its trial is told the served model's validation metric (the
optimisation's drift included), its median latency at the batch size and, when asked, its size
and drift. Records: the BO experiment and its trials, the benchmark runs and their cells, the
candidate models, and this package's ``HwTuning`` / ``HwTrial`` linking them.
"""
