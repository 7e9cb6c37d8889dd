"""What the branch rules need of a branch on a day, read from its precomputed figures."""
from services.reporting.adapters import figures
from services.reporting.domain import alerts as al
from shared.contracts.codes import ORG_LIFE_KINDS
from shared.periods import parse_period


async def branch_state(reader: figures.Reader, b: dict, day: str) -> al.BranchState:
    history = await figures.registered_history(reader, b["_id"], day)
    registered = history[-1][1] if history else 0
    small_since = None
    for when, n in history:  # the day it last dropped below 3
        if n < 3 and small_since is None:
            small_since = when
        elif n >= 3:
            small_since = None
    quarter = parse_period(al.last_complete_quarter(day))
    sums = await figures.org_sums(reader, b["_id"], quarter, quarter.end.isoformat())
    return al.BranchState(b["_id"], b.get("established_on", day), b.get("has_committee", False),
                          b.get("party_groups", 0), b.get("secretary_id"), registered, small_since,
                          {k: sums.period.get(f"held_{k}", 0) for k in ORG_LIFE_KINDS})
