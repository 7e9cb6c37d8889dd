"""Composition root of the reporting service."""
from services.reporting.adapters import documents
from services.reporting.handlers import HANDLERS
from shared.runtime import Runtime, Subscription
from shared.settings import Settings, get_settings
from shared.topics import ACTIVITIES_EVENTS, MEMBERS_EVENTS, NOTIFICATIONS_EVENTS

SERVICE = "reporting"


def bootstrap(settings: Settings | None = None) -> Runtime:
    # One pipeline reads every events topic, so each projection document has a single writer.
    return Runtime(
        service=SERVICE, settings=settings or get_settings(),
        subscriptions=[Subscription("projections", [MEMBERS_EVENTS, ACTIVITIES_EVENTS, NOTIFICATIONS_EVENTS],
                                    HANDLERS, "events")],
        setup_db=documents.setup,
    )
