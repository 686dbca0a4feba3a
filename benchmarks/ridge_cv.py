"""tunefleet's k-fold ridge CV against scikit-learn's GridSearchCV(Ridge, cv=KFold), same data, one process.

Run: .venv/bin/python benchmarks/ridge_cv.py [--repeat 3]
The last line is ``ridge_cv: <ratio>x vs GridSearchCV`` (the smaller ratio of the two shapes).
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold

from tunefleet.ridge.cv import ridge_cv

SHAPES = [(200_000, 50), (1_000_000, 20)]
FOLDS, N_ALPHAS = 5, 20


def best_time(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3, help="runs of tunefleet (best is kept)")
    args = parser.parse_args()
    alphas = list(np.logspace(-3, 3, N_ALPHAS))
    ratios = []
    for n, d in SHAPES:
        rng = np.random.default_rng(0)
        X = rng.normal(size=(n, d)) * rng.uniform(0.5, 5.0, size=d) + rng.normal(scale=10.0, size=d)
        y = X @ rng.normal(size=d) + rng.normal(scale=3.0, size=n)
        ours_s, ours = best_time(partial(ridge_cv, X, y, alphas, FOLDS), args.repeat)
        search = GridSearchCV(Ridge(), {"alpha": alphas}, cv=KFold(FOLDS), scoring="neg_mean_squared_error")
        peer_s, _ = best_time(partial(search.fit, X, y), 1)
        peer_mse = -search.cv_results_["mean_test_score"]
        max_rel = float(np.max(np.abs(ours.mean_mse - peer_mse) / peer_mse))
        ratios.append(peer_s / ours_s)
        print(
            f"n={n:>9,} d={d:>3} folds={FOLDS} alphas={N_ALPHAS}: tunefleet {ours_s * 1e3:8.1f} ms  "
            f"GridSearchCV {peer_s * 1e3:9.1f} ms  ratio {peer_s / ours_s:6.1f}x  "
            f"max rel. MSE difference {max_rel:.1e}  same best alpha: {ours.best_alpha == search.best_params_['alpha']}"
        )
        if max_rel > 1e-8:
            raise SystemExit(f"MSEs differ by {max_rel:.1e} relative: the comparison is void")
    print(f"ridge_cv: {min(ratios):.1f}x vs GridSearchCV")


if __name__ == "__main__":
    main()
