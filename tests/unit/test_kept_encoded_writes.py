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
