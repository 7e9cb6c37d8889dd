"""How activities are shown over HTTP: ids and codes for machines, Chinese labels for people."""
from shared.rules import labels


def activity_summary(doc: dict) -> dict:
    return {
        "activity_id": doc["_id"], "kind": doc["kind"], "kind_label": labels.ACTIVITY_KINDS[doc["kind"]],
        "title": doc["title"], "branch_ids": doc["branch_ids"], "alliance": len(doc["branch_ids"]) > 1,
        "starts_at": doc["starts_at"], "ends_at": doc["ends_at"], "held_on": doc["held_on"],
        "venue_id": doc.get("venue_id"), "organizer_id": doc.get("organizer_id"), "status": doc["status"],
        "status_label": labels.ACTIVITY_STATUSES[doc["status"]],
    }


def attendance_counts(attendance: list[dict]) -> dict:
    present = [a for a in attendance if a["status"] == "present"]
    return {
        "present": len(present), "leave": sum(a["status"] == "leave" for a in attendance),
        "absent": sum(a["status"] == "absent" for a in attendance),
        "by_mode": {m: sum(a.get("mode", "in_person") == m for a in present) for m in labels.ATTENDANCE_MODES},
    }


def activity_detail(doc: dict, names: dict[str, str]) -> dict:
    attendance = doc.get("attendance", [])
    return {
        **activity_summary(doc), "minutes": doc.get("minutes"), "cancel_reason": doc.get("cancel_reason"),
        "capacity": doc.get("capacity"), "over_capacity": doc.get("over_capacity", False),
        "attendance": [{**a, "member_name": names.get(a["member_id"]),
                        "status_label": labels.ATTENDANCE_STATUSES[a["status"]],
                        "mode_label": labels.ATTENDANCE_MODES[a.get("mode", "in_person")]} for a in attendance],
        "attendance_counts": attendance_counts(attendance),
    }
