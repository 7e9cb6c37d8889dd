"""The notifications service process: `uvicorn services.notifications.entrypoints.app:create_app --factory`."""
from fastapi import FastAPI

from services.notifications.bootstrap import bootstrap
from services.notifications.entrypoints.command_scope import COMMAND_SCOPES
from services.notifications.entrypoints.rights import RIGHTS
from services.notifications.entrypoints.routes import router
from shared.http.app import build_app
from shared.settings import Settings
from shared.topics import NOTIFICATIONS_COMMANDS


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(
        lambda: bootstrap(settings), title="夕阳红 Sunset Red — notifications",
        description="通知送达、送学上门与反馈 Notices delivered to every member, with proof.",
        commands_topic=NOTIFICATIONS_COMMANDS, command_scopes=COMMAND_SCOPES,
        routers=[router], rights=RIGHTS,
    )
