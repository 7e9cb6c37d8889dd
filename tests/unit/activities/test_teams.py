"""Volunteer service teams (issue 13): the roster and leader rules in the pure domain, and the
handlers against the in-memory unit of work, hours logged for a team included."""
import pytest

from services.activities.adapters.documents import (
    TEAM_MEMBERS, TEAMS, VOLUNTEER_ENTRIES, membership_from_doc, membership_id, team_from_doc,
)
from services.activities.domain import teams
from services.activities.handlers import HANDLERS
from shared.errors import Rejected
from tests.support.fake_uow import FakeUnitOfWork, handle, refusal
from tests.support.messages import envelope

pytestmark = pytest.mark.unit


def team(**over) -> tuple[teams.Team, dict[str, teams.Membership]]:
    t, roster = teams.register(None, **({"team_id": "t1", "name": "义务血压站", "community_id": "c1",
                                         "formed_on": "2025-06-01", "leader_id": "m1", "member_ids": ["m1", "m2"]}
                                        | over))
    return t, {m.member_id: m for m in roster}


def reason(fn, *args, **kw) -> tuple[str, str]:
    with pytest.raises(Rejected) as r:
        fn(*args, **kw)
    return r.value.reason, r.value.errors[0]["field"]


def test_a_team_has_a_roster_over_time_and_a_leader_on_it():
    t, roster = team()
    assert (t.leader_on("2025-06-01"), teams.members_on(list(roster.values()), "2025-06-01")) == ("m1", ["m1", "m2"])
    assert reason(team, leader_id="m9") == ("invalid", "data.leader_id")
    assert reason(teams.register, t, team_id="t1", name="x", community_id="c1", formed_on="2025-06-01",
                  leader_id="m1", member_ids=["m1"]) == ("duplicate", "data.team_id")
    roster["m3"] = teams.join(t, None, "m3", "2025-08-01")
    assert reason(teams.join, t, roster["m3"], "m3", "2025-09-01") == ("duplicate", "data.member_id")
    assert reason(teams.join, t, None, "m4", "2025-05-01") == ("invalid", "data.on")  # before the team
    assert reason(teams.leave, t, roster["m1"], "m1", "2025-09-01") == ("not_allowed", "data.member_id")  # the leader
    assert reason(teams.leave, t, None, "m4", "2025-09-01") == ("conflict", "data.member_id")  # never on it
    assert teams.appoint_leader(t, roster["m3"], "m3", "2025-09-01") == "m1"
    assert reason(teams.appoint_leader, t, None, "m4", "2025-09-02") == ("not_allowed", "data.member_id")
    # not before the current leader's day
    assert reason(teams.appoint_leader, t, roster["m2"], "m2", "2025-08-30") == ("invalid", "data.on")
    teams.leave(t, roster["m1"], "m1", "2025-10-01")
    assert reason(teams.leave, t, roster["m1"], "m1", "2025-10-02") == ("conflict", "data.member_id")
    assert roster["m1"].on("2025-09-30") and not roster["m1"].on("2025-10-01")
    assert teams.members_on(list(roster.values()), "2025-10-01") == ["m2", "m3"] and t.leader_on("2025-10-01") == "m3"
    # hours only for the roster of the day
    teams.check_hours(t, roster["m1"], "m1", "2025-09-30")
    assert reason(teams.check_hours, t, roster["m1"], "m1", "2025-10-01") == ("not_allowed", "data.team_id")
    assert reason(teams.check_hours, t, roster["m3"], "m3", "2025-07-31") == ("not_allowed", "data.team_id")
    assert reason(teams.check_hours, t, None, "m9", "2025-09-30") == ("not_allowed", "data.team_id")
    assert reason(teams.join, t, roster["m1"], "m1", "2025-09-15") == ("invalid", "data.on")  # rejoining runs forward
    teams.join(t, roster["m1"], "m1", "2025-11-01")  # back again, from a later day
    assert roster["m1"].on("2025-11-02") and [s["from"] for s in roster["m1"].spans] == ["2025-06-01", "2025-11-01"]


def test_a_member_named_twice_at_registration_is_on_the_roster_once():
    _, roster = team(member_ids=["m1", "m2", "m1"])
    assert sorted(roster) == ["m1", "m2"]


