"""Reporting's projections and their mapping to documents.

- `orgs`: the tree, with what reports need of a branch (committee, groups, secretary, stars);
- `members`: a member's facts (see domain/facts.py) as a nested document, the contribution it
  currently makes to the figures, and its open alerts;
- `activities`: what an activity contributes (held meetings) and who attended it;
- `figures`: the precomputed figures, one document per (organisation, series, year) holding the
  day-by-day changes of each counter as nested fields `d.<YYYY-MM-DD>.<counter>`
  (adapters/figure_store.py);
- `org_totals`: per organisation, the yearly totals of its period-independent series `*`, and
  its subtree's branches counted by settings (what its report requires);
- `ledgers`: per branch and year, the meetings held (for organisational-life compliance);
- `awards`: awards granted, for the annual selection's evidence;
- `member_alerts`: per member with an open alert, a small copy of what `members` stores of them
  (`listed_alerts`), written with it;
- `study_roll`: per member, what remote study weighs of their facts (`study_roll`), written with
  their document in `members`.

Ids are MongoDB field names by the contract's rule (no '.', no leading '$'), so keyed facts are
embedded documents keyed by their own ids.
"""
from dataclasses import fields

from services.reporting.domain.alerts import MEMBER_RULES_VERSION
from services.reporting.domain.contributions import DAY_SERIES, Contribution
from services.reporting.domain.facts import MemberFacts
from services.reporting.domain.study import present_by_day
from shared.messaging.unit_of_work import clone

ORGS = "orgs"
MEMBERS = "members"
ACTIVITIES = "activities"
FIGURES = "figures"
ORG_TOTALS = "org_totals"
LEDGERS = "ledgers"
AWARDS = "awards"
NOTICES = "notices"  # per notice: whether it asks for acknowledgement (only those count as sent)
STATE = "state"  # small documents: the daily evaluation's last day
MEMBER_ALERTS = "member_alerts"  # a member's open alerts as stored in `members`, for the alert list
ALERT_ANNOUNCEMENTS = "alert_announcements"  # alert changes waiting to be announced (announcements.py)
STUDY_ROLL = "study_roll"  # what remote study weighs of a member's facts (`study_roll`)
# Set in a branch's own `org_totals` document created since it keeps `reg.<day>` (figure_store.py).
REG_DAYS = "reg_days"
# Kept encoded by the units of work between reads (shared/messaging/unit_of_work.py): a member's
# year of facts and contribution, 14 KB stored at the median (one of 18 KB decodes to 127 KB), and a batch reads a
# thousand of them. And the other collections of which a batch reads thousands at 100,000 members:
# decoded, their documents take 5 to 10 times their stored size (reporting was at 926 MB after a
# batch of 500 records that read 54,000 documents, 23.5 MB stored). Decoding at each read costs no
# more CPU than the copy a decoded document gets (reporting_ingest.py, 30,000 records of the
# 1,000-member year, alternately: 2.57 and 2.49 ms per record against 2.73 and 2.69, with the first
# five of these kept encoded).
KEPT_ENCODED = frozenset({MEMBERS, FIGURES, MEMBER_ALERTS, STUDY_ROLL, LEDGERS, ORGS, ORG_TOTALS,
                          ALERT_ANNOUNCEMENTS})
# Written once a batch, by a member's refresh (its deferred work), and most of what a batch writes at
# 100,000 members: written ahead of the commit while the batch's other members are worked out
# (shared/messaging/mongo_uow.py, `MongoStore.write_ahead`).
WRITTEN_AHEAD = frozenset({MEMBERS, STUDY_ROLL, MEMBER_ALERTS})
# A member read brings its refresh into the batch: its document written again, its study roll, its
# listed alerts and their announcements; counted as this many documents towards what a batch reads
# (Pipeline.read_weights). At 100,000 members a batch of the ledger's last 1,343 records read 18,113
# members within the bounds and held 148,455 documents, 53,443 of them alert announcements
# (reporting at 329 MB); so counted, at most 58,534 to January (233 MB; docs/benchmarks.md).
READ_WEIGHTS = {MEMBERS: 4}
# The version of what `study_roll` keeps: a member's document in `members` says which it was written
# with, so a read takes the rolls of that version alone and works out the others from the facts
# (a member stored before the roll existed, or before a change of what it keeps). Raise it when
# `study_roll` or `present_by_day` changes.
STUDY_ROLL_VERSION = 1

_FACTS = [f.name for f in fields(MemberFacts) if f.name != "member_id"]
STINTS = ("branch_id", "registered_on", "transfers", "died_on")  # the facts that say where a member was
# What remote study and its home-delivery list read of a member besides attendance: where they
# were, and for the list their standing, name and specialist.
ROLL_FACTS = (*STINTS, "name", "specialist_id", "away", "returns", "exempt")


def facts_from_doc(doc: dict | None, member_id: str, copy: bool = True) -> MemberFacts:
    """`copy=False` for a document that is the caller's alone (a query's, fresh from the database):
    copying a member's year of facts was half of what reading a district's members cost."""
    if doc is None:
        return MemberFacts(member_id)
    f = doc.get("facts") or {}
    if not isinstance(f, dict):
        raise ValueError(f"member {member_id} is stored in an earlier format: rebuild the projections "
                         "into a new version (services/reporting/rebuild.py)")
    if copy:
        f = clone(f)  # the handlers change the facts in place; `doc` may be the cache's own (ctx.read)
    return MemberFacts(member_id, **{k: f[k] for k in _FACTS if k in f})


def member_branches(m: MemberFacts) -> list[str]:
    """Every branch the member ever belonged to: the key of the subtree queries."""
    return sorted({s.branch_id for s in m.stints()} | ({m.branch_id} if m.branch_id else set()))


