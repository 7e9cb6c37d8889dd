"""The rights table of docs/security.md, generated from the services' tables and the roles' rights
(`python -m tests.unit.auth.rights_table` prints it; test_docs checks the document holds it)."""
from services.activities.entrypoints.rights import RIGHTS as ACTIVITIES
from services.members.entrypoints.rights import RIGHTS as MEMBERS
from services.notifications.entrypoints.rights import RIGHTS as NOTIFICATIONS
from services.reporting.entrypoints.rights import RIGHTS as REPORTING
from shared.auth.claims import ROLES
from shared.auth.rights import Right, holds

TABLES = {"members": MEMBERS, "activities": ACTIVITIES, "notifications": NOTIFICATIONS, "reporting": REPORTING}


def markdown() -> str:
    lines = ["| service | route | right | " + " | ".join(ROLES) + " |",
             "| --- | --- | --- | " + " | ".join("---" for _ in ROLES) + " |"]
    for service, table in TABLES.items():
        for key, right in [*table.items(), ("POST /api/v1/commands", Right.COMMANDS)]:
            marks = ["✓" if holds(role, right) else "" for role in ROLES]
            lines.append(f"| {service} | `{key}` | `{right.value}` | " + " | ".join(marks) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
