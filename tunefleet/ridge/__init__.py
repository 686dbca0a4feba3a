"""Ridge regression with k-fold CV over L2 coefficients: the engine (``cv``), its records (``tables``) and jobs (``service``)."""
