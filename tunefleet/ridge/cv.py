"""K-fold cross-validated ridge regression over a list of L2 coefficients.

Semantics match scikit-learn ``GridSearchCV(Ridge(alpha), cv=KFold(...))`` scored by
mean squared error: the same folds, the same centring for the intercept, the mean of
the per-fold MSEs, the lowest mean MSE wins (first on ties) and is refitted on all rows.

Speed comes from never fitting one alpha at a time. One streaming pass over the rows
forms each fold's sufficient statistics (XᵀX, Xᵀy, sums); a fold's training statistics
are the total minus its own, one symmetric eigendecomposition per fold solves every
alpha, and the held-out MSE follows from the fold's statistics without a second pass. When the training Gram matrix is too
ill-conditioned for that (tiny alphas, d > n, constant columns), the fold falls back to
a thin SVD of its centred training rows, the numerically stable path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np

from tunefleet import validation
from tunefleet.errors import InvalidInput

MAX_FOLDS = 1000  # folds of a CV (each costs one eigendecomposition)
MAX_ALPHAS = 1000  # L2 coefficients of one training

# Above this condition number of (G + alpha I) the Gram path loses more digits than we
# accept (float64 keeps ~16; the Gram matrix squares the data's condition number).
GRAM_CONDITION_LIMIT = 1e8


class RidgeInputError(InvalidInput):
    """The data or parameters cannot be used for ridge cross-validation."""


@dataclass(frozen=True)
class RidgeCVResult:
    alphas: list[float]
    fold_mse: np.ndarray  # (n_alphas, n_folds)
    best_alpha: float
    coef: np.ndarray  # refitted on all rows with best_alpha
    intercept: float
    fold_sizes: list[int] = field(default_factory=list)

    @property
    def mean_mse(self) -> np.ndarray:
        return self.fold_mse.mean(axis=1)

    def cv_results(self) -> list[dict]:
        """Per alpha, in the order given: param_value, mean_mse and the per-fold MSEs."""
        return [
            {"param_value": alpha, "mean_mse": float(mean), "fold_mse": [float(m) for m in folds]}
            for alpha, mean, folds in zip(self.alphas, self.mean_mse, self.fold_mse)
        ]


def validate_params(n_rows: int | None, n_folds: int, alphas) -> list[float]:
    """Check CV parameters (against the data size, when it is known); return the alphas as floats."""
    if not validation.is_int(n_folds):
        raise RidgeInputError(f"n_folds must be an integer, got {n_folds!r}")
    if n_folds < 2:
        raise RidgeInputError(f"n_folds must be at least 2, got {n_folds}")
    if n_folds > MAX_FOLDS:
        raise RidgeInputError(f"n_folds must be at most {MAX_FOLDS}, got {n_folds}")
    if n_rows is not None and n_folds > n_rows:
        raise RidgeInputError(f"n_folds={n_folds} is greater than the number of rows ({n_rows})")
    if alphas is None or len(alphas) == 0:
        raise RidgeInputError("l2_coef must list at least one value")
    if len(alphas) > MAX_ALPHAS:
        raise RidgeInputError(f"l2_coef must list at most {MAX_ALPHAS} values, got {len(alphas)}")
    values = []
    for alpha in alphas:
        if not validation.is_real(alpha):
            raise RidgeInputError(f"l2_coef values must be numbers, got {alpha!r}")
        if not np.isfinite(alpha) or alpha < 0:
            raise RidgeInputError(f"l2_coef values must be finite and >= 0, got {alpha!r}")
        values.append(float(alpha))
    return values


def ridge_cv(
    X: np.ndarray,
    y: np.ndarray,
    alphas,
    n_folds: int = 5,
    fit_intercept: bool = True,
    shuffle: bool = False,
    random_state: int | None = None,
) -> RidgeCVResult:
    """Cross-validate ridge over ``alphas`` with ``KFold(n_folds, shuffle, random_state)``."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    if X.ndim != 2 or X.shape[0] != y.shape[0]:
        raise RidgeInputError(f"X must be 2-D with one row per target value, got {X.shape} and {y.shape}")
    if X.shape[1] == 0:
        raise RidgeInputError("there are no feature columns")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise RidgeInputError("data contains NaN or infinite values")
    alphas = validate_params(X.shape[0], n_folds, alphas)
    alpha_arr = np.asarray(alphas)

    from sklearn.model_selection import KFold  # sklearn + scipy.stats: ~1 s of CLI start-up otherwise

    folds = [test for _, test in KFold(n_folds, shuffle=shuffle, random_state=random_state).split(X)]
    shift = _Shift.for_data(X, y, fit_intercept)
    stats = [_BlockStats.of_rows(X, y, rows, shift) for rows in folds]
    total = _BlockStats.sum(stats)

    fold_mse = np.empty((len(alphas), n_folds))
    for k, held_out in enumerate(stats):
        training_rows = partial(shift.rows, X, y, np.concatenate(folds[:k] + folds[k + 1 :]))
        coef, intercepts = _solve(total.minus(held_out), alpha_arr, fit_intercept, training_rows)
        sse = held_out.sse(coef, intercepts)
        if sse is None:  # too much cancellation in the closed form: measure the residuals
            Xk, yk = shift.rows(X, y, folds[k])
            residual = yk[:, None] - Xk @ coef - intercepts
            sse = np.einsum("ij,ij->j", residual, residual)
        fold_mse[:, k] = sse / held_out.n

    best = int(np.argmin(fold_mse.mean(axis=1)))
    all_rows = partial(shift.rows, X, y, np.arange(len(y)))
    coef, intercepts = _solve(total, alpha_arr[best : best + 1], fit_intercept, all_rows)
    intercept = float(intercepts[0] + shift.y - shift.x @ coef[:, 0])
    if not (np.isfinite(fold_mse).all() and np.isfinite(coef).all() and np.isfinite(intercept)):
        # finite data whose squares or products overflow float64 (|values| near 1e154 and above)
        raise RidgeInputError(
            f"the data's numbers overflow float64 in ridge's sums (largest |value| {np.abs(X).max(initial=0):.3g} "
            f"in X, {np.abs(y).max(initial=0):.3g} in the target); scale the columns down"
        )
    return RidgeCVResult(
        alphas=alphas,
        fold_mse=fold_mse,
        best_alpha=alphas[best],
        coef=coef[:, 0],
        intercept=intercept,
        fold_sizes=[len(f) for f in folds],
    )


