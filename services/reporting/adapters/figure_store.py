"""Writing the precomputed figures: every change of a branch's counters is added to the branch's
documents AND to those of every organisation above it, so that a report of any organisation,
the district included, reads two or three documents by `_id` (the one lookup FerretDB 1.24 on
SQLite answers without scanning a collection).

Documents are per (series, organisation, year): `entries` are the changes of each counter by
day. Series `*` (statuses, period-independent) also carries an `opening` balance, the sum of
every earlier year, so "as of a day" needs only that year's document; the years an
organisation has are listed in one small document. A branch whose place in the tree is not
known yet (its OrganizationEstablished is on another partition) is recorded first and its
documents are added to its ancestors once it is placed.
"""
from collections import defaultdict

from services.reporting.adapters.documents import (
    ORGS, add_entries, entries_of, figures_id, figures_of, new_figures, years_id,
)
from services.reporting.domain.contributions import DAY_SERIES, Contribution
from shared.messaging.pipeline import Context

Changes = dict[tuple[str, str], dict[str, int]]  # (series, day) → counter → change


def _sum(entries: dict[tuple[str, str], int]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for (_day, f), v in entries.items():
        out[f] += v
    return out


def _add(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    out = dict(a)
    for f, v in b.items():
        out[f] = out.get(f, 0) + v
    return {f: v for f, v in out.items() if v}


async def apply(ctx: Context, diff: Contribution) -> None:
    by_branch: dict[str, Changes] = defaultdict(dict)
    for (series, branch, day), fields in diff.items():
        by_branch[branch][(series, day)] = fields
    for branch, changes in sorted(by_branch.items()):
        org = await ctx.get(ORGS, branch)
        placed = bool(org and org.get("placed"))
        if not placed:
            org = org or {"_id": branch, "name": branch, "kind": "branch", "ancestors": []}
            keys = {f"{s}|{day[:4]}" for s, day in changes}
            org["unplaced"] = sorted(set(org.get("unplaced", [])) | keys)
            ctx.put(ORGS, org)
        for target in [branch, *(org["ancestors"] if placed else [])]:
            await apply_to_org(ctx, target, changes)


async def place_branch(ctx: Context, org: dict) -> dict:
    """Add what a branch counted before it was placed in the tree to its ancestors."""
    for key in org.pop("unplaced", []):
        series, year = key.rsplit("|", 1)
        doc = await ctx.get(figures_of(org["_id"], series), figures_id(series, org["_id"], year))
        if not doc:
            continue
        changes: Changes = defaultdict(dict)
        for (day, f), v in entries_of(doc).items():
            changes[(series, day)][f] = v
        for ancestor in org["ancestors"]:
            await apply_to_org(ctx, ancestor, changes)
    return org


async def apply_to_org(ctx: Context, org_id: str, changes: Changes) -> None:
    by_doc: dict[tuple[str, str], dict[tuple[str, str], int]] = defaultdict(dict)
    for (series, day), fields in changes.items():
        for f, v in fields.items():
            by_doc[(series, day[:4])][(day, f)] = v
    for (series, year), delta in sorted(by_doc.items()):
        if series == DAY_SERIES:
            await _open_year(ctx, org_id, year)
        doc = await ctx.get(figures_of(org_id, series), figures_id(series, org_id, year)) or new_figures(series, org_id, year)
        ctx.put(figures_of(org_id, series), add_entries(doc, delta))
        if series == DAY_SERIES:  # later years open with everything before them
            index = await ctx.get(figures_of(org_id, DAY_SERIES), years_id(org_id))
            for later in (y for y in index["years"] if y > year):
                ldoc = await ctx.get(figures_of(org_id, DAY_SERIES), figures_id(DAY_SERIES, org_id, later))
                ldoc["opening"] = _add(ldoc.get("opening", {}), _sum(delta))
                ctx.put(figures_of(org_id, DAY_SERIES), ldoc)


async def _open_year(ctx: Context, org_id: str, year: str) -> None:
    coll = figures_of(org_id, DAY_SERIES)
    index = await ctx.get(coll, years_id(org_id)) or {"_id": years_id(org_id), "years": []}
    if year in index["years"]:
        return
    earlier = [y for y in index["years"] if y < year]
    opening: dict[str, int] = {}
    if earlier:
        prev = await ctx.get(coll, figures_id(DAY_SERIES, org_id, max(earlier)))
        opening = _add(prev.get("opening", {}), _sum(entries_of(prev)))
    ctx.put(coll, new_figures(DAY_SERIES, org_id, year) | {"opening": opening})
    ctx.put(coll, index | {"years": sorted([*index["years"], year])})
