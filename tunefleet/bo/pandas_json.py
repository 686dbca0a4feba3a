"""Rows from what pandas' ``DataFrame.to_json`` writes, whatever the orient.

The seed's clients tell results as ``df.to_json()`` (orient "columns") or
``df.to_json(orient="records")``; "split", "index" and "values"-less variants are
accepted too, as a JSON string or already-parsed JSON.
"""

from __future__ import annotations

import json
from typing import Any

from tunefleet.errors import InvalidInput


class FrameJSONError(InvalidInput):
    pass


def rows(value: Any, what: str, columns: set[str] | None = None) -> list[dict]:
    """The rows of a pandas-JSON table as dicts; ``columns`` (the names a row may have)
    tells the "columns" orient ({column: {index: value}}) from the "index" orient."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise FrameJSONError(f"{what} is not valid JSON: {exc.msg} at position {exc.pos}") from exc
    if isinstance(value, list):
        if not all(isinstance(row, dict) for row in value):
            raise FrameJSONError(f"{what}: a records-orient table must be a list of objects")
        return value
    if not isinstance(value, dict) or not value:
        raise FrameJSONError(f"{what} must be a table written by pandas' to_json (an object or a list of objects)")
    if set(value) >= {"columns", "data"}:
        return _split_orient(value, what)
    if not all(isinstance(inner, dict) for inner in value.values()):
        return [value]  # one row given as a plain object
    if columns is not None and not set(value) & columns:
        return list(value.values())  # index orient: {index: {column: value}}
    return _columns_orient(value, what)


def _split_orient(value: dict, what: str) -> list[dict]:
    names, data = value["columns"], value["data"]
    if (
        not isinstance(names, list)
        or not all(isinstance(name, str) for name in names)
        or not isinstance(data, list)
        or any(not isinstance(row, list) or len(row) != len(names) for row in data)
    ):
        raise FrameJSONError(f"{what}: a split-orient table needs 'columns' (names) and 'data' (rows: lists as long)")
    return [dict(zip(names, row)) for row in data]


def _columns_orient(value: dict, what: str) -> list[dict]:
    indexes = list(next(iter(value.values())))
    for name, column in value.items():
        if list(column) != indexes:
            raise FrameJSONError(f"{what}: column {name!r} has rows {list(column)}, expected {indexes}")
    return [{name: column[index] for name, column in value.items()} for index in indexes]


def to_columns_json(rows: list[dict | None]) -> str:
    """Rows as pandas' default ``to_json`` writes them: ``{"name": {"0": value, "1": ...}}``."""
    names = dict.fromkeys(name for row in rows for name in row or {})
    return json.dumps({name: {str(i): (row or {}).get(name) for i, row in enumerate(rows)} for name in names})
