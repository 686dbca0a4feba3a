#!/usr/bin/env bash
# Run the test suite. Installs what it needs (the venv, PostgreSQL server binaries from
# Debian if missing); the suite itself starts PostgreSQL, an S3 server and Prefect.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test

if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL server binaries are missing: sudo apt-get install postgresql" >&2; exit 1
  fi
fi
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  # initdb refuses root: the suite runs PostgreSQL as this unprivileged user.
  useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
fi

export PREFECT_SERVER_ANALYTICS_ENABLED=false
exec .venv/bin/python -m pytest "$@"
