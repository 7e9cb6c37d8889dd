"""The right each HTTP route of the members service needs (roles hold rights: shared/auth/rights.py).
`POST /api/v1/commands` needs `commands:submit` in every service (shared/http/commands.py)."""
from shared.auth.rights import Right
from shared.http.dead_letters import DEAD_LETTERS_ROUTE

RIGHTS: dict[str, Right] = {
    "GET /api/v1/orgs/{org_id}": Right.ORGS,
    "GET /api/v1/orgs/{org_id}/members": Right.MEMBER_LISTS,
    "GET /api/v1/members": Right.MEMBER_LISTS,
    "GET /api/v1/members/{member_id}": Right.MEMBER,
    "GET /api/v1/members/{member_id}/history": Right.AUDIT,
    "GET /api/v1/orgs/{org_id}/history": Right.AUDIT,
    "GET /api/v1/specialists/{specialist_id}/members": Right.SPECIALIST_WORK,
    # leadership (leadership_routes.py): a branch's committee, its secretary's record, a training session
    "GET /api/v1/orgs/{org_id}/committee": Right.ORGS,
    "GET /api/v1/orgs/{org_id}/secretary": Right.ORGS,
    "GET /api/v1/trainings/{session_id}": Right.MEMBER_LISTS,
    DEAD_LETTERS_ROUTE: Right.OPERATIONS,  # every service's (shared/http/dead_letters.py): no bodies
}
