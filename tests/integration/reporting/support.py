"""Reporting's tests publish EVENTS (as the other services would) and read reports over HTTP.

Only the reporting process is started, under its own prefix, so these tests depend on no other
service being finished.
"""
import uuid

import pytest

from shared.contracts import activities as a
from shared.contracts import members as m
from shared.contracts import notifications as n
from tests.support.messages import Bus, envelope
from tests.support.fixtures import platform_and_bus

def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def event(cls, at: str = "2026-01-05", *, id: str | None = None, **data) -> dict:
    """A valid event envelope of a contract type; `at` is the day it occurred (Asia/Shanghai)."""
    msg = cls.model_validate(data)
    return envelope(cls.TYPE, msg.to_data(), id=id, occurred_at=f"{at}T10:00:00+08:00", source="test-events")


async def publish(bus: Bus, *events: dict) -> None:
    from shared.contracts import lookup

    for e in events:
        await bus.send(lookup(e["type"]).TOPIC, e)


def fixtures(prefix_suffix: str):
    """(reporting, rbus): the reporting process alone, checking every 2 s and refreshing the report
    sections every second, and a bus on its prefix."""
    platform, rbus = platform_and_bus(["reporting"], prefix_suffix, {"REPORTING_CHECK_EVERY_S": "2",
                                                                     "REPORTING_SECTIONS_REFRESH_S": "1"})

    @pytest.fixture(scope="session")
    def reporting(reporting_platform):
        return reporting_platform["reporting"]

    return platform, reporting, rbus


def tree_events(branches: list[tuple[str, bool, int]], at: str = "2025-12-01") -> tuple[dict, list[dict]]:
    """district → subdistrict → community → branches (id, has_committee, party_groups)."""
    ids = {"district": uid("d"), "subdistrict": uid("s"), "community": uid("c")}
    evs = [event(m.OrganizationEstablished, at, org_id=ids["district"], name="X区", kind="district"),
           event(m.OrganizationEstablished, at, org_id=ids["subdistrict"], name="湖滨街道", kind="subdistrict",
                 parent_id=ids["district"], ancestors=[ids["district"]]),
           event(m.OrganizationEstablished, at, org_id=ids["community"], name="天鹅湖社区", kind="community",
                 parent_id=ids["subdistrict"], ancestors=[ids["district"], ids["subdistrict"]])]
    for i, (b, committee, groups) in enumerate(branches):
        evs.append(event(m.OrganizationEstablished, at, org_id=b, name=f"天鹅湖社区退休党支部{i + 1}", kind="branch",
                         parent_id=ids["community"], has_committee=committee, party_groups=groups,
                         ancestors=[ids["district"], ids["subdistrict"], ids["community"]]))
    return ids, evs


def registered(member_id: str, branch_id: str, on: str, *, name: str = "王秀英", health: str = "good",
               lives_alone: bool = False) -> dict:
    return event(m.MemberRegistered, on, member_id=member_id, branch_id=branch_id,
                 profile={"name": name, "registered_on": on, "health": health, "lives_alone": lives_alone,
                          "monthly_pension": "4800.00"},
                 dues_year=int(on[:4]), monthly_dues="24.00")


def paid(member_id: str, branch_id: str, months: list[str], amount: str, on: str, **kw) -> dict:
    return event(m.DuesPaid, on, payment_id=kw.pop("payment_id", uid("p")), member_id=member_id, branch_id=branch_id,
                 from_month=months[0], to_month=months[-1], months=months, amount=amount, paid_on=on,
                 expected_amount=amount, comparison="exact", **kw)


def held(activity_id: str, kind: str, branch_ids: list[str], on: str, attendance: list[tuple[str, str]] = (),
         mode: str = "in_person") -> dict:
    return event(a.ActivityHeld, on, activity_id=activity_id, kind=kind, title="会议", branch_ids=branch_ids,
                 held_on=on, attendance=[{"member_id": mid, "status": st, "mode": mode} for mid, st in attendance])


