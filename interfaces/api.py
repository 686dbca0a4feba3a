"""The HTTP API (FastAPI). Every response is JSON; every error is ``{"error": "..."}``.

Every route needs a signed-in user but ``/auth/token``, ``/auth/refresh``, ``/health`` and the docs
(``/docs``, ``/openapi.json``: the API's shape, no data); the ridge routes also serve callers
without a token where the operator opts in (``TUNEFLEET_ANONYMOUS=ridge``). Request bodies are
capped while they stream in (``TUNEFLEET_MAX_REQUEST_MB``: 413 before anything is buffered).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from blocks.context import artifact_store, current_settings, database
from interfaces.routes import artifacts as artifact_routes
from interfaces.routes import auth as auth_routes
from interfaces.routes import benchmark as benchmark_routes
from interfaces.routes import experiments as experiment_routes
from interfaces.routes import hwtune as hwtune_routes
from interfaces.routes import ridge as ridge_routes
from interfaces.routes.common import ERROR_RESPONSES, Services
from interfaces.runs import Launcher
from tunefleet import auth, users
from tunefleet.errors import (
    AuthError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooLarge,
    TooManyRequests,
    Unavailable,
)
from tunefleet.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, launcher=None) -> FastAPI:
    settings = settings or current_settings()
    db = database(settings)
    svc = Services(
        settings=settings,
        db=db,
        store=artifact_store(settings),
        launcher=launcher or Launcher(settings, apart=True),
        signing_key=auth.signing_key(settings),
        throttle=users.SignInThrottle(settings.signin_failures, settings.signin_window_s),
        anonymous=users.anonymous_caller(db) if settings.anonymous == "ridge" else None,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        svc.launcher.recover(svc.db)
        yield
        svc.launcher.shutdown()

    app = FastAPIOffline(  # Swagger UI and ReDoc from files of the fastapi-offline package: no CDN
        title="tunefleet",
        description="Ridge regression training, Bayesian-optimisation ask/tell experiments, inference benchmarks. "
        "Every route but /auth/token and /auth/refresh needs `Authorization: Bearer <access_token>`; "
        "report files under /artifacts also open by the signed links flows publish.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.services = svc
    app.add_middleware(BodyLimit, limit=int(settings.max_request_mb * 2**20))
    _install_error_handlers(app)
    for router in (
        ridge_routes.router,
        auth_routes.router,
        experiment_routes.router,
        benchmark_routes.router,
        hwtune_routes.router,
        artifact_routes.router,
    ):
        app.include_router(router)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    return app


# Each kind of tunefleet.errors answers with its status (the table in that module).
_STATUS_BY_ERROR = {Forbidden: 403, NotFound: 404, Conflict: 409, TooLarge: 413, InvalidInput: 422, Unavailable: 503}


def _install_error_handlers(app: FastAPI) -> None:
    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse(status_code=status, content={"error": message})

    for exc_type, status in _STATUS_BY_ERROR.items():
        app.add_exception_handler(exc_type, lambda _r, exc, status=status: error(status, str(exc)))
    app.add_exception_handler(
        AuthError,
        lambda _r, exc: JSONResponse({"error": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"}),
    )
    app.add_exception_handler(
        TooManyRequests,
        lambda _r, exc: JSONResponse(
            {"error": str(exc)}, status_code=429, headers={"Retry-After": str(exc.retry_after)}
        ),
    )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        if any(p["type"] == "json_invalid" for p in problems):
            return error(400, f"request body is not valid JSON: {problems[0].get('ctx', {}).get('error', '')}".strip())
        return error(422, "; ".join(_describe(p) for p in problems))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error(500, f"internal error: {type(exc).__name__}")


def _describe(problem: dict) -> str:
    where = ".".join(str(part) for part in problem["loc"] if part != "body")
    message = problem["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes is refused with a JSON 413, by its
    Content-Length before it is read, or as soon as the bytes streamed in pass the limit."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await _too_large(self.limit)(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:  # an HTTPException: FastAPI's body parsing passes those on as they are
                raise HTTPException(status_code=413, detail=_too_large_message(self.limit))
            return message

        return await self.app(scope, counted, send)


def _too_large_message(limit: int) -> str:
    return f"the request body is larger than {limit / 2**20:g} MiB (TUNEFLEET_MAX_REQUEST_MB)"


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"error": _too_large_message(limit)}, status_code=413)
