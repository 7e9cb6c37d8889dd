"""Service requests and difficulties in reporting (issue 13): the `request_overdue` alert as of a
day, the report's `services` section, and the handlers announcing the alert."""
import asyncio
import json

import pytest

from services.reporting.domain import service_requests as dom
from services.reporting.handlers import build_handlers
from services.reporting.service_requests import REQUESTS
from shared.contracts import service_requests as c
from shared.contracts.parsing import parse_object
from shared.periods import parse_period
from tests.integration.reporting.support import event, registered
from tests.unit.reporting.memory import Store

pytestmark = pytest.mark.unit


def doc(**over) -> dict:
    return {"_id": "r1", "member_id": "m1", "branch_id": "b1", "kind": "service", "service": "haircut",
            "description": "义务理发", "source": "visit", "opened_on": "2025-03-01", "responsible_id": "sp1",
            "due_on": "2025-03-15", "resolved_on": None} | over


def test_overdue_from_the_day_after_the_due_date_until_resolved():
    r = doc()
    assert dom.alerts(r, "2025-03-15") == []
    [x] = dom.alerts(r, "2025-03-16")
    assert (x.alert_id, x.level, x.org_id, x.details["service"]) == ("request_overdue:r1:2025-03-16", "warning", "b1",
                                                                     "haircut")
    assert dom.alerts(r, "2025-04-15")[0].level == "alert"  # more than 30 days past the due date
    assert dom.alerts(r, "2025-04-14")[0].level == "warning"
    assert dom.alerts(doc(resolved_on="2025-03-20"), "2025-03-21") == []
    assert dom.alerts(doc(resolved_on="2025-03-20"), "2025-03-18")  # read as of a day before it
    assert dom.alerts(doc(branch_id=None), "2025-04-01") == []  # the member's branch not known yet
    assert dom.alerts(r, "2025-03-20", records_start="2025-03-18")[0].since == "2025-03-18"


def test_the_services_section():
    rs = [doc(), doc(_id="r2", kind="difficulty", service="other", source="secretary", opened_on="2025-02-10",
                     due_on="2025-02-20", resolved_on="2025-03-05"),
          doc(_id="r3", opened_on="2025-03-20", due_on="2025-04-03", resolved_on="2025-03-25"),
          doc(_id="r4", opened_on="2025-04-02", due_on="2025-04-16")]
    assert dom.figures(rs, parse_period("2025-03"), "2025-12-31") == {
        "opened": 2, "resolved": 2, "resolved_late": 1, "open": 1, "overdue": 1,
        "by_kind": {"service": 2}, "by_service": {"haircut": 2}, "by_source": {"visit": 2}}
    q1 = dom.figures(rs, parse_period("2025-Q1"), "2025-03-10")  # read within the period
    assert (q1["opened"], q1["resolved"], q1["open"], q1["overdue"], q1["by_kind"]) == (
        2, 1, 1, 0, {"difficulty": 1, "service": 1})


def play(events: list[dict]) -> Store:
    store, handlers = Store(), build_handlers()
    for e in events:
        parsed = parse_object(json.loads(json.dumps(e)))
        asyncio.run(handlers[e["type"]].handle(parsed.message, store.context(parsed.envelope)))
        store.uow.commit_message()
        store.commit()
    return store


def test_the_handlers_announce_the_alert_and_its_clearing():
    opened = event(c.ServiceRequestOpened, "2025-03-01", request_id="r1", member_id="m1", kind="service",
                   service="haircut", source="visit", visit_id="v1", opened_on="2025-03-01", responsible_id="sp1",
                   due_on="2025-03-15")
    later = event(c.ServiceRequestAssigned, "2025-03-20", request_id="r1", member_id="m1", on="2025-03-20",
                  responsible_id="sec1", due_on="2025-03-15")
    done = event(c.ServiceRequestResolved, "2025-03-28", request_id="r1", member_id="m1", on="2025-03-28",
                 outcome="resolved", resolution="已上门理发", due_on="2025-03-15", late=True)
    # the member's branch comes from their facts when the event names none
    store = play([registered("m1", "b1", "2025-01-05"), opened, later, done])
    r = store.uow.docs[REQUESTS]["r1"]
    assert (r["branch_id"], r["responsible_id"], r["resolved_on"], r["open_alerts"]) == ("b1", "sec1", "2025-03-28", [])
    kinds = [(e.type, e.data["alert_id"]) for e in map(_env, store.events) if e.data.get("kind") == "request_overdue"]
    assert kinds == [("AlertRaised", "request_overdue:r1:2025-03-16"), ("AlertCleared", "request_overdue:r1:2025-03-16")]


def _env(record):
    from shared.contracts.envelope import Envelope

    return Envelope.model_validate(json.loads(record.value))
