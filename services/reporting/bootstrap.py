"""Composition root of the reporting service."""
from services.reporting import daily
from services.reporting.adapters import documents
from services.reporting.handlers import HANDLERS
from services.reporting.settings import ReportingSettings
from shared.runtime import Runtime, Subscription
from shared.settings import Settings, get_settings
from shared.topics import ACTIVITIES_EVENTS, MEMBERS_EVENTS, NOTIFICATIONS_EVENTS

SERVICE = "reporting"
SOURCE_TOPICS = [MEMBERS_EVENTS, ACTIVITIES_EVENTS, NOTIFICATIONS_EVENTS]


def bootstrap(settings: Settings | None = None) -> Runtime:
    # One pipeline reads every events topic, so each projection document has a single writer.
    return Runtime(
        service=SERVICE, settings=settings or get_settings(),
        subscriptions=[Subscription(daily.PIPELINE, SOURCE_TOPICS, HANDLERS, "events")],
        setup_db=documents.setup, tasks=[daily.daily_task(ReportingSettings().check_every_s)],
    )
