"""An alert's change is announced only once the member and activity facts published before it have
arrived (docs/contract-additions.md, reporting; the causal fence, services/reporting/announcements.py):
with members stopped, a member's payment of January to April is published on 8 April's date, then
a specialist's visit of 10 April. Reporting evaluates the member as of the visit (four months
owed) but announces nothing while the payment waits upstream; once members is back the payment
clears the arrear, and no `AlertRaised` ever says it.

Without the fence (REPORTING_ALERT_FENCE_MAX_WAIT_SECONDS=0) the arrear was announced once it had
stood for the settling time (2 s here), and cleared when members came back: the test fails so
(checked)."""
import asyncio

import pytest

from tests.support.messages import Bus, answered, envelope
from tests.support.scenario import register, tree, uid
from tests.support.services import ServiceProcess, start_all

pytestmark = pytest.mark.integration


def _alert_events(events: list[dict], member_id: str) -> list[tuple[str, str]]:
    return [(e["type"], e["data"]["kind"]) for e in events
            if e["type"] in ("AlertRaised", "AlertCleared") and e["data"]["subject_id"] == member_id]


async def test_an_arrear_waits_for_a_payment_published_before_it_while_members_is_down(infra):
    prefix = f"a{uid('')[-8:]}."
    procs = await start_all(["members", "activities", "reporting"], infra, prefix,
                            {"REPORTING_ALERT_SETTLE_SECONDS": "2"})
    bus = Bus(infra.kafka, prefix)
    await bus.start()
    try:
        ids, cmds = tree(1)
        member = register(ids["branches"][0])
        for cmd in [*cmds, member]:  # as district systems would have sent them then
            await answered(bus, "members.commands", {**cmd, "occurred_at": "2026-01-05T02:00:00+00:00"})
        m = member["data"]["member_id"]

        procs["members"].stop()  # members lags: the payment published now waits for it
        await bus.send("members.commands", envelope("RecordDuesPayment", {
            "payment_id": uid("p"), "member_id": m, "from_month": "2026-01", "to_month": "2026-04",
            "amount": "96.00", "paid_on": "2026-04-08"}, occurred_at="2026-04-08T02:00:00+00:00"))
        await answered(bus, "activities.commands", envelope("RecordVisit", {
            "visit_id": uid("vis"), "member_id": m, "specialist_id": uid("sp"), "on": "2026-04-10", "kind": "phone"},
            occurred_at="2026-04-10T02:00:00+00:00"))
        await asyncio.sleep(8)  # four times the settling time
        early = await bus.events("reporting.events", lambda es: False, timeout=2)
        assert _alert_events(early, m) == []  # evaluated, stood, held behind the payment

        procs["members"] = ServiceProcess("members", infra, prefix).start()
        await procs["members"].wait_ready()
        # The member attended nothing from January on: that alert stands once the fence has passed.
        said = await bus.events("reporting.events",
                                lambda es: ("AlertRaised", "no_participation") in _alert_events(es, m), timeout=90)
        await asyncio.sleep(4)  # anything else about the member would be announced by now
        said = await bus.events("reporting.events", lambda es: False, timeout=2)
        assert _alert_events(said, m) == [("AlertRaised", "no_participation")]
    finally:
        await bus.stop()
        for p in procs.values():
            p.stop()