def dispatched(notice_id: str, member_id: str, branch_id: str, on: str, attempt: int = 1) -> dict:
    return event(n.NotificationDispatched, on, notice_id=notice_id, member_id=member_id, branch_id=branch_id,
                 channel="sms", attempt=attempt, addressed_on=on)


def quarter_events() -> tuple[dict, list[dict]]:
    """The events of 2026-Q1 in two branches, in the order they are published: (ids, events).
    Worked through in test_report_figures.py:
    away, exempt, transferred and dead members; a cancelled and an alliance meeting; partial,
    advance and double dues payments; a duplicate event; attendance before registration."""
    sent: list[dict] = []

    def collect(*events: dict) -> None:
        sent.extend(events)
    b1, b2 = uid("b"), uid("b")
    ids, orgs = tree_events([(b1, True, 0), (b2, False, 0)])
    ms = {k: uid(k) for k in ("m1", "m2", "m3", "m4", "m5", "m6", "m7")}
    ids |= {"b1": b1, "b2": b2, **ms}
    alliance = uid("a")
    # The attendance of m6 at the alliance lecture arrives before m6's registration.
    collect(held(alliance, "party_lecture", [b1, b2], "2026-03-10", [(ms["m5"], "present"),
                                                                              (ms["m6"], "present")]))
    collect(*orgs)
    names = {"m1": "王秀英", "m2": "李建国", "m3": "张桂兰", "m4": "刘振华", "m5": "陈淑珍", "m6": "杨德明", "m7": "赵玉梅"}
    regs = [registered(ms[k], b1, "2026-01-05", name=names[k]) for k in ("m1", "m2", "m4", "m5")]
    regs.append(registered(ms["m3"], b1, "2026-01-05", health="poor", name=names["m3"]))
    regs.append(registered(ms["m7"], b2, "2026-01-05", name=names["m7"]))
    collect(*regs)
    cancelled = uid("a")
    duplicate = paid(ms["m1"], b1, ["2026-01", "2026-02", "2026-03"], "72.00", "2026-01-10")
    collect(
        event(m.SecretaryAppointed, "2025-12-02", branch_id=b1, member_id=ms["m1"]),
        event(m.BranchRated, "2026-01-02", branch_id=b1, year=2026, stars=3),
        event(m.MemberMarkedAway, "2026-01-10", member_id=ms["m2"], branch_id=b1,
              **{"from": "2026-01-10"}, location="海南三亚", reason="seasonal"),
        event(m.MemberExempted, "2026-01-01", member_id=ms["m3"], branch_id=b1, **{"from": "2026-01-01"},
              reason="年老体弱"),
        event(m.MemberDied, "2026-02-20", member_id=ms["m4"], branch_id=b1, on="2026-02-20"),
        event(m.MemberTransferred, "2026-02-15", member_id=ms["m5"], on="2026-02-15", from_branch_id=b1,
              to_branch_id=b2),
        duplicate, duplicate,  # the same event twice: counted once
        paid(ms["m2"], b1, ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"], "144.00",
             "2026-01-08"),  # in advance
        paid(ms["m3"], b1, ["2026-01"], "24.00", "2026-02-03"),  # partial: one month of the quarter
        paid(ms["m4"], b1, ["2026-01"], "24.00", "2026-01-10"),  # a member who died since
        paid(ms["m5"], b1, ["2026-02"], "24.00", "2026-02-01"),  # twice for the same month
        paid(ms["m5"], b1, ["2026-02"], "24.00", "2026-02-02"),
        held(uid("a"), "branch_assembly", [b1], "2026-03-05", [(ms["m1"], "present"), (ms["m3"], "leave")]),
        held(uid("a"), "themed_party_day", [b1], "2026-01-20", [(ms["m2"], "present"), (ms["m4"], "present")],
             mode="remote"),
        held(uid("a"), "committee_meeting", [b1], "2026-01-15"),
        held(cancelled, "committee_meeting", [b1], "2026-02-10", [(ms["m3"], "present")]),
        event(a.ActivityCancelled, "2026-02-09", activity_id=cancelled, kind="committee_meeting", branch_ids=[b1],
              held_on="2026-02-10", reason="下雪"),
        held(uid("a"), "themed_party_day", [b2], "2026-02-25"),
        held(uid("a"), "cultural", [b2], "2026-02-26", [(ms["m7"], "present")]),  # not organisational life
        event(a.VolunteerHoursLogged, "2026-02-14", entry_id=uid("h"), member_id=ms["m1"], team="义务血压站",
              hours="2.5", on="2026-02-14"),
        event(a.VolunteerHoursLogged, "2026-01-20", entry_id=uid("h"), member_id=ms["m5"], team="治安巡逻",
              hours="1.5", on="2026-01-20"),
        event(a.VisitRecorded, "2026-02-01", visit_id=uid("v"), member_id=ms["m1"], specialist_id="s-1",
              on="2026-02-01", kind="home"),
    )
    notice = uid("n")
    collect(
        event(n.NoticeCreated, "2026-02-01", notice_id=notice, title="学习材料", body="…", category="study",
              audience={"org_ids": [b1], "member_ids": []}, require_ack=True, recipient_count=3),
        dispatched(notice, ms["m1"], b1, "2026-02-01"),
        dispatched(notice, ms["m2"], b1, "2026-02-01"),
        dispatched(notice, ms["m2"], b1, "2026-02-02", attempt=2),  # a retry: the same pair
        event(n.DoorDeliveryAssigned, "2026-02-04", notice_id=notice, member_id=ms["m2"], branch_id=b1),
        dispatched(notice, ms["m5"], b1, "2026-02-01"),
        event(n.NoticeAcknowledged, "2026-02-03", notice_id=notice, member_id=ms["m1"], branch_id=b1),
    )
    # m6 registers last, into branch 2, after the quarter's meetings.
    collect(registered(ms["m6"], b2, "2026-03-20", name=names["m6"]))
    return ids, sent


