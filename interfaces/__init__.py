"""The user-facing entry points (HTTP API, CLI). They start flow runs, so they sit above ``flows``."""

import os

# On the embedded defaults Prefect starts a temporary server, which sends a telemetry heartbeat to
# Prefect's servers and logs "ERROR ... Failed to send telemetry" on a machine without internet.
# tunefleet's commands keep it off unless the operator turns it on (set before Prefect loads).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
