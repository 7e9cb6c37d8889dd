"""The reporting service process: `uvicorn services.reporting.entrypoints.app:create_app --factory`."""
from fastapi import FastAPI

from services.reporting.bootstrap import bootstrap
from services.reporting.entrypoints.branch_routes import router as branch_router
from services.reporting.entrypoints.facility_routes import router as facility_router
from services.reporting.entrypoints.rights import PUBLIC, RIGHTS
from services.reporting.entrypoints.routes import pages, router
from shared.http.app import build_app
from shared.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(
        lambda: bootstrap(settings), title="夕阳红 Sunset Red — reporting",
        description="报表、预警与星级评定 Reports, alerts and five-star grading.",
        commands_topic=None, command_scopes={},
        routers=[router, branch_router, facility_router, pages], rights=RIGHTS, public=PUBLIC,
    )
