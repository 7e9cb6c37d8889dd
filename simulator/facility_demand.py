"""阵地需求 in the simulated district (issue 13, item 8): members ask for activities no venue of their
community offers — table tennis, badminton, swimming (乒乓球、羽毛球、游泳) above all.

- Every community's venue has a projector, a newspaper rack and a blood-pressure meter (阅览 is
  offered everywhere); the venues of every other branch (the first, the third…) also have a
  乒乓球台, so table tennis is a gap in only some communities.
- In March, May and August a few members of each branch ask for table tennis or badminton
  (`RecordFacilityDemand` naming the member); in June each community's survey at the 主题党日
  counts the members who would swim (a count, no member named); in October one member asks for
  dancing, which no venue offers either.
The gaps are read at `GET /api/v1/orgs/{id}/facility-gaps` and on the dashboard (阵地需求).
"""
from datetime import date

from simulator.world import Branch, World

# (month, day, activity, how many members of the branch ask)
MEMBER_ASKS = [(3, 14, "table_tennis", 2), (5, 9, "badminton", 3), (8, 20, "table_tennis", 1),
               (8, 21, "badminton", 1), (10, 16, "dance", 1)]
SURVEY = (6, 28)
TABLE_TENNIS = "乒乓球台"


def venue_facilities(world: World, b: Branch) -> list[str]:
    """A branch's venue (its community's 党员活动室)."""
    extra = [TABLE_TENNIS] if world.branches.index(b) % 2 == 0 else []
    return ["投影仪", "报刊架", "血压计", *extra]


def plan(world: World, year: int) -> list[tuple[date, dict]]:
    """Every demand of the year: (day, RecordFacilityDemand's data), in date order per branch."""
    out = []
    for b in world.branches:
        members = [world.member(mid) for mid in b.member_ids]
        for k, (month, dd, activity, n) in enumerate(MEMBER_ASKS):
            day = date(year, month, dd)
            who = [m for m in members if m.registered(day) and not m.away_on(day)]
            for j, m in enumerate(who[(k * 3) % max(len(who), 1):][:n]):
                did = world.ids.of("fd", f"{b.org_id}/{k}/{j}")
                out.append((day, {"demand_id": did, "community_id": b.community_id, "activity": activity,
                                  "on": day.isoformat(), "member_id": m.member_id, "source": "member"}))
        day = date(year, *SURVEY)
        count = max(1, sum(1 for m in members if m.registered(day)) // 4)
        did = world.ids.of("fd", f"{b.org_id}/survey")
        out.append((day, {"demand_id": did, "community_id": b.community_id, "activity": "swimming",
                          "on": day.isoformat(), "count": count, "source": "survey",
                          "note": "主题党日问卷：希望就近开展游泳活动"}))
    return out


def month_commands(y, mo: int) -> list:
    from simulator.commands import at

    return [y.cmd("RecordFacilityDemand", d["demand_id"], d, at(day, 15 if d["source"] == "member" else 16),
                  "community-registry") for day, d in plan(y.w, y.y) if day.month == mo]


def summary(world: World) -> dict:
    """What `GET /api/v1/orgs/<district>/facility-gaps?as_of=<year>-12-31` should show: the people asking
    for each activity no venue of their community offers (`gap_totals`), and the communities with gaps."""
    from collections import defaultdict

    from shared.rules.facilities import offered

    offers = defaultdict(set)
    for b in world.branches:
        offers[b.community_id] |= offered(venue_facilities(world, b))
    named, counted = defaultdict(set), defaultdict(int)
    for _day, d in plan(world, world.year):
        key = (d["community_id"], d["activity"])
        if d.get("member_id"):
            named[key].add(d["member_id"])
        else:
            counted[key] += d["count"]
    totals, gaps = defaultdict(int), set()
    for key in {*named, *counted}:
        if key[1] not in offers[key[0]]:
            totals[key[1]] += len(named[key]) + counted[key]
            gaps.add(key[0])
    return {"gap_totals": dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))),
            "communities_with_gaps": len(gaps)}
