"""The FastAPI application: JSON API under /api/v1, health and metrics."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel

import crm
from api.docs import install_docs
from api.errors import UNMAPPED_STATUS, status_for
from api.input_guard import MalformedInput, malformed_page, refuse_malformed_input
from api.metrics import MetricsMiddleware, render_metrics
from api.routes import (
    admin_departments,
    audit,
    auth,
    calendar,
    instances,
    migrations,
    notifications,
    processes,
    reports,
    scorecards,
    task_sla,
    tasks,
    users,
)
from api.schemas.errors import (
    BpmnProblemRead,
    ElementProblem,
    ErrorResponse,
    FieldError,
    document_422_everywhere,
)
from api.schemas.ops import Health
from api.security_headers import SecurityHeadersMiddleware
from api.web import (
    admin_calendars,
    case,
    designer,
    designer_migration,
    inbox,
    kit,
    signin,
    task,
    task_sla_pages,
)
from api.web import admin_users as user_admin_pages
from api.web import audit as audit_pages
from api.web import designer_decisions as decision_pages
from api.web import designer_insight as designer_insight_pages
from api.web import notifications as notification_pages
from api.web import reports as report_pages
from api.web import scorecards as scorecard_pages
from crm import routes as crm_routes
from crm import survey_routes
from crm.web import customer, start, survey, survey_link
from engine import wal
from engine.errors import (
    DetailedConflict,
    FlowdeskError,
    InvalidBpmn,
    InvalidData,
    ProcessError,
    TooManyAttempts,
    UserHoldsWork,
)

log = logging.getLogger("flowdesk.api")

PAGE_FAMILIES = (
    signin,
    inbox,
    task,
    task_sla_pages,
    case,
    start,
    customer,
    survey,
    survey_link,
    notification_pages,
    audit_pages,
    admin_calendars,
    decision_pages,  # before designer: /designer/decisions/… is not a process
    designer,
    user_admin_pages,
    designer_insight_pages,
    designer_migration,
    scorecard_pages,
    report_pages,
)


def _error_response(request: Request, exc: FlowdeskError) -> JSONResponse:
    if isinstance(exc, InvalidBpmn):
        problems = [
            BpmnProblemRead(
                element_id=p.element_id, element_name=p.element_name, message=p.message, file=p.file
            )
            for p in exc.problems
        ]
        return _problems_response(problems)
    if isinstance(exc, InvalidData):
        return _problems_response(
            [FieldError(field=p.field, message=p.message) for p in exc.problems]
        )
    if isinstance(exc, ProcessError):
        problem = ElementProblem(
            element_id=exc.element_id, element_name=exc.element_name, message=exc.message
        )
        return _problems_response([problem])
    status = status_for(exc)
    if status == UNMAPPED_STATUS:
        log.error("unmapped domain error %r", exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after)}
    detail: str | dict[str, object] = exc.message
    if isinstance(exc, DetailedConflict):
        detail = {"message": exc.message, **exc.details}
    if isinstance(exc, UserHoldsWork):  # the cases a user holds are leads, to the API
        detail = {
            "message": exc.message,
            "open_tasks": len(exc.task_ids),
            "leads": len(exc.instance_ids),
        }
    return JSONResponse(
        ErrorResponse(detail=detail).model_dump(), status_code=status, headers=headers
    )


def _problems_response(problems: Sequence[BaseModel]) -> JSONResponse:
    """Answer 422 with one item per problem (the shapes api/schemas/errors.py documents)."""
    return JSONResponse({"detail": [p.model_dump() for p in problems]}, status_code=422)


def _domain_error(request: Request, exc: FlowdeskError) -> Response:
    """Answer a domain error: as a page on the pages' routes, as JSON on the API's."""
    if kit.is_page_request(request):
        if isinstance(exc, MalformedInput):  # refused before the page was read
            return malformed_page(request, exc)
        return kit.page_error_response(request, exc)
    return _error_response(request, exc)


def _validation_response(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form")]
        problems.append(
            FieldError(field=".".join(loc) or "body", message=err.get("msg", "invalid"))
        )
    return _problems_response(problems)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # `flowdesk serve` without a broker sets this: background rounds run in-process.
    if os.environ.get("FLOWDESK_EMBEDDED_BACKGROUND") == "1":
        from engine.config import get_settings
        from engine.serving import start_embedded_background

        start_embedded_background(get_settings().round_seconds)
    # `flowdesk serve` sets this: SQLite's log is copied back by a thread, not by commits.
    if wal.background_checkpoints():
        from engine.db import single_statement_engine

        wal.start_checkpointer(single_statement_engine())
    # `flowdesk serve` sets this: the started process's objects leave the collector's walks.
    if os.environ.get("FLOWDESK_GC_FREEZE") == "1":
        from engine.gc_pause import freeze_startup_heap

        freeze_startup_heap()
    yield


OPENAPI_URL = "/api/v1/openapi.json"
DOCS_URL = "/api/docs"
STATIC_DIR = Path(__file__).resolve().parent / "static"
CRM_STATIC_DIR = Path(crm.__file__).resolve().parent / "static"  # the vertical's scripts
BPMN_JS_DIR = Path(
    os.environ.get("FLOWDESK_BPMN_JS_DIR")
    or Path(__file__).resolve().parents[1] / "node_modules" / "bpmn-js" / "dist"
)


def create_app() -> FastAPI:
    """Build the application."""
    crm.install()  # the real-estate vertical: its records follow every step
    app = FastAPI(
        title="flowdesk",
        version="0.1.0",
        # /api/docs is flowdesk's own page (api/docs.py), not FastAPI's CDN one; no ReDoc.
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        lifespan=_lifespan,
        # Before every route: text and numbers no field can hold answer 422 (api/input_guard.py).
        dependencies=[Depends(refuse_malformed_input)],
    )
    app.add_middleware(MetricsMiddleware)
    # CSP, nosniff, DENY on every answer: outside Starlette's ServerErrorMiddleware
    # (which add_middleware would put it inside of), so that a 500 carries them too.
    build_stack = app.build_middleware_stack
    app.build_middleware_stack = lambda: SecurityHeadersMiddleware(build_stack())  # type: ignore[method-assign]
    app.add_exception_handler(FlowdeskError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_response)  # type: ignore[arg-type]
    for module in (
        auth,
        processes,
        migrations,
        instances,
        tasks,
        task_sla,
        crm_routes,
        survey_routes,
        audit,
        notifications,
        reports,
        scorecards,
        calendar,
        admin_departments,
        users,
    ):
        app.include_router(module.router, prefix="/api/v1")

    from fastapi.staticfiles import StaticFiles

    for family in PAGE_FAMILIES:
        app.include_router(family.router)
    if BPMN_JS_DIR.is_dir():  # installed from npm by the set-up (package.json)
        app.mount("/static/vendor/bpmn-js", StaticFiles(directory=str(BPMN_JS_DIR)), name="bpmn-js")
    install_docs(app, docs_url=DOCS_URL, openapi_url=OPENAPI_URL)  # before /static: its files
    app.mount("/static/crm", StaticFiles(directory=str(CRM_STATIC_DIR)), name="crm-static")
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/healthz", tags=["ops"])
    def healthz() -> Health:
        """Answer when the server and its database answer (no sign-in)."""
        from sqlalchemy import text

        from engine.db import unit_of_work

        with unit_of_work(write=False) as session:
            session.execute(text("SELECT 1"))
        return Health(status="ok")

    @app.get(
        "/metrics",
        tags=["ops"],
        response_class=PlainTextResponse,
        responses={200: {"description": "Prometheus text exposition format"}},
    )
    def metrics() -> Response:
        """Return the Prometheus metrics of this process (no sign-in)."""
        body, content_type = render_metrics()
        return Response(body, media_type=content_type)

    _document_refusals(app)
    return app


def _document_refusals(app: FastAPI) -> None:
    """Make the OpenAPI document say that every operation may answer 422 (the shape
    flowdesk answers), since malformed input is refused before any route."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_422_everywhere(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
