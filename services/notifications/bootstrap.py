"""Composition root of the notifications service."""
from services.notifications.adapters import documents
from services.notifications.adapters.channels import senders
from services.notifications.delivery_worker import delivery_task, facts_fence, fence_task
from services.notifications.handlers import HANDLERS
from services.notifications.settings import NotifySettings
from shared.contracts import lookup
from shared.runtime import Runtime, Subscription
from shared.settings import Settings, get_settings
from shared.topics import ACTIVITIES_EVENTS, MEMBERS_EVENTS, NOTIFICATIONS_COMMANDS, REPORTING_EVENTS

SERVICE = "notifications"


def _of_kind(kind: str) -> dict:
    return {t: h for t, h in HANDLERS.items() if lookup(t).KIND == kind}


def bootstrap(settings: Settings | None = None, notify: NotifySettings | None = None) -> Runtime:
    cfg = notify or NotifySettings()
    settings = settings or get_settings()
    # A notice is addressed, and first acted on, once the member facts published before it have
    # arrived (services/notifications/README.md): the commands pipeline holds it until then, the
    # delivery worker waits for it, and a task of its own walks the fence.
    fence = facts_fence(settings, cfg)
    return Runtime(
        service=SERVICE, settings=settings,
        subscriptions=[
            Subscription("commands", [NOTIFICATIONS_COMMANDS], _of_kind("command"), "commands",
                         arrived=fence.passed_at if fence else None),
            Subscription("events", [MEMBERS_EVENTS, ACTIVITIES_EVENTS, REPORTING_EVENTS], _of_kind("event"), "events"),
        ],
        setup_db=documents.setup,
        tallies=[documents.DELIVERY_TALLY],
        tasks=[delivery_task(cfg, senders(cfg), fence), *([fence_task(fence, cfg.poll_seconds)] if fence else [])],
    )
