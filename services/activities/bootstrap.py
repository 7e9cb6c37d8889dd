"""Composition root of the activities service."""
from services.activities.adapters import documents
from services.activities.handlers import HANDLERS
from shared.runtime import Runtime, Subscription
from shared.settings import Settings, get_settings
from shared.topics import ACTIVITIES_COMMANDS

SERVICE = "activities"


def bootstrap(settings: Settings | None = None) -> Runtime:
    return Runtime(
        service=SERVICE, settings=settings or get_settings(),
        subscriptions=[Subscription("commands", [ACTIVITIES_COMMANDS], HANDLERS, "commands")],
        setup_db=documents.setup,
    )
