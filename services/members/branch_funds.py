"""The members service layer of a branch's funds (issue 13, item 3): 返缴党费, other funding and
spending per activity. The handlers are listed in the one table, `handlers.HANDLERS`."""
from decimal import Decimal

from services.members.adapters.documents import ORGS
from services.members.adapters.records import FUND_ENTRIES, FUNDS
from services.members.domain import funds
from services.members.domain import organization as orgs
from services.members.handling import day, org
from shared.contracts import funds as c
from shared.contracts.types import to_money
from shared.errors import duplicate
from shared.messaging.pipeline import Context, Handler


async def _ledger(ctx: Context, entry_id: str, branch_id: str):
    if await ctx.get(FUND_ENTRIES, entry_id) is not None:
        raise duplicate(f"funds entry {entry_id} is already recorded", "data.entry_id")
    branch = orgs.require_branch(await org(ctx, branch_id), branch_id, "data.branch_id")
    ledger = await ctx.repo(FUNDS).get(branch_id) or funds.BranchFunds(branch_id)
    return branch, ledger


def _money(fen: int) -> Decimal:
    return to_money(Decimal(fen) / 100)


async def record_branch_funds(cmd: c.RecordBranchFunds, ctx: Context) -> None:
    branch, ledger = await _ledger(ctx, cmd.entry_id, cmd.branch_id)
    balance = funds.receive(ledger, entry_id=cmd.entry_id, source=cmd.source, amount=cmd.amount,
                            on=cmd.received_on.isoformat(), today=day(ctx),
                            for_year=cmd.for_year, note=cmd.note)
    ctx.repo(FUNDS).add(ledger)
    ctx.put(FUND_ENTRIES, {"_id": cmd.entry_id, "branch_id": branch.org_id})
    ctx.emit(c.BranchFundsReceived(entry_id=cmd.entry_id, branch_id=branch.org_id, source=cmd.source,
                                   amount=cmd.amount, received_on=cmd.received_on, for_year=cmd.for_year,
                                   note=cmd.note, balance=_money(balance)))


async def record_branch_spending(cmd: c.RecordBranchSpending, ctx: Context) -> None:
    branch, ledger = await _ledger(ctx, cmd.entry_id, cmd.branch_id)
    balance, overdrawn = funds.spend(ledger, entry_id=cmd.entry_id, amount=cmd.amount, on=cmd.spent_on.isoformat(),
                                     today=day(ctx), purpose=cmd.purpose,
                                     activity_id=cmd.activity_id, note=cmd.note)
    ctx.repo(FUNDS).add(ledger)
    ctx.put(FUND_ENTRIES, {"_id": cmd.entry_id, "branch_id": branch.org_id})
    ctx.emit(c.BranchSpendingRecorded(entry_id=cmd.entry_id, branch_id=branch.org_id, amount=cmd.amount,
                                      spent_on=cmd.spent_on, purpose=cmd.purpose, activity_id=cmd.activity_id,
                                      note=cmd.note, balance=_money(balance), overdrawn=overdrawn))


def _wants(m) -> list:
    return [(FUND_ENTRIES, m.entry_id), (ORGS, m.branch_id), (FUNDS.name, m.branch_id)]


HANDLERS: dict[str, Handler] = {
    "RecordBranchFunds": Handler(record_branch_funds, _wants),
    "RecordBranchSpending": Handler(record_branch_spending, _wants),
}
