"""GET /health (the process is up), GET /ready (Kafka and MongoDB answer) and GET /metrics (Prometheus)."""
import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from shared import metrics

router = APIRouter(tags=["health"])


@router.get("/health", summary="The process is up")
async def health() -> dict:
    return {"status": "ok"}


@router.get("/ready", summary="Kafka and MongoDB are reachable and consumers started")
async def ready(request: Request) -> JSONResponse:
    runtime = request.app.state.runtime
    checks = {"mongodb": False, "kafka": False, "consumers": runtime.started}
    try:
        await asyncio.wait_for(runtime.db.command("ping"), 3)
        checks["mongodb"] = True
    except Exception:
        pass
    try:
        checks["kafka"] = bool(await runtime.broker.ping(timeout=3))
    except Exception:
        pass
    ok = all(checks.values())
    return JSONResponse(status_code=200 if ok else 503, content={"status": "ready" if ok else "not ready", **checks})


@router.get("/metrics", summary="Prometheus metrics (text format); consumer lag is read at each scrape",
            response_class=Response)
async def prometheus_metrics() -> Response:
    body, content_type = await metrics.render()
    return Response(content=body, media_type=content_type)