# Rows are streamed through a cache-sized buffer: gathered, shifted and accumulated into
# the block's Gram matrix in one pass, so the data is read once and never copied whole.
_CHUNK_BYTES = 2 << 20


@dataclass(frozen=True)
class _Shift:
    """A constant subtracted from X and y before forming Gram matrices.

    Any constant keeps the ridge solution exact after re-centring; one close to the mean
    keeps XᵀX from cancelling catastrophically when columns have large offsets. The mean
    of the first rows is close enough and costs no extra pass over the data.
    """

    x: np.ndarray
    y: float

    @classmethod
    def for_data(cls, X: np.ndarray, y: np.ndarray, fit_intercept: bool) -> _Shift:
        if not fit_intercept:
            return cls(np.zeros(X.shape[1]), 0.0)
        head = slice(0, max(1, _chunk_rows(X.shape[1])))
        return cls(X[head].mean(axis=0), float(y[head].mean()))

    def rows(self, X: np.ndarray, y: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return X[index] - self.x, y[index] - self.y


def _chunk_rows(n_features: int) -> int:
    return max(256, _CHUNK_BYTES // (8 * n_features))


@dataclass(frozen=True)
class _BlockStats:
    """Sufficient statistics of a block of shifted rows: n, sums, XᵀX, Xᵀy and yᵀy."""

    n: int
    x_sum: np.ndarray
    y_sum: float
    gram: np.ndarray
    xty: np.ndarray
    yty: float

    @classmethod
    def of_rows(cls, X: np.ndarray, y: np.ndarray, index: np.ndarray, shift: _Shift) -> _BlockStats:
        d = X.shape[1]
        step = _chunk_rows(d)
        contiguous = len(index) > 0 and index[-1] - index[0] + 1 == len(index) and np.all(np.diff(index) == 1)
        buf = np.empty((min(step, len(index)), d))
        gram, xty, x_sum = np.zeros((d, d)), np.zeros(d), np.zeros(d)
        y_sum = yty = 0.0
        for start in range(0, len(index), step):
            part = index[start : start + step]
            xb = buf[: len(part)]
            if contiguous:
                np.subtract(X[part[0] : part[-1] + 1], shift.x, out=xb)
            else:
                np.take(X, part, axis=0, out=xb)
                xb -= shift.x
            yb = y[part] - shift.y
            gram += xb.T @ xb
            xty += xb.T @ yb
            x_sum += xb.sum(axis=0)
            y_sum += float(yb.sum())
            yty += float(yb @ yb)
        return cls(len(index), x_sum, y_sum, gram, xty, yty)

    @classmethod
    def sum(cls, parts: list[_BlockStats]) -> _BlockStats:
        return cls(
            sum(p.n for p in parts),
            np.sum([p.x_sum for p in parts], axis=0),
            sum(p.y_sum for p in parts),
            np.sum([p.gram for p in parts], axis=0),
            np.sum([p.xty for p in parts], axis=0),
            sum(p.yty for p in parts),
        )

    def minus(self, other: _BlockStats) -> _BlockStats:
        return _BlockStats(
            self.n - other.n,
            self.x_sum - other.x_sum,
            self.y_sum - other.y_sum,
            self.gram - other.gram,
            self.xty - other.xty,
            self.yty - other.yty,
        )

    def sse(self, coef: np.ndarray, intercepts: np.ndarray) -> np.ndarray | None:
        """Σ(y - Xw - b)² per column of ``coef`` from the statistics alone.

        Returns None when the expansion cancels too much to trust (a near-perfect fit):
        the caller then measures the residuals directly.
        """
        quad = np.einsum("ia,ij,ja->a", coef, self.gram, coef)
        cross = coef.T @ self.xty
        sse = (
            self.yty
            - 2 * cross
            - 2 * intercepts * self.y_sum
            + quad
            + 2 * intercepts * (coef.T @ self.x_sum)
            + self.n * intercepts**2
        )
        scale = self.yty + quad + self.n * intercepts**2
        if np.any(sse <= scale * _CANCELLATION_LIMIT):
            return None
        return sse


# Relative size of the residual sum below which the closed form has lost too many digits
# (float64 keeps ~16: at 1e-6 about 10 remain, well inside the 1e-8 we promise).
_CANCELLATION_LIMIT = 1e-6


def _solve(stats: _BlockStats, alphas: np.ndarray, fit_intercept: bool, rows) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (d, n_alphas) and intercepts (n_alphas,) in the shifted coordinates.

    ``rows`` returns the shifted training rows; it is called only on the SVD fallback.
    """
    gram, xty = stats.gram, stats.xty
    x_mean, y_mean = np.zeros_like(xty), 0.0
    if fit_intercept:
        x_mean, y_mean = stats.x_sum / stats.n, stats.y_sum / stats.n
        gram = gram - stats.n * np.outer(x_mean, x_mean)
        xty = xty - stats.n * x_mean * y_mean
    eigvals, eigvecs = np.linalg.eigh(gram)
    top = max(float(eigvals[-1]), 0.0)
    smallest = np.maximum(eigvals[0], 0.0) + alphas
    well_conditioned = top > 0 and np.all(smallest > 0) and np.all((top + alphas) / smallest < GRAM_CONDITION_LIMIT)
    if well_conditioned:
        projected = eigvecs.T @ xty
        coef = eigvecs @ (projected[:, None] / (eigvals[:, None] + alphas[None, :]))
    else:
        coef = _solve_svd(*rows(), alphas, fit_intercept)
    intercepts = y_mean - x_mean @ coef
    return coef, intercepts


def _solve_svd(X: np.ndarray, y: np.ndarray, alphas: np.ndarray, fit_intercept: bool) -> np.ndarray:
    """Stable ridge path from a thin SVD of the (centred) rows, as sklearn's ``svd`` solver."""
    if fit_intercept:
        X = X - X.mean(axis=0)
        y = y - y.mean()
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    # Relative cut-off (as lstsq's rcond): directions below round-off are noise, not signal.
    keep = s > s[0] * max(X.shape) * np.finfo(np.float64).eps if len(s) else s > 0
    s, U, Vt = s[keep], U[:, keep], Vt[keep]
    uty = U.T @ y
    shrink = s[:, None] / (s[:, None] ** 2 + alphas[None, :])
    return Vt.T @ (shrink * uty[:, None])


def predict(X: np.ndarray, coef: np.ndarray, intercept: float) -> np.ndarray:
    return np.asarray(X, dtype=np.float64) @ np.asarray(coef, dtype=np.float64) + intercept
