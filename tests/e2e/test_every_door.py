"""Every door scoped (issue 12): every route of every service, generated from the services' rights
tables, walked by every role, for a subject inside the caller's scope and one outside it.

Two subdistricts of one district, each with a community, a branch, a member with a phone, a
member without one (door deliveries), their one-to-one specialist, a venue, an activity, a
notice and a piece of feedback. Signed in as each role scoped to the first side ("ours"):
- a role without the route's right gets 403;
- with it, our subject answers 200 (202 for a command) and the other side's 404 — a command
  writing to the other side too — except for the district department, which sees both;
- without a token, or with a forged one, every route answers 401.
Then what each role sees of a member's personal data.
"""
import uuid

import pytest

from services.activities.entrypoints.rights import RIGHTS as ACTIVITIES
from services.members.entrypoints.rights import RIGHTS as MEMBERS
from services.notifications.entrypoints.rights import RIGHTS as NOTIFICATIONS
from services.reporting.entrypoints.rights import RIGHTS as REPORTING
from shared.auth import tokens
from shared.auth.claims import ORG_ROLES, ROLES
from shared.auth.rights import Right, command_refusal, holds
from shared.http.commands import COMMANDS_ROUTE
from tests.integration.activities.support import answer as activity_answer
from tests.integration.activities.support import schedule, venue
from tests.support import auth
from tests.support.members_fixtures import accepted, command
from tests.support.messages import caused_by, envelope, eventually
from tests.support.scenario import register, uid

pytestmark = pytest.mark.e2e
TABLES = {"members": MEMBERS, "activities": ACTIVITIES, "notifications": NOTIFICATIONS, "reporting": REPORTING}
PHONE = "13912345678"


def _side(district: str) -> dict:
    return {"district": district, "subdistrict": uid("s"), "community": uid("c"), "branch": uid("b"),
            "member": uid("m"), "door": uid("m"), "specialist": uid("sp"), "venue": uid("v"), "activity": uid("a"),
            "notice": uid("n"), "feedback": uid("f"), "training": uid("t"), "team": uid("vt")}


async def _build(bus, http, s: dict) -> None:
    for org, kind, parent in (("subdistrict", "subdistrict", "district"), ("community", "community", "subdistrict"),
                              ("branch", "branch", "community")):
        await accepted(bus, command("EstablishOrganization", org_id=s[org], name=f"{kind}-{s[org]}", kind=kind,
                                    parent_id=s[parent]))
    await accepted(bus, register(s["branch"], s["member"], phone=PHONE, health="poor", service_needs=["送医"]))
    await accepted(bus, register(s["branch"], s["door"], name="李建国", phone=None))
    await accepted(bus, command("RecordTrainingSession", session_id=s["training"], title="书记培训",
                                held_on="2026-03-18", org_id=s["branch"], hours="6", attendee_ids=[s["member"]]))
    for m in ("member", "door"):
        await accepted(bus, command("AssignSpecialist", member_id=s[m], specialist_id=s["specialist"],
                                    specialist_name="李专员", specialist_phone="13700000000"))
    # issue 13: a volunteer team of the side's community, and a visit by its specialist
    [t] = await activity_answer(bus, envelope("RegisterVolunteerTeam", {
        "team_id": s["team"], "name": "爱心义剪", "community_id": s["community"], "formed_on": "2026-01-10",
        "leader_id": s["member"], "member_ids": [s["member"]]}))
    [vis] = await activity_answer(bus, envelope("RecordVisit", {
        "visit_id": uid("vis"), "member_id": s["member"], "specialist_id": s["specialist"], "on": "2026-02-01",
        "kind": "home", "health": "poor"}))
    assert t["type"] == "VolunteerTeamRegistered" and vis["type"] == "VisitRecorded", (t, vis)
    [v] = await activity_answer(bus, venue(s["venue"], org_id=s["branch"]))
    [a] = await activity_answer(bus, schedule([s["branch"]], activity_id=s["activity"], venue_id=s["venue"]))
    assert v["type"] == "VenueRegistered" and a["type"] == "ActivityScheduled", (v, a)

    async def notifications_know_them():  # a notice naming an org not known yet would be held, then refused
        r = await http["notifications"].get("/api/v1/audience", params={"org_ids": s["branch"]})
        return r.status_code == 200 and {p["member_id"] for p in r.json()["recipients"]} == {s["member"], s["door"]}

    await eventually(notifications_know_them, timeout=120)
    for cmd in (envelope("SendNotice", {"notice_id": s["notice"], "title": "学习通知", "body": "请学习文件。",
                                        "category": "study", "audience": {"org_ids": [s["branch"]]},
                                        "require_ack": True}),
                envelope("RecordFeedback", {"feedback_id": s["feedback"], "member_id": s["member"],
                                            "notice_id": s["notice"], "text": "已学习。"})):
        await bus.send("notifications.commands", cmd)
        [ev] = caused_by(await bus.events("notifications.events", lambda es, c=cmd: caused_by(es, c), 90), cmd)[:1]
        assert ev["type"] != "CommandRejected", ev


