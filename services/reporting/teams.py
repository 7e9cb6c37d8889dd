"""Reporting's service layer for volunteer service teams (issue 13): the team events and the hours
logged for a team, kept in one document per team (domain/teams.py). No alert is raised on them.

`build_handlers` is part of reporting's one table (`handlers.build_handlers`); `hours_logged` is
called by its `VolunteerHoursLogged` handler, which also counts the hours in the member's figures.
"""
from decimal import Decimal

from services.reporting.domain import teams as dom
from shared.contracts import activities as a
from shared.contracts import teams as c
from shared.messaging.pipeline import Context, Handler

TEAMS = "volunteer_teams"


async def _doc(ctx: Context, team_id: str) -> dict:
    return await ctx.get(TEAMS, team_id) or dom.new_doc(team_id)


async def hours_logged(e: a.VolunteerHoursLogged, ctx: Context) -> None:
    if not e.team_id:
        return  # a free-text label only: counted by label (GET …/volunteer-hours), in no team
    doc = await _doc(ctx, e.team_id)
    doc["hours"][e.entry_id] = {"member_id": e.member_id, "on": e.on.isoformat(),
                                "hundredths": int(Decimal(e.hours) * 100)}
    ctx.put(TEAMS, doc)


def build_handlers() -> dict[str, Handler]:
    async def registered(e: c.VolunteerTeamRegistered, ctx: Context) -> None:
        doc = await _doc(ctx, e.team_id)
        dom.registered(doc, name=e.name, community_id=e.community_id, formed_on=e.formed_on.isoformat(),
                       leader_id=e.leader_id, member_ids=e.member_ids)
        ctx.put(TEAMS, doc)

    async def joined(e: c.VolunteerTeamMemberJoined, ctx: Context) -> None:
        doc = await _doc(ctx, e.team_id)
        dom.joined(doc, e.member_id, e.on.isoformat())
        ctx.put(TEAMS, doc)

    async def left(e: c.VolunteerTeamMemberLeft, ctx: Context) -> None:
        doc = await _doc(ctx, e.team_id)
        dom.left(doc, e.member_id, e.on.isoformat())
        ctx.put(TEAMS, doc)

    async def leader(e: c.TeamLeaderAppointed, ctx: Context) -> None:
        doc = await _doc(ctx, e.team_id)
        dom.appointed(doc, e.member_id, e.on.isoformat())
        ctx.put(TEAMS, doc)

    def team(e) -> list:
        return [(TEAMS, e.team_id)]

    return {
        "VolunteerTeamRegistered": Handler(registered, team),
        "VolunteerTeamMemberJoined": Handler(joined, team),
        "VolunteerTeamMemberLeft": Handler(left, team),
        "TeamLeaderAppointed": Handler(leader, team),
    }
