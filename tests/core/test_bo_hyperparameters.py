"""The engine's own MAP fit of the GP's hyperparameters lands where BoTorch's fit does, and its
plain-torch posterior and LogEI give what BoTorch's give."""

import numpy as np
import pytest
import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms.outcome import Standardize
from gpytorch.mlls import ExactMarginalLogLikelihood

from tunefleet.bo import hyperparameters, posterior
from tunefleet.bo.engine import SnapToFeasible, _matern_kernel
from tunefleet.objectives import hartmann6
from tunefleet.space import Space

HARTMANN6 = Space.from_covars({f"x{i}": {"vtype": "cont", "min": 0.0, "max": 1.0} for i in range(1, 7)})
MIXED = Space.from_covars(
    {
        "n": {"vtype": "int", "min": 0, "max": 10},
        "kind": {"vtype": "cat", "options": ["a", "b", "c"]},
        "x": {"vtype": "cont", "min": 0.0, "max": 1.0},
    }
)


def hartmann_data(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    inputs = np.random.default_rng(n).random((n, 6))
    return torch.tensor(inputs), -torch.tensor([[hartmann6(*row)] for row in inputs], dtype=torch.double)


def mixed_data(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    points = MIXED.sobol(n, seed=3)
    values = [p["n"] * 0.3 + {"a": 0.0, "b": 1.0, "c": -1.0}[p["kind"]] + np.sin(6 * p["x"]) for p in points]
    return torch.tensor(MIXED.encode(points), dtype=torch.double), torch.tensor([[v] for v in values])


def model(space: Space, X: torch.Tensor, Y: torch.Tensor, fixed_noise: bool) -> SingleTaskGP:
    return SingleTaskGP(
        X,
        Y,
        train_Yvar=torch.full_like(Y, 1e-3) if fixed_noise else None,
        covar_module=_matern_kernel(X.shape[-1]),
        input_transform=SnapToFeasible(space),
        outcome_transform=Standardize(m=1),
    )


@pytest.mark.parametrize(
    ("space", "data", "fixed_noise"),
    [
        (HARTMANN6, hartmann_data(30), False),
        (HARTMANN6, hartmann_data(120), False),
        (HARTMANN6, hartmann_data(60), True),
        (MIXED, mixed_data(40), False),
    ],
    ids=["hartmann6-30", "hartmann6-120", "hartmann6-fixed-noise", "mixed-40"],
)
def test_the_fit_finds_the_hyperparameters_botorch_finds(space, data, fixed_noise):
    X, Y = data
    reference = model(space, X, Y, fixed_noise)
    fit_gpytorch_mll(ExactMarginalLogLikelihood(reference.likelihood, reference))
    ours = model(space, X, Y, fixed_noise)
    noise = ours.likelihood.noise_covar.noise if fixed_noise else None
    hyperparameters.load(ours, hyperparameters.fit(ours.input_transform.transform(X), ours.train_targets, noise, 0))

    def values(gp: SingleTaskGP) -> np.ndarray:
        kernel = gp.covar_module
        learned = [
            kernel.base_kernel.lengthscale.flatten(),
            kernel.outputscale.reshape(1),
            gp.mean_module.constant.reshape(1),
        ]
        return torch.cat([*learned, gp.likelihood.noise.flatten()[:1]]).detach().numpy()

    np.testing.assert_allclose(values(ours), values(reference), rtol=0.02, atol=2e-3)


def test_above_the_subsample_size_the_fit_uses_a_seeded_subset_and_lands_near_the_full_fit(monkeypatch):
    X, Y = hartmann_data(hyperparameters.FIT_SUBSAMPLE + 300)
    y = ((Y - Y.mean()) / Y.std()).squeeze(-1)
    subset = hyperparameters.fit(X, y, None, seed=1)
    assert hyperparameters.fit(X, y, None, seed=1) == subset
    monkeypatch.setattr(hyperparameters, "FIT_SUBSAMPLE", len(X))
    full = hyperparameters.fit(X, y, None, seed=1)
    assert subset != full
    np.testing.assert_allclose(subset.lengthscales, full.lengthscales, rtol=0.25)


@pytest.mark.parametrize(
    ("space", "data", "fixed_noise"),
    [(HARTMANN6, hartmann_data(50), False), (HARTMANN6, hartmann_data(40), True), (MIXED, mixed_data(30), False)],
    ids=["hartmann6-50", "hartmann6-fixed-noise", "mixed-30"],
)
def test_the_plain_posterior_and_log_ei_equal_botorchs_with_their_gradients(space, data, fixed_noise):
    from botorch.acquisition import LogExpectedImprovement

    X, Y = data
    gp = model(space, X, Y, fixed_noise)
    noise = None if not fixed_noise else gp.likelihood.noise_covar.noise
    hyperparameters.load(gp, hyperparameters.fit(gp.input_transform.transform(X), gp.train_targets, noise, seed=0))
    theirs = LogExpectedImprovement(gp, best_f=Y.max())
    ours = posterior.LogExpectedImprovement(gp, posterior.Posterior(gp), Y.max())
    candidates = torch.rand(64, 1, X.shape[-1], dtype=torch.double, generator=torch.Generator().manual_seed(1))
    candidates.requires_grad_(True)
    expected, got = theirs(candidates), ours(candidates)
    assert torch.allclose(got, expected, rtol=0, atol=1e-8)
    (expected_grad,) = torch.autograd.grad(expected.sum(), candidates)
    (got_grad,) = torch.autograd.grad(got.sum(), candidates)
    assert torch.allclose(got_grad, expected_grad, rtol=0, atol=1e-7)
    mean, variance = posterior.Posterior(gp)(gp.input_transform.transform(candidates.detach().squeeze(-2)))
    reference = gp.posterior(candidates.detach().squeeze(-2))
    assert torch.allclose(mean, reference.mean.squeeze(-1), atol=1e-8)
    assert torch.allclose(variance, reference.variance.squeeze(-1), atol=1e-8)
