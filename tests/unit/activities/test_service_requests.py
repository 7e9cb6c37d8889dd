"""Service requests and difficulties (issue 13): the rules in the pure domain, and the handlers
against the in-memory unit of work, the requests a visit's needs open included."""
import json

import pytest

from services.activities.adapters.documents import MEMBER_REQUESTS, REQUESTS, request_from_doc
from services.activities.domain import service_requests as rules
from services.activities.handlers import HANDLERS
from services.activities.projections import MEMBER_EVENT_HANDLERS
from shared.contracts.parsing import Invalid, parse
from shared.errors import Rejected
from tests.support.fake_uow import FakeUnitOfWork, handle, refusal
from tests.support.messages import envelope

pytestmark = pytest.mark.unit


def request(**over) -> rules.ServiceRequest:
    return rules.open_request(None, **({"request_id": "r1", "member_id": "m1", "kind": "difficulty",
                                        "service": "other", "description": "家中水管漏水，独居无人维修",
                                        "source": "secretary", "opened_on": "2025-03-01",
                                        "responsible_id": "sp1", "due_on": "2025-03-10"} | over))


def reason(fn, *args, **kw) -> tuple[str, str]:
    with pytest.raises(Rejected) as r:
        fn(*args, **kw)
    return r.value.reason, r.value.errors[0]["field"]


def test_a_request_is_assigned_and_resolved_once():
    r = request()
    assert reason(request, due_on="2025-02-01") == ("invalid", "data.due_on")
    assert reason(rules.open_request, r, **vars(r)) == ("duplicate", "data.request_id")
    assert rules.assign(r, responsible_id="sec1", responsible_name="王书记", on="2025-03-05",
                        due_on="2025-03-20") == "sp1"
    assert (r.responsible_id, r.due_on, r.assignments) == ("sec1", "2025-03-20", [
        {"on": "2025-03-05", "responsible_id": "sec1", "due_on": "2025-03-20"}])
    assert reason(rules.assign, r, responsible_id="x", responsible_name=None, on="2025-02-01",
                  due_on=None) == ("invalid", "data.on")
    assert reason(rules.resolve, r, on="2025-02-28", outcome="resolved", resolution="修好") == ("invalid", "data.on")
    assert rules.resolve(r, on="2025-03-25", outcome="resolved", resolution="社区物业已维修") is True  # late
    assert reason(rules.resolve, r, on="2025-03-26", outcome="resolved", resolution="x") == (
        "conflict", "data.request_id")
    assert reason(rules.assign, r, responsible_id="x", responsible_name=None, on="2025-03-26", due_on=None) == (
        "not_allowed", "data.request_id")


def test_a_visit_opens_a_request_per_need_not_already_open():
    index = rules.MemberRequests("m1", open={"haircut": "r0"})
    assert rules.from_visit(index, visit_id="v1", on="2025-03-01", needs=["义务理发", "健康体检", "修理门锁"]) == [
        (1, "health_check", "健康体检"), (2, "other", "修理门锁")]
    assert rules.visit_due("2025-03-01") == "2025-03-15"
    assert rules.need_key("other", " 修理门锁 ") != rules.need_key("other", "买菜")


async def test_handlers_open_assign_resolve_and_visits():
    uow = FakeUnitOfWork()
    # the member's branch as the projection knows it
    await handle(MEMBER_EVENT_HANDLERS, envelope("MemberRegistered", {
        "member_id": "m1", "branch_id": "b1", "ancestors": ["d", "c"], "status": "resident",
        "profile": {"name": "王秀英"}, "dues_year": 2025, "monthly_dues": "24.00"}), uow)
    visit = envelope("RecordVisit", {"visit_id": "v1", "member_id": "m1", "specialist_id": "sp1", "on": "2025-03-01",
                                     "kind": "home", "health": "fair", "needs": ["健康体检", "楼道清扫"]})
    events = await handle(HANDLERS, visit, uow)
    assert [e["type"] for e in events] == ["VisitRecorded", "ServiceRequestOpened", "ServiceRequestOpened"]
    first = events[1]["data"]
    assert (first["service"], first["source"], first["visit_id"], first["responsible_id"], first["due_on"],
            first["branch_id"]) == ("health_check", "visit", "v1", "sp1", "2025-03-15", "b1")
    assert uow.outbox[-1].key == events[2]["data"]["request_id"].encode()
    # the same needs at the next visit: nothing new while they are open
    again = envelope("RecordVisit", {"visit_id": "v2", "member_id": "m1", "specialist_id": "sp1", "on": "2025-03-15",
                                     "kind": "phone", "needs": ["健康体检"]})
    assert [e["type"] for e in await handle(HANDLERS, again, uow)] == ["VisitRecorded"]
    rid = first["request_id"]
    [ev] = await handle(HANDLERS, envelope("AssignServiceRequest", {
        "request_id": rid, "responsible_id": "sec1", "responsible_name": "王书记", "on": "2025-03-16",
        "due_on": "2025-03-31"}), uow)
    assert (ev["type"], ev["data"]["previous_responsible_id"], ev["data"]["member_id"]) == (
        "ServiceRequestAssigned", "sp1", "m1")
    [ev] = await handle(HANDLERS, envelope("ResolveServiceRequest", {
        "request_id": rid, "on": "2025-03-20", "outcome": "resolved", "resolution": "已预约社区卫生服务中心体检"}), uow)
    assert (ev["type"], ev["data"]["late"]) == ("ServiceRequestResolved", False)
    assert request_from_doc(uow.pending(REQUESTS)[rid]).resolved_on == "2025-03-20"
    assert "health_check" not in uow.pending(MEMBER_REQUESTS)["m1"]["open"]
    # resolved: a later visit finding the need again opens a new request
    third = envelope("RecordVisit", {"visit_id": "v3", "member_id": "m1", "specialist_id": "sp1", "on": "2025-04-01",
                                     "kind": "home", "needs": ["健康体检"]})
    assert [e["type"] for e in await handle(HANDLERS, third, uow)] == ["VisitRecorded", "ServiceRequestOpened"]
    # a difficulty reported by the secretary, for a member activities has not heard of
    opened = envelope("OpenServiceRequest", {
        "request_id": "r9", "member_id": "m9", "kind": "difficulty", "description": "老伴住院，生活无人照料",
        "source": "secretary", "opened_on": "2025-04-02", "responsible_id": "sec1", "due_on": "2025-04-09"})
    [ev] = await handle(HANDLERS, opened, uow)
    assert (ev["data"]["branch_id"], ev["data"]["service"]) == (None, "other")
    assert await refusal(HANDLERS, opened, uow) == ("duplicate", ["data.request_id"])
    assert await refusal(HANDLERS, envelope("ResolveServiceRequest", {
        "request_id": "r404", "on": "2025-04-03", "outcome": "resolved", "resolution": "x"}), uow) == (
        "unknown_reference", ["data.request_id"])


