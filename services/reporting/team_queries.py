"""Read side of volunteer service teams (issue 13): the teams serving the communities of an
organisation's subtree (for a branch: its community's), with their hours of a period by person
and month, and the hours logged with a free-text label only (the fallback, by label). A team's
members and its hours of the period are read by team (indexed), never all hours (teams.py)."""
from collections import Counter, defaultdict
from decimal import Decimal

from services.reporting import queries
from services.reporting.adapters import org_tree
from services.reporting.adapters.documents import MEMBERS
from services.reporting.domain import teams as dom
from services.reporting.domain.report import hours_text, reading_day
from services.reporting.domain.volunteer import NO_TEAM
from services.reporting.teams import HOURS, ROSTER, TEAMS, refuse_legacy
from shared.periods import Period


async def _communities(db, o: dict) -> list[str]:
    if o["kind"] == "branch":
        return [o["parent_id"]] if o.get("parent_id") else []
    return sorted(await org_tree.subtree_ids(db, [o["_id"]]))


async def volunteer_teams(db, org_id: str, period: Period, as_of) -> dict:
    o = await queries.org(db, org_id)
    day = reading_day(period, as_of.isoformat())
    start, end = period.start.isoformat(), min(period.end.isoformat(), day)
    docs = [refuse_legacy(d) for d in await db[TEAMS].find(
        {"community_id": {"$in": await _communities(db, o)}}).to_list(None) if d.get("name")]
    ids = [d["_id"] for d in docs]
    # Each team's members and its hours of the period, by the indexes on team_id and (team_id, on).
    roster: dict[str, list[dict]] = defaultdict(list)
    async for r in db[ROSTER].find({"team_id": {"$in": ids}}, {"team_id": 1, "member_id": 1, "spans": 1}):
        roster[r["team_id"]].append(r)
    hours: dict[str, list[dict]] = defaultdict(list)
    async for h in db[HOURS].find({"team_id": {"$in": ids}, "on": {"$gte": start, "$lte": end}},
                                  {"team_id": 1, "member_id": 1, "on": 1, "hundredths": 1}):
        hours[h["team_id"]].append(h)
    people = sorted({r["member_id"] for rs in roster.values() for r in rs}
                    | {h["member_id"] for hs in hours.values() for h in hs}
                    | {x["member_id"] for d in docs for x in d.get("leaders", [])})
    names = {x["_id"]: (x.get("facts") or {}).get("name")
             async for x in db[MEMBERS].find({"_id": {"$in": people}}, {"facts.name": 1})}
    community_names = {x["_id"]: x["name"] async for x in db["orgs"].find(
        {"_id": {"$in": sorted({d.get("community_id") for d in docs if d.get("community_id")})}}, {"name": 1})}
    teams = sorted((dom.view(d, roster[d["_id"]], hours[d["_id"]], period, day, names)
                    | {"community_name": community_names.get(d.get("community_id"))} for d in docs),
                   key=lambda t: (t["name"], t["team_id"]))
    total = sum((Decimal(t["hours"]) for t in teams), Decimal(0))
    # The fallback: hours of the subtree's members logged under a label, naming no registered team.
    return {"org_id": org_id, "period": period.text, "as_of": day, "teams": teams,
            "hours": hours_text(int(total * 100)), "by_label_only": await _label_only(db, o, period, day)}


async def _label_only(db, o: dict, period: Period, day: str) -> dict[str, str]:
    """Hours of the subtree's members logged with a label and no team_id, by label."""
    branches = await org_tree.branches_under(db, o)
    ids = {b["_id"] for b in branches}
    start, end = period.start.isoformat(), min(period.end.isoformat(), day)
    out: Counter[str] = Counter()
    if ids:
        async for f in queries.subtree_members(db, branches, only=(*queries.STINTS, "hours")):
            for h in f.hours.values():
                stint = f.stint_on(h["on"]) if start <= h["on"] <= end and not h.get("team_id") else None
                if stint is not None and stint.branch_id in ids:
                    out[h.get("team") or NO_TEAM] += h["hundredths"]
    return {k: hours_text(v) for k, v in sorted(out.items())}
