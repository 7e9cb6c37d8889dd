"""Errors a person can act on: JSON with the field at fault."""
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


class NotFound(HTTPException):
    def __init__(self, what: str, id: str):
        super().__init__(404, f"{what} {id!r} not found")


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for e in exc.errors():
            loc = [str(p) for p in e["loc"]]
            if loc and loc[0] in ("query", "path", "body", "header"):
                loc = loc[1:]
            errors.append({"field": ".".join(loc) or "body", "message": e["msg"].removeprefix("Value error, ")})
        return JSONResponse(status_code=422, content={"detail": errors[0]["message"] if errors else "invalid",
                                                      "errors": errors})
