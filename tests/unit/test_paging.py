"""Lists that can be large are cut into pages of a bounded size, and say when there is more (issue 12)."""
import pytest
from fastapi import FastAPI

from services.activities.entrypoints.routes import router as activities
from services.members.entrypoints.routes import router as members
from services.notifications.entrypoints.routes import router as notifications
from services.reporting.entrypoints.routes import router as reporting
from shared.http.paging import MAX_PAGE, MAX_PAGE_SIZE, paging

pytestmark = pytest.mark.unit


def test_a_page_says_how_many_there_are_and_whether_more_follow():
    assert paging(5, 1, 2) == {"total": 5, "page": 1, "page_size": 2, "has_more": True}
    assert paging(5, 3, 2) == {"total": 5, "page": 3, "page_size": 2, "has_more": False}
    assert paging(4, 2, 2)["has_more"] is False
    assert paging(0, 9, 50) == {"total": 0, "page": 9, "page_size": 50, "has_more": False}


@pytest.mark.parametrize("router, path", [
    (reporting, "/api/v1/orgs/{org_id}/members"),
    (members, "/api/v1/orgs/{org_id}/members"),
    (members, "/api/v1/members"),
    (members, "/api/v1/members/{member_id}/history"),
    (members, "/api/v1/specialists/{specialist_id}/members"),
    (notifications, "/api/v1/feedback"),
    (notifications, "/api/v1/audience"),
    (notifications, "/api/v1/specialists/{specialist_id}/door-deliveries"),
    (activities, "/api/v1/venues/{venue_id}/bookings"),
])
def test_every_large_list_takes_a_bounded_page(router, path):
    app = FastAPI()
    app.include_router(router)
    params = {p["name"]: p["schema"] for p in app.openapi()["paths"][path]["get"]["parameters"]}
    assert (params["page_size"]["maximum"], params["page_size"]["default"]) == (MAX_PAGE_SIZE, 50)
    assert (params["page"]["minimum"], params["page"]["maximum"]) == (1, MAX_PAGE)
