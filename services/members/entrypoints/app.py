"""The members service process: `uvicorn services.members.entrypoints.app:create_app --factory`."""
from fastapi import FastAPI

from services.members.bootstrap import bootstrap
from services.members.entrypoints.command_scope import COMMAND_SCOPES
from services.members.entrypoints.leadership_routes import router as leadership_router
from services.members.entrypoints.rights import RIGHTS
from services.members.entrypoints.routes import router
from shared.http.app import build_app
from shared.settings import Settings
from shared.topics import MEMBERS_COMMANDS


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(
        lambda: bootstrap(settings), title="夕阳红 Sunset Red — members",
        description="组织体系与党员管理台账 The organisation tree and the member ledger.",
        commands_topic=MEMBERS_COMMANDS, command_scopes=COMMAND_SCOPES,
        routers=[router, leadership_router], rights=RIGHTS,
    )
