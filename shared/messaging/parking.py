"""Commands held until what they name arrives (contract: "A reference that has not arrived yet
is waited for, not refused").

Keys give order per aggregate only: a `RegisterMember` may be consumed before the
`EstablishOrganization` of its branch, published a moment earlier under another key. Such a
command is held in the pipeline's `_parked_<name>` collection (in the batch's transaction, with
its id in the inbox), and later commands of the same key are held behind it, so their order
holds. Held commands are tried again after every batch and by a timer, oldest first; one whose
reference is still missing after `REFERENCE_WAIT` is rejected `unknown_reference`, and those
behind it go on.
"""
from datetime import datetime, timedelta, timezone
from typing import Any

from shared.contracts.parsing import Parsed
from shared.messaging.records import Incoming

LIMIT = 2000  # held commands tried per round: the oldest first


def collection(pipeline: str) -> str:
    return f"_parked_{pipeline}"


def held(record: Incoming, result: Parsed, errors: list[dict] | None = None, behind: bool = False) -> dict:
    return {"_id": result.envelope.id, "key": result.message.key(), "type": result.envelope.type,
            "parked_at": datetime.now(timezone.utc), "topic": record.topic, "partition": record.partition,
            "offset": record.offset, "record_key": record.key, "value": record.value,
            "headers": [{"n": k, "v": v} for k, v in record.headers], "behind": behind, "errors": errors or []}


def incoming(doc: dict) -> Incoming:
    return Incoming(doc["topic"], doc["partition"], doc["offset"], doc.get("record_key"), doc["value"],
                    tuple((h["n"], h["v"]) for h in doc.get("headers", [])))


def expired(doc: dict, wait_s: float) -> bool:
    parked_at = doc["parked_at"]
    if parked_at.tzinfo is None:
        parked_at = parked_at.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc) - parked_at >= timedelta(seconds=wait_s)


async def setup(coll: Any) -> None:
    await coll.create_index("key")
    await coll.create_index([("parked_at", 1), ("partition", 1), ("offset", 1)])


async def keys_waiting(coll: Any, keys: set[str]) -> set[str]:
    return {d["key"] async for d in coll.find({"key": {"$in": list(keys)}}, {"key": 1})}


async def oldest(coll: Any) -> list[dict]:
    return await coll.find({}).sort([("parked_at", 1), ("partition", 1), ("offset", 1)]).limit(LIMIT).to_list(None)
