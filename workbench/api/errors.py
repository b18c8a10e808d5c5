"""Every refusal is a JSON body that says what was wrong: {"error": {"status": 404, "message": "..."}}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ApiError(HTTPException):
    """A refusal with its reason; `headers` travel with it (WWW-Authenticate, Retry-After)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status, detail=message, headers=headers)


def error_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"status": status, "message": message, **extra}}


def install_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such route: {request.method} {request.url.path} (the routes: /api/v1/docs)"
        if exc.status_code == 400 and message == "There was an error parsing the body":
            message = "the body is not valid JSON (send Content-Type: application/json with a JSON object)"
        if exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        return JSONResponse(error_body(exc.status_code, message), status_code=exc.status_code, headers=exc.headers)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(part) for part in error.get("loc", ())), "problem": str(error.get("msg", ""))}
            for error in exc.errors()
        ]
        said = "; ".join(f"{p['where']}: {p['problem']}" for p in problems[:5])
        return JSONResponse(error_body(422, f"the request does not fit: {said}", problems=problems), status_code=422)

    @api.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        message = f"the server failed on this request ({type(exc).__name__}); it is logged"
        return JSONResponse(error_body(500, message), status_code=500)
