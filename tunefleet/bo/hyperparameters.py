"""The GP's hyperparameters by maximum a posteriori, in plain torch, loaded into BoTorch's model.

The objective is exactly the one ``fit_gpytorch_mll`` maximises for the engine's
``SingleTaskGP`` (Matern-5/2 ARD kernel with Gamma priors, constant mean, Gaussian noise
with BoTorch's LogNormal(-4, 1) prior above 1e-4, or a fixed noise; outcomes standardised),
so the fit lands on the same hyperparameters (tested against BoTorch's fit). What it
saves is gpytorch's per-evaluation overhead and its slow backward pass: one ask on
Hartmann6 (benchmarks/bo.py, 2 cores) spent 0.25 s fitting at 50 observations and 19 s at
1,000 through ``fit_gpytorch_mll``; this fit takes a fraction of that (see
``benchmarks/bo.py``'s ask timings).

Above ``FIT_SUBSAMPLE`` observations the hyperparameters are fitted on a seeded random
subset of that size (the GP then conditions on every observation): a few hundred points
pin six lengthscales down, and the fit's cost grows with the cube of the points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from botorch.models import SingleTaskGP
from linear_operator.utils.cholesky import psd_safe_cholesky
from linear_operator.utils.errors import NotPSDError
from scipy.optimize import minimize

# BoTorch's SingleTaskGP likelihood and the engine's kernel priors (engine._matern_kernel).
MIN_NOISE = 1e-4
NOISE_PRIOR_LOC, NOISE_PRIOR_SCALE = -4.0, 1.0
LENGTHSCALE_PRIOR = (3.0, 6.0)  # Gamma(concentration, rate)
OUTPUTSCALE_PRIOR = (2.0, 0.15)
# gpytorch's starting values: softplus(0) for lengthscales and output scale, the noise prior's mode.
START_SCALE = math.log(2.0)
START_NOISE = math.exp(NOISE_PRIOR_LOC - NOISE_PRIOR_SCALE**2)
FIT_SUBSAMPLE = 400
MAX_ITERATIONS = 200


@dataclass(frozen=True)
class Hyperparameters:
    lengthscales: tuple[float, ...]
    outputscale: float
    noise: float | None  # None: the model's noise is fixed (FixedNoiseGP)
    mean: float


def fit(X: torch.Tensor, y: torch.Tensor, noise: torch.Tensor | None, seed: int) -> Hyperparameters:
    """The MAP hyperparameters for inputs ``X`` (already snapped to feasible points) and
    standardised outcomes ``y`` (1-d); ``noise``: fixed per-point noise variances, or None to learn one."""
    if len(X) > FIT_SUBSAMPLE:
        rows = np.sort(np.random.default_rng(seed).choice(len(X), FIT_SUBSAMPLE, replace=False))
        X, y = X[rows], y[rows]
        noise = None if noise is None else noise[rows]
    dim = X.shape[-1]
    start = [math.log(START_SCALE)] * dim + [math.log(START_SCALE)]
    if noise is None:
        start.append(math.log(START_NOISE - MIN_NOISE))
    start.append(0.0)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        params = torch.tensor(theta, dtype=torch.double, requires_grad=True)
        try:
            loss = -_log_posterior(params, X, y, noise) / len(X)
        except NotPSDError:  # not even with jitter: the line search steps back from here
            return math.inf, np.zeros_like(theta)
        loss.backward()
        return loss.item(), params.grad.numpy()

    result = minimize(objective, np.array(start), jac=True, method="L-BFGS-B", options={"maxiter": MAX_ITERATIONS})
    theta = result.x
    return Hyperparameters(
        lengthscales=tuple(float(v) for v in np.exp(theta[:dim])),
        outputscale=float(np.exp(theta[dim])),
        noise=None if noise is not None else float(MIN_NOISE + np.exp(theta[dim + 1])),
        mean=float(theta[-1]),
    )


def load(model: SingleTaskGP, hyperparameters: Hyperparameters) -> None:
    """Set ``model``'s hyperparameters (the engine's kernel, BoTorch's likelihood) to these values."""
    with torch.no_grad():
        model.covar_module.base_kernel.lengthscale = torch.tensor([hyperparameters.lengthscales], dtype=torch.double)
        model.covar_module.outputscale = torch.tensor(hyperparameters.outputscale, dtype=torch.double)
        model.mean_module.constant.fill_(hyperparameters.mean)
        if hyperparameters.noise is not None:
            model.likelihood.noise = torch.tensor([hyperparameters.noise], dtype=torch.double)


