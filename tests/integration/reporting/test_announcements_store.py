"""Alert announcements on a real replica set (services/reporting/announcements.py): of two
instances announcing the same change, one commits the event, the other's version-checked deletion
aborts its transaction, and run again it finds nothing to say."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from services.reporting.announcements import ANNOUNCEMENTS, announce_due
from services.reporting.domain import announcements as dom
from shared.contracts.envelope import Envelope
from shared.messaging.pipeline import Context
from shared.messaging.unit_of_work import Conflict

pytestmark = pytest.mark.integration
WARN4 = {"alert_id": "dues_arrears:m-1:2026-01", "kind": "dues_arrears", "level": "warning", "months": 4,
         "subject_id": "m-1", "org_id": "b-1", "since": "2026-01", "details": {}}


class _Pipeline:
    source, district = "sunsetred-reporting", "x-district"
    arrived = None  # no causal fence

    def topic_name(self, base: str) -> str:
        return base


def _context(uow) -> Context:
    cause = Envelope(id="alerts-announced:test", type="AlertAnnouncement", occurred_at=datetime.now(timezone.utc),
                     district="x-district", source="sunsetred-reporting", data={})
    return Context(_Pipeline(), cause, uow)


async def test_two_instances_announce_a_change_once(store):
    now = datetime.now(timezone.utc)
    cause = {"id": "visit-1", "occurred_at": "2026-04-10T02:00:00+00:00", "correlation_id": None, "district": "x"}
    doc = dom.staged(None, WARN4["alert_id"], None, WARN4, "2026-04-10", cause, dom.stamp(now - timedelta(seconds=1)),
                     staged_at=dom.stamp(now - timedelta(seconds=2)))
    first = store.unit()
    await first.get(ANNOUNCEMENTS, WARN4["alert_id"])
    first.put(ANNOUNCEMENTS, doc)
    first.commit_message()
    await store.commit(first, "p", [])

    a, b = store.unit(), store.unit()
    for u in (a, b):  # both read the announcement due
        await announce_due(_context(u), [WARN4["alert_id"]], dom.stamp(now), lambda _staged_at: True)
        u.commit_message()
    written = await store.commit(a, "p", [])
    (event,) = [json.loads(w["v"]) for w in written]
    assert (event["type"], event["data"]["as_of"], event["causation_id"]) == ("AlertRaised", "2026-04-10", "visit-1")
    with pytest.raises(Conflict):
        await store.commit(b, "p", [])
    again = store.unit()  # the loser, run again on fresh reads
    await announce_due(_context(again), [WARN4["alert_id"]], dom.stamp(now), lambda _staged_at: True)
    again.commit_message()
    assert again.outbox == [] and await store.db[ANNOUNCEMENTS].count_documents({}) == 0
