"""Reporting's service layer for volunteer service teams (issue 13): the team events and the hours
logged for a team, one document per thing that grows (domain/teams.py): the team, each member's
time on it, each hours entry. An event reads and writes only the documents it is about (a join:
that member's roster document), never a document holding the whole team. No alert is raised.

`build_handlers` is part of reporting's one table (`handlers.build_handlers`); `hours_logged` is
called by its `VolunteerHoursLogged` handler, which also counts the hours in the member's figures
and prefetches `hours_wants`.
"""
from decimal import Decimal

from services.reporting.domain import teams as dom
from shared.contracts import activities as a
from shared.contracts import teams as c
from shared.messaging.pipeline import Context, Handler

TEAMS = "volunteer_teams"
ROSTER = "volunteer_team_roster"  # one document per (team, member): dom.roster_id
HOURS = "volunteer_team_hours"  # one document per hours entry logged for a team


def refuse_legacy(doc: dict | None) -> dict | None:
    if dom.is_legacy(doc):
        raise ValueError(f"volunteer team {doc['_id']} is stored in an earlier format (roster and hours in the "
                         "team's document): rebuild the projections into a new version (services/reporting/rebuild.py)")
    return doc


async def _team(ctx: Context, team_id: str) -> dict:
    return refuse_legacy(await ctx.get(TEAMS, team_id)) or dom.new_doc(team_id)


async def _change_roster(ctx: Context, team_id: str, member_id: str, change) -> None:
    doc = await ctx.get(ROSTER, dom.roster_id(team_id, member_id)) or dom.new_roster(team_id, member_id)
    change(doc)
    ctx.put(ROSTER, doc)


def hours_wants(e: a.VolunteerHoursLogged) -> list:
    return [(HOURS, e.entry_id)] if e.team_id else []


async def hours_logged(e: a.VolunteerHoursLogged, ctx: Context) -> None:
    if not e.team_id:
        return  # a free-text label only: counted by label (GET …/volunteer-hours), in no team
    doc = dom.hours_entry(e.team_id, e.entry_id, e.member_id, e.on.isoformat(), int(Decimal(e.hours) * 100))
    before = await ctx.read(HOURS, e.entry_id)
    if before is None or {k: before.get(k) for k in doc} != doc:
        ctx.put(HOURS, doc)


def build_handlers() -> dict[str, Handler]:
    async def registered(e: c.VolunteerTeamRegistered, ctx: Context) -> None:
        doc = await _team(ctx, e.team_id)
        formed_on = e.formed_on.isoformat()
        dom.registered(doc, name=e.name, community_id=e.community_id, formed_on=formed_on, leader_id=e.leader_id)
        ctx.put(TEAMS, doc)
        for m in e.member_ids:
            await _change_roster(ctx, e.team_id, m, lambda r: dom.joined(r, formed_on))

    async def joined(e: c.VolunteerTeamMemberJoined, ctx: Context) -> None:
        await _change_roster(ctx, e.team_id, e.member_id, lambda r: dom.joined(r, e.on.isoformat()))

    async def left(e: c.VolunteerTeamMemberLeft, ctx: Context) -> None:
        await _change_roster(ctx, e.team_id, e.member_id, lambda r: dom.left(r, e.on.isoformat()))

    async def leader(e: c.TeamLeaderAppointed, ctx: Context) -> None:
        doc = await _team(ctx, e.team_id)
        dom.appointed(doc, e.member_id, e.on.isoformat())
        ctx.put(TEAMS, doc)

    def team(e) -> list:
        return [(TEAMS, e.team_id)]

    def member(e) -> list:
        return [(ROSTER, dom.roster_id(e.team_id, e.member_id))]

    return {
        "VolunteerTeamRegistered": Handler(registered, lambda e: team(e) + [
            (ROSTER, dom.roster_id(e.team_id, m)) for m in e.member_ids]),
        "VolunteerTeamMemberJoined": Handler(joined, member),
        "VolunteerTeamMemberLeft": Handler(left, member),
        "TeamLeaderAppointed": Handler(leader, team),
    }
