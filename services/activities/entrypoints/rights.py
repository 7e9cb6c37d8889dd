"""The right each HTTP route of the activities service needs (roles hold rights: shared/auth/rights.py).
`POST /api/v1/commands` needs `commands:submit` in every service (shared/http/commands.py)."""
from shared.auth.rights import Right
from shared.http.dead_letters import DEAD_LETTERS_ROUTE

RIGHTS: dict[str, Right] = {
    "GET /api/v1/activities": Right.ACTIVITIES,
    "GET /api/v1/activities/{activity_id}": Right.ACTIVITIES,
    "GET /api/v1/venues/{venue_id}": Right.VENUES,
    "GET /api/v1/venues/{venue_id}/bookings": Right.VENUES,
    "GET /api/v1/venues/{venue_id}/use": Right.VENUES,
    "GET /api/v1/branches/{branch_id}/calendar": Right.ACTIVITIES,
    "GET /api/v1/branches/{branch_id}/plan": Right.ACTIVITIES,
    # volunteer service teams (team_routes.py, issue 13)
    "GET /api/v1/volunteer-teams/{team_id}": Right.ACTIVITIES,
    # the visit log (visit_routes.py, issue 13): scoped further by the caller's role
    "GET /api/v1/members/{member_id}/visits": Right.MEMBER,
    "GET /api/v1/specialists/{specialist_id}/visits": Right.SPECIALIST_WORK,
    DEAD_LETTERS_ROUTE: Right.OPERATIONS,  # every service's (shared/http/dead_letters.py): no bodies
}