async def test_team_handlers_and_hours_for_a_team():
    uow = FakeUnitOfWork()
    reg = envelope("RegisterVolunteerTeam", {"team_id": "t1", "name": "爱心义剪", "community_id": "c1",
                                             "formed_on": "2025-06-01", "leader_id": "m1",
                                             "member_ids": ["m1", "m2"]})
    [ev] = await handle(HANDLERS, reg, uow)
    assert (ev["type"], ev["data"]["member_ids"], uow.outbox[-1].key) == ("VolunteerTeamRegistered", ["m1", "m2"],
                                                                          b"t1")
    [ev] = await handle(HANDLERS, envelope("JoinVolunteerTeam", {"team_id": "t1", "member_id": "m3",
                                                                 "on": "2025-07-01"}), uow)
    assert (ev["type"], ev["data"]["team_name"]) == ("VolunteerTeamMemberJoined", "爱心义剪")
    [ev] = await handle(HANDLERS, envelope("AppointTeamLeader", {"team_id": "t1", "member_id": "m3",
                                                                 "on": "2025-08-01"}), uow)
    assert (ev["type"], ev["data"]["previous_leader_id"]) == ("TeamLeaderAppointed", "m1")
    [ev] = await handle(HANDLERS, envelope("LeaveVolunteerTeam", {"team_id": "t1", "member_id": "m1",
                                                                  "on": "2025-09-01"}), uow)
    assert ev["type"] == "VolunteerTeamMemberLeft"
    roster = [membership_from_doc(d) for d in uow.pending(TEAM_MEMBERS).values()]
    assert teams.members_on(roster, "2025-09-01") == ["m2", "m3"]
    assert team_from_doc(uow.pending(TEAMS)["t1"]).leader_on("2025-09-01") == "m3"
    # hours for the team: its name on the event; the roster is checked; an unknown team waits
    hours = {"entry_id": "e1", "member_id": "m2", "team_id": "t1", "hours": "2.5", "on": "2025-09-15"}
    [ev] = await handle(HANDLERS, envelope("LogVolunteerHours", hours), uow)
    assert (ev["type"], ev["data"]["team"], ev["data"]["team_id"]) == ("VolunteerHoursLogged", "爱心义剪", "t1")
    assert uow.pending(VOLUNTEER_ENTRIES)["e1"]["team_id"] == "t1"
    assert await refusal(HANDLERS, envelope("LogVolunteerHours", hours | {"entry_id": "e2", "member_id": "m1"}),
                         uow) == ("not_allowed", ["data.team_id"])
    assert await refusal(HANDLERS, envelope("LogVolunteerHours", hours | {"entry_id": "e3", "team_id": "t9"}),
                         uow) == ("unknown_reference", ["data.team_id"])
    # the free-text label stays as the fallback
    [ev] = await handle(HANDLERS, envelope("LogVolunteerHours", {"entry_id": "e4", "member_id": "m5",
                                                                 "team": "治安巡逻", "hours": "3", "on": "2025-09-15"}), uow)
    assert (ev["data"]["team"], ev["data"]["team_id"]) == ("治安巡逻", None)
    assert await refusal(HANDLERS, envelope("RegisterVolunteerTeam", reg["data"]), uow) == (
        "duplicate", ["data.team_id"])


def test_hours_name_a_team_or_a_label():
    from shared.contracts.parsing import Invalid, parse
    import json

    raw = envelope("LogVolunteerHours", {"entry_id": "e1", "member_id": "m1", "hours": "2", "on": "2025-09-15"})
    out = parse(json.dumps(raw).encode())
    assert isinstance(out, Invalid) and out.errors[0]["field"] == "data"


async def test_a_join_reads_and_writes_the_joining_members_spans_and_not_the_whole_roster():
    """A team of thousands: each join, leave or hour logged touches one member's document."""
    uow = FakeUnitOfWork()
    many = [f"m{i}" for i in range(500)]
    await handle(HANDLERS, envelope("RegisterVolunteerTeam", {
        "team_id": "t1", "name": "治安巡逻", "community_id": "c1", "formed_on": "2025-06-01", "leader_id": "m0",
        "member_ids": many}), uow)
    assert len(uow.pending(TEAM_MEMBERS)) == 500 and "roster" not in uow.pending(TEAMS)["t1"]
    wants = HANDLERS["JoinVolunteerTeam"].wants
    from shared.contracts import teams as c
    join = c.JoinVolunteerTeam(team_id="t1", member_id="m900", on="2025-07-01")
    assert wants(join) == [(TEAMS, "t1"), (TEAM_MEMBERS, membership_id("t1", "m900"))]
    before = {k: dict(v) for k, v in uow.pending(TEAM_MEMBERS).items()}
    await handle(HANDLERS, envelope("JoinVolunteerTeam", join.model_dump(mode="json")), uow)
    after = uow.pending(TEAM_MEMBERS)
    assert {k for k in after if after[k] != before.get(k)} == {membership_id("t1", "m900")}
