"""Creating pools, blocks and deployments (``tunefleet deploy``) and the single-process mode (``tunefleet serve``).

prefect.yaml is the one list of deployments: both read it.
"""
