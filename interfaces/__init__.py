"""The user-facing entry points (HTTP API, CLI). They start flow runs, so they sit above ``flows``.

On the embedded defaults the commands share one local Prefect server (``local_prefect``), or, with
``TUNEFLEET_LOCAL_PREFECT=temporary``, Prefect starts a temporary server per process. Two of
Prefect's defaults do not suit them, so they are changed here, before Prefect loads, unless the
operator set them:

- the server sends a telemetry heartbeat to Prefect's servers, and logs "ERROR ... Failed to send
  telemetry" on a machine without internet: off;
- it is given 20 s to start, and its first start on a new Prefect home runs the migrations of
  Prefect's own database: seen to take longer on a loaded 2-core machine ("Timed out while
  attempting to connect to ephemeral Prefect API server", the first demo failing): 120 s.
"""

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
