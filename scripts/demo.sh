#!/usr/bin/env bash
# Run tunefleet's main job on the embedded defaults: SQLite and a folder under ~/.tunefleet, and
# tunefleet's local Prefect server (started on first use, kept for its UI: `tunefleet server stop`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/tunefleet demo
