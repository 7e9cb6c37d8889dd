"""Topic names of the public contract, in one place. A deployment may prefix them all."""
MEMBERS_COMMANDS = "members.commands"
ACTIVITIES_COMMANDS = "activities.commands"
NOTIFICATIONS_COMMANDS = "notifications.commands"
MEMBERS_EVENTS = "members.events"
ACTIVITIES_EVENTS = "activities.events"
NOTIFICATIONS_EVENTS = "notifications.events"
REPORTING_EVENTS = "reporting.events"

COMMAND_TOPICS = (MEMBERS_COMMANDS, ACTIVITIES_COMMANDS, NOTIFICATIONS_COMMANDS)
EVENT_TOPICS = (MEMBERS_EVENTS, ACTIVITIES_EVENTS, NOTIFICATIONS_EVENTS, REPORTING_EVENTS)

# Which service owns (handles) each commands topic and writes each events topic.
COMMANDS_OF = {
    "members": MEMBERS_COMMANDS,
    "activities": ACTIVITIES_COMMANDS,
    "notifications": NOTIFICATIONS_COMMANDS,
}
EVENTS_OF = {
    "members": MEMBERS_EVENTS,
    "activities": ACTIVITIES_EVENTS,
    "notifications": NOTIFICATIONS_EVENTS,
    "reporting": REPORTING_EVENTS,
}


def dlq(topic: str) -> str:
    """Where records that are not even an envelope go, unchanged."""
    return f"{topic}.dlq"


def all_topics() -> list[str]:
    base = [*COMMAND_TOPICS, *EVENT_TOPICS]
    return base + [dlq(t) for t in base]


def named(prefix: str, topic: str) -> str:
    return f"{prefix}{topic}"
