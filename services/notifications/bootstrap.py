"""Composition root of the notifications service."""
from services.notifications.adapters import documents
from services.notifications.handlers import HANDLERS
from shared.runtime import Runtime, Subscription
from shared.settings import Settings, get_settings
from shared.topics import NOTIFICATIONS_COMMANDS

SERVICE = "notifications"


def bootstrap(settings: Settings | None = None) -> Runtime:
    return Runtime(
        service=SERVICE, settings=settings or get_settings(),
        subscriptions=[Subscription("commands", [NOTIFICATIONS_COMMANDS], HANDLERS, "commands")],
        setup_db=documents.setup,
    )
