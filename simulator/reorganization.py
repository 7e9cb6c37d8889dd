"""化并转 in the simulated district (issue 13): **北岸明珠**'s branch, too small to stand alone (2 members),
is transferred (转) on 1 September to the community of **宜和园**, whose party organisation takes it in;
its members and history go with it, so every report of the year (January's too) counts it under
宜和园社区 and its subdistrict, and none under 北岸明珠社区 and 临湖镇 any more.
"""
from datetime import date

from simulator.world import Branch, World

MOVED, INTO, ON = "北岸明珠", "宜和园", (9, 1)


def _target(world: World, b: Branch) -> Branch | None:
    if b.short != MOVED:
        return None
    return next((x for x in world.branches if x.short == INTO), None)


def placement(world: World, b: Branch) -> tuple[str, str]:
    """The branch's community and subdistrict at the year's end (reports follow the tree as it stands)."""
    t = _target(world, b)
    return (t.community_id, t.subdistrict_id) if t else (b.community_id, b.subdistrict_id)


def month_commands(y, mo: int) -> list:
    from simulator.commands import at

    if mo != ON[0]:
        return []
    out = []
    for b in y.w.branches:
        t = _target(y.w, b)
        if t is not None:
            on = date(y.y, *ON)
            out.append(y.cmd("MoveBranch", f"{b.org_id}/{on}", {"branch_id": b.org_id, "to_community_id": t.community_id,
                                                               "on": on.isoformat()}, at(on, 9), "district-org-department"))
    return out
