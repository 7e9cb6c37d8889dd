"""GET /api/v1/dead-letters: the operators' view of what this service dead-lettered (issue 12).

The same route on every service, about the `.dlq` topics of what that service reads (where its
pipelines put a record they cannot take). Metadata only — place, time, the `x-dlq-*` headers and an
envelope's naming fields — never a body: `shared.messaging.dead_letters`. It needs `ops:read`,
declared in each service's rights table as `DEAD_LETTERS_ROUTE`.
"""
import asyncio

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from shared.auth.http import authorized
from shared.messaging import dead_letters

DEAD_LETTERS_ROUTE = "GET /api/v1/dead-letters"
DEFAULT_LIMIT, MAX_LIMIT = 50, 500

router = APIRouter(tags=["health"], dependencies=[Depends(authorized)])


@router.get(
    "/api/v1/dead-letters",
    summary="The most recent dead letters of this service's inputs, newest first (metadata, no bodies)",
    responses={403: {"description": "the caller lacks ops:read"},
               503: {"description": "Kafka did not answer in time, or refused the read"}},
)
async def recent_dead_letters(request: Request,
                              limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT,
                                                 description="how many, at most")) -> JSONResponse:
    runtime = request.app.state.runtime
    inputs = [t for sub in runtime.subscriptions for t in sub.topics]
    topics = dead_letters.dlq_topics(runtime.settings.topic_prefix, inputs)
    try:
        found = await dead_letters.recent(runtime.settings, f"sunsetred-{runtime.service}", topics, limit)
    except (KafkaError, TimeoutError, asyncio.TimeoutError) as exc:
        return JSONResponse(status_code=503, headers={"Retry-After": "5"},
                            content={"detail": f"暂时无法读取死信（{type(exc).__name__}），请稍后再试"})
    return JSONResponse({"topics": topics, "limit": limit, "count": len(found), "dead_letters": found})
