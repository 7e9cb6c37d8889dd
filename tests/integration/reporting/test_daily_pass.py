"""The daily member pass over a database of its own: it stores every member's alerts for the
day's key and copies those with an alert for the list; it runs once a day, and again the same day
when the key changes (the member rules' version raised, or where the records begin)."""
import json
from datetime import date
from types import SimpleNamespace

import pytest

from services.reporting import daily
from services.reporting.adapters import documents
from services.reporting.adapters.documents import MEMBER_ALERTS, MEMBERS, ORGS, STATE, alerts_key, member_to_doc, setup
from services.reporting.domain.facts import MemberFacts
from services.reporting.settings import records_start
from shared.messaging.pipeline import Context
from shared.messaging.unit_of_work import VERSION
from tests.support.fake_uow import _Pipeline

pytestmark = pytest.mark.integration
DAY = date(2026, 6, 30)


class Units:
    """`Pipeline.run_unit` over the store: a unit whose cause was handled before is skipped (the
    inbox), the others commit their documents with their cause's id."""

    def __init__(self, store):
        self.store, self.ran = store, []

    async def run_unit(self, cause, work, wants=()) -> None:
        if await self.store.seen("p", [cause.id]):
            return
        await self._commit(cause, work, wants)

    async def _commit(self, cause, work, wants):
        uow = self.store.unit()
        await uow.prefetch(list(wants))
        await work(Context(_Pipeline(), cause, uow))
        uow.commit_message()
        await self.store.commit(uow, "p", [cause.id])
        self.ran.append(cause.id)
        return uow


async def test_the_pass_stores_the_days_alerts_and_runs_again_for_a_new_key(store, monkeypatch):
    db = store.db
    await setup(db)
    members = [MemberFacts(f"m{i}", name=f"m{i}", branch_id="b1", registered_on="2026-01-05") for i in range(3)]
    paid = {"p": {"months": [f"2026-{m:02d}" for m in range(1, 7)], "cents": 2400, "paid_on": "2026-01-05"}}
    members[2].payments, members[2].visits = paid, {"v": "2026-06-20"}
    attended = {"a": {"held_on": "2026-06-10", "kind": "themed_party_day", "status": "present", "mode": "in_person"}}
    members[2].attendance = attended
    # stored before the key existed (as a deployment finds them): no `alerts_of`, no copies
    await db[MEMBERS].insert_many([member_to_doc(m, [], "2026-01-05") | {VERSION: 1} for m in members])
    units = Units(store)
    runtime = SimpleNamespace(db=db, service="reporting", pipelines=[units],
                              settings=SimpleNamespace(district="x-district", instance=lambda s: f"{s}-1"))
    monkeypatch.setattr(daily, "hold", _daily_leases_only)

    await daily.check(runtime, DAY)
    key = alerts_key(DAY.isoformat(), records_start())
    assert {d["_id"]: d["alerts_of"] async for d in db[MEMBERS].find({}, {"alerts_of": 1})} == dict.fromkeys(
        ("m0", "m1", "m2"), key)
    copies = {d["_id"]: {a["kind"] for a in d["open_alerts"]} async for d in db[MEMBER_ALERTS].find()}
    assert set(copies) == {"m0", "m1"} and "dues_arrears" in copies["m0"]  # m2 paid, attended, was visited
    assert (await db[STATE].find_one({"_id": "daily"}))["alerts_of"] == key

    ran = len(units.ran)
    await daily.check(runtime, DAY)
    assert len(units.ran) == ran  # once a day

    monkeypatch.setattr(documents, "MEMBER_RULES_VERSION", 2)  # a deployment with other member rules
    await daily.check(runtime, DAY)
    new = alerts_key(DAY.isoformat(), records_start())
    assert new != key and len(units.ran) > ran
    assert {d["alerts_of"] async for d in db[MEMBERS].find({}, {"alerts_of": 1})} == {new}
    assert {d["alerts_of"] async for d in db[MEMBER_ALERTS].find({}, {"alerts_of": 1})} == {new}


async def _daily_leases_only(runtime, name: str, ttl_s: float) -> bool:
    """This instance holds the member pass's leases, and not the periodic checks' (not tested here)."""
    return name.startswith("daily:")


class CrashingUnits(Units):
    """Units that stop the process (an exception) once `crash_after` of them committed, and keep
    the events each committed unit owes."""

    def __init__(self, store, crash_after: int | None = None):
        super().__init__(store)
        self.crash_after, self.events = crash_after, []

    async def run_unit(self, cause, work, wants=()) -> None:
        if self.crash_after is not None and len(self.ran) == self.crash_after:
            raise RuntimeError("the process stopped")
        uow = await self._commit(cause, work, wants)
        self.events += [json.loads(o.value) for o in uow.outbox]


async def test_a_closed_month_is_published_a_page_at_a_time_and_once_across_a_crash(store, monkeypatch):
    """Seven organisations in pages of three: the first page commits, the process stops, and the
    next check publishes the other four, each organisation once, each unit at most a page."""
    db = store.db
    await setup(db)
    await db[ORGS].insert_many([{"_id": f"o{i}", "kind": "branch", VERSION: 1} for i in range(7)])
    monkeypatch.setattr(daily, "PAGE", 3)

    asked_for: list[bool] = []

    async def report(_db, org_id, period, as_of, asked=True):
        asked_for.append(asked)
        return {"org_id": org_id, "period": str(period)}
    monkeypatch.setattr(daily.queries, "report", report)
    runtime = SimpleNamespace(db=db, service="reporting", settings=SimpleNamespace(district="x-district"))

    first = CrashingUnits(store, crash_after=1)
    with pytest.raises(RuntimeError):
        await daily.publish_closed_month(runtime, first, DAY.isoformat())
    again = CrashingUnits(store)
    await daily.publish_closed_month(runtime, again, DAY.isoformat())
    await daily.publish_closed_month(runtime, again, DAY.isoformat())  # nothing late any more

    published = [e["data"]["org_id"] for e in first.events + again.events]
    assert sorted(published) == [f"o{i}" for i in range(7)]  # each once
    assert [e["data"]["period"] for e in first.events + again.events] == ["2026-05"] * 7
    assert len(first.ran) == 1 and len(again.ran) == 2  # pages of 3: 3, then 3 and 1
    assert {d["published_month"] async for d in db[ORGS].find()} == {"2026-05"}
    # Published, not read: their sections are not kept fresh ahead of a reader (sections_refresh.py).
    assert asked_for and not any(asked_for)
