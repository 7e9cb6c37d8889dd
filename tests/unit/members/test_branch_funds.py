"""A branch's funds (issue 13, item 3): the rules (domain/funds.py) and the handlers over the
in-memory unit of work."""
from decimal import Decimal

import pytest

from services.members.adapters.records import BRANCH_FUNDS
from services.members.domain import funds
from services.members.handlers import HANDLERS
from tests.support.fake_uow import FakeUnitOfWork, handle, refusal
from tests.support.messages import envelope
from tests.support.scenario import tree

pytestmark = pytest.mark.unit


def test_amounts_are_kept_in_fen_and_shown_as_yuan_with_two_places():
    f = funds.BranchFunds("b")
    assert funds.receive(f, entry_id="e1", source="dues_returned", amount=Decimal("1200.00"), on="2026-03-01",
                         today="2026-03-02", for_year=2025) == 120000
    assert funds.spend(f, entry_id="e2", amount=Decimal("0.10"), on="2026-03-02", today="2026-03-02",
                       purpose="茶水")[0] == 119990
    assert funds.yuan(119990) == "1199.90" and funds.yuan(-5) == "-0.05" and funds.yuan(10**12) == "10000000000.00"
    assert f.balance_fen("2026-03-01") == 120000


@pytest.mark.parametrize("amount", ["0.00", "-5.00"])
def test_spending_that_is_not_a_positive_amount_is_refused(amount):
    with pytest.raises(Exception) as r:
        funds.spend(funds.BranchFunds("b"), entry_id="e", amount=Decimal(amount), on="2026-03-01",
                    today="2026-03-01", purpose="x")
    assert (r.value.reason, r.value.errors[0]["field"]) == ("invalid", "data.amount")


def test_dates_are_not_in_the_future_and_for_year_is_for_dues_only():
    f = funds.BranchFunds("b")
    with pytest.raises(Exception) as r:
        funds.receive(f, entry_id="e", source="other", amount=Decimal("1.00"), on="2026-03-05", today="2026-03-04")
    assert r.value.errors[0]["field"] == "data.received_on"
    with pytest.raises(Exception) as r:
        funds.receive(f, entry_id="e", source="donation", amount=Decimal("1.00"), on="2026-01-01",
                      today="2026-01-01", for_year=2025)
    assert r.value.errors[0]["field"] == "data.for_year"


def test_spending_more_than_the_balance_is_accepted_and_flagged():
    f = funds.BranchFunds("b")
    funds.receive(f, entry_id="e1", source="community", amount=Decimal("100.00"), on="2026-01-02",
                  today="2026-01-02")
    assert funds.spend(f, entry_id="e2", amount=Decimal("150.00"), on="2026-01-03", today="2026-01-03",
                       purpose="七一慰问", activity_id="a1") == (-5000, True)


async def _branch():
    ids, cmds = tree(1)
    uow = FakeUnitOfWork()
    for cmd in cmds:
        await handle(HANDLERS, cmd, uow)
    uow.commit()
    return ids["branches"][0], FakeUnitOfWork(uow.docs)


def received(b, entry_id="f1", amount="1200.00", **over):
    return envelope("RecordBranchFunds", {"entry_id": entry_id, "branch_id": b, "source": "dues_returned",
                                          "amount": amount, "received_on": "2026-01-05", "for_year": 2025, **over},
                    occurred_at="2026-01-06T10:00:00+08:00")


def spent(b, entry_id="s1", amount="300.00", **over):
    return envelope("RecordBranchSpending", {"entry_id": entry_id, "branch_id": b, "amount": amount,
                                             "spent_on": "2026-01-06", "purpose": "主题党日学习资料",
                                             "activity_id": "a-1", **over}, occurred_at="2026-01-06T10:00:00+08:00")


async def test_handlers_keep_the_ledger_and_announce_the_balance():
    b, uow = await _branch()
    [e] = await handle(HANDLERS, received(b), uow)
    assert (e["type"], e["data"]["balance"], e["data"]["amount"]) == ("BranchFundsReceived", "1200.00", "1200.00")
    [e] = await handle(HANDLERS, spent(b), uow)
    assert e["type"] == "BranchSpendingRecorded"
    assert (e["data"]["balance"], e["data"]["overdrawn"], e["data"]["activity_id"]) == ("900.00", False, "a-1")
    [e] = await handle(HANDLERS, spent(b, "s2", "1000.00", activity_id=None), uow)
    assert (e["data"]["balance"], e["data"]["overdrawn"]) == ("-100.00", True)
    assert {r.key for r in uow.outbox} == {b.encode()}
    uow.commit()
    assert len(uow.docs[BRANCH_FUNDS][b]["entries"]) == 3


async def test_handlers_refuse_what_breaks_a_rule():
    b, uow = await _branch()
    await handle(HANDLERS, received(b), uow)
    uow.commit()
    uow = FakeUnitOfWork(uow.docs)
    assert await refusal(HANDLERS, received(b), uow) == ("duplicate", ["data.entry_id"])
    assert await refusal(HANDLERS, spent(b, amount="0.00"), uow) == ("invalid", ["data.amount"])
    assert await refusal(HANDLERS, spent(b, amount="-1.00"), uow) == ("invalid", ["data.amount"])
    assert await refusal(HANDLERS, spent(b, spent_on="2026-02-01"), uow) == ("invalid", ["data.spent_on"])
    assert await refusal(HANDLERS, spent("b-nowhere"), uow) == ("unknown_reference", ["data.branch_id"])