@pytest.fixture(scope="module")
async def world(platform, bus):
    http = {n: auth.client(p.url, timeout=60) for n, p in platform.items()}
    district = uid("d")
    await accepted(bus, command("EstablishOrganization", org_id=district, name="X区", kind="district", parent_id=None))
    ours, theirs = _side(district), _side(district)
    for s in (ours, theirs):
        await _build(bus, http, s)
    shared = envelope("SendNotice", {"notice_id": uid("n"), "title": "全区通知", "body": "两个街道都收到。",
                                     "category": "document", "audience": {"org_ids": [ours["branch"], theirs["branch"]]}})
    await bus.send("notifications.commands", shared)
    [ev] = caused_by(await bus.events("notifications.events", lambda es: caused_by(es, shared), 90), shared)[:1]
    assert ev["type"] == "NoticeCreated", ev
    last: dict = {}
    for s in (ours, theirs):
        async def settled(s=s):
            door = await http["notifications"].get(f"/api/v1/specialists/{s['specialist']}/door-deliveries")
            mine = await http["reporting"].get(f"/api/v1/members/{s['member']}",
                                               headers=auth.headers("specialist", specialist_id=s["specialist"]))
            report = await http["reporting"].get(f"/api/v1/orgs/{s['branch']}/report", params={"period": "2026-Q1"})
            last.update(door=door.text[:300], mine=mine.text[:300], report=report.status_code)
            return (door.status_code == 200
                    and (s["notice"], s["door"]) in {(d["notice_id"], d["member_id"]) for d in door.json()["pending"]}
                    and mine.status_code == 200 and report.status_code == 200)

        try:
            await eventually(settled, timeout=180)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last answers: {last}") from None
    async def addressed():
        r = await http["notifications"].get(f"/api/v1/notices/{shared['data']['notice_id']}/status")
        return r.status_code == 200 and r.json()["summary"]["recipients"] == 4

    await eventually(addressed, timeout=120)
    yield {"ours": ours, "theirs": theirs, "urls": {n: p.url for n, p in platform.items()},
           "shared_notice": shared["data"]["notice_id"]}
    for c in http.values():
        await c.aclose()


def claims_for(role: str, s: dict) -> dict:
    """A token of `role` scoped to side `s`."""
    return {"district": {}, "subdistrict": {"org_ids": [s["subdistrict"]]}, "community": {"org_ids": [s["community"]]},
            "secretary": {"org_ids": [s["branch"]]}, "specialist": {"specialist_id": s["specialist"]},
            "member": {"member_id": s["member"]}, "operator": {}}[role]