async def quarter_scenario(bus: Bus, order: str = "as_written") -> dict:
    """2026-Q1 in two branches (worked through in test_report_figures.py). `order="reversed"`
    publishes the same events with the aggregates in the opposite order (each aggregate's own
    events keep their order, as Kafka keeps them per key)."""
    ids, events = quarter_events()
    if order == "reversed":
        from shared.contracts import lookup

        groups: dict[tuple[str, str], list[dict]] = {}
        for e in events:
            cls = lookup(e["type"])
            groups.setdefault((cls.TOPIC, str(e["data"][cls.KEY])), []).append(e)
        events = [e for g in reversed(list(groups.values())) for e in g]
    await publish(bus, *events)
    return ids


async def settled(http, ids: dict) -> bool:
    """Every event of `quarter_scenario` has been projected (they travel on many partitions, so
    the last one published is not necessarily the last one consumed)."""
    r = await http.get(f"/api/v1/orgs/{ids['district']}/report", params={"period": "2026-Q1", "as_of": "2026-03-31"})
    if r.status_code != 200:
        return False
    body = r.json()
    seen = (body["members"], body["participation"]["active"], body["organisational_life"]["compliance"],
            body["dues"], body["volunteer_hours"], body["notices"], body["visits"])
    expected = ({"registered": 6, "resident": 5, "away": 1, "exempt": 1, "deceased": 1}, 4, 0.4615,
                {"member_months_due": 16, "member_months_paid": 8, "rate": 0.5, "amount_paid": "288.00"}, "4",
                {"sent": 3, "acknowledged": 1, "ack_rate": 0.3333}, {"members_visited": 1, "overdue": 4})
    if seen != expected:
        return False
    b1 = (await http.get(f"/api/v1/orgs/{ids['b1']}/report", params={"period": "2026"})).json()
    alerts = (await http.get("/api/v1/alerts", params={"org_id": ids["b1"], "as_of": "2026-03-31"})).json()
    return b1["stars"] == 3 and not any(a["kind"] == "no_secretary" for a in alerts["alerts"])
