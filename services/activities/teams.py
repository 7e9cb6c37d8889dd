"""The activities service layer for volunteer service teams (issue 13): register a team, its roster
and its leader. Hours logged for a team are checked in `handlers.log_volunteer_hours`.

The handlers are part of the one table, `handlers.HANDLERS`.
"""
from services.activities.adapters.documents import TEAM, TEAM_MEMBER, TEAM_MEMBERS, TEAMS, membership_id
from services.activities.domain import teams
from services.activities.domain.teams import Membership, Team
from shared.contracts import teams as c
from shared.errors import unknown_reference
from shared.messaging.pipeline import Context, Handler


async def known_team(ctx: Context, team_id: str, field_name: str = "data.team_id") -> Team:
    t = await ctx.repo(TEAM).get(team_id)
    if t is None:
        raise unknown_reference(f"volunteer team {team_id} is not registered", field_name)
    return t


async def membership(ctx: Context, team_id: str, member_id: str) -> Membership | None:
    return await ctx.repo(TEAM_MEMBER).get(membership_id(team_id, member_id))


async def register_team(cmd: c.RegisterVolunteerTeam, ctx: Context) -> None:
    t, roster = teams.register(await ctx.repo(TEAM).get(cmd.team_id), team_id=cmd.team_id, name=cmd.name,
                               community_id=cmd.community_id, formed_on=cmd.formed_on.isoformat(),
                               leader_id=cmd.leader_id, member_ids=cmd.member_ids)
    ctx.repo(TEAM).add(t)
    for m in roster:
        ctx.repo(TEAM_MEMBER).add(m)
    ctx.emit(c.VolunteerTeamRegistered(team_id=t.team_id, name=t.name, community_id=t.community_id,
                                       formed_on=cmd.formed_on, leader_id=cmd.leader_id, member_ids=cmd.member_ids))


async def join_team(cmd: c.JoinVolunteerTeam, ctx: Context) -> None:
    t = await known_team(ctx, cmd.team_id)
    ctx.repo(TEAM_MEMBER).add(teams.join(t, await membership(ctx, cmd.team_id, cmd.member_id), cmd.member_id,
                                         cmd.on.isoformat()))
    ctx.emit(c.VolunteerTeamMemberJoined(team_id=t.team_id, member_id=cmd.member_id, on=cmd.on, team_name=t.name))


async def leave_team(cmd: c.LeaveVolunteerTeam, ctx: Context) -> None:
    t = await known_team(ctx, cmd.team_id)
    ctx.repo(TEAM_MEMBER).add(teams.leave(t, await membership(ctx, cmd.team_id, cmd.member_id), cmd.member_id,
                                          cmd.on.isoformat()))
    ctx.emit(c.VolunteerTeamMemberLeft(team_id=t.team_id, member_id=cmd.member_id, on=cmd.on, team_name=t.name))


async def appoint_leader(cmd: c.AppointTeamLeader, ctx: Context) -> None:
    t = await known_team(ctx, cmd.team_id)
    previous = teams.appoint_leader(t, await membership(ctx, cmd.team_id, cmd.member_id), cmd.member_id,
                                    cmd.on.isoformat())
    ctx.repo(TEAM).add(t)
    ctx.emit(c.TeamLeaderAppointed(team_id=t.team_id, member_id=cmd.member_id, on=cmd.on,
                                   previous_leader_id=previous))


def wants(team_id: str, member_id: str) -> list:
    """What a message about a member of a team reads: the team, and the member's spans on it."""
    return [(TEAMS, team_id), (TEAM_MEMBERS, membership_id(team_id, member_id))]


HANDLERS: dict[str, Handler] = {
    "RegisterVolunteerTeam": Handler(register_team, lambda m: [(TEAMS, m.team_id)]),
    "JoinVolunteerTeam": Handler(join_team, lambda m: wants(m.team_id, m.member_id)),
    "LeaveVolunteerTeam": Handler(leave_team, lambda m: wants(m.team_id, m.member_id)),
    "AppointTeamLeader": Handler(appoint_leader, lambda m: wants(m.team_id, m.member_id)),
}
