"""What each flow run is called in the Prefect UI: named from its work, not Prefect's ``paper-cat``.

Prefect calls these with no arguments when a run starts; the run's parameters come from
``prefect.runtime``. Names are short and say what the run does to which record. Once a run
knows its record, ``label`` names it after the record and tags it with the capability and the
record (``bo``, ``bo-<uuid>``), so the UI's tag filter finds every run of one record.
"""

from __future__ import annotations

import logging
import posixpath

from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.runtime import flow_run

log = logging.getLogger(__name__)


def _parameters() -> dict:
    return flow_run.parameters or {}


def ridge() -> str:
    p = _parameters()
    if p.get("model_id") is not None:
        return f"ridge {p['model_id']}"
    return f"ridge {p.get('target')} from {posixpath.basename(str(p.get('data_uri')))}"


def ridge_predict() -> str:
    p = _parameters()
    return f"predict with ridge {p.get('model_id')} on {posixpath.basename(str(p.get('data_uri')))}"


def bo() -> str:
    p = _parameters()
    return f"bo {p['experiment']}" if p.get("experiment") else f"bo {p.get('name')}"


def hw_tuning() -> str:
    p = _parameters()
    return f"hw-tuning {p['tuning']}" if p.get("tuning") else f"hw-tuning {p.get('name')}"


def sweep() -> str:
    p = _parameters()
    return f"sweep {p['sweep_id']}" if p.get("sweep_id") is not None else f"sweep {p.get('project')}"


def benchmark() -> str:
    p = _parameters()
    return f"benchmark run {p['run_id']}" if p.get("run_id") is not None else f"benchmark {p.get('model')}"


def benchmark_cells() -> str:
    p = _parameters()
    return f"benchmark run {p.get('run_id')} cells @ {p.get('hardware')}"


def benchmark_nightly() -> str:
    models = _parameters().get("models")
    return f"benchmark nightly: {', '.join(models)}" if models else "benchmark nightly: every model"


def label(name: str, *tags: str) -> None:
    """Rename the running flow run and add ``tags`` to it. A label is for people: a failure to
    write it is logged and the run goes on."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return
    run = context.flow_run
    try:
        with get_client(sync_client=True) as client:
            client.update_flow_run(run.id, name=name, tags=sorted({*run.tags, *tags}))
    except Exception as exc:  # noqa: BLE001 (any failure of this cosmetic call must not fail the run)
        log.warning("could not name flow run %s %r: %s", run.id, name, exc)
