#!/usr/bin/env bash
# Run tunefleet's main job on the embedded defaults: SQLite and a folder under
# ~/.tunefleet, and a temporary local Prefect server (the tunefleet CLI keeps its telemetry off).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/tunefleet demo
