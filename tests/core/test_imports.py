"""The direction of imports: interfaces → flows → tasks → tunefleet, blocks read by all three; no
Prefect in the core; capability packages apart but for the sweep's use of the BO engine (and its
outcomes), the BO service's reading of a sweep's records (warm starts), and hardware-aware tuning, which
joins the BO engine's experiments and the inference benchmark."""

import ast
from pathlib import Path

import pytest

from tests.support.paths import REPO

LAYERS = ("tunefleet", "tasks", "flows", "interfaces", "blocks", "deployments")
CAPABILITIES = ("ridge", "bo", "sweep", "bench", "hwtune")
ALLOWED_BETWEEN_CAPABILITIES = {
    ("sweep", "tunefleet.bo.engine"),  # the sweep's bayesian searcher
    ("sweep", "tunefleet.bo.outcomes"),  # its objectives and constraints, in the engine's terms
    ("bo", "tunefleet.sweep.service"),  # warm starts from a sweep's records (bo.service.history)
    ("hwtune", "tunefleet.bo"),  # its experiment, outcomes and Pareto front
    ("hwtune", "tunefleet.bench"),  # its candidates: uploaded models, one-cell benchmark runs, the registry
}


def modules(layer: str) -> list[Path]:
    return sorted((REPO / layer).rglob("*.py"))


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def roots(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def test_every_layer_is_found():
    assert all(modules(layer) for layer in LAYERS)


def test_the_core_imports_no_prefect_and_nothing_above_it():
    above = {"prefect", "prefect_dask", "prefect_ray", *LAYERS[1:], "infra"}
    wrong = {
        str(path.relative_to(REPO)): sorted(roots(imports(path)) & above)
        for path in modules("tunefleet")
        if roots(imports(path)) & above
    }
    assert wrong == {}


def test_capability_packages_import_no_other_capability():
    wrong = {}
    for path in modules("tunefleet"):
        relative = path.relative_to(REPO / "tunefleet").parts
        if relative[:2] == ("db", "migrations"):
            continue  # the migrations' environment registers every capability's tables
        own = relative[0] if len(relative) > 1 and relative[0] in CAPABILITIES else None
        for name in imports(path):
            parts = name.split(".")
            if parts[0] != "tunefleet" or len(parts) < 2 or parts[1] not in CAPABILITIES or parts[1] == own:
                continue
            if not any(own == a and name.startswith(b) for a, b in ALLOWED_BETWEEN_CAPABILITIES):
                wrong.setdefault(str(path.relative_to(REPO)), []).append(name)
    assert wrong == {}


@pytest.mark.parametrize(
    "layer, forbidden",
    [
        ("tasks", {"flows", "interfaces", "deployments"}),
        ("flows", {"interfaces", "deployments"}),
        ("interfaces", {"tasks"}),
        ("blocks", {"tasks", "flows", "interfaces", "deployments"}),
    ],
)
def test_layers_import_only_downwards(layer, forbidden):
    wrong = {
        str(path.relative_to(REPO)): sorted(roots(imports(path)) & forbidden)
        for path in modules(layer)
        if roots(imports(path)) & forbidden
    }
    assert wrong == {}
