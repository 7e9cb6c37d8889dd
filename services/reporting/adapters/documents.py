"""Reporting's projections and their mapping to documents.

- `orgs`: the tree, with what reports need of a branch (committee, groups, secretary, stars);
- `members`: a member's facts (see domain/facts.py), the contribution it currently makes to
  the figures, and its open alerts;
- `activities`: what an activity contributes (held meetings) and who attended it;
- `figures`: the precomputed figures, one document per (series, organisation, year) holding the
  day-by-day changes of each counter (adapters/figure_store.py);
- `ledgers`: per branch and year, the meetings held (for organisational-life compliance);
- `awards`: awards granted, for the annual selection's evidence.

Keyed collections of facts are stored as lists of objects (FerretDB refuses keys with '.',
and ids may contain one).
"""
import json

from services.reporting.domain.contributions import Contribution
from services.reporting.domain.facts import MemberFacts

ORGS = "orgs"
MEMBERS = "members"
ACTIVITIES = "activities"
FIGURES = "figures"
LEDGERS = "ledgers"
AWARDS = "awards"
STATE = "state"  # small documents: the daily evaluation's last day, published months

_KEYED = {"attendance": "activity_id", "payments": "payment_id", "hours": "entry_id", "notices": "notice_id"}


def facts_from_doc(doc: dict | None, member_id: str) -> MemberFacts:
    if doc is None:
        return MemberFacts(member_id)
    f = doc.get("facts", {})
    if isinstance(f, str):
        f = json.loads(f)
    m = MemberFacts(member_id, **{k: f[k] for k in (
        "name", "branch_id", "registered_on", "lives_alone", "health", "specialist_id", "died_on",
        "transfers", "away", "returns", "exempt") if k in f})
    for name, key in _KEYED.items():
        setattr(m, name, {x[key]: {k: v for k, v in x.items() if k != key} for x in f.get(name, [])})
    m.visits = {x["visit_id"]: x["on"] for x in f.get("visits", [])}
    m.evaluations = {x["year"]: x["result"] for x in f.get("evaluations", [])}
    return m


def member_to_doc(m: MemberFacts, contribution: Contribution, open_alerts: list[dict],
                  evaluated_on: str | None) -> dict:
    facts = {k: getattr(m, k) for k in (
        "name", "branch_id", "registered_on", "lives_alone", "health", "specialist_id", "died_on",
        "transfers", "away", "returns", "exempt")}
    for name, key in _KEYED.items():
        facts[name] = [{key: i, **v} for i, v in sorted(getattr(m, name).items())]
    facts["visits"] = [{"visit_id": i, "on": on} for i, on in sorted(m.visits.items())]
    facts["evaluations"] = [{"year": y, "result": r} for y, r in sorted(m.evaluations.items())]
    branches = sorted({s.branch_id for s in m.stints()} | ({m.branch_id} if m.branch_id else set()))
    # facts and contribution are kept as JSON text: FerretDB 1.24 converts every nested element
    # of a document on each read and write, which made member documents the reporting bottleneck.
    return {"_id": m.member_id, "facts": _pack(facts), "branches": branches,
            "contribution": _pack(contribution_to_list(contribution)), "open_alerts": open_alerts,
            "evaluated_on": evaluated_on}


def contribution_to_list(c: Contribution) -> list[dict]:
    return [{"s": s, "b": b, "d": day, "f": dict(sorted(fields.items()))} for (s, b, day), fields in sorted(c.items())]


def _pack(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def contribution_from_list(items: list[dict] | str | None) -> Contribution:
    if isinstance(items, str):
        items = json.loads(items)
    return {(x["s"], x["b"], x["d"]): dict(x["f"]) for x in items or []}


def figures_of(org_id: str, series: str) -> str:
    """Each organisation's series live in a collection of their own: FerretDB 1.24 on SQLite
    finds even an `_id` by scanning, so a report reads one document of a collection that holds
    one (a period) or a few (`*`: one per year), whatever the size of the district
    (benchmarks/reporting_bench.py)."""
    return f"{FIGURES}_{org_id}_{'status' if series == '*' else series}"


def figures_id(series: str, org_id: str, year: str) -> str:
    return f"{series}|{org_id}|{year}"


def years_id(org_id: str) -> str:
    """The list of years an organisation has `*` documents for (see adapters/figure_store.py)."""
    return f"*|{org_id}|years"


def new_figures(series: str, org_id: str, year: str) -> dict:
    return {"_id": figures_id(series, org_id, year), "series": series, "org": org_id, "year": year,
            "opening": {}, "entries": {}}


def entries_of(doc: dict) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for f, text in (doc.get("entries") or {}).items():
        for item in text.split(";") if text else ():
            day, v = item.split("=")
            out[(day, f)] = int(v)
    return out


def with_entries(doc: dict, entries: dict[tuple[str, str], int]) -> dict:
    """Entries are stored as one string per counter ("2026-03-05=2;2026-03-20=-1"): FerretDB
    1.24 converts a document's every array element on each read, a string costs it nothing."""
    by_field: dict[str, list[str]] = {}
    for (day, f), v in sorted(entries.items()):
        if v:
            by_field.setdefault(f, []).append(f"{day}={v}")
    return doc | {"entries": {f: ";".join(items) for f, items in sorted(by_field.items())}}


def add_entries(doc: dict, delta: dict[tuple[str, str], int]) -> dict:
    """`with_entries(doc, entries_of(doc) + delta)`, decoding and re-encoding only the counters
    the delta touches: a batch applies thousands of small deltas to the same few documents."""
    entries = dict(doc.get("entries") or {})
    by_field: dict[str, dict[str, int]] = {}
    for (day, f), v in delta.items():
        by_field.setdefault(f, {})[day] = by_field.get(f, {}).get(day, 0) + v
    for f, changes in by_field.items():
        current: dict[str, int] = {}
        for item in entries[f].split(";") if entries.get(f) else ():
            day, v = item.split("=")
            current[day] = int(v)
        for day, v in changes.items():
            current[day] = current.get(day, 0) + v
        items = [f"{day}={v}" for day, v in sorted(current.items()) if v]
        if items:
            entries[f] = ";".join(items)
        else:
            entries.pop(f, None)
    return doc | {"entries": dict(sorted(entries.items()))}


def ledger_id(branch_id: str, year: str) -> str:
    return f"{branch_id}|{year}"


async def setup(db) -> None:
    await db[MEMBERS].create_index("branches")
    await db[ORGS].create_index("ancestors")
    await db[AWARDS].create_index("year")
