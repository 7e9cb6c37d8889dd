"""What visits find reaches the member's ledger (issue 13): the members service's handlers of
activities.events, and the ledger's part built from them."""
import pytest

from services.members import visit_findings as vf
from tests.support.fake_uow import FakeUnitOfWork, handle
from tests.support.messages import envelope

pytestmark = pytest.mark.unit


async def test_visits_and_requests_in_the_ledger():
    uow = FakeUnitOfWork()
    for vid, on, health, needs in (("v1", "2025-03-01", "fair", ["健康体检"]), ("v2", "2025-04-01", "poor", []),
                                   ("v3", "2025-05-01", None, ["代购药品"])):
        await handle(vf.HANDLERS, envelope("VisitRecorded", {"visit_id": vid, "member_id": "m1", "specialist_id": "sp1",
                                                             "on": on, "kind": "home", "health": health,
                                                             "needs": needs}), uow)
    await handle(vf.HANDLERS, envelope("ServiceRequestOpened", {
        "request_id": "r1", "member_id": "m1", "kind": "service", "service": "health_check", "description": "健康体检",
        "source": "visit", "visit_id": "v1", "opened_on": "2025-03-01", "responsible_id": "sp1",
        "due_on": "2025-03-15"}), uow)
    await handle(vf.HANDLERS, envelope("ServiceRequestResolved", {
        "request_id": "r1", "member_id": "m1", "on": "2025-03-10", "outcome": "resolved", "resolution": "已体检",
        "due_on": "2025-03-15"}), uow)
    doc = uow.pending(vf.VISIT_LOG)["m1"]
    part = vf.ledger_part(doc, "2025-12-31")
    assert [v["visit_id"] for v in part["visits"]] == ["v3", "v2", "v1"]
    assert part["health_found"] == {"health": "poor", "health_label": "较差", "on": "2025-04-01", "visit_id": "v2"}
    assert part["needs_found"] == ["代购药品"]
    assert [(r["request_id"], r["service_label"], r["open"]) for r in part["service_requests"]] == [
        ("r1", "健康体检", False)]
    early = vf.ledger_part(doc, "2025-03-05")  # as of a day: what was found by then
    assert (early["visits_total"], early["health_found"]["health"], early["service_requests"][0]["open"]) == (
        1, "fair", True)
    assert vf.ledger_part(None, "2025-12-31")["health_found"] is None
