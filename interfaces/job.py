"""One job of the API's embedded mode, in a process of its own with a memory limit, so that a
training that runs out of memory fails alone and the API stays up::

    python -m interfaces.job KIND PARAMETERS_JSON MEMORY_MB

The limit (RLIMIT_AS) is set first, before anything is imported or allocated.
"""

from __future__ import annotations

import json
import resource
import sys


def main(argv: list[str]) -> int:
    kind, parameters, memory_mb = argv[0], json.loads(argv[1]), int(argv[2])
    limit = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from interfaces.runs import CAPABILITIES

    CAPABILITIES[kind].here(**parameters)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
