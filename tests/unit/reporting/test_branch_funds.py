"""A branch's funds in reporting (issue 13, item 3): the figures and the alert (domain/funds.py),
and the handlers over the in-memory unit of work (funds.py)."""
import pytest

from services.reporting.domain import funds as dom
from services.reporting.funds import FUNDS
from services.reporting.handlers import build_handlers
from shared.contracts import funds as c
from shared.contracts.parsing import parse_object
from shared.periods import parse_period
from tests.integration.reporting.support import event
from tests.unit.reporting.memory import Store

pytestmark = pytest.mark.unit


def entry(entry_id, kind, fen, on, **kw):
    return {"entry_id": entry_id, "kind": kind, "fen": fen, "on": on, **kw}


ENTRIES = [entry("f1", "in", 120000, "2025-12-20", source="dues_returned"),
           entry("f2", "in", 50000, "2026-02-01", source="community"),
           entry("s1", "out", 30050, "2026-03-05", activity_id="a1"),
           entry("s2", "out", 9950, "2026-03-05", activity_id="a1"),
           entry("s3", "out", 2000, "2026-04-01")]


def test_a_period_shows_what_came_in_and_went_out_and_what_each_activity_cost():
    f = dom.figures(ENTRIES, parse_period("2026-Q1"), "2026-12-31")
    assert {k: f[k] for k in ("opening", "received", "community", "spent", "spent_on_activities", "balance")} == {
        "opening": 120000, "received": 50000, "community": 50000, "spent": 40000, "spent_on_activities": 40000,
        "balance": 130000}
    assert f["activities"] == {"a1": 40000}
    assert dom.figures(ENTRIES, parse_period("2026"), "2026-03-31")["balance"] == 130000  # as of the reading day
    assert dom.yuan(130000) == "1300.00" and dom.yuan(-1) == "-0.01" and dom.yuan(10**14) == "1000000000000.00"


def test_overdrawn_from_the_first_day_the_balance_stays_below_zero():
    es = [entry("f", "in", 10000, "2026-01-01"), entry("s", "out", 15000, "2026-01-10"),
          entry("f2", "in", 5000, "2026-01-10")]  # the same day: judged at the day's end, not overdrawn
    assert dom.overdrawn(es, "b", "2026-01-31") is None
    es.append(entry("s2", "out", 100, "2026-02-03"))
    x = dom.overdrawn(es, "b", "2026-03-01")
    assert (x.kind, x.level, x.since, x.details) == ("funds_overdrawn", "warning", "2026-02-03", {"balance": "-1.00"})
    assert dom.overdrawn(es, "b", "2026-02-02") is None  # as of a day before it
    es.append(entry("f3", "in", 100, "2026-02-20"))
    assert dom.overdrawn(es, "b", "2026-03-01") is None


def test_no_overdrawn_alert_is_dated_before_the_records_began():
    """Entries from before RECORDS_START make the opening balance; the alert's `since` is not earlier
    than the records, and there is none as of a day before them (contract, RECORDS_START)."""
    es = [entry("s", "out", 500, "2024-12-20")]
    assert dom.overdrawn(es, "b", "2025-03-01").since == "2024-12-20"
    x = dom.overdrawn(es, "b", "2025-03-01", records_start="2025-01-01")
    assert (x.since, x.details) == ("2025-01-01", {"balance": "-5.00"})
    assert dom.overdrawn(es, "b", "2024-12-31", records_start="2025-01-01") is None


def _run(store: Store, env: dict) -> None:
    handlers = build_handlers()
    parsed = parse_object(env)
    import asyncio

    async def go():
        await store.uow.prefetch(handlers[parsed.envelope.type].wants(parsed.message))
        await handlers[parsed.envelope.type].handle(parsed.message, store.context(parsed.envelope))
    asyncio.run(go())
    store.commit()


def test_handlers_keep_the_entries_and_announce_the_alert_once():
    store = Store()
    _run(store, event(c.BranchFundsReceived, "2026-01-05", entry_id="f1", branch_id="b", source="dues_returned",
                      amount="100.00", received_on="2026-01-05", for_year=2025, balance="100.00"))
    _run(store, event(c.BranchSpendingRecorded, "2026-01-06", entry_id="s1", branch_id="b", amount="150.00",
                      spent_on="2026-01-06", purpose="慰问", activity_id="a1", balance="-50.00", overdrawn=True))
    _run(store, event(c.BranchSpendingRecorded, "2026-01-06", entry_id="s1", branch_id="b", amount="150.00",
                      spent_on="2026-01-06", purpose="慰问", activity_id="a1", balance="-50.00", overdrawn=True))
    raised = [e for e in store.events if json_type(e) == "AlertRaised"]
    assert len(raised) == 1 and b"funds_overdrawn:b:2026-01-06" in raised[0].value
    doc = store.doc(FUNDS, "b")
    assert set(doc["entries"]) == {"f1", "s1"} and doc["entries"]["s1"]["fen"] == 15000
    _run(store, event(c.BranchFundsReceived, "2026-01-09", entry_id="f2", branch_id="b", source="higher_level",
                      amount="50.00", received_on="2026-01-08", balance="0.00"))
    assert [json_type(e) for e in store.events][-1] == "AlertCleared"


def json_type(record) -> str:
    import json
    return json.loads(record.value)["type"]
