"""POST /api/v1/commands: one envelope, for systems that do not speak Kafka.

The caller needs the right `commands:submit` (a specialist or a member only for the commands of
their own work, `shared.auth.rights.OWN_COMMANDS`). The envelope and its data are validated here
(422 with field errors when they are not valid); a valid command is published to the service's
commands topic with the caller's subject as its `actor`, keyed like any other, and answered 202.
Business rules are then checked by the consumer, exactly as for Kafka senders, and a refusal
comes back as `CommandRejected` on the service's events topic.

What the command writes to must lie in the caller's scope (the service's table of command scopes,
`shared.auth.command_scope`): else 404, as a read outside it. The envelope's `source` becomes
`sunsetred-<service>`, whatever the body says: the command came in through this service's HTTP door,
and the audit trail's sending system must not be whatever a caller wrote (the person is `actor`).
On a secured broker the record is signed with the service's own key as that source.
"""
from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse

from shared.auth.claims import Caller
from shared.auth.command_scope import Scope, outside
from shared.auth.http import Forbidden, authorized
from shared.auth.rights import command_refusal
from shared.contracts.parsing import Invalid, NotEnvelope, encode, parse_object
from shared.http.errors import NotFound
from shared.http.errors import unprocessable as _unprocessable
from shared.kafka_auth import sign_headers
from shared.messaging.records import Outgoing

COMMANDS_ROUTE = "POST /api/v1/commands"


def commands_router(commands_topic: str | None, scopes: dict[str, Scope]) -> APIRouter:
    """`commands_topic` None: the service takes no commands (reporting), and says so with 422.
    `scopes`: where each command type of the topic writes (checked by `build_app`)."""
    router = APIRouter(tags=["commands"], dependencies=[Depends(authorized)])

    @router.post(
        "/api/v1/commands", status_code=202,
        summary="Submit one command envelope",
        responses={202: {"description": "accepted for processing"},
                   401: {"description": "no valid token"},
                   403: {"description": "the caller may not submit this command"},
                   404: {"description": "what the command writes to is outside the caller's scope, or not known"},
                   422: {"description": "not a valid envelope or command, with the fields at fault"},
                   503: {"description": "the service is starting (waiting for Kafka and MongoDB)"}},
    )
    async def submit(request: Request, envelope: dict[str, Any] = Body(...),
                     caller: Caller = Depends(authorized)) -> JSONResponse:
        result = parse_object(envelope)
        if isinstance(result, NotEnvelope):
            return _unprocessable([{"field": "body", "message": result.reason}])
        if isinstance(result, Invalid):
            return _unprocessable(result.errors)
        if result.message.KIND != "command" or result.message.TOPIC != commands_topic:
            where = f"本服务只接受 {commands_topic} 的命令" if commands_topic else "本服务不接受命令"
            return _unprocessable([{"field": "type", "message": f"{result.envelope.type} 不是可提交的命令：{where}"}])
        refusal = command_refusal(caller.role, caller.specialist_id or caller.member_id, result.envelope.type,
                                  result.message.to_data())
        if refusal:
            raise Forbidden(refusal)
        runtime = request.app.state.runtime
        if not runtime.started:  # start-up is still waiting for Kafka and MongoDB
            return JSONResponse(status_code=503, content={"detail": "the service is starting; try again shortly"},
                                headers={"Retry-After": "5"})
        place = outside(caller, await scopes[result.envelope.type](runtime.db, result.message))
        if place is not None:
            raise NotFound(place.what, place.id)
        gateway = f"sunsetred-{runtime.service}"
        sent = result.envelope.model_copy(update={"actor": caller.subject, "source": gateway})
        value = encode(sent)
        headers = {"content-type": "application/json", "message-type": sent.type}
        if runtime.sources is not None:  # signed as this service: the caller was proven by its token
            headers.update({k: v.decode() for k, v in sign_headers(runtime.sources.key(gateway), gateway, value)})
        await runtime.publisher.send_all([Outgoing(
            f"{runtime.settings.topic_prefix}{commands_topic}", result.message.key().encode(), value, headers,
        )])
        return JSONResponse(status_code=202, content={"status": "accepted", "id": sent.id, "type": sent.type})

    return router
