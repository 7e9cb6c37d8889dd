"""Composition root of the members service: settings, database, broker, handlers, routes."""
from services.members.adapters import documents
from services.members import visit_findings
from services.members.handlers import HANDLERS
from shared.runtime import Runtime, Subscription
from shared.settings import Settings, get_settings
from shared.topics import ACTIVITIES_EVENTS, MEMBERS_COMMANDS

SERVICE = "members"


def bootstrap(settings: Settings | None = None) -> Runtime:
    return Runtime(
        service=SERVICE,
        settings=settings or get_settings(),
        subscriptions=[Subscription("commands", [MEMBERS_COMMANDS], HANDLERS, "commands"),
                       # what visits find reaches the ledger (visit_findings.py, issue 13)
                       Subscription("activities-events", [ACTIVITIES_EVENTS], visit_findings.HANDLERS, "events")],
        setup_db=documents.setup,
    )
