"""Every activities.commands type on real Kafka and MongoDB: events and every rejection."""
import pytest

from tests.integration.activities.support import answer, assert_rejected, held, present, schedule, venue
from tests.support import auth
from tests.support.messages import caused_by, envelope, eventually
from tests.support.scenario import uid

pytestmark = pytest.mark.integration


async def test_venue_is_never_double_booked(platform, bus):
    v = venue()
    venue_id = v["data"]["venue_id"]
    [registered, again] = await answer(bus, v, venue(venue_id))
    assert registered["type"] == "VenueRegistered" and registered["data"]["capacity"] == 30
    assert_rejected(again, "duplicate", "data.venue_id")

    branch = uid("b")
    first = schedule([branch], venue_id=venue_id)
    [ok] = await answer(bus, first)
    assert ok["type"] == "ActivityScheduled" and ok["data"]["venue_id"] == venue_id
    overlapping = schedule([uid("b")], kind="study", start="10:30", end="12:00", venue_id=venue_id)
    same_instant_in_utc = schedule([uid("b")], kind="cultural", venue_id=venue_id,
                                   starts_at="2026-03-05T02:00:00+00:00", ends_at="2026-03-05T02:30:00+00:00")
    back_to_back = schedule([branch], kind="study", start="11:00", end="12:00", venue_id=venue_id)
    nowhere = schedule([branch], venue_id=uid("v"))
    [c1, c2, fine, unknown] = await answer(bus, overlapping, same_instant_in_utc, back_to_back, nowhere)
    assert_rejected(c1, "conflict", "data.venue_id")
    assert_rejected(c2, "conflict", "data.venue_id")
    assert fine["type"] == "ActivityScheduled"
    assert_rejected(unknown, "unknown_reference", "data.venue_id")

    # cancelling frees the slot
    [cancelled] = await answer(bus, envelope("CancelActivity", {"activity_id": first["data"]["activity_id"],
                                                                "reason": "暴雨预警"}))
    assert cancelled["type"] == "ActivityCancelled" and cancelled["data"]["venue_id"] == venue_id
    retry = schedule([branch], kind="study", start="09:30", end="10:30", venue_id=venue_id)
    [rebooked] = await answer(bus, retry)
    assert rebooked["type"] == "ActivityScheduled"

    async with auth.client(platform["activities"].url) as http:
        r = await http.get(f"/api/v1/venues/{venue_id}/bookings", params={"period": "2026-03"})
        assert [b["activity_id"] for b in r.json()["bookings"]] == [retry["data"]["activity_id"],
                                                                    back_to_back["data"]["activity_id"]]
        # a page at a time, and it says when there is more (issue 12)
        first = (await http.get(f"/api/v1/venues/{venue_id}/bookings",
                                params={"period": "2026-03", "page_size": 1})).json()
        assert ([b["activity_id"] for b in first["bookings"]], first["total"], first["has_more"]) == (
            [retry["data"]["activity_id"]], 2, True)
        assert (await http.get(f"/api/v1/venues/{venue_id}/bookings", params={"page_size": 501})).status_code == 422
        use = (await http.get(f"/api/v1/venues/{venue_id}/use", params={"period": "2026-Q1"})).json()
        assert use["by_kind"] == [{"kind": "study", "label": "学习", "activities": 2, "held": 0, "hours": "2.00",
                                   "attendees": 0, "over_capacity": 0}]
        assert (await http.get(f"/api/v1/venues/{uid('v')}/bookings")).status_code == 404
        assert (await http.get(f"/api/v1/venues/{venue_id}/use", params={"period": "2026-Q9"})).status_code == 422


