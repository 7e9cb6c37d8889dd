"""The FastAPI application every service builds: lifespan runs the Runtime (broker included)."""
import asyncio
import logging
import os
import signal
from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from shared import logs
from shared.asyncapi import document
from shared.http import errors
from shared.http.commands import commands_router
from shared.http.health import router as health_router
from shared.runtime import Runtime

log = logging.getLogger(__name__)


def build_app(runtime_factory: Callable[[], Runtime], *, title: str, description: str,
              commands_topic: str | None, routers: list[APIRouter]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime = runtime_factory()
        logs.configure(runtime.service, runtime.settings.log_level, runtime.settings.log_json)
        app.state.runtime = runtime
        # Started in the background, so /health answers while start-up waits for Kafka and
        # MongoDB (/ready does not until it is over).
        starting = asyncio.create_task(runtime.start(), name="start")
        starting.add_done_callback(_exit_if_failed)
        try:
            yield
        finally:
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
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


def _exit_if_failed(starting: asyncio.Task) -> None:
    """A start-up that failed for a reason not worth waiting for (a bug, a wrong setting) ends the
    process, as it did when start-up ran before serving: a supervisor sees it, instead of an
    instance that answers /health and never gets ready."""
    if starting.cancelled() or starting.exception() is None:
        return
    log.critical("start-up failed; stopping", exc_info=starting.exception())
    os.kill(os.getpid(), signal.SIGTERM)
