"""CSV in, numeric matrices out — with a precise message for everything that can be wrong."""

from __future__ import annotations

import csv
import io
import warnings

import numpy as np
import pandas as pd

from tunefleet.errors import InvalidInput


class TabularError(InvalidInput):
    """The data cannot be used as given; the message says exactly why."""


def read_csv(data: str | bytes) -> pd.DataFrame:
    """Parse CSV text with a header row; reject anything that is not a usable table."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise TabularError(f"data is not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    if not text.strip():
        raise TabularError("data is empty")
    header = next(csv.reader(io.StringIO(text)), [])
    names = [name.strip() for name in header]
    if any(not name for name in names):
        raise TabularError("data is not CSV with a header row: a column name is empty")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise TabularError(f"duplicate column names: {', '.join(duplicates)}")
    try:
        with warnings.catch_warnings():
            # pandas only warns when the first data row is longer than the header.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(text), skipinitialspace=True, index_col=False)
    except pd.errors.ParserWarning as exc:
        raise TabularError("data is not valid CSV: a row has more fields than the header") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise TabularError(f"data is not valid CSV: {_first_line(exc)}") from exc
    frame.columns = names
    if frame.empty:
        raise TabularError("data has a header but no rows")
    return frame


def training_matrix(frame: pd.DataFrame, target: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Split ``frame`` into features X, target y and the feature names, all numeric and finite."""
    if target not in frame.columns:
        raise TabularError(f"target column {target!r} is not in the data (columns: {', '.join(frame.columns)})")
    features = [name for name in frame.columns if name != target]
    if not features:
        raise TabularError("the data has no feature columns besides the target")
    _require_numeric_finite(frame)
    return frame[features].to_numpy(dtype=np.float64), frame[target].to_numpy(dtype=np.float64), features


def feature_matrix(frame: pd.DataFrame, features: list[str]) -> np.ndarray:
    """Columns ``features`` of ``frame`` in that order, whatever order the CSV had."""
    missing = [name for name in features if name not in frame.columns]
    if missing:
        raise TabularError(f"data lacks the model's feature columns: {', '.join(missing)}")
    selected = frame[features]
    _require_numeric_finite(selected)
    return selected.to_numpy(dtype=np.float64)


def _require_numeric_finite(frame: pd.DataFrame) -> None:
    non_numeric = [
        name
        for name in frame.columns
        if not pd.api.types.is_numeric_dtype(frame[name]) or pd.api.types.is_bool_dtype(frame[name])
    ]
    if non_numeric:
        raise TabularError(
            f"non-numeric columns: {', '.join(non_numeric)} (tunefleet does not encode categories; "
            "encode them as numbers first)"
        )
    values = frame.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        rows, cols = np.nonzero(bad)
        columns = sorted({frame.columns[c] for c in cols}, key=list(frame.columns).index)
        raise TabularError(
            f"missing, NaN or infinite values in column(s) {', '.join(columns)} (first at data row {int(rows[0]) + 1})"
        )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
