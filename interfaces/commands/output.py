from __future__ import annotations

import json
import sys


def emit(document) -> None:
    """Write a JSON document to stdout (the CLI's machine-readable answer)."""
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")


def line(text: str) -> None:
    sys.stdout.write(text + "\n")
