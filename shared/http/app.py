"""The FastAPI application every service builds: lifespan runs the Runtime (broker included).

Every route but the public ones (`shared.auth.http.PUBLIC_PATHS`, and the service's `public`)
needs a token and the right the service's table (`rights`) gives it; the app is not built when
a route has none, nor when a command type of its topic has no scope (`command_scopes`).
"""
import asyncio
import logging
import os
import signal
from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from shared import collector, logs
from shared.asyncapi import document
from shared.auth.command_scope import Scope, check_scopes
from shared.auth.http import check_routes, verifier_for
from shared.auth.rights import Right
from shared.http import errors
from shared.http.commands import COMMANDS_ROUTE, commands_router
from shared.http.dead_letters import router as dead_letters_router
from shared.http.health import router as health_router
from shared.http.limits import BodyLimit
from shared.http.rate import RateLimiter
from shared.runtime import Runtime

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024


def build_app(runtime_factory: Callable[[], Runtime], *, title: str, description: str,
              commands_topic: str | None, command_scopes: dict[str, Scope], routers: list[APIRouter],
              rights: dict[str, Right], public: frozenset[str] = frozenset()) -> FastAPI:
    check_scopes(command_scopes, commands_topic)
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime = runtime_factory()
        logs.configure(runtime.service, runtime.settings.log_level, runtime.settings.log_json)
        collector.pace(runtime.settings.gc_threshold)
        app.state.runtime = runtime
        app.state.verifier = verifier_for(runtime.settings)
        app.state.rate = RateLimiter(runtime.settings.http_rate_per_second, runtime.settings.http_rate_burst)
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

    # A command envelope is a few kilobytes (a notice's body at most 20,000 characters): a larger
    # request body is refused (413, in Chinese) before it is read into memory.
    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    errors.install(app)
    app.include_router(health_router)
    app.include_router(commands_router(commands_topic, command_scopes))
    app.include_router(dead_letters_router)  # its right is in each service's table (DEAD_LETTERS_ROUTE)

    @app.get("/asyncapi.json", tags=["health"], summary="AsyncAPI 3.0: the messages this service reads and writes")
    async def asyncapi() -> dict:
        return document(app.state.runtime.service)

    for r in routers:
        app.include_router(r)
    app.state.rights = {COMMANDS_ROUTE: Right.COMMANDS, **rights}
    check_routes(app, app.state.rights, public)
    return app


def _exit_if_failed(starting: asyncio.Task) -> None:
    """A start-up that failed for a reason not worth waiting for (a bug, a wrong setting) ends the
    process, as it did when start-up ran before serving: a supervisor sees it, instead of an
    instance that answers /health and never gets ready."""
    if starting.cancelled() or starting.exception() is None:
        return
    log.critical("start-up failed; stopping", exc_info=starting.exception())
    os.kill(os.getpid(), signal.SIGTERM)
