"""The activities service process: `uvicorn services.activities.entrypoints.app:create_app --factory`."""
from fastapi import FastAPI

from services.activities.bootstrap import bootstrap
from services.activities.entrypoints.command_scope import COMMAND_SCOPES
from services.activities.entrypoints.rights import RIGHTS
from services.activities.entrypoints.routes import router
from services.activities.entrypoints.team_routes import router as team_router
from services.activities.entrypoints.visit_routes import router as visit_router
from shared.http.app import build_app
from shared.settings import Settings
from shared.topics import ACTIVITIES_COMMANDS


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(
        lambda: bootstrap(settings), title="夕阳红 Sunset Red — activities",
        description="组织生活、志愿服务、走访与活动阵地 Organisational life, volunteering, visits and venues.",
        commands_topic=ACTIVITIES_COMMANDS, command_scopes=COMMAND_SCOPES,
        routers=[router, team_router, visit_router], rights=RIGHTS,
    )
