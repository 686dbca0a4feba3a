#!/usr/bin/env bash
# Run the test suite. Installs what it needs (the venv; PostgreSQL server binaries and Chromium
# from the distribution if missing); the suite itself starts PostgreSQL, an S3 server, Prefect,
# and the local production stack (infra/local-stack) for the end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
scripts/postgres-binaries.sh
scripts/browser.sh

export PREFECT_SERVER_ANALYTICS_ENABLED=false
exec .venv/bin/python -m pytest "$@"
