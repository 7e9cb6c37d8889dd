"""Volunteer service teams (志愿服务队, issue 13) as reporting sees them: the roster and leader on a
day, and the hours logged for the team by person and by month within a period, up to the reading
day (as the report counts hours: by the day they were logged, `on`).

One document per thing that grows (a team of thousands logs tens of thousands of entries a year):
- the team (`volunteer_teams`): `name`, `community_id`, `formed_on`, `leaders` [{member_id, from}];
- a member's time on a team (`volunteer_team_roster`, `_id` `<team>.<member>`: ids never contain
  `.`): `team_id`, `member_id`, `spans` [{from, until}] and `leaves` (the days the member left);
- an hours entry (`volunteer_team_hours`, `_id` the entry id): `team_id`, `member_id`, `on`,
  `hundredths`.
Each event changes one of them (a registration: the team and its first members' documents), so
they may arrive in any order: hours before the team's registration wait in their own documents.
A span runs from a day the member joined to the first day they left after it, whichever of the
two events came first.
"""
from collections import Counter
from collections.abc import Iterable

from services.reporting.domain.report import hours_text
from shared.periods import Period


def new_doc(team_id: str) -> dict:
    return {"_id": team_id, "name": None, "community_id": None, "formed_on": None, "leaders": []}


def is_legacy(doc: dict | None) -> bool:
    """A team document of the earlier shape, holding every span and hours entry itself."""
    return doc is not None and ("roster" in doc or "hours" in doc)


def registered(doc: dict, *, name: str, community_id: str, formed_on: str, leader_id: str) -> None:
    """The team's own facts; its first members join on `formed_on` in their own documents (`joined`)."""
    doc.update(name=name, community_id=community_id, formed_on=formed_on)
    appointed(doc, leader_id, formed_on)


def appointed(doc: dict, member_id: str, on: str) -> None:
    leaders = [x for x in doc["leaders"] if x["from"] != on] + [{"member_id": member_id, "from": on}]
    doc["leaders"] = sorted(leaders, key=lambda x: x["from"])


# ---- a member's time on a team -----------------------------------------------------------------
def roster_id(team_id: str, member_id: str) -> str:
    """The `_id` of a member's document on a team: ids contain no `.` (shared/contracts/types.py)."""
    return f"{team_id}.{member_id}"


def new_roster(team_id: str, member_id: str) -> dict:
    return {"_id": roster_id(team_id, member_id), "team_id": team_id, "member_id": member_id,
            "spans": [], "leaves": []}


def _until(leaves: list[str], day: str) -> str | None:
    return min((x for x in leaves if x > day), default=None)


def joined(doc: dict, on: str) -> None:
    """A span from `on` (once per day), ended by the first leaving after it, known or to come."""
    if not any(s["from"] == on for s in doc["spans"]):
        doc["spans"] = sorted(doc["spans"] + [{"from": on, "until": _until(doc["leaves"], on)}],
                              key=lambda s: s["from"])


def left(doc: dict, on: str) -> None:
    """Ends on `on` every span begun before it and not ended earlier."""
    if on not in doc["leaves"]:
        doc["leaves"] = sorted(doc["leaves"] + [on])
    for s in doc["spans"]:
        s["until"] = _until(doc["leaves"], s["from"])


def on_roster(doc: dict, day: str) -> bool:
    return any(s["from"] <= day and (s["until"] is None or day < s["until"]) for s in doc["spans"])


def roster_on(members: Iterable[dict], day: str) -> list[str]:
    return sorted({m["member_id"] for m in members if on_roster(m, day)})


def leader_on(doc: dict, day: str) -> str | None:
    held = [x for x in doc["leaders"] if x["from"] <= day]
    return held[-1]["member_id"] if held else None


def view(doc: dict, members: Iterable[dict], hours: Iterable[dict], period: Period, day: str,
         names: dict[str, str | None]) -> dict:
    """The team on the reading day: leader, roster (its members' documents), and the hours of the
    period by person and month (its hours entries; others of the team are left out)."""
    start, end = period.start.isoformat(), min(period.end.isoformat(), day)
    by_member: Counter[str] = Counter()
    by_month: Counter[str] = Counter()
    entries = 0
    for h in hours:
        if start <= h["on"] <= end:
            by_member[h["member_id"]] += h["hundredths"]
            by_month[h["on"][:7]] += h["hundredths"]
            entries += 1
    roster = roster_on(members, day)
    leader = leader_on(doc, day)
    people = sorted(set(roster) | set(by_member), key=lambda m: (-by_member[m], m))
    return {"team_id": doc["_id"], "name": doc.get("name") or doc["_id"], "community_id": doc.get("community_id"),
            "formed_on": doc.get("formed_on"),
            "leader": {"member_id": leader, "name": names.get(leader)} if leader else None,
            "roster_size": len(roster), "hours": hours_text(sum(by_member.values())), "entries": entries,
            "by_member": [{"member_id": m, "name": names.get(m), "hours": hours_text(by_member[m]),
                           "on_roster": m in roster, "leader": m == leader} for m in people],
            "by_month": {mo: hours_text(n) for mo, n in sorted(by_month.items())}}


def hours_entry(team_id: str, entry_id: str, member_id: str, on: str, hundredths: int) -> dict:
    return {"_id": entry_id, "team_id": team_id, "member_id": member_id, "on": on, "hundredths": hundredths}
