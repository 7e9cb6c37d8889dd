"""Checksums of what a report's sections over many branches read, kept by the database.

An organisation's report sums its branches' committees, training, allowance, grades and service
requests (leadership_queries, grades_queries, service_queries). Over a district of 2,000 branches
that means reading every branch's documents, several megabytes, for each report: close to a
second on this project's database. What those sums depend on changes rarely (an election, a
payment of the allowance, a grade), so queries keep the sums they computed (queries.py,
`SectionCache`) and must know, cheaply and across instances, when any of it changed.

Each collection the sections read has a checksum: the sum, over its documents, of a hash of
what the sections read of each (its `_id` and its fields, less those the alert evaluation and
the bookkeeping rewrite all the time). It is a `Tally` (shared/messaging/tally.py): every commit
that changes a document adds the difference in the same transaction, so the checksum is a pure
function of the committed documents, whichever instance wrote them, and a replay gives the same
one. A write that changes only the ignored fields adds nothing and writes nothing. Hashes are
31-bit, so a sum over millions of documents stays far inside a 64-bit integer; two different
states sharing a checksum would take a 1-in-2-billion coincidence.
"""
import asyncio
import hashlib
import json

from services.reporting.adapters.documents import ORGS
from services.reporting.adapters.leadership_store import LEADERSHIP, TRAINEES
from services.reporting.grades import GRADES
from services.reporting.service_requests import REQUESTS
from shared.messaging.tally import Tally
from shared.messaging.unit_of_work import VERSION

WATCHED = (ORGS, LEADERSHIP, TRAINEES, GRADES, REQUESTS)
# Rewritten by every evaluation of alerts, or kept for the projections' own bookkeeping: never read
# by a report's sections.
IGNORED = frozenset({VERSION, "open_alerts", "evaluated_on", "asked_on", "unplaced", "counted", "published_month"})
TALLY_ID = "all"


def checksum_collection(watched: str) -> str:
    return f"_checksum_{watched}"


def content_hash(doc: dict) -> int:
    """A 31-bit hash of what the sections read of a document (stable across processes)."""
    kept = {k: v for k, v in doc.items() if k not in IGNORED}
    text = json.dumps(kept, sort_keys=True, default=str, ensure_ascii=False)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big") >> 1


def _counts(doc: dict) -> dict[str, dict[str, int]]:
    return {TALLY_ID: {"h": content_hash(doc)}}


TALLIES = [Tally(w, checksum_collection(w), _counts, lambda doc: {}) for w in WATCHED]


async def current(db) -> dict[str, int]:
    """Every watched collection's checksum now (0 for one with no document yet), in one round of
    reads: a report reads them before any document its sections read (section_cache.py)."""
    docs = await asyncio.gather(*(db[checksum_collection(w)].find_one({"_id": TALLY_ID}, {"h": 1}) for w in WATCHED))
    return {w: int((doc or {}).get("h", 0)) for w, doc in zip(WATCHED, docs)}
