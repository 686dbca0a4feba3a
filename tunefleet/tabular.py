"""CSV in, numeric matrices out — with a precise message for everything that can be wrong.

A table is bounded before it is parsed: at most ``max_columns`` columns, and the memory its
numbers would take to parse (``BYTES_PER_CELL`` a cell) at most ``max_table_mb``
(``TUNEFLEET_MAX_COLUMNS``, ``TUNEFLEET_MAX_TABLE_MB``).
"""

from __future__ import annotations

import csv
import io
import warnings
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from tunefleet.errors import InvalidInput, TooLarge

if TYPE_CHECKING:  # pandas takes ~0.6 s to import: only the functions that read tables load it
    import pandas as pd


class TabularError(InvalidInput):
    """The data cannot be used as given; the message says exactly why."""


# Measured: pd.read_csv then to_numpy raise the peak memory by 56-62 bytes a cell (4M cells of
# random floats, 20 and 200 columns), on top of the text itself.
BYTES_PER_CELL = 64


def read_csv(data: str | bytes, max_columns: int | None = None, max_table_mb: float | None = None) -> pd.DataFrame:
    """Parse CSV text with a header row; reject anything that is not a usable table, or too large
    (limits: the arguments, else the settings)."""
    import pandas as pd

    max_columns, max_table_mb = _limits(max_columns, max_table_mb)
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise TabularError(f"data is not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    if not text.strip():
        raise TabularError("data is empty")
    cells = text.count(",") + text.count("\n") + 1
    if cells * BYTES_PER_CELL > max_table_mb * 2**20:
        raise TooLarge(
            f"data has about {cells} cells, more than {max_table_mb:g} MiB of numbers allow (TUNEFLEET_MAX_TABLE_MB)"
        )
    names = _header(text, max_columns)
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


def _limits(max_columns, max_table_mb) -> tuple[int, float]:
    if max_columns is None or max_table_mb is None:
        from tunefleet.settings import get_settings

        settings = get_settings()
        max_columns = settings.max_columns if max_columns is None else max_columns
        max_table_mb = settings.max_table_mb if max_table_mb is None else max_table_mb
    return max_columns, max_table_mb


def _header(text: str, max_columns: int) -> list[str]:
    """The column names, checked: none empty, none twice, at most ``max_columns``."""
    try:
        header = next(csv.reader(io.StringIO(text[: text.find("\n") + 1 or len(text)])), [])
    except csv.Error as exc:  # a field longer than the csv module's limit, a NUL byte, ...
        raise TabularError(f"data's header row is not valid CSV: {exc}") from exc
    if len(header) > max_columns:
        raise TooLarge(f"data has {len(header)} columns, more than {max_columns} (TUNEFLEET_MAX_COLUMNS)")
    names = [name.strip() for name in header]
    if any(not name for name in names):
        raise TabularError("data is not CSV with a header row: a column name is empty")
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicates:
        raise TabularError(f"duplicate column names: {_listed(duplicates)}")
    return names


def _listed(names: list[str], most: int = 20) -> str:
    """Names for a message: the first ``most`` of them (a message never grows with the input)."""
    shown = ", ".join(str(name)[:100] for name in names[:most])
    return shown if len(names) <= most else f"{shown} and {len(names) - most} more"


def training_matrix(frame: pd.DataFrame, target: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Split ``frame`` into features X, target y and the feature names, all numeric and finite."""
    if target not in frame.columns:
        raise TabularError(f"target column {target!r} is not in the data (columns: {_listed(list(frame.columns))})")
    features = [name for name in frame.columns if name != target]
    if not features:
        raise TabularError("the data has no feature columns besides the target")
    _require_numeric_finite(frame)
    return frame[features].to_numpy(dtype=np.float64), frame[target].to_numpy(dtype=np.float64), features


def feature_matrix(frame: pd.DataFrame, features: list[str]) -> np.ndarray:
    """Columns ``features`` of ``frame`` in that order, whatever order the CSV had."""
    missing = [name for name in features if name not in frame.columns]
    if missing:
        raise TabularError(f"data lacks the model's feature columns: {_listed(missing)}")
    selected = frame[features]
    _require_numeric_finite(selected)
    return selected.to_numpy(dtype=np.float64)


def _require_numeric_finite(frame: pd.DataFrame) -> None:
    import pandas as pd

    non_numeric = [
        name
        for name in frame.columns
        if not pd.api.types.is_numeric_dtype(frame[name]) or pd.api.types.is_bool_dtype(frame[name])
    ]
    if non_numeric:
        raise TabularError(
            f"non-numeric columns: {_listed(non_numeric)} (tunefleet does not encode categories; "
            "encode them as numbers first)"
        )
    values = frame.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        rows, cols = np.nonzero(bad)
        columns = [frame.columns[c] for c in sorted(set(cols.tolist()))]
        raise TabularError(
            f"missing, NaN or infinite values in column(s) {_listed(columns)} (first at data row {int(rows[0]) + 1})"
        )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_csv(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text that a spreadsheet opens without running anything: a text cell that
    starts like a formula (``= + - @``, tab, carriage return) is prefixed with ``'``. Numbers stay
    numbers (-1.5 is not text)."""
    import pandas as pd

    def neutral(value):
        return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value

    text_columns = [name for name in frame.columns if not pd.api.types.is_numeric_dtype(frame[name])]
    safe = frame.copy()
    for name in text_columns:
        safe[name] = safe[name].map(neutral)
    safe.columns = [neutral(str(name)) for name in frame.columns]
    return safe.to_csv(index=False)
