"""Helpers of the activities integration tests: commands sent as a district system would."""
from tests.support.messages import caused_by, envelope
from tests.support.scenario import uid

COMMANDS, EVENTS = "activities.commands", "activities.events"


async def answer(bus, *cmds: dict, topic: str = COMMANDS, events: str = EVENTS) -> list[dict]:
    """Send commands and return, for each, the one event it caused (in the order given)."""
    await bus.send(topic, *cmds)
    seen = await bus.events(events, lambda es: all(caused_by(es, c) for c in cmds), timeout=90)
    out = []
    for c in cmds:
        [ev] = caused_by(seen, c)
        out.append(ev)
    return out


def assert_rejected(ev: dict, reason: str, field: str) -> None:
    assert ev["type"] == "CommandRejected", ev
    assert ev["data"]["reason"] == reason, ev["data"]
    assert field in [e["field"] for e in ev["data"]["errors"]], ev["data"]


def venue(venue_id: str | None = None, capacity: int = 30, **over) -> dict:
    return envelope("RegisterVenue", {"venue_id": venue_id or uid("v"), "name": "天鹅湖社区党员活动室",
                                      "org_id": uid("c"), "capacity": capacity, "facilities": ["投影仪", "音响"], **over})


def schedule(branch_ids: list[str], kind: str = "branch_assembly", day: str = "2026-03-05",
             start: str = "09:00", end: str = "11:00", activity_id: str | None = None, **over) -> dict:
    return envelope("ScheduleActivity", {
        "activity_id": activity_id or uid("a"), "kind": kind, "title": "一季度支部党员大会", "branch_ids": branch_ids,
        "starts_at": f"{day}T{start}:00+08:00", "ends_at": f"{day}T{end}:00+08:00", **over})


def held(activity_id: str, attendance: list[dict] | None = None, minutes: str | None = "传达学习文件，讨论工作。") -> dict:
    data = {"activity_id": activity_id, "attendance": attendance or []}
    if minutes is not None:
        data["minutes"] = minutes
    return envelope("RecordActivityHeld", data)


def present(member_id: str, mode: str = "in_person", status: str = "present") -> dict:
    return {"member_id": member_id, "status": status, "mode": mode}