def test_a_request_from_a_visit_names_the_visit():
    raw = envelope("OpenServiceRequest", {"request_id": "r1", "member_id": "m1", "kind": "service",
                                          "service": "haircut", "source": "visit", "opened_on": "2025-04-02",
                                          "responsible_id": "sp1", "due_on": "2025-04-01"})
    out = parse(json.dumps(raw).encode())
    assert isinstance(out, Invalid) and {e["field"] for e in out.errors} == {"data"}


async def _requests_after(order: list[dict]) -> dict[str, tuple]:
    """The requests (id → opened_on, resolved_on, the id of the event that said it opened) once
    `order`'s commands are handled in that order."""
    uow = FakeUnitOfWork()
    await handle(MEMBER_EVENT_HANDLERS, envelope("MemberRegistered", {
        "member_id": "m1", "branch_id": "b1", "ancestors": ["d", "c"], "status": "resident",
        "profile": {"name": "王秀英"}, "dues_year": 2025, "monthly_dues": "24.00"}), uow)
    opened = {}
    for cmd in order:
        for e in await handle(HANDLERS, cmd, uow):
            if e["type"] == "ServiceRequestOpened":
                opened[e["data"]["request_id"]] = e["id"]
    return {k: (d["opened_on"], d["resolved_on"], opened[k]) for k, d in uow.pending(REQUESTS).items()}


def _visit(visit_id: str, on: str) -> dict:
    return envelope("RecordVisit", {"visit_id": visit_id, "member_id": "m1", "specialist_id": "sp1", "on": on,
                                    "kind": "home", "needs": ["健康体检"]})


async def test_a_need_is_open_on_the_day_of_the_visit_whatever_order_the_commands_come_in():
    from shared.contracts.service_requests import visit_request_id

    r1 = visit_request_id("v1", 0)
    resolve = envelope("ResolveServiceRequest", {"request_id": r1, "on": "2025-03-05", "outcome": "resolved",
                                                 "resolution": "已预约体检"})
    v1, v2, v3, v4 = (_visit("v1", "2025-03-01"), _visit("v2", "2025-03-04"), _visit("v3", "2025-05-02"),
                      _visit("v4", "2025-05-20"))
    # In time: v1 opens r1, v2 finds it open, r1 is resolved, v3 opens its own, v4 finds that open.
    in_time = await _requests_after([v1, v2, resolve, v3, v4])
    assert {k: v[:2] for k, v in in_time.items()} == {r1: ("2025-03-01", "2025-03-05"),
                                                      visit_request_id("v3", 0): ("2025-05-02", None)}
    # The resolution travels on the request's key: handled after the later visits, or before v2.
    assert await _requests_after([v1, v2, v3, v4, resolve]) == in_time
    assert await _requests_after([v1, resolve, v2, v3, v4]) == in_time
    assert await _requests_after([v1, v3, resolve, v2, v4]) == in_time


async def test_a_visit_names_every_document_it_reads_and_one_without_needs_reads_no_index():
    """Every document a visit reads is named up front (read for the whole batch in one query a
    collection), its needs' requests included; a visit without needs does not read the index."""
    from services.activities.adapters.documents import MEMBERS, VISITS
    from shared.contracts.parsing import parse_object
    from shared.contracts.service_requests import visit_request_id

    uow = FakeUnitOfWork()
    visit = parse_object(_visit("v1", "2025-03-01")).message
    await uow.prefetch(HANDLERS["RecordVisit"].wants(visit))
    loads = uow.loads
    await handle(HANDLERS, _visit("v1", "2025-03-01"), uow)
    assert uow.loads == loads and uow.holds((REQUESTS, visit_request_id("v1", 0)))
    plain = envelope("RecordVisit", {"visit_id": "v2", "member_id": "m2", "specialist_id": "sp1", "on": "2025-03-02",
                                     "kind": "home", "needs": []})
    await handle(HANDLERS, plain, uow)
    assert not uow.holds((MEMBER_REQUESTS, "m2")) and not uow.holds((MEMBERS, "m2")) and uow.holds((VISITS, "v2"))
