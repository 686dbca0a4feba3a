"""Bayesian optimisation: the ask/tell engine (``engine``), its records (``tables``) and experiments (``service``), plots and the pandas-JSON tell format."""
