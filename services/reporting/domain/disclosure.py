"""Which sums of a report are one person's money, and so masked as that person's data. Pure.

A report's totals are not personal data: they sum over many members or secretaries. Two are a
person's all the same when they cover too few (`shared.auth.masking`):
- the secretary's allowance over a single branch is one secretary's pay (category `allowance`);
- the dues paid in a branch of fewer than `FEWEST` registered members tell their dues, so their
  pensions (dues × 200): with one member the sum is theirs, with two each member (the secretary
  among them reads the report) learns the other's by subtracting their own. Three is also the
  smallest branch the rules allow (化并转 below it).
"""
from shared.auth.masking import Category, mask

FEWEST = 3


def masked_report(report: dict, hidden: frozenset[Category]) -> dict:
    """The report with its per-person sums masked for a viewer who does not see `hidden` in clear."""
    out = dict(report)
    allowance = out.get("allowance")
    if allowance is not None and allowance.get("branches", 0) <= 1:
        out["allowance"] = mask({"allowance": allowance}, hidden & {"allowance"})[0]["allowance"]
    dues, members = out.get("dues"), out.get("members") or {}
    if dues is not None and members.get("registered", 0) < FEWEST and "pension" in hidden:
        out["dues"] = {**dues, "amount_paid": "****"}
    return out


def masked_series_row(row: dict, hidden: frozenset[Category]) -> dict:
    """A branch's row of the monthly series (`months[].amount_paid`, `registered`, and its
    `report`) with its per-person sums masked, month by month."""
    few = "pension" in hidden
    months = [{**m, "amount_paid": "****"} if few and m["registered"] < FEWEST else m for m in row["months"]]
    return {**row, "months": months, "report": masked_report(row["report"], hidden)}
