"""Volunteer service teams (志愿服务队: 义务血压站, 爱心义剪, 治安巡逻…): a roster over time, a
leader over time, and the community the team serves.

The roster is kept as spans (`from`, `until`: the day a member left, exclusive), one `Membership`
per member and team, so the hours of a day are checked against who was on the team that day.
Members this service has not heard of are accepted, as for hours and visits: a registration
travels on another topic.
"""
from dataclasses import dataclass, field

from shared.errors import conflict, duplicate, invalid, not_allowed


@dataclass
class Team:
    team_id: str
    name: str
    community_id: str
    formed_on: str
    leaders: list[dict] = field(default_factory=list)  # {member_id, from}, in date order

    def leader_on(self, day: str) -> str | None:
        held = [x for x in self.leaders if x["from"] <= day]
        return held[-1]["member_id"] if held else None


@dataclass
class Membership:
    """One member's spans on one team, kept apart from the team: a join, a leave or an hour logged
    touches this member's spans only, however large the team (a team of thousands of volunteers
    would otherwise be read and written whole at each of them)."""
    team_id: str
    member_id: str
    spans: list[dict] = field(default_factory=list)  # {from, until (exclusive) or None}, in date order

    def on(self, day: str) -> bool:
        return any(s["from"] <= day and (s["until"] is None or day < s["until"]) for s in self.spans)

    def current(self) -> dict | None:
        return next((s for s in self.spans if s["until"] is None), None)


def members_on(memberships: list[Membership], day: str) -> list[str]:
    return sorted({m.member_id for m in memberships if m.on(day)})


def register(existing: Team | None, *, team_id: str, name: str, community_id: str, formed_on: str, leader_id: str,
             member_ids: list[str]) -> tuple[Team, list[Membership]]:
    if existing is not None:
        raise duplicate(f"volunteer team {team_id} is already registered", "data.team_id")
    if leader_id not in member_ids:
        raise invalid(f"the leader {leader_id} must be on the team's roster (member_ids)", "data.leader_id")
    return (Team(team_id, name.strip(), community_id, formed_on, leaders=[{"member_id": leader_id, "from": formed_on}]),
            [Membership(team_id, m, [{"from": formed_on, "until": None}]) for m in dict.fromkeys(member_ids)])


def join(team: Team, membership: Membership | None, member_id: str, on: str) -> Membership:
    """The member's spans with one more from `on` (`membership`: their spans so far, if any)."""
    if on < team.formed_on:
        raise invalid(f"the team was formed on {team.formed_on}, after {on}", "data.on")
    m = membership or Membership(team.team_id, member_id)
    if m.current() is not None:
        raise duplicate(f"member {member_id} is already on team {team.team_id}", "data.member_id")
    if any(s["until"] > on for s in m.spans):
        raise invalid(f"member {member_id} left the team after {on}: rejoining dates run forward", "data.on")
    m.spans.append({"from": on, "until": None})
    return m


def leave(team: Team, membership: Membership | None, member_id: str, on: str) -> Membership:
    span = membership.current() if membership else None
    if span is None:
        raise conflict(f"member {member_id} is not on team {team.team_id}", "data.member_id")
    if on <= span["from"]:
        raise invalid(f"member {member_id} joined the team on {span['from']}: leaving must come later", "data.on")
    if team.leader_on(on) == member_id:
        raise not_allowed(f"member {member_id} leads the team: appoint another leader first", "data.member_id")
    span["until"] = on
    return membership


def appoint_leader(team: Team, membership: Membership | None, member_id: str, on: str) -> str | None:
    """The previous leader, who stays on the roster."""
    if team.leaders and on < team.leaders[-1]["from"]:
        raise invalid(f"the current leader leads from {team.leaders[-1]['from']}, after {on}", "data.on")
    if membership is None or not membership.on(on):
        raise not_allowed(f"member {member_id} is not on team {team.team_id} on {on}", "data.member_id")
    previous = team.leader_on(on)
    if previous == member_id:
        raise duplicate(f"member {member_id} already leads team {team.team_id}", "data.member_id")
    team.leaders = [x for x in team.leaders if x["from"] != on] + [{"member_id": member_id, "from": on}]
    return previous


def check_hours(team: Team, membership: Membership | None, member_id: str, on: str) -> None:
    """Hours are logged for a team only by a member on its roster that day."""
    if membership is None or not membership.on(on):
        raise not_allowed(f"member {member_id} is not on the roster of team {team.team_id} ({team.name}) on {on}",
                          "data.team_id")
