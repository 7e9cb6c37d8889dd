"""Volunteer service teams (issue 13): the roster and leader rules in the pure domain, and the
handlers against the in-memory unit of work, hours logged for a team included."""
import pytest

from services.activities.adapters.documents import TEAMS, VOLUNTEER_ENTRIES, team_from_doc
from services.activities.domain import teams
from services.activities.handlers import HANDLERS
from shared.errors import Rejected
from tests.support.fake_uow import FakeUnitOfWork, handle, refusal
from tests.support.messages import envelope

pytestmark = pytest.mark.unit


def team(**over) -> teams.Team:
    return teams.register(None, **({"team_id": "t1", "name": "义务血压站", "community_id": "c1",
                                    "formed_on": "2025-06-01", "leader_id": "m1", "member_ids": ["m1", "m2"]}
                                   | over))


def reason(fn, *args, **kw) -> tuple[str, str]:
    with pytest.raises(Rejected) as r:
        fn(*args, **kw)
    return r.value.reason, r.value.errors[0]["field"]


def test_a_team_has_a_roster_over_time_and_a_leader_on_it():
    t = team()
    assert (t.leader_on("2025-06-01"), t.members_on("2025-06-01")) == ("m1", ["m1", "m2"])
    assert reason(team, leader_id="m9") == ("invalid", "data.leader_id")
    assert reason(teams.register, t, team_id="t1", name="x", community_id="c1", formed_on="2025-06-01",
                  leader_id="m1", member_ids=["m1"]) == ("duplicate", "data.team_id")
    teams.join(t, "m3", "2025-08-01")
    assert reason(teams.join, t, "m3", "2025-09-01") == ("duplicate", "data.member_id")
    assert reason(teams.join, t, "m4", "2025-05-01") == ("invalid", "data.on")  # before the team
    assert reason(teams.leave, t, "m1", "2025-09-01") == ("not_allowed", "data.member_id")  # the leader
    assert teams.appoint_leader(t, "m3", "2025-09-01") == "m1"
    assert reason(teams.appoint_leader, t, "m4", "2025-09-02") == ("not_allowed", "data.member_id")
    assert reason(teams.appoint_leader, t, "m2", "2025-08-30") == ("invalid", "data.on")  # before the current
    teams.leave(t, "m1", "2025-10-01")
    assert reason(teams.leave, t, "m1", "2025-10-02") == ("conflict", "data.member_id")
    assert t.on_roster("m1", "2025-09-30") and not t.on_roster("m1", "2025-10-01")
    assert t.members_on("2025-10-01") == ["m2", "m3"] and t.leader_on("2025-10-01") == "m3"
    # hours only for the roster of the day
    teams.check_hours(t, "m1", "2025-09-30")
    assert reason(teams.check_hours, t, "m1", "2025-10-01") == ("not_allowed", "data.team_id")
    assert reason(teams.check_hours, t, "m3", "2025-07-31") == ("not_allowed", "data.team_id")
    teams.join(t, "m1", "2025-11-01")  # back again, from a later day
    assert t.on_roster("m1", "2025-11-02")


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
    assert team_from_doc(uow.pending(TEAMS)["t1"]).members_on("2025-09-01") == ["m2", "m3"]
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
