"""The FastAPI application every service builds: lifespan runs the Runtime (broker included)."""
from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from shared import logs
from shared.asyncapi import document
from shared.http import errors
from shared.http.commands import commands_router
from shared.http.health import router as health_router
from shared.runtime import Runtime


def build_app(runtime_factory: Callable[[], Runtime], *, title: str, description: str,
              commands_topic: str | None, routers: list[APIRouter]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime = runtime_factory()
        logs.configure(runtime.service, runtime.settings.log_level, runtime.settings.log_json)
        app.state.runtime = runtime
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    errors.install(app)
    app.include_router(health_router)
    app.include_router(commands_router(commands_topic))

    @app.get("/asyncapi.json", tags=["health"], summary="AsyncAPI 3.0: the messages this service reads and writes")
    async def asyncapi() -> dict:
        return document(app.state.runtime.service)

    for r in routers:
        app.include_router(r)
    return app
