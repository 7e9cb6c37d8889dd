"""Composition root of the notifications service."""
from services.notifications.adapters import documents
from services.notifications.adapters.channels import senders
from services.notifications.delivery_worker import delivery_task
from services.notifications.handlers import HANDLERS
from services.notifications.settings import NotifySettings
from shared.contracts import lookup
from shared.messaging.causal_fence import CausalFence, Hop, Stage, broker_fence
from shared.messaging.kafka import consumer_group
from shared.runtime import Runtime, Subscription
from shared.settings import Settings, get_settings
from shared.topics import ACTIVITIES_EVENTS, MEMBERS_COMMANDS, MEMBERS_EVENTS, NOTIFICATIONS_COMMANDS, REPORTING_EVENTS

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
                         fence=fence),
            Subscription("events", [MEMBERS_EVENTS, ACTIVITIES_EVENTS, REPORTING_EVENTS], _of_kind("event"), "events"),
        ],
        setup_db=documents.setup,
        tallies=[documents.DELIVERY_TALLY],
        tasks=[delivery_task(cfg, senders(cfg), fence), *([fence.runtime_task(cfg.facts_fence_poll_seconds)] if fence else [])],
    )


def facts_fence(s: Settings, cfg: NotifySettings) -> CausalFence | None:
    """The fence over the road a member fact takes to notifications (None when switched off), on the
    wall clock: a held notice's first handling is read back from the database by any instance."""
    if cfg.facts_fence_max_wait_seconds <= 0:
        return None
    return broker_fence(s, SERVICE, member_facts_road(s), cfg.facts_fence_max_wait_seconds, name="facts")


def member_facts_road(s: Settings) -> list[Stage]:
    """The road a member fact takes to notifications: handled by members' commands pipeline, then
    projected by notifications' events pipeline."""
    return [[Hop(s.topic_prefix + MEMBERS_COMMANDS, s.topic_prefix + consumer_group("members", "commands"))],
            [Hop(s.topic_prefix + MEMBERS_EVENTS, s.topic_prefix + consumer_group(SERVICE, "events"))]]
