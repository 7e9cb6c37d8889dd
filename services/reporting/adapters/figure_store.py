"""Writing the precomputed figures: every change of a branch's counters is added to the branch's
documents AND to those of every organisation above it, so that a report of any organisation,
the district included, reads a few documents by `_id`, whatever the number of members.

Documents are per (organisation, series, year) in the `figures` collection: `d.<day>.<counter>`
is the change of a counter on that day, and `m.<YYYY-MM>.<counter>` the month's total of those
changes (so a reading as of a day sums the months before the day's and that month's days up to
it, whatever the size of the year). A period series (`2026-03`, `2026-Q1`, `2026`) lives in
one document; the period-independent series `*` (statuses) in one per year of the day, and
every change of it is also added to that year's total in the organisation's `org_totals`
document (`years.<year>.<counter>`, and `touched.<year>` counts the writes to each year's
document): a reading as of a day is the totals of the earlier years plus that year's changes up
to the day.

A branch's own `org_totals` document also keeps the changes of its registered members by day
(`reg.<day>`, with `reg_days: 1` set when the document was created, so a document created before
this is known not to): the branch rules' history of its size (figures.registered_history) is then
one document, not every year's `*` document since its first member's registration (at 100,000
members a batch's branch evaluations read 30,000 of those, 4 s of the database's time).

The same `org_totals` document counts the branches of the organisation's subtree by their
settings (`branches.<settings_key>`) and the merges by day (`merged.<day>.<settings_key>`): what
a report requires of a subtree, without reading its branches (`count_branch`).

Every write is an `$inc` (upserted): increments commute, so the order in which batches, or
instances, apply them never matters, and no figures document is ever read to be written.
A branch whose place in the tree is not known yet (its OrganizationEstablished is on another
partition) counts in its own documents first; they are added to its ancestors once it is placed.
"""
from collections import defaultdict

from services.reporting.adapters.documents import FIGURES, ORG_TOTALS, ORGS, REG_DAYS, figures_id, figures_year
from services.reporting.domain.contributions import DAY_SERIES, Contribution
from services.reporting.domain.report import settings_key
from shared.messaging.pipeline import Context

Changes = dict[tuple[str, str], dict[str, int]]  # (series, day) → counter → change
KEEPS_REG_DAYS = {REG_DAYS: 1}  # set on a branch's own `org_totals` document as it is created


async def apply(ctx: Context, diff: Contribution) -> None:
    by_branch: dict[str, Changes] = defaultdict(dict)
    for (series, branch, day), counters in diff.items():
        by_branch[branch][(series, day)] = counters
    for branch, changes in sorted(by_branch.items()):
        org = await ctx.get(ORGS, branch)
        placed = bool(org and org.get("placed"))
        if not placed:
            # Remembered on the org, and written even when already listed: the write is
            # version-checked, so a batch placing the branch at the same time (it copies the
            # branch's documents to the ancestors) and this one cannot both commit.
            org = org or {"_id": branch, "name": branch, "kind": "branch", "ancestors": []}
            keys = {f"{s}|{figures_year(s, day)}" for s, day in changes}
            org["unplaced"] = sorted(set(org.get("unplaced", [])) | keys)
            ctx.put(ORGS, org)
        else:
            # Added to the ancestors read here: a batch moving the branch meanwhile (it moves the
            # branch's history from its old ancestors to its new ones) makes this one run again.
            ctx.uow.depend_on(ORGS, branch)
        for target in [branch, *(org["ancestors"] if placed else [])]:
            add(ctx, target, changes, own=target == branch)


async def place_branch(ctx: Context, org: dict) -> dict:
    """Add what a branch counted before it was placed in the tree to its ancestors."""
    for key in org.pop("unplaced", []):
        series, year = key.rsplit("|", 1)
        doc = await ctx.get(FIGURES, figures_id(org["_id"], series, year))
        changes: Changes = {(series, day): counters for day, counters in ((doc or {}).get("d") or {}).items()}
        for ancestor in org["ancestors"]:
            add(ctx, ancestor, changes)
    return org


def add(ctx: Context, org_id: str, changes: Changes, own: bool = False) -> None:
    """Stage the `$inc`s of some changes to one organisation's documents (`own`: a branch's own,
    which also keep its registered members' changes by day)."""
    by_doc: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    for (series, day), counters in changes.items():
        year = figures_year(series, day)
        incs = by_doc[(series, year)]
        for counter, n in counters.items():
            incs[f"d.{day}.{counter}"] += n
            incs[f"m.{day[:7]}.{counter}"] += n
            if series == DAY_SERIES:
                totals[f"years.{year}.{counter}"] += n
                if own and counter == "reg":
                    totals[f"reg.{day}"] += n
    for (series, year), incs in sorted(by_doc.items()):
        incs = {k: n for k, n in incs.items() if n}
        if not incs:
            continue
        ctx.inc(FIGURES, figures_id(org_id, series, year), incs,
                on_insert={"org": org_id, "series": series, "year": year})
        if series == DAY_SERIES:  # the years that have a `*` document, even if their total is 0
            totals[f"touched.{year}"] += 1
    totals = {k: n for k, n in totals.items() if n}
    if totals:
        ctx.inc(ORG_TOTALS, org_id, totals, on_insert=KEEPS_REG_DAYS if own else None)


def count_branch(ctx: Context, org: dict) -> None:
    """Keep a placed branch counted, by its settings, in its own and its ancestors' totals (and
    its merge, by day), undoing what it counted before when its settings, place or merge change.
    What is counted is remembered on the org document, which the caller then puts."""
    now = None
    if org.get("kind") == "branch" and org.get("placed"):
        now = {"key": settings_key(bool(org.get("has_committee", False)), org.get("party_groups", 0)),
               "orgs": [org["_id"], *org.get("ancestors", [])], "merged_on": org.get("merged_on")}
    before = org.get("counted")
    if now == before:
        return
    for counted, n in ((before, -1), (now, 1)):
        if counted:
            incs = {f"branches.{counted['key']}": n}
            if counted["merged_on"]:
                incs[f"merged.{counted['merged_on']}.{counted['key']}"] = n
            for org_id in counted["orgs"]:
                ctx.inc(ORG_TOTALS, org_id, incs, on_insert=KEEPS_REG_DAYS if org_id == org["_id"] else None)
    org["counted"] = now