async def test_alliance_activity_held_once_with_capacity_and_corrections(platform, bus):
    small = venue(capacity=2)
    await answer(bus, small)
    b1, b2 = uid("b"), uid("b")
    m1, m2, m3, m4 = (uid("m") for _ in range(4))
    s = schedule([b1, b2], kind="party_lecture", venue_id=small["data"]["venue_id"], day="2026-06-28")
    aid = s["data"]["activity_id"]
    attendance = [present(m1), present(m2), present(m3), present(m4, "home_delivery")]
    [scheduled, h, again] = await answer(bus, s, held(aid, attendance), held(aid, attendance))
    assert scheduled["data"]["branch_ids"] == [b1, b2]
    assert h["type"] == "ActivityHeld"
    assert (h["data"]["capacity"], h["data"]["over_capacity"]) == (2, True)  # 3 seats taken, home delivery not
    assert h["data"]["held_on"] == "2026-06-28" and h["data"]["branch_ids"] == [b1, b2]
    assert len(h["data"]["attendance"]) == 4
    assert_rejected(again, "conflict", "data.activity_id")

    newcomer = uid("m")  # never registered anywhere: accepted (members.events may come later)
    [fix, add] = await answer(
        bus, envelope("RecordAttendance", {"activity_id": aid, "member_id": m3, "status": "present", "mode": "remote"}),
        envelope("RecordAttendance", {"activity_id": aid, "member_id": newcomer, "status": "leave",
                                      "mode": "in_person"}))
    assert fix["type"] == "AttendanceRecorded"
    assert (fix["data"]["previous_status"], fix["data"]["previous_mode"], fix["data"]["mode"]) == (
        "present", "in_person", "remote")
    assert fix["data"]["over_capacity"] is False and fix["data"]["kind"] == "party_lecture"
    assert (add["data"]["previous_status"], add["data"]["status"]) == (None, "leave")

    [cancel, unknown_held, unknown_att, cancel_unknown] = await answer(
        bus, envelope("CancelActivity", {"activity_id": aid, "reason": "补录"}), held(uid("a")),
        envelope("RecordAttendance", {"activity_id": uid("a"), "member_id": m1, "status": "present"}),
        envelope("CancelActivity", {"activity_id": uid("a"), "reason": "无"}))
    assert_rejected(cancel, "not_allowed", "data.activity_id")
    assert_rejected(unknown_held, "unknown_reference", "data.activity_id")
    assert_rejected(unknown_att, "unknown_reference", "data.activity_id")
    assert_rejected(cancel_unknown, "unknown_reference", "data.activity_id")

    async with auth.client(platform["activities"].url) as http:
        one = (await http.get(f"/api/v1/activities/{aid}")).json()
        assert one["status"] == "held" and one["minutes"].startswith("传达") and one["alliance"] is True
        assert one["kind_label"] == "党课" and one["over_capacity"] is False
        assert one["attendance_counts"]["present"] == 4 and one["attendance_counts"]["by_mode"]["remote"] == 1
        assert {a["member_id"]: a["mode_label"] for a in one["attendance"]}[m4] == "送学上门"
        for b in (b1, b2):
            listed = (await http.get("/api/v1/activities", params={"branch_id": b, "period": "2026-06",
                                                                    "kind": "party_lecture"})).json()
            assert [a["activity_id"] for a in listed["items"]] == [aid] and listed["total"] == 1
        assert (await http.get("/api/v1/activities", params={"branch_id": b1, "period": "2026-05"})).json()["total"] == 0
        assert (await http.get(f"/api/v1/activities/{uid('a')}")).status_code == 404
        bad = await http.get("/api/v1/activities", params={"kind": "dance"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "kind"
        bad = await http.get("/api/v1/activities", params={"period": "2026-13"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "period"


async def test_schedule_hold_and_cancel_rules(platform, bus):
    b = uid("b")
    s = schedule([b], kind="committee_meeting")
    aid = s["data"]["activity_id"]
    [ok, dup, backwards, twice] = await answer(
        bus, s, schedule([b], activity_id=aid), schedule([b], start="11:00", end="10:00"),
        schedule([b, b]))
    assert ok["type"] == "ActivityScheduled"
    assert_rejected(dup, "duplicate", "data.activity_id")
    assert_rejected(backwards, "invalid", "data.ends_at")
    assert_rejected(twice, "invalid", "data.branch_ids")
    [early_attendance, no_minutes, duplicate_member] = await answer(
        bus, envelope("RecordAttendance", {"activity_id": aid, "member_id": uid("m"), "status": "present"}),
        held(aid, minutes=None), held(aid, [present("m-1"), present("m-1", status="absent")]))
    assert_rejected(early_attendance, "not_allowed", "data.activity_id")
    assert_rejected(no_minutes, "invalid", "data.minutes")
    assert_rejected(duplicate_member, "invalid", "data.attendance.1.member_id")
    [cancelled, twice_cancelled, held_after] = await answer(
        bus, envelope("CancelActivity", {"activity_id": aid, "reason": "书记住院"}),
        envelope("CancelActivity", {"activity_id": aid, "reason": "再次"}), held(aid))
    assert cancelled["type"] == "ActivityCancelled" and cancelled["data"]["reason"] == "书记住院"
    assert_rejected(twice_cancelled, "conflict", "data.activity_id")
    assert_rejected(held_after, "not_allowed", "data.activity_id")
    # a cultural activity needs no minutes
    c = schedule([b], kind="cultural", day="2026-06-20")
    [_, culture] = await answer(bus, c, held(c["data"]["activity_id"], minutes=None))
    assert culture["type"] == "ActivityHeld" and culture["data"]["minutes"] is None


async def test_volunteer_hours(platform, bus):
    member = uid("m")

    def log(hours, **over):
        return envelope("LogVolunteerHours", {"entry_id": uid("e"), "member_id": member, "team": "义务血压站",
                                              "hours": hours, "on": "2026-03-12", **over})

    s = schedule([uid("b")], kind="volunteer_service", day="2026-03-12")
    gone = schedule([uid("b")], kind="volunteer_service", day="2026-03-13")
    await answer(bus, s, gone)
    await answer(bus, envelope("CancelActivity", {"activity_id": gone["data"]["activity_id"], "reason": "下雨"}))
    first = log("2.5", activity_id=s["data"]["activity_id"])
    [ok, dup, zero, too_many, as_number, unknown, cancelled] = await answer(
        bus, first, log("1", entry_id=first["data"]["entry_id"]), log("0"), log("24.5"), log(3),
        log("2", activity_id=uid("a")), log("2", activity_id=gone["data"]["activity_id"]))
    assert ok["type"] == "VolunteerHoursLogged" and ok["data"]["hours"] == "2.5"
    assert ok["data"]["activity_id"] == s["data"]["activity_id"]
    assert_rejected(dup, "duplicate", "data.entry_id")
    assert_rejected(zero, "invalid", "data.hours")
    assert_rejected(too_many, "invalid", "data.hours")
    assert_rejected(as_number, "invalid", "data.hours")  # hours travel as decimal strings, never numbers
    assert_rejected(unknown, "unknown_reference", "data.activity_id")
    assert_rejected(cancelled, "not_allowed", "data.activity_id")
    [negative] = await answer(bus, log("-1"))
    assert_rejected(negative, "invalid", "data.hours")


async def test_visits_keep_health_and_needs(platform, bus):
    visit = envelope("RecordVisit", {"visit_id": uid("vis"), "member_id": uid("m"), "specialist_id": uid("sp"),
                                     "on": "2026-03-02", "kind": "home", "health": "poor",
                                     "needs": ["送药上门", "理发"], "notes": "独居，行动不便"})
    await bus.send("activities.commands", visit)
    # its two needs open two service requests (issue 13), on their own keys
    caused = caused_by(await bus.events("activities.events", lambda es: len(caused_by(es, visit)) >= 3, 90), visit)
    [ok] = [e for e in caused if e["type"] == "VisitRecorded"]
    assert sorted(e["data"]["description"] for e in caused if e["type"] == "ServiceRequestOpened") == ["理发", "送药上门"]
    [dup, bad_kind] = await answer(
        bus, envelope("RecordVisit", {**visit["data"], "kind": "phone"}),
        envelope("RecordVisit", {**visit["data"], "visit_id": uid("vis"), "kind": "letter"}))
    assert (ok["data"]["health"], ok["data"]["needs"], ok["data"]["notes"]) == ("poor", ["送药上门", "理发"], "独居，行动不便")
    assert_rejected(dup, "duplicate", "data.visit_id")
    assert_rejected(bad_kind, "invalid", "data.kind")


async def test_commands_over_http(platform, bus):
    v = venue()
    async with auth.client(platform["activities"].url) as http:
        accepted = await http.post("/api/v1/commands", json=v)
        assert accepted.status_code == 202
        bad = await http.post("/api/v1/commands", json=venue(capacity=0))
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "data.capacity"

        async def registered():
            r = await http.get(f"/api/v1/venues/{v['data']['venue_id']}")
            return r.status_code == 200 and r.json()
        got = await eventually(registered, timeout=60)
        assert got["capacity"] == 30 and got["facilities"] == ["投影仪", "音响"]