# What each route is about, and how to ask it about one side's subject.
ORG, MEMBER, SPECIALIST, NONE = "org", "member", "specialist", "none"
P = {"period": "2026"}
REQUESTS = {
    "members": {
        "GET /api/v1/orgs/{org_id}": (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}", {})),
        "GET /api/v1/orgs/{org_id}/members": (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/members", {})),
        "GET /api/v1/members": (ORG, lambda s: ("/api/v1/members", {"name": "王", "org_id": s["branch"]})),
        "GET /api/v1/members/{member_id}": (MEMBER, lambda s: (f"/api/v1/members/{s['member']}", {})),
        "GET /api/v1/members/{member_id}/history": (MEMBER, lambda s: (f"/api/v1/members/{s['member']}/history", {})),
        "GET /api/v1/orgs/{org_id}/history": (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/history", {})),
        "GET /api/v1/specialists/{specialist_id}/members":
            (SPECIALIST, lambda s: (f"/api/v1/specialists/{s['specialist']}/members", {})),
        "GET /api/v1/orgs/{org_id}/committee": (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/committee", {})),
        "GET /api/v1/orgs/{org_id}/secretary": (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/secretary", {})),
        "GET /api/v1/trainings/{session_id}": (ORG, lambda s: (f"/api/v1/trainings/{s['training']}", {})),
        "GET /api/v1/dead-letters": (NONE, lambda s: ("/api/v1/dead-letters", {})),  # every service's, operators'
    },
    "activities": {
        "GET /api/v1/activities": (ORG, lambda s: ("/api/v1/activities", {"branch_id": s["branch"]})),
        "GET /api/v1/activities/{activity_id}": (ORG, lambda s: (f"/api/v1/activities/{s['activity']}", {})),
        "GET /api/v1/venues/{venue_id}": (ORG, lambda s: (f"/api/v1/venues/{s['venue']}", {})),
        "GET /api/v1/venues/{venue_id}/bookings": (ORG, lambda s: (f"/api/v1/venues/{s['venue']}/bookings", {})),
        "GET /api/v1/venues/{venue_id}/use": (ORG, lambda s: (f"/api/v1/venues/{s['venue']}/use", P)),
        "GET /api/v1/branches/{branch_id}/calendar": (ORG, lambda s: (f"/api/v1/branches/{s['branch']}/calendar", P)),
        "GET /api/v1/branches/{branch_id}/plan": (ORG, lambda s: (f"/api/v1/branches/{s['branch']}/plan", P)),
        "GET /api/v1/volunteer-teams/{team_id}": (ORG, lambda s: (f"/api/v1/volunteer-teams/{s['team']}", {})),
        "GET /api/v1/members/{member_id}/visits": (MEMBER, lambda s: (f"/api/v1/members/{s['member']}/visits", {})),
        "GET /api/v1/specialists/{specialist_id}/visits":
            (SPECIALIST, lambda s: (f"/api/v1/specialists/{s['specialist']}/visits", {})),
        "GET /api/v1/dead-letters": (NONE, lambda s: ("/api/v1/dead-letters", {})),  # every service's, operators'
    },
    "notifications": {
        "GET /api/v1/notices/{notice_id}": (ORG, lambda s: (f"/api/v1/notices/{s['notice']}", {})),
        "GET /api/v1/notices/{notice_id}/status": (ORG, lambda s: (f"/api/v1/notices/{s['notice']}/status", {})),
        "GET /api/v1/specialists/{specialist_id}/door-deliveries":
            (SPECIALIST, lambda s: (f"/api/v1/specialists/{s['specialist']}/door-deliveries", {})),
        "GET /api/v1/feedback": (ORG, lambda s: ("/api/v1/feedback", {"org_id": s["branch"], **P})),
        "GET /api/v1/audience": (ORG, lambda s: ("/api/v1/audience", {"org_ids": s["branch"]})),
        "GET /api/v1/dead-letters": (NONE, lambda s: ("/api/v1/dead-letters", {})),  # every service's, operators'
    },
    "reporting": {
        "GET /api/v1/orgs/{org_id}/report": (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/report", P)),
        "GET /api/v1/orgs/{org_id}/report.xlsx": (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/report.xlsx", P)),
        "GET /api/v1/orgs/{org_id}/report.csv": (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/report.csv", P)),
        "GET /api/v1/orgs/{org_id}/series": (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/series", {"year": 2026})),
        "GET /api/v1/orgs/{org_id}/volunteer-hours":
            (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/volunteer-hours", P)),
        "GET /api/v1/orgs/{org_id}/volunteer-teams":
            (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/volunteer-teams", P)),
        "GET /api/v1/orgs/{org_id}/service-requests":
            (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/service-requests", {})),
        "GET /api/v1/labels": (NONE, lambda s: ("/api/v1/labels", {})),
        "GET /api/v1/alerts": (ORG, lambda s: ("/api/v1/alerts", {"org_id": s["branch"]})),
        "GET /api/v1/orgs/{org_id}/candidates":
            (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/candidates", {"year": 2026})),
        "GET /api/v1/orgs": (NONE, lambda s: ("/api/v1/orgs", {})),
        "GET /api/v1/orgs/{org_id}/members": (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/members", {})),
        "GET /api/v1/members/{member_id}": (MEMBER, lambda s: (f"/api/v1/members/{s['member']}", {})),
        "GET /api/v1/projections": (NONE, lambda s: ("/api/v1/projections", {})),
        # issue 13's branch records (branch_routes.py)
        "GET /api/v1/orgs/{org_id}/funds": (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/funds", P)),
        "GET /api/v1/orgs/{org_id}/grades": (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/grades", {"year": 2026})),
        "GET /api/v1/orgs/{org_id}/study": (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/study", P)),
        "GET /api/v1/orgs/{org_id}/study/home-delivery":
            (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/study/home-delivery", P)),
        "GET /api/v1/orgs/{org_id}/activists": (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/activists", P)),
        "GET /api/v1/orgs/{org_id}/facility-gaps":  # 阵地需求 (facility_routes.py)
            (ORG, lambda s: (f"/api/v1/orgs/{s['branch']}/facility-gaps", {})),
        "GET /api/v1/dead-letters": (NONE, lambda s: ("/api/v1/dead-letters", {})),  # every service's, operators'
    },
}
# Who is scoped to what kind of subject (a role holding a right about a kind it has no scope for
# would be a hole in the tables: the walk fails on it).
SCOPED = {ORG: ORG_ROLES | {"district"}, MEMBER: ORG_ROLES | {"district", "specialist", "member"},
          SPECIALIST: ORG_ROLES | {"district", "specialist"}, NONE: set(ROLES)}


def _command(service: str, s: dict) -> dict:
    """A harmless command of each service, naming side `s`."""
    return {"members": envelope("RecordEvaluation", {"member_id": s["member"], "year": 2025, "result": "qualified"}),
            "activities": envelope("RecordVisit", {"visit_id": uid("vis"), "member_id": s["member"],
                                                   "specialist_id": s["specialist"], "on": "2026-03-01",
                                                   "kind": "home"}),
            "notifications": envelope("AcknowledgeNotice", {"notice_id": s["notice"], "member_id": s["member"]}),
            "reporting": envelope("AcknowledgeNotice", {"notice_id": s["notice"], "member_id": s["member"]})}[service]


def _outside(service: str, ours: dict, theirs: dict) -> dict:
    """A command of each service about the other side's subject, naming our specialist where a
    specialist must name themselves: it writes outside the caller's scope (but the district's). The
    visit is to their member without a phone: once the district's is accepted, our specialist made
    it, and would see it (the walk reads the other member's visits)."""
    return {"members": envelope("RecordEvaluation", {"member_id": theirs["member"], "year": 2025,
                                                     "result": "qualified"}),
            "activities": envelope("RecordVisit", {"visit_id": uid("vis"), "member_id": theirs["door"],
                                                   "specialist_id": ours["specialist"], "on": "2026-03-01",
                                                   "kind": "home"}),
            "notifications": envelope("CompleteDoorDelivery", {
                "notice_id": theirs["notice"], "member_id": theirs["door"], "specialist_id": ours["specialist"],
                "on": "2026-03-01"}),
            "reporting": envelope("AcknowledgeNotice", {"notice_id": theirs["notice"], "member_id": theirs["member"]})
            }[service]


def _command_answer(service: str, role: str, ours: dict, cmd: dict, inside: bool) -> int:
    """403 without the right or for a command not the role's own; then 202 inside the scope, 404 outside."""
    claims = claims_for(role, ours)
    own_id = claims.get("specialist_id") or claims.get("member_id")
    if not holds(role, Right.COMMANDS):
        return 403
    if service == "reporting":  # it takes no commands
        return 422
    if command_refusal(role, own_id, cmd["type"], cmd["data"]):
        return 403
    return 202 if inside or role == "district" else 404


def test_the_walk_covers_every_route_of_every_table():
    for service, table in TABLES.items():
        assert set(REQUESTS[service]) == set(table), f"{service}: add the new route to REQUESTS"


@pytest.mark.parametrize("service", TABLES)
async def test_every_route_every_role_inside_and_outside(world, service):
    ours, theirs, url = world["ours"], world["theirs"], world["urls"][service]
    wrong: list[str] = []
    for role in ROLES:
        async with auth.client(url, role=role, timeout=60, **claims_for(role, ours)) as http:
            for key, right in TABLES[service].items():
                kind, build = REQUESTS[service][key]
                sides = [("ours", ours)] if kind == NONE else [("ours", ours), ("theirs", theirs)]
                for name, s in sides:
                    path, params = build(s)
                    r = await http.get(path, params=params)
                    if not holds(role, right):
                        want = 403
                    else:
                        assert role in SCOPED[kind], f"{role} holds {right} but has no scope over {kind}s"
                        want = 200 if role == "district" or name == "ours" else 404
                    if r.status_code != want:
                        wrong.append(f"{role} {key} {name}: {r.status_code}, not {want} ({r.text[:150]})")
            for name, cmd in (("ours", _command(service, ours)), ("theirs", _outside(service, ours, theirs))):
                r = await http.post("/api/v1/commands", json=cmd)
                want = _command_answer(service, role, ours, cmd, inside=name == "ours")
                if r.status_code != want:
                    wrong.append(f"{role} {COMMANDS_ROUTE} {cmd['type']} {name}: {r.status_code}, not {want} "
                                 f"({r.text[:150]})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("service", TABLES)
async def test_without_a_token_or_with_a_forged_one_every_route_is_401(world, service):
    ours, url = world["ours"], world["urls"][service]
    forged = tokens.mint(tokens.new_private_key(), role="district", district=auth.DISTRICT, sub="mallory")
    async with auth.client(url, timeout=60) as http:
        for key in [*TABLES[service], COMMANDS_ROUTE]:
            method = key.split(" ", 1)[0]
            path, params = REQUESTS[service][key][1](ours) if key != COMMANDS_ROUTE else ("/api/v1/commands", {})
            for headers in ({"Authorization": ""}, {"Authorization": f"Bearer {forged}"}):
                r = await http.request(method, path, params=params, headers=headers,
                                       json=_command(service, ours) if method == "POST" else None)
                assert r.status_code == 401, (key, headers, r.status_code, r.text[:200])
        assert (await http.get("/health", headers={"Authorization": ""})).status_code == 200


async def test_a_notice_to_both_sides_shows_each_only_their_recipients(world):
    ours, theirs, n = world["ours"], world["theirs"], world["shared_notice"]
    for s in (ours, theirs):
        async with auth.client(world["urls"]["notifications"], role="community", org_ids=[s["community"]]) as http:
            notice = (await http.get(f"/api/v1/notices/{n}")).json()
            status = (await http.get(f"/api/v1/notices/{n}/status")).json()
        assert set(notice["recipients"]) == {s["member"], s["door"]}
        assert {r["member_id"] for r in status["recipients"]} == {s["member"], s["door"]}
        assert status["summary"]["recipients"] == 2


async def test_the_tree_holds_only_the_callers_subtree(world):
    ours, theirs = world["ours"], world["theirs"]
    async with auth.client(world["urls"]["reporting"], role="community", org_ids=[ours["community"]]) as http:
        seen = {o["org_id"] for o in (await http.get("/api/v1/orgs")).json()}
    assert seen == {ours["community"], ours["branch"]}
    async with auth.client(world["urls"]["reporting"]) as http:
        seen = {o["org_id"] for o in (await http.get("/api/v1/orgs")).json()}
    assert {ours["branch"], theirs["branch"], ours["district"]} <= seen


@pytest.mark.parametrize("role, phone, health", [
    ("district", "139****5678", None), ("subdistrict", "139****5678", None), ("community", "139****5678", None),
    ("secretary", PHONE, None), ("specialist", PHONE, "poor"), ("member", PHONE, "poor"),
])
async def test_what_each_role_sees_of_a_members_personal_data(world, role, phone, health):
    ours = world["ours"]
    async with auth.client(world["urls"]["members"], role=role, **claims_for(role, ours)) as http:
        ledger = (await http.get(f"/api/v1/members/{ours['member']}")).json()
    assert (ledger["profile"]["phone"], ledger["profile"]["health"]) == (phone, health), ledger["profile"]
    assert ledger["specialist"]["phone"] == "13700000000"  # the specialist's work phone
    assert (ledger["profile"]["monthly_pension"] == "4800.00") == (role == "member")
    # the dues are 0.5% of it: masked exactly where it is (issue 12)
    assert {ledger["monthly_dues"], ledger["dues"]["monthly_dues"]} == {"24.00" if role == "member" else "****"}


async def test_unmasking_is_for_some_roles_with_a_reason_and_is_recorded(world, platform):
    from pymongo import AsyncMongoClient

    ours = world["ours"]
    reason = f"核实联系方式 {uuid.uuid4().hex[:6]}"
    async with auth.client(world["urls"]["members"], role="community", org_ids=[ours["community"]]) as http:
        shown = await http.get(f"/api/v1/orgs/{ours['branch']}/members", params={"reveal": "phone", "reason": reason})
        assert shown.status_code == 200 and PHONE in {r["phone"] for r in shown.json()["items"]}
        assert (await http.get(f"/api/v1/members/{ours['member']}", params={"reveal": "health",
                                                                          "reason": reason})).status_code == 403
        assert (await http.get(f"/api/v1/members/{ours['member']}", params={"reveal": "phone"})).status_code == 422
        assert (await http.get(f"/api/v1/members/{ours['member']}", params={"reveal": "shoe_size",
                                                                          "reason": reason})).status_code == 422
    async with auth.client(world["urls"]["notifications"], role="community", org_ids=[ours["community"]]) as http:
        door = (await http.get(f"/api/v1/specialists/{ours['specialist']}/door-deliveries")).json()["pending"]
    assert door and {d["health"] for d in door} == {None}  # the specialist's to see, not the community's
    proc = platform["members"]
    client = AsyncMongoClient(proc.env["MONGODB_URL"])
    try:
        db = client[proc.env["DATABASE_PREFIX"] + "members"]
        [entry] = await db["access_log"].find({"reason": reason}).to_list(None)
    finally:
        await client.close()
    assert (entry["subject"], entry["role"], entry["categories"]) == ("test-community", "community", ["phone"])
    assert entry["path"] == f"/api/v1/orgs/{ours['branch']}/members"
