"""Report files over HTTP: the plots and pages flows publish, for browsers and the Prefect UI.

``GET /artifacts/{kind}/{record}/{name}`` serves one of the record's report files
(``tunefleet.reports.REPORT_FILES``; nothing else is ever read). A link signed by a flow
(``?sig=``) opens that one file; without one, the caller signs in and sees only the files of
its own records. HTML is served sandboxed: trial configs are user text.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from interfaces.routes.common import Services, bearer, current_user, services
from tunefleet import reports, users, validation
from tunefleet.bench.tables import BenchmarkRun
from tunefleet.bo import service as experiments
from tunefleet.db import Caller, RecordNotFound
from tunefleet.errors import Forbidden
from tunefleet.storage import ArtifactNotFound
from tunefleet.sweep.tables import Sweep

router = APIRouter(tags=["artifacts"])

_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
    "Cache-Control": "private, max-age=300",
}


@router.get(
    "/artifacts/{kind}/{record}/{name}",
    response_class=Response,
    responses={200: {"content": {t: {} for t in sorted(set(reports.MEDIA_TYPES.values()))}}},
)
def report_file(
    kind: Literal["benchmarks", "sweeps", "experiments"],
    record: str = Path(
        pattern=r"^[A-Za-z0-9-]{1,64}$", description="the run's or sweep's id, or the experiment's uuid"
    ),
    name: str = Path(max_length=100, description="a report file: heatmap.png, report.html, best_so_far.png, ..."),
    sig: str | None = Query(None, pattern=r"^[0-9a-f]{1,64}$", description="the signature of a link a flow published"),
    token: str | None = Depends(bearer),
    svc: Services = Depends(services),
) -> Response:
    """One report file of a record: by a signed link, or for a signed-in caller who may see the record."""
    caller = None if sig is not None else users.caller_of(current_user(token, svc))  # 401 before anything else
    if name not in reports.REPORT_FILES[kind]:
        raise RecordNotFound(f"{kind} have no report file {name!r}: they have {', '.join(reports.REPORT_FILES[kind])}")
    if caller is not None:
        _check_visible(svc, kind, record, caller)
    elif not reports.is_signed(svc.signing_key, reports.path(kind, record, name), sig):
        raise Forbidden("this link's signature does not match its file: open the link the report published")
    try:
        data = svc.store.get_bytes(svc.store.uri(reports.store_key(kind, record, name)))
    except ArtifactNotFound as exc:
        raise RecordNotFound(f"{name} of {kind.removesuffix('s')} {record} has not been published") from exc
    return Response(data, media_type=reports.media_type(name), headers=_HEADERS)


def _check_visible(svc: Services, kind: str, record: str, caller: Caller) -> None:
    """RecordNotFound unless ``caller`` may see the record (another user's is missing too)."""
    if kind == "experiments":
        experiments.get(svc.db, record, caller)
        return
    record_id = validation.as_id(record)
    if record_id is None:
        raise RecordNotFound(f"there is no {kind.removesuffix('s')} with that id")
    svc.db.get(BenchmarkRun if kind == "benchmarks" else Sweep, record_id, caller)
