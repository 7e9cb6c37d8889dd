"""A snapshot kept encoded goes to the driver as its stored bytes, `_v` appended, and the driver's
check of a replacement does not decode it (no I/O: the operation as built for `bulk_write`)."""
import bson
from pymongo.common import validate_ok_for_replace

from shared.messaging.mongo_uow import _op
from shared.messaging.unit_of_work import Encoded, Write


def test_a_kept_snapshot_is_replaced_as_bytes_without_being_decoded():
    doc = {"_id": "m1", "facts": {"payments": {f"p{i}": {"cents": i} for i in range(50)}}}
    op, counts_as = _op(Write("members", "m1", Encoded(bson.encode(doc)), read_version=3))
    assert counts_as == "match" and op._filter == {"_id": "m1", "_v": 3}
    validate_ok_for_replace(op._doc)  # what bulk_write's add_replace asks first
    assert op._doc._RawBSONDocument__inflated_doc is None  # still bytes only
    assert bson.decode(op._doc.raw) == {**doc, "_v": 4}


def test_a_commit_goes_in_chunks_bounded_by_operations_and_by_the_bytes_of_kept_snapshots():
    """`_chunks`: at most WRITE_CHUNK_OPS writes, and WRITE_CHUNK_BYTES of encoded snapshots, a
    bulk write (the driver otherwise encodes up to 48 MB at once), every write once, in order."""
    from shared.messaging.mongo_uow import WRITE_CHUNK_BYTES, WRITE_CHUNK_OPS, _chunks

    small = [Write("figures", f"f{i}", {"_id": f"f{i}", "n": i}, read_version=1) for i in range(2 * WRITE_CHUNK_OPS + 1)]
    assert [len(c) for c in _chunks(small)] == [WRITE_CHUNK_OPS, WRITE_CHUNK_OPS, 1]

    big = bson.encode({"_id": "m", "facts": "x" * (WRITE_CHUNK_BYTES // 3)})
    kept = [Write("members", f"m{i}", Encoded(big), read_version=1) for i in range(7)]
    chunks = list(_chunks(kept))
    assert [len(c) for c in chunks] == [2, 2, 2, 1]
    assert all(sum(len(w.doc.data) for w in c) <= WRITE_CHUNK_BYTES for c in chunks)
    assert [w._id for c in chunks for w in c] == [w._id for w in kept]
    huge = [Write("members", "h", Encoded(bson.encode({"_id": "h", "x": "y" * WRITE_CHUNK_BYTES})), read_version=1)]
    assert [len(c) for c in _chunks(huge)] == [1]  # a document larger than the bound goes alone


def test_a_commits_records_go_in_outbox_documents_bounded_in_records_and_bytes_in_their_order():
    from datetime import datetime, timezone

    from shared.messaging.mongo_uow import WRITE_CHUNK_BYTES, WRITE_CHUNK_OPS, _outbox_docs, _records
    from shared.messaging.records import Outgoing

    now = datetime.now(timezone.utc)
    small = [Outgoing("t", b"k", f"r{i}".encode()) for i in range(WRITE_CHUNK_OPS + 3)]
    docs = _outbox_docs(small, now)
    assert [len(d["records"]) for d in docs] == [WRITE_CHUNK_OPS, 3]
    assert [r["v"] for r in _records(docs)] == [r.value for r in small]
    big = [Outgoing("t", b"k", b"x" * (WRITE_CHUNK_BYTES // 2 + 1)) for _ in range(3)]
    assert [len(d["records"]) for d in _outbox_docs(big, now)] == [1, 1, 1]
    assert _outbox_docs([], now) == []
