"""Composition root of the activities service."""
from services.activities.adapters import documents
from services.activities.handlers import HANDLERS
from services.activities.projections import MEMBER_EVENT_HANDLERS
from shared.rules.org_life import configured_rules
from shared.runtime import Runtime, Subscription
from shared.settings import Settings, get_settings
from shared.topics import ACTIVITIES_COMMANDS, MEMBERS_EVENTS

SERVICE = "activities"


def bootstrap(settings: Settings | None = None) -> Runtime:
    runtime = Runtime(
        service=SERVICE, settings=settings or get_settings(),
        subscriptions=[
            Subscription("commands", [ACTIVITIES_COMMANDS], HANDLERS, "commands"),
            # The branches and members the planner and displays need; see domain/branches.py.
            Subscription("members-events", [MEMBERS_EVENTS], MEMBER_EVENT_HANDLERS, "events"),
        ],
        setup_db=documents.setup,
    )
    # The district's frequencies of organisational life; a bad setting stops the start-up.
    runtime.extras["org_life_rules"] = configured_rules(runtime.settings)
    return runtime
