from __future__ import annotations

import json
import sys

from tunefleet.errors import InvalidInput


def emit(document) -> None:
    """Write a JSON document to stdout (the CLI's machine-readable answer)."""
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")


def line(text: str) -> None:
    sys.stdout.write(text + "\n")


def json_object(text: str, where: str) -> dict:
    """``text`` parsed as a JSON object; InvalidInput naming ``where`` (an option, a file) otherwise."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{where} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{where} must be a JSON object")
    return value
