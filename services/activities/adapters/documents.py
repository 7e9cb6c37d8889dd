"""Activities' collections and their mapping."""
from dataclasses import asdict

from services.activities.domain.activity import Activity

ACTIVITIES = "activities"


def activity_to_doc(a: Activity) -> dict:
    d = asdict(a)
    d["_id"] = d.pop("activity_id")
    return d


def activity_from_doc(doc: dict | None) -> Activity | None:
    if doc is None:
        return None
    return Activity(activity_id=doc["_id"], **{k: v for k, v in doc.items() if k != "_id"})


async def setup(db) -> None:
    await db[ACTIVITIES].create_index("branch_ids")
    await db[ACTIVITIES].create_index("held_on")
