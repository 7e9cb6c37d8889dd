"""Notifications' collections and their mapping."""
from dataclasses import asdict

from services.notifications.domain.notice import Notice

NOTICES = "notices"


def notice_to_doc(n: Notice) -> dict:
    d = asdict(n)
    d["_id"] = d.pop("notice_id")
    return d


def notice_from_doc(doc: dict | None) -> Notice | None:
    if doc is None:
        return None
    return Notice(notice_id=doc["_id"], **{k: v for k, v in doc.items() if k != "_id"})


async def setup(db) -> None:
    await db[NOTICES].create_index("category")
