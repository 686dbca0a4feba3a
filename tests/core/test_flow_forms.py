"""The Prefect UI's run form explains every parameter of every flow (from the flows' docstrings)."""

import pytest
from prefect.utilities.callables import parameter_schema

from flows.benchmark import benchmark, benchmark_cells, benchmark_nightly
from flows.bo import bo_tuning
from flows.hwtune import hw_tuning
from flows.ridge import ridge_cv, ridge_predict
from flows.sweep import hpo_sweep


@pytest.mark.parametrize(
    "flow", [ridge_cv, ridge_predict, bo_tuning, hpo_sweep, benchmark, benchmark_cells, benchmark_nightly, hw_tuning]
)
def test_every_flow_parameter_is_described_in_the_deployment_form(flow):
    fields = parameter_schema(flow.fn).properties
    assert fields and not [name for name, field in fields.items() if not field.get("description")], flow.name
