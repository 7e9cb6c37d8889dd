"""The right each HTTP route of the notifications service needs (roles hold rights: shared/auth/rights.py).
`POST /api/v1/commands` needs `commands:submit` in every service (shared/http/commands.py)."""
from shared.auth.rights import Right
from shared.http.dead_letters import DEAD_LETTERS_ROUTE

RIGHTS: dict[str, Right] = {
    "GET /api/v1/notices/{notice_id}": Right.NOTICES,
    "GET /api/v1/notices/{notice_id}/status": Right.NOTICES,
    "GET /api/v1/specialists/{specialist_id}/door-deliveries": Right.SPECIALIST_WORK,
    "GET /api/v1/feedback": Right.FEEDBACK,
    "GET /api/v1/audience": Right.NOTICES,
    DEAD_LETTERS_ROUTE: Right.OPERATIONS,  # every service's (shared/http/dead_letters.py): no bodies
}
