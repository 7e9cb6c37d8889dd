"""Volunteer service teams (志愿服务队, issue 13) in the simulated district.

Each of the district's teams (义务血压站, 爱心义剪, 治安巡逻) is registered the year before, serving the
community where most of its volunteers live; its leader is the longest-registered of them. A
volunteer registered after the team was formed joins it on the day of registration. Every hour a
volunteer logs names the team (`team_id`): the free-text label is not sent.
"""
from collections import Counter
from datetime import date

from simulator.world import World

FORMED = (5, 8)  # the teams were formed on 8 May of the year before


def team_id(world: World, team: str) -> str:
    return world.ids.of("vt", team)


def plan(world: World) -> dict[str, dict]:
    """For each team: its community, formation day, first roster, leader and later joins."""
    formed = date(world.year - 1, *FORMED)
    out = {}
    for team in sorted({m.team for m in world.members if m.team}):
        volunteers = sorted((m for m in world.members if m.team == team), key=lambda m: (m.registered_on, m.index))
        where = Counter(world.branch(m.branch_id).community_id for m in volunteers)
        community = min(where, key=lambda c: (-where[c], c))
        day = min(formed, volunteers[0].registered_on)
        first = [m.member_id for m in volunteers if m.registered_on <= day]
        joins = [(m.registered_on, m.member_id) for m in volunteers if m.registered_on > day]
        out[team] = {"team_id": team_id(world, team), "name": team, "community_id": community, "formed_on": day,
                     "leader_id": first[0], "member_ids": first, "joins": joins}
    return out


def commands(y) -> list:
    """The teams' registration and every later join (before or during the year), for the ledger phase:
    activities checks the roster on the day hours are logged, not who the members are."""
    from simulator.commands import at

    out = []
    for t in plan(y.w).values():
        out.append(y.cmd("RegisterVolunteerTeam", t["team_id"], {
            "team_id": t["team_id"], "name": t["name"], "community_id": t["community_id"],
            "formed_on": t["formed_on"].isoformat(), "leader_id": t["leader_id"], "member_ids": t["member_ids"]},
            at(t["formed_on"], 9), "community-registry"))
        for on, member_id in t["joins"]:
            out.append(y.cmd("JoinVolunteerTeam", f"{t['team_id']}/{member_id}", {
                "team_id": t["team_id"], "member_id": member_id, "on": on.isoformat()}, at(on, 12),
                "community-registry"))
    return out


def summary(world: World) -> dict:
    """Each team: the community it serves, its leader and the roster at the year's end."""
    names = {c.org_id: c.name for c in world.communities}
    return {t["name"]: {"community": names[t["community_id"]], "leader": world.member(t["leader_id"]).name,
                        "roster_at_year_end": len(t["member_ids"]) + len(t["joins"])}
            for t in plan(world).values()}
