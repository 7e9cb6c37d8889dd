"""Reporting's projections and their mapping to documents.

- `orgs`: the tree, with what reports need of a branch (committee, groups, secretary, stars);
- `members`: a member's facts (see domain/facts.py), the contribution it currently makes to
  the figures, and its open alerts;
- `activities`: what an activity contributes (held meetings) and who attended it;
- `deltas`: the precomputed figures, one document per (series, branch, day) of counters;
- `awards`: awards granted, for the annual selection's evidence.

Keyed collections of facts are stored as lists of objects (FerretDB refuses keys with '.',
and ids may contain one).
"""
from services.reporting.domain.contributions import Contribution
from services.reporting.domain.facts import MemberFacts

ORGS = "orgs"
MEMBERS = "members"
ACTIVITIES = "activities"
DELTAS = "deltas"
AWARDS = "awards"
STATE = "state"  # small documents: the daily evaluation's last day, published months

_KEYED = {"attendance": "activity_id", "payments": "payment_id", "hours": "entry_id", "notices": "notice_id"}


def facts_from_doc(doc: dict | None, member_id: str) -> MemberFacts:
    if doc is None:
        return MemberFacts(member_id)
    f = doc.get("facts", {})
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
    return {"_id": m.member_id, "facts": facts, "branches": branches,
            "contribution": contribution_to_list(contribution), "open_alerts": open_alerts,
            "evaluated_on": evaluated_on}


def contribution_to_list(c: Contribution) -> list[dict]:
    return [{"s": s, "b": b, "d": day, "f": dict(sorted(fields.items()))} for (s, b, day), fields in sorted(c.items())]


def contribution_from_list(items: list[dict] | None) -> Contribution:
    return {(x["s"], x["b"], x["d"]): dict(x["f"]) for x in items or []}


GRAINS = {10: "d", 7: "m", 4: "y"}  # by the length of `day`: a day, a month, a year


def delta_id(series: str, branch: str, day: str) -> str:
    return f"{series}|{branch}|{day}"


def rollups(day: str) -> list[str]:
    """A delta is kept for its day, and rolled up into its month and its year, so that a sum
    up to any day reads at most: one document per past year, per past month of this year, and
    per day of this month (adapters/figures.py)."""
    return [day, day[:7], day[:4]]


def new_delta(series: str, branch: str, day: str) -> dict:
    return {"_id": delta_id(series, branch, day), "series": series, "branch": branch, "day": day,
            "grain": GRAINS[len(day)], "counters": []}


def delta_counters(doc: dict) -> dict[str, int]:
    return {c["f"]: c["v"] for c in doc.get("counters", [])}


def with_counters(doc: dict, counters: dict[str, int]) -> dict:
    """Counters are a list of {k: "<branch>|<field>", f, v}: FerretDB 1.24 sums only ONE
    accumulator per `$group` and groups by a single field, so the figures are summed with
    `$unwind` and a group on `k` (see adapters/figures.py)."""
    return doc | {"counters": [{"k": f"{doc['branch']}|{f}", "f": f, "v": v}
                               for f, v in sorted(counters.items()) if v]}


COUNTER_FIELDS = ("reg", "away", "exempt", "exempt_res", "overdue", "died", "active", "active_res", "due_skip",
                  "paid", "cents", "hours", "sent", "acked", "visited")


async def setup(db) -> None:
    await db[MEMBERS].create_index("branches")
    await db[ORGS].create_index("ancestors")
    await db[DELTAS].create_index([("branch", 1), ("series", 1), ("grain", 1), ("day", 1)])
    await db[AWARDS].create_index("year")
