#!/usr/bin/env bash
# Run tunefleet's main job on the embedded defaults: SQLite and a folder under
# ~/.tunefleet, and a temporary local Prefect server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PREFECT_SERVER_ANALYTICS_ENABLED=${PREFECT_SERVER_ANALYTICS_ENABLED:-false}
exec .venv/bin/tunefleet demo
