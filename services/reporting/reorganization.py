"""Reporting's service layer of 化并转 beyond a merge (issue 13).

- A dissolved branch is closed as a merged one is (`merged_on`, and `dissolved_on`): nothing is
  required of it in a period that begins after, and it raises no branch alert from that day.
- A moved branch takes its history with it: its figures (every counter of every day, kept in its
  own documents) are taken off the organisations it leaves and added to those it joins, so that a
  community's, a subdistrict's and the district's reports are always the sums of the branches
  below them as the tree stands now — the branch's past included — and a report of the community
  it left no longer counts it, for any period. The members' own facts (stints) name the branch,
  not the community, so nothing else moves.
- Changed settings (a committee, party groups) decide what is required of the branch in every
  period, as its settings at establishment did: a report reads the branch as it is now.
"""
from services.reporting.adapters import figure_store
from services.reporting.adapters.documents import FIGURES, ORG_TOTALS, ORGS, figures_id
from services.reporting.domain.contributions import DAY_SERIES
from shared.contracts import reorganization as c
from shared.messaging.pipeline import Context, Handler
from shared.periods import local_date


def _series(year: str) -> list[str]:
    return [DAY_SERIES, year, *(f"{year}-Q{q}" for q in range(1, 5)), *(f"{year}-{m:02d}" for m in range(1, 13))]


async def _history(ctx: Context, org: dict, upto_year: str) -> figure_store.Changes:
    """Every change the branch's own documents hold, by (series, day)."""
    totals = await ctx.get(ORG_TOTALS, org["_id"]) or {}
    years = set(totals.get("touched") or {}) | set(org.get("ledger_years") or [])
    if not years:
        return {}
    span = [str(y) for y in range(int(min(years)), max(int(max(years)), int(upto_year)) + 1)]
    keys = [(FIGURES, figures_id(org["_id"], s, y)) for y in span for s in _series(y)]
    await ctx.uow.prefetch(keys)
    out: figure_store.Changes = {}
    for _coll, doc_id in keys:
        doc = await ctx.get(FIGURES, doc_id)
        # What is moved is what was read: a batch adding to the branch meanwhile (to its old
        # ancestors) conflicts with this one, and one of the two runs again (finding 22).
        ctx.uow.depend_on(FIGURES, doc_id, fence=True)
        series = doc_id.split("|")[1]
        for day, counters in ((doc or {}).get("d") or {}).items():
            out[(series, day)] = {k: v for k, v in counters.items() if v}
    return out


def build_handlers(emit_alerts: bool = True) -> dict[str, Handler]:
    from services.reporting.handlers import ask_branch_alerts, defer_ledger  # it imports this module

    def day(ctx: Context) -> str:
        return local_date(ctx.envelope.occurred_at).isoformat()

    async def _org(ctx: Context, branch_id: str) -> dict:
        return await ctx.get(ORGS, branch_id) or {"_id": branch_id, "name": branch_id, "kind": "branch",
                                                   "ancestors": []}

    async def dissolved(e: c.BranchDissolved, ctx: Context) -> None:
        org = await _org(ctx, e.branch_id)
        org.update(merged_on=e.on.isoformat(), dissolved_on=e.on.isoformat(), merged_into=None)
        figure_store.count_branch(ctx, org)
        ctx.put(ORGS, org)
        ask_branch_alerts(ctx, e.branch_id, day(ctx), emit_alerts)

    async def moved(e: c.BranchMoved, ctx: Context) -> None:
        org = await _org(ctx, e.branch_id)
        old, new = list(org.get("ancestors") or []), list(e.ancestors)
        if org.get("placed") and old != new:
            changes = await _history(ctx, org, day(ctx)[:4])
            undo = {k: {n: -v for n, v in counters.items()} for k, counters in changes.items()}
            for a in old:
                if a not in new:
                    figure_store.add(ctx, a, undo)
            for a in new:
                if a not in old:
                    figure_store.add(ctx, a, changes)
        org.update(ancestors=new, parent_id=e.to_community_id)
        org.setdefault("moves", []).append({"on": e.on.isoformat(), "from": e.from_community_id,
                                            "to": e.to_community_id})
        figure_store.count_branch(ctx, org)  # what its old and new ancestors require
        ctx.put(ORGS, org)

    async def settings_changed(e: c.BranchSettingsChanged, ctx: Context) -> None:
        org = await _org(ctx, e.branch_id)
        org.update(has_committee=e.has_committee, party_groups=e.party_groups)
        figure_store.count_branch(ctx, org)
        ctx.put(ORGS, org)
        for year in org.get("ledger_years", []):  # its settings decide what its meetings meet
            defer_ledger(ctx, e.branch_id, year)
        ask_branch_alerts(ctx, e.branch_id, day(ctx), emit_alerts)

    def branch(e) -> list:
        return [(ORGS, e.branch_id), (ORG_TOTALS, e.branch_id)]

    return {
        "BranchDissolved": Handler(dissolved, branch),
        "BranchMoved": Handler(moved, branch),
        "BranchSettingsChanged": Handler(settings_changed, branch),
    }
