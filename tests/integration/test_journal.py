"""The journal on the real database: large batches apply, and a replay applies the same again."""
import uuid

import pytest
from pymongo import AsyncMongoClient

from shared.messaging.journal import Journal

pytestmark = pytest.mark.integration


class _NoRecords:
    async def send_all(self, records):
        raise AssertionError("these batches owe no records")


async def test_a_batch_replacing_hundreds_of_documents_applies(infra):
    """FerretDB 1.24 deadlocks on one update command of ~100 updates: the journal splits them."""
    client = AsyncMongoClient(infra.mongo, socketTimeoutMS=60_000)
    db = client[f"t{uuid.uuid4().hex[:8]}_journal"]
    try:
        journal = Journal(db, "test")
        docs = [(f"m{i}", {"_id": f"m{i}", "v": 1, "profile": {"name": "王秀英"}}) for i in range(300)]
        await journal.commit(["c1"], [("members", i, d) for i, d in docs], [], _NoRecords(),
                             is_new=lambda _c, _i: True)
        changed = [("members", i, {**d, "v": 2}) for i, d in docs]
        await journal.commit(["c2"], changed, [], _NoRecords())  # 300 replacements of existing documents
        await journal.commit(["c2"], changed, [], _NoRecords())  # applied twice: the same state
        assert await db.members.count_documents({"v": 2}) == 300
        assert await journal.seen(["c1", "c2", "c3"]) == {"c1", "c2"}
        assert await db["_journal_test"].count_documents({}) == 0
    finally:
        await client.drop_database(db.name)
        await client.close()
