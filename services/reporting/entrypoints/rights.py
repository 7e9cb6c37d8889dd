"""The right each HTTP route of the reporting service needs (roles hold rights: shared/auth/rights.py).
`POST /api/v1/commands` needs `commands:submit` in every service (shared/http/commands.py); the
dashboard's page `/` is public (it is the sign-in page too: its data comes from the routes below)."""
from shared.auth.rights import Right
from shared.http.dead_letters import DEAD_LETTERS_ROUTE

PUBLIC = frozenset({"/"})
RIGHTS: dict[str, Right] = {
    "GET /api/v1/orgs/{org_id}/report": Right.REPORTS,
    "GET /api/v1/orgs/{org_id}/report.xlsx": Right.REPORTS,
    "GET /api/v1/orgs/{org_id}/report.csv": Right.REPORTS,
    "GET /api/v1/orgs/{org_id}/series": Right.REPORTS,
    "GET /api/v1/orgs/{org_id}/volunteer-hours": Right.REPORTS,
    "GET /api/v1/orgs/{org_id}/volunteer-teams": Right.REPORTS,  # issue 13
    "GET /api/v1/orgs/{org_id}/service-requests": Right.MEMBER_LISTS,  # issue 13: names members
    "GET /api/v1/labels": Right.REPORTS,
    "GET /api/v1/alerts": Right.ALERTS,
    "GET /api/v1/orgs/{org_id}/candidates": Right.CANDIDATES,
    "GET /api/v1/orgs": Right.ORGS,
    "GET /api/v1/orgs/{org_id}/members": Right.MEMBER_LISTS,
    "GET /api/v1/members/{member_id}": Right.MEMBER,
    "GET /api/v1/projections": Right.OPERATIONS,
    # issue 13's branch records (branch_routes.py)
    "GET /api/v1/orgs/{org_id}/funds": Right.REPORTS,
    "GET /api/v1/orgs/{org_id}/grades": Right.REPORTS,
    "GET /api/v1/orgs/{org_id}/study": Right.REPORTS,
    "GET /api/v1/orgs/{org_id}/study/home-delivery": Right.MEMBER_LISTS,
    "GET /api/v1/orgs/{org_id}/activists": Right.MEMBER_LISTS,  # names of people not yet members
    "GET /api/v1/orgs/{org_id}/facility-gaps": Right.REPORTS,  # 阵地需求: counts only (facility_routes.py)
    DEAD_LETTERS_ROUTE: Right.OPERATIONS,  # every service's (shared/http/dead_letters.py): no bodies
}