# What a member's refresh works out again besides their facts (`member_to_doc`), whatever changed.
MEMBER_REFRESHED = ("open_alerts", "evaluated_on", "alerts_of", "study_roll")


def member_to_doc(m: MemberFacts, open_alerts: list[dict], evaluated_on: str | None,
                  alerts_of: str | None = None) -> dict:
    return {"_id": m.member_id, "facts": {k: getattr(m, k) for k in _FACTS}, "branches": member_branches(m),
            "open_alerts": open_alerts, "evaluated_on": evaluated_on, "alerts_of": alerts_of,
            "study_roll": STUDY_ROLL_VERSION}


def study_roll(m: MemberFacts, copy: bool = True) -> dict:
    """A member's document in `study_roll`: the facts remote study and its home-delivery list weigh
    (`ROLL_FACTS`), their present attendances by day and mode instead of their attendance, and
    their branches, in a document a tenth the size of theirs in `members` (a year of notices,
    payments and attendance). Both reads read these instead: at 100,000 members they read every
    member of a district for every load of its dashboard (docs/benchmarks.md). `copy=False` for
    a roll only compared, never stored: it shares the member's facts."""
    facts = {k: getattr(m, k) for k in ROLL_FACTS}
    return {"_id": m.member_id, "branches": member_branches(m), "facts": clone(facts) if copy else facts,
            "present": present_by_day(m)}


def alerts_key(day: str, records_start: str | None) -> str:
    """What a member's stored `open_alerts` are the alerts of: the day they were evaluated as of,
    where the records began then (RECORDS_START decides which months count) and the member rules'
    version (`alerts.MEMBER_RULES_VERSION`). The alert list takes them as stored when it asks for
    the same key (queries.member_alerts); the daily pass runs again for a new one (daily.py)."""
    return f"{day}|{records_start or ''}|{MEMBER_RULES_VERSION}"


def listed_alerts(doc: dict | None) -> dict | None:
    """A member's document in `member_alerts`, from its document in `members`: its stored open
    alerts, their key, its branches and name, in a document of a few hundred bytes, for a member
    with an open alert only (None otherwise). The alert list reads these instead of the members'
    documents, which hold a year of facts: a district's 100,000 took 9–10 s to read through an
    index, their copies here under 1 s (docs/benchmarks.md)."""
    if not doc or not doc.get("alerts_of") or not doc.get("open_alerts"):
        return None
    return {"_id": doc["_id"], "alerts_of": doc["alerts_of"], "branches": list(doc["branches"]),
            "name": (doc.get("facts") or {}).get("name"), "open_alerts": clone(doc["open_alerts"])}


def contribution_to_doc(c: Contribution) -> dict:
    """{series: {branch: {day: {counter: n}}}}"""
    out: dict = {}
    for (series, branch, day), counters in c.items():
        out.setdefault(series, {}).setdefault(branch, {})[day] = dict(counters)
    return out


def contribution_from_doc(doc: dict | None) -> Contribution:
    return {(series, branch, day): dict(counters)
            for series, by_branch in (doc or {}).items()
            for branch, by_day in by_branch.items()
            for day, counters in by_day.items()}


def figures_year(series: str, day: str) -> str:
    """The year of the document a change goes to: the day's for `*`, the period's otherwise."""
    return day[:4] if series == DAY_SERIES else series[:4]


def figures_id(org_id: str, series: str, year: str) -> str:
    return f"{org_id}|{series}|{year}"


def ledger_id(branch_id: str, year: str) -> str:
    return f"{branch_id}|{year}"


async def setup(db) -> None:
    """An index for every query reporting makes (everything else is read by `_id`)."""
    await db[MEMBERS].create_index("branches")  # a subtree's members (alerts, lists, exports)
    # The alert list (queries.member_alerts): the members stored for another day than the one asked
    # (`$ne` on the key), and the copies of those stored for it, the whole district's or a subtree's.
    await db[MEMBERS].create_index("alerts_of")
    await db[MEMBER_ALERTS].create_index("alerts_of")
    await db[MEMBER_ALERTS].create_index("branches")
    # Remote study (study_queries): the members whose roll is not of this version, then the rolls.
    await db[MEMBERS].create_index("study_roll")
    await db[STUDY_ROLL].create_index("branches")
    await db["applicants"].create_index("branch_id")  # a subtree's applicants (activists.py, issue 13)
    await db[ORGS].create_index([("ancestors", 1), ("kind", 1)])  # the branches below an org
    await db[ORGS].create_index("kind")  # every branch (the background evaluation)
    await db[ORGS].create_index("published_month")  # organisations whose closed month is not out yet
    await db[FIGURES].create_index([("org", 1), ("year", 1)])  # a branch's documents of a year (series)
    await db[ORGS].create_index("parent_id")  # the organisations directly below one (the series by children)
    await db[AWARDS].create_index("year")
    # The alert changes waiting to be announced, for the background task (announcements.py). A
    # document is deleted once announced, so nearly all of them wait: a plain index serves.
    await db[ALERT_ANNOUNCEMENTS].create_index("announce_at")
    await db["volunteer_teams"].create_index("community_id")  # a subtree's teams (issue 13, teams.py)
    await db["volunteer_team_roster"].create_index("team_id")  # a team's members (team_queries.py)
    await db["volunteer_team_hours"].create_index([("team_id", 1), ("on", 1)])  # a team's hours of a period
    await db["service_requests"].create_index([("branch_id", 1), ("opened_on", 1)])  # issue 13
    await db["service_requests"].create_index("member_id")
    await db["service_requests"].create_index("resolved_on")  # the open ones (the periodic check)
    await db["facility_demands"].create_index("community_id")  # 阵地需求 (issue 13, facility_demand.py)
    await db["venues"].create_index("org_id")
