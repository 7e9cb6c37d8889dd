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


def month_commands(y, mo: int) -> list:
    from simulator.commands import at

    out = []
    for b in y.w.branches:
        members = [y.w.member(mid) for mid in b.member_ids]
        for k, (month, dd, activity, n) in enumerate(MEMBER_ASKS):
            if month != mo:
                continue
            day = date(y.y, mo, dd)
            who = [m for m in members if m.registered(day) and not m.away_on(day)]
            for j, m in enumerate(who[(k * 3) % max(len(who), 1):][:n]):
                did = y.w.ids.of("fd", f"{b.org_id}/{k}/{j}")
                out.append(y.cmd("RecordFacilityDemand", did, {
                    "demand_id": did, "community_id": b.community_id, "activity": activity, "on": day.isoformat(),
                    "member_id": m.member_id, "source": "member"}, at(day, 15), "community-registry"))
        if mo == SURVEY[0]:
            day = date(y.y, *SURVEY)
            count = max(1, sum(1 for mid in b.member_ids if y.w.member(mid).registered(day)) // 4)
            did = y.w.ids.of("fd", f"{b.org_id}/survey")
            out.append(y.cmd("RecordFacilityDemand", did, {
                "demand_id": did, "community_id": b.community_id, "activity": "swimming", "on": day.isoformat(),
                "count": count, "source": "survey", "note": "主题党日问卷：希望就近开展游泳活动"},
                at(day, 16), "community-registry"))
    return out
