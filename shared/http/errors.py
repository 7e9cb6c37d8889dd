"""Errors a person can act on: JSON, in Chinese, with the field at fault.

Every refusal of every service has one shape: `{"detail": <the first message>, "errors": [{"field",
"message"}]}` for 422 (`messages.py` says it in Chinese), `{"detail": …}` otherwise.
"""
from http import HTTPStatus

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.http.messages import NOT_FOUND_WHAT, STATUS_TEXTS, chinese


class NotFound(HTTPException):
    def __init__(self, what: str, id: str):
        super().__init__(404, f"未找到{NOT_FOUND_WHAT.get(what, what)}：{id}")


class Unprocessable(Exception):
    """A request parameter a route found wrong itself (after FastAPI's own validation)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def unprocessable(errors: list[dict[str, str]]) -> JSONResponse:
    """422 with each error's message in Chinese, naming its field."""
    out = [{"field": e["field"], "message": chinese(e["field"], e["message"])} for e in errors]
    return JSONResponse(status_code=422, content={"detail": out[0]["message"] if out else "请求有误",
                                                  "errors": out})


def _field(loc: tuple) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("query", "path", "body", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        return unprocessable([{"field": _field(e["loc"]), "message": e["msg"]} for e in exc.errors()])

    @app.exception_handler(Unprocessable)
    async def _refused(_req: Request, exc: Unprocessable) -> JSONResponse:
        return unprocessable([{"field": exc.field, "message": exc.message}])

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if exc.status_code == 422 and isinstance(detail, dict) and "field" in detail:
            return unprocessable([{"field": detail["field"], "message": str(detail.get("message", ""))}])
        if not isinstance(detail, str) or detail == _phrase(exc.status_code):  # the framework's English
            detail = STATUS_TEXTS.get(exc.status_code, detail)
        return JSONResponse(status_code=exc.status_code, content={"detail": detail}, headers=exc.headers)


def _phrase(status: int) -> str | None:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return None
