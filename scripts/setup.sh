#!/usr/bin/env bash
# Create or reuse .venv at the repo root and install tunefleet with the pinned versions
# of requirements.lock. Usage: scripts/setup.sh [EXTRAS]   (e.g. "test")
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      python=$candidate; break
    fi
  done
fi
[ -n "$python" ] || { echo "tunefleet needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

[ -x .venv/bin/python ] || "$python" -m venv .venv
extras=${1:-}
spec="."
[ -n "$extras" ] && spec=".[$extras]"
stamp=".venv/.tunefleet-installed-${extras:-base}"
if [ ! -f "$stamp" ] || [ requirements.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -c requirements.lock -e "$spec"
  # BoTorch compiles its fused qLogNEHVI kernel (C++, cached in ~/.cache/torch_extensions) in the first
  # process that asks with several objectives: 28-40 s on 2 cores, measured as the first such ask (an API
  # request, a test). Built here, once per install; without a compiler BoTorch uses its Python loop.
  .venv/bin/python -c 'from botorch.acquisition.multi_objective import logei; logei._try_load_fused_kernel()'
  touch "$stamp"
fi
