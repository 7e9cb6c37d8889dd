"""阵地需求 (issue 13, item 8) as reporting sees it: what members of a community ask for, set against
what the community's venues offer (their facilities, shared/rules/facilities.py), and the gaps:
activities asked for that no venue of the community offers.

People are counted once per member however often they asked, plus the counts gathered without
names (a survey, a meeting). Demand recorded after the reading day is not counted.

A demand document (`facility_demands`): `community_id`, `activity`, `on`, `member_id`, `count`,
`source`. A venue document (`venues`): `name`, `org_id` (its community), `capacity`, `facilities`.
"""
from collections import defaultdict

from shared.rules.facilities import FACILITY_ACTIVITIES, offered


def people(demands: list[dict]) -> int:
    """Distinct named members, plus the counts gathered without names."""
    named = {d["member_id"] for d in demands if d.get("member_id")}
    return len(named) + sum(int(d.get("count") or 1) for d in demands if not d.get("member_id"))


def community_view(community_id: str, demands: list[dict], venues: list[dict], day: str) -> dict:
    """One community: each activity asked for (the most people first), the venues offering it, the gaps."""
    by_venue = {v["_id"]: offered(v.get("facilities") or []) for v in venues}
    offers = defaultdict(list)
    for v in sorted(venues, key=lambda v: (v.get("name") or "", v["_id"])):
        for a in by_venue[v["_id"]]:
            offers[a].append({"venue_id": v["_id"], "name": v.get("name")})
    asked = defaultdict(list)
    for d in demands:
        if d.get("on", "") <= day:
            asked[d["activity"]].append(d)
    rows = [{"activity": a, "label": FACILITY_ACTIVITIES.get(a, a), "people": people(ds), "requests": len(ds),
             "last_asked_on": max(d["on"] for d in ds), "offered_by": offers.get(a, []), "gap": not offers.get(a)}
            for a, ds in asked.items()]
    rows.sort(key=lambda r: (not r["gap"], -r["people"], r["activity"]))
    return {"community_id": community_id, "demand": rows,
            "gaps": [r["activity"] for r in rows if r["gap"]],
            "offered": sorted(offers), "venues": len(venues)}


def gaps(communities: dict[str, str | None], demands: list[dict], venues: list[dict], day: str) -> dict:
    """Every community (id → name) with demand or a venue; the totals of the gaps by activity."""
    ds, vs = defaultdict(list), defaultdict(list)
    for d in demands:
        ds[d["community_id"]].append(d)
    for v in venues:
        vs[v["org_id"]].append(v)
    rows = [community_view(c, ds[c], vs[c], day) | {"community_name": communities[c]}
            for c in sorted(communities, key=lambda c: (communities[c] or "", c)) if ds[c] or vs[c]]
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        for x in r["demand"]:
            if x["gap"]:
                totals[x["activity"]] += x["people"]
    return {"communities": rows,
            "gap_totals": dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))),
            "communities_with_gaps": sum(1 for r in rows if r["gaps"])}