def _log_posterior(params: torch.Tensor, X: torch.Tensor, y: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
    dim = X.shape[-1]
    lengthscales, outputscale = params[:dim].exp(), params[dim].exp()
    if noise is None:
        learned = MIN_NOISE + params[dim + 1].exp()
        diagonal = learned.expand(len(X))
    else:
        diagonal = noise
    mean = params[-1]
    covariance = outputscale * matern52(X / lengthscales) + torch.diag(diagonal)
    log_likelihood = _GaussianLogDensity.apply(y - mean, covariance)
    log_prior = _gamma_log_prob(lengthscales, *LENGTHSCALE_PRIOR).sum() + _gamma_log_prob(
        outputscale, *OUTPUTSCALE_PRIOR
    )
    if noise is None:
        log_prior = log_prior + _lognormal_log_prob(learned, NOISE_PRIOR_LOC, NOISE_PRIOR_SCALE)
    return log_likelihood + log_prior


class _GaussianLogDensity(torch.autograd.Function):
    """log N(residual | 0, covariance), with the textbook gradient (Rasmussen & Williams, 5.9):
    d/dK = (alpha alpha^T - K^-1) / 2 with alpha = K^-1 r. Autograd through the Cholesky factor
    instead spent 81 of 220 ms per evaluation at 1,000 points in its backward pass."""

    @staticmethod
    def forward(ctx, residual: torch.Tensor, covariance: torch.Tensor) -> torch.Tensor:
        cholesky = psd_safe_cholesky(covariance)
        alpha = torch.cholesky_solve(residual.unsqueeze(-1), cholesky).squeeze(-1)
        ctx.save_for_backward(cholesky, alpha)
        return (
            -0.5 * residual.dot(alpha) - cholesky.diagonal().log().sum() - 0.5 * len(residual) * math.log(2 * math.pi)
        )

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cholesky, alpha = ctx.saved_tensors
        grad_covariance = 0.5 * (torch.outer(alpha, alpha) - torch.cholesky_inverse(cholesky))
        return -grad * alpha, grad * grad_covariance


def matern52(Z: torch.Tensor, W: torch.Tensor | None = None) -> torch.Tensor:
    """Matern-5/2 correlations between the rows of ``Z`` and those of ``W`` (default: ``Z``), inputs
    already divided by the lengthscales."""
    # |a|^2 + |b|^2 - 2 a.b through one matrix product: the broadcast difference of every
    # pair took 265 ms per evaluation with its backward pass at 1,000 points, this 20 ms.
    W = Z if W is None else W
    squared = Z.pow(2).sum(-1).unsqueeze(-1) + W.pow(2).sum(-1).unsqueeze(-2) - 2 * Z @ W.transpose(-1, -2)
    # sqrt has an infinite gradient at 0 (the diagonal): clamp inside it, as gpytorch does.
    distance = math.sqrt(5) * squared.clamp_min(1e-30).sqrt()
    return (1 + distance + distance.pow(2) / 3) * torch.exp(-distance)


def _gamma_log_prob(value: torch.Tensor, concentration: float, rate: float) -> torch.Tensor:
    return (
        concentration * math.log(rate) + (concentration - 1) * value.log() - rate * value - math.lgamma(concentration)
    )


def _lognormal_log_prob(value: torch.Tensor, loc: float, scale: float) -> torch.Tensor:
    log_value = value.log()
    return -((log_value - loc) ** 2) / (2 * scale**2) - log_value - math.log(scale * math.sqrt(2 * math.pi))
