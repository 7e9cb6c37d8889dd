"""Volunteer service teams (志愿服务队, issue 13) as reporting sees them: the roster and leader on a
day, and the hours logged for the team by person and by month within a period, up to the reading
day (as the report counts hours: by the day they were logged, `on`).

A team's document (`volunteer_teams`): `name`, `community_id`, `formed_on`, `roster`
[{member_id, from, until}], `leaders` [{member_id, from}], `hours` {entry_id: {member_id, on,
hundredths}}. Hours may arrive before the team's registration (another key): they wait in it.
"""
from collections import Counter

from services.reporting.domain.report import hours_text
from shared.periods import Period


def new_doc(team_id: str) -> dict:
    return {"_id": team_id, "name": None, "community_id": None, "formed_on": None, "roster": [], "leaders": [],
            "hours": {}}


def registered(doc: dict, *, name: str, community_id: str, formed_on: str, leader_id: str,
               member_ids: list[str]) -> None:
    doc.update(name=name, community_id=community_id, formed_on=formed_on)
    for m in member_ids:
        joined(doc, m, formed_on)
    appointed(doc, leader_id, formed_on)


def joined(doc: dict, member_id: str, on: str) -> None:
    if not any(s["member_id"] == member_id and s["from"] == on for s in doc["roster"]):
        doc["roster"].append({"member_id": member_id, "from": on, "until": None})


def left(doc: dict, member_id: str, on: str) -> None:
    for s in doc["roster"]:
        if s["member_id"] == member_id and s["from"] < on and (s["until"] is None or s["until"] == on):
            s["until"] = on


def appointed(doc: dict, member_id: str, on: str) -> None:
    leaders = [x for x in doc["leaders"] if x["from"] != on] + [{"member_id": member_id, "from": on}]
    doc["leaders"] = sorted(leaders, key=lambda x: x["from"])


def roster_on(doc: dict, day: str) -> list[str]:
    return sorted({s["member_id"] for s in doc["roster"] if s["from"] <= day and (s["until"] is None or day < s["until"])})


def leader_on(doc: dict, day: str) -> str | None:
    held = [x for x in doc["leaders"] if x["from"] <= day]
    return held[-1]["member_id"] if held else None


def view(doc: dict, period: Period, day: str, names: dict[str, str | None]) -> dict:
    """The team on the reading day: leader, roster, and its hours of the period by person and month."""
    start, end = period.start.isoformat(), min(period.end.isoformat(), day)
    by_member: Counter[str] = Counter()
    by_month: Counter[str] = Counter()
    entries = 0
    for h in doc.get("hours", {}).values():
        if start <= h["on"] <= end:
            by_member[h["member_id"]] += h["hundredths"]
            by_month[h["on"][:7]] += h["hundredths"]
            entries += 1
    roster = roster_on(doc, day)
    leader = leader_on(doc, day)
    people = sorted(set(roster) | set(by_member), key=lambda m: (-by_member[m], m))
    return {"team_id": doc["_id"], "name": doc.get("name") or doc["_id"], "community_id": doc.get("community_id"),
            "formed_on": doc.get("formed_on"),
            "leader": {"member_id": leader, "name": names.get(leader)} if leader else None,
            "roster_size": len(roster), "hours": hours_text(sum(by_member.values())), "entries": entries,
            "by_member": [{"member_id": m, "name": names.get(m), "hours": hours_text(by_member[m]),
                           "on_roster": m in roster, "leader": m == leader} for m in people],
            "by_month": {mo: hours_text(n) for mo, n in sorted(by_month.items())}}
