"""A branch's funds (经费台账, issue 13): 返缴党费 and other funding received, and spending, per
activity where it was spent on one (活动经费). Pure.

Amounts are kept in fen (integers), never floats; they travel and are stored as decimal strings
with two places. Rules:
- an amount must be more than 0 (a spending of 0 or less is not spending: `invalid`, `data.amount`);
- an entry is dated on or before the day it is recorded, not in the future (`invalid`,
  `data.received_on` / `data.spent_on`); it may be older than the branch's record in the platform
  (a district records its branches when it adopts the platform, after years of their books);
- a repeated `entry_id` is a `duplicate` (checked across branches by the service layer);
- spending more than the balance is accepted, since the money has been spent, and flagged
  (`overdrawn`): reporting raises `funds_overdrawn` for the branch while its balance is negative.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from shared.errors import duplicate, invalid

SOURCES = ("dues_returned", "higher_level", "community", "donation", "other")


def to_fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def yuan(fen: int) -> str:
    """Fen as yuan with two places, in plain notation ("-12.50", never "1.2E+3")."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


@dataclass
class BranchFunds:
    branch_id: str
    # {entry_id, kind: in|out, fen, on, source (in), for_year, activity_id (out), purpose (out), note}
    entries: list[dict] = field(default_factory=list)

    def balance_fen(self, day: str | None = None) -> int:
        return sum(e["fen"] if e["kind"] == "in" else -e["fen"] for e in self.entries
                   if day is None or e["on"] <= day)


def _check(funds: BranchFunds, *, entry_id: str, amount: Decimal, on: str, today: str,
           day_field: str) -> None:
    if any(e["entry_id"] == entry_id for e in funds.entries):
        raise duplicate(f"entry {entry_id} is already recorded", "data.entry_id")
    if amount <= 0:
        raise invalid("an amount must be more than 0.00 yuan", "data.amount")
    if on > today:
        raise invalid(f"{on} is after the day it was recorded ({today})", day_field)


def receive(funds: BranchFunds, *, entry_id: str, source: str, amount: Decimal, on: str, today: str,
            for_year: int | None = None, note: str | None = None) -> int:
    """Record money received. Returns the balance (fen) over every entry, after it."""
    _check(funds, entry_id=entry_id, amount=amount, on=on, today=today, day_field="data.received_on")
    if for_year is not None and source != "dues_returned":
        raise invalid("only dues returned (返缴党费) belong to a year", "data.for_year")
    if for_year is not None and for_year > int(on[:4]):
        raise invalid(f"dues of {for_year} cannot be returned on {on}", "data.for_year")
    funds.entries.append({"entry_id": entry_id, "kind": "in", "fen": to_fen(amount), "on": on, "source": source,
                          "for_year": for_year, "note": note})
    return funds.balance_fen()


def spend(funds: BranchFunds, *, entry_id: str, amount: Decimal, on: str, today: str,
          purpose: str, activity_id: str | None = None, note: str | None = None) -> tuple[int, bool]:
    """Record money spent. Returns the balance (fen) after it, and whether it is negative."""
    _check(funds, entry_id=entry_id, amount=amount, on=on, today=today, day_field="data.spent_on")
    funds.entries.append({"entry_id": entry_id, "kind": "out", "fen": to_fen(amount), "on": on,
                          "activity_id": activity_id, "purpose": purpose, "note": note})
    balance = funds.balance_fen()
    return balance, balance < 0
