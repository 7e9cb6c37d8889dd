"""Reporting's service layer: projections kept from every events topic, in one table.

Every handler only records facts (idempotently, as sets keyed by their ids); the figures and
alerts are then derived from all the facts, so the order events arrive in across topics never
changes the result. Deriving is per batch, not per event: a handler records what its event says
and asks (`ctx.defer`) for its subject to be refreshed once at the end of the batch, whatever the
number of the batch's events about it:
- ("member", id): the member's facts get the batch's changes, its contribution to the figures is
  recomputed and the difference applied (as `$inc`s, adapters/figure_store.py), its alerts
  evaluated as of the latest day of the batch's events about it;
- ("ledger", branch, year): likewise for a branch's meetings of a year;
- ("branch", id): a branch's alerts, against the figures the batch staged (so after the members'
  and ledgers' work: it is asked by that work, hence runs in the next round of deferred work).
AlertRaised and AlertCleared ids derive from the alert's own state (id, level, months, day), not
from the message that caused them: the same state gives the same id however events were batched.
They are announced once the change has stood for the settling time (announcements.py).
"""
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import NamedTuple

from services.reporting import announcements, facility_demand, reorganization, service_requests, teams
from services.reporting.adapters import figure_store
from services.reporting.adapters.branch_state import branch_state
from services.reporting.adapters.documents import (
    ACTIVITIES, AWARDS, FIGURES, MEMBER_ALERTS, MEMBER_REFRESHED, ORG_TOTALS, LEDGERS, MEMBERS, NOTICES, ORGS,
    STUDY_ROLL, STUDY_ROLL_VERSION, contribution_from_doc, contribution_to_doc, alerts_key, facts_from_doc, figures_id,
    ledger_id, listed_alerts, member_to_doc, study_roll,
)
from services.reporting.adapters.figures import ContextReader, history_keys
from services.reporting.domain import alerts as al
from services.reporting.domain.contributions import (
    AUTOMATIC_NOTICE_PREFIXES, DAY_SERIES, Contribution, attendance_difference, difference, first_present,
    ledger_contribution, member_contribution, requires_ack,
)
from services.reporting.domain.facts import MemberFacts, attendance_entry
from services.reporting.settings import district_rules, records_start
from shared.contracts import activities as a
from shared.contracts import members as m
from shared.contracts import notifications as n
from shared.messaging.pipeline import Context, Handler
from shared.periods import local_date, parse_period


# How a member's contribution changed: the difference to apply, given their facts now (`as_read`).
Changed = Callable[[MemberFacts], Contribution]


class Loaded(NamedTuple):
    """A member loaded for their refresh, with the batch's changes: their document as read, their
    facts, their study roll as read and how their contribution changed (`as_read`), and the paths
    their new document differs at (`attendance_written`; None: it is written whole)."""

    doc: dict | None
    facts: MemberFacts
    roll: dict | None
    changed: Changed
    written: list[str] | None


def event_day(ctx: Context) -> str:
    return local_date(ctx.envelope.occurred_at).isoformat()


def _later(days: dict, key, day: str | None) -> None:
    """Remember the latest day asked for a subject (alerts never move back in time)."""
    if day and (key not in days or days[key] < day):
        days[key] = day


class _Batch:
    """What the batch's messages asked of each subject, until its deferred work applies it.

    Kept beside the unit of work (one per batch attempt: a batch run again after a conflict
    starts afresh). A handler adds to it as its last step, after anything that could fail, so a
    message rolled back has added nothing."""

    def __init__(self) -> None:
        self.members: dict[str, list[Callable[[MemberFacts], None]]] = defaultdict(list)
        self.member_day: dict[str, str] = {}
        self.not_attendance: set[str] = set()  # members the batch changes in more than their attendance
        self.attended: dict[str, set[str]] = defaultdict(set)  # the activities whose attendance it changes
        self.loaded: dict[str, Loaded] = {}  # the members loaded for their refresh
        self.ledgers: dict[tuple[str, str], list[Callable[[dict], None]]] = defaultdict(list)
        self.ledger_day: dict[tuple[str, str], str] = {}
        self.branch_day: dict[str, str] = {}
        self.branch_emit: dict[str, bool] = {}
        self.branches_read: set[str] = set()


def batch(ctx: Context) -> _Batch:
    return ctx.uow.beside("reporting-batch", _Batch)


# ---- alerts ---------------------------------------------------------------------------------

def emit_changes(ctx: Context, before: list[dict], now: list[al.Alert], day: str) -> list[dict]:
    """Announce each alert new or changed in level (AlertRaised) and each one gone (AlertCleared),
    once the change has stood for the settling time (announcements.py); returns what now stands,
    for the subject's `open_alerts`."""
    old = {x["alert_id"]: x for x in before}
    current = {x.alert_id: x for x in now}
    changes = [(alert_id, old.get(alert_id), x.to_dict()) for alert_id, x in current.items()
               if alert_id not in old or old[alert_id]["level"] != x.level or old[alert_id].get("months") != x.months]
    changes += [(alert_id, x, None) for alert_id, x in old.items() if alert_id not in current]
    if changes:
        announcements.announce(ctx, changes, day)
    return [x.to_dict() for x in now]


async def refresh_branch_alerts(ctx: Context, branch_id: str, day: str, emit_alerts: bool) -> None:
    """Evaluate a branch's rules as of `day` (never moving back in time) against the figures
    this batch has staged, and announce what opened or closed."""
    org = await ctx.get(ORGS, branch_id)
    if not org or org.get("kind") != "branch" or not org.get("placed"):
        return
    evaluated = max(day, org.get("evaluated_on") or day)
    current = al.branch_alerts(await branch_state(ContextReader(ctx), org, evaluated), evaluated, district_rules())
    if org.get("merged_on") and org["merged_on"] <= evaluated:
        current = []  # merged or dissolved: no branch any more (化并转)
    before = org.get("open_alerts", [])
    org["open_alerts"] = emit_changes(ctx, before, current, evaluated) if emit_alerts else [
        x.to_dict() for x in current]
    org["evaluated_on"] = evaluated
    ctx.put(ORGS, org)


def defer_branch_alerts(ctx: Context, branch_id: str, day: str, emit_alerts: bool) -> None:
    """From deferred work (a member's, a ledger's): evaluate the branch once, in the next round,
    against everything this round staged, as of the latest day asked."""
    b = batch(ctx)
    _later(b.branch_day, branch_id, day)
    b.branch_emit[branch_id] = b.branch_emit.get(branch_id, False) or emit_alerts
    ctx.defer(("branch", branch_id), lambda c: _branch_work(c, branch_id))


def ask_branch_alerts(ctx: Context, branch_id: str, day: str, emit_alerts: bool) -> None:
    """From a handler: the branch's alerts once the batch's members and ledgers are refreshed
    (through a deferred step, so that the evaluation itself lands in the round after theirs)."""
    b = batch(ctx)
    _later(b.branch_day, branch_id, day)
    b.branch_emit[branch_id] = b.branch_emit.get(branch_id, False) or emit_alerts

    async def later(c: Context) -> None:
        c.defer(("branch", branch_id), lambda c2: _branch_work(c2, branch_id))
    ctx.defer(("branch-asked", branch_id), later)


async def _branch_work(ctx: Context, branch_id: str) -> None:
    b = batch(ctx)
    day = b.branch_day.pop(branch_id, None)
    emit = b.branch_emit.pop(branch_id, True)
    if day is None:
        return
    await _read_branches(ctx, b)
    await refresh_branch_alerts(ctx, branch_id, day, emit)


async def _read_branches(ctx: Context, b: _Batch) -> None:
    """Everything the batch's branch evaluations will read, in two queries per collection."""
    ids = sorted(set(b.branch_day) - b.branches_read)
    if not ids:
        return
    b.branches_read |= set(ids)
    await ctx.uow.prefetch([(ORGS, i) for i in ids] + [(ORG_TOTALS, i) for i in ids])
    keys = []
    for branch_id, day in ((i, b.branch_day[i]) for i in ids):
        org = await ctx.get(ORGS, branch_id) or {}
        day = max(day, org.get("evaluated_on") or day)
        keys += history_keys(branch_id, await ctx.get(ORG_TOTALS, branch_id), day)
        quarter = parse_period(al.last_complete_quarter(day))
        keys += [(FIGURES, figures_id(branch_id, DAY_SERIES, quarter.text[:4])),
                 (FIGURES, figures_id(branch_id, quarter.text, quarter.text[:4]))]
    await ctx.uow.prefetch(keys)


# ---- ledgers --------------------------------------------------------------------------------

def defer_ledger(ctx: Context, branch_id: str, year: str, change: Callable[[dict], None] | None = None,
                 alerts_as_of: str | None = None, emit_alerts: bool = True) -> None:
    """Record a change to a branch's meetings of a year; what they contribute (held, and met up
    to required) is recomputed once at the end of the batch."""
    b = batch(ctx)
    key = (branch_id, year)
    if change is not None:
        b.ledgers[key].append(change)
    _later(b.ledger_day, key, alerts_as_of)
    ctx.defer(("ledger", branch_id, year), lambda c: _ledger_work(c, branch_id, year, emit_alerts))


async def _ledger_work(ctx: Context, branch_id: str, year: str, emit_alerts: bool) -> None:
    b = batch(ctx)
    changes = b.ledgers.pop((branch_id, year), [])
    day = b.ledger_day.pop((branch_id, year), None)
    await refresh_ledger(ctx, branch_id, year, changes)
    if day:
        defer_branch_alerts(ctx, branch_id, day, emit_alerts)


async def refresh_ledger(ctx: Context, branch_id: str, year: str, changes: list[Callable[[dict], None]]) -> None:
    """Recompute what a branch's meetings of a year contribute (held, and met up to required)."""
    ledger = await ctx.get(LEDGERS, ledger_id(branch_id, year)) or {
        "_id": ledger_id(branch_id, year), "branch_id": branch_id, "year": year, "meetings": []}
    for change in changes:
        change(ledger)
    org = await ctx.get(ORGS, branch_id) or {}
    new = ledger_contribution(branch_id, ledger["meetings"], has_committee=org.get("has_committee", False),
                              party_groups=org.get("party_groups", 0), rules=district_rules())
    await figure_store.apply(ctx, difference(contribution_from_doc(ledger.get("contribution")), new))
    ctx.put(LEDGERS, ledger | {"contribution": contribution_to_doc(new)})


def branches(e) -> list[tuple[str, str]]:
    """The org and org-totals documents of the branches an event names: what its handler will
    read, fetched with the batch's other documents in one query per collection."""
    ids = [getattr(e, f, None) for f in ("branch_id", "from_branch_id", "to_branch_id", "into_branch_id")]
    ids += list(getattr(e, "branch_ids", None) or [])
    return [(coll, b) for b in dict.fromkeys(i for i in ids if i) for coll in (ORGS, ORG_TOTALS)]


# ---- members --------------------------------------------------------------------------------

# Members loaded together for their refresh: the reads of a slice go in one query per collection,
# and a slice's decoded facts are what the batch holds beyond what it read and wrote (encoded).
LOAD_SLICE = 250


class MemberUpdater:
    """Records a change to a member's facts; once per batch, refreshes its figures and alerts."""

    def __init__(self, emit_alerts: bool):
        self.emit_alerts = emit_alerts

    async def __call__(self, ctx: Context, member_id: str, change: Callable[[MemberFacts], None],
                       day: str | None = None, attendance_of: str | None = None) -> None:
        """`attendance_of`: the change touches the member's attendance of this activity and nothing
        else of their facts (its difference to the figures is then worked out from that alone,
        `as_read`, and their document written at what changed, `attendance_written`)."""
        b = batch(ctx)
        b.members[member_id].append(change)
        if attendance_of is None:
            b.not_attendance.add(member_id)
        else:
            b.attended[member_id].add(attendance_of)
        _later(b.member_day, member_id, day or event_day(ctx))
        ctx.defer(("member", member_id), self._work(member_id))

    def _work(self, member_id: str):
        async def work(ctx: Context) -> None:
            b = batch(ctx)
            if member_id not in b.loaded:
                await self._load(ctx, b, member_id)
            await self.refresh(ctx, b.loaded.pop(member_id), b.member_day.pop(member_id))
        return work

    async def _one(self, ctx: Context, b: _Batch, member_id: str) -> Loaded:
        return loaded(await ctx.get(MEMBERS, member_id), member_id, b.members.pop(member_id, []),
                      b.attended.pop(member_id, set()), attendance_only=member_id not in b.not_attendance)

    async def _load(self, ctx: Context, b: _Batch, member_id: str) -> None:
        """The next LOAD_SLICE members the batch changed, from this one on in the order their
        deferred work runs (by id), with their changes, and the orgs of their branches (one query
        per collection). A slice at a time: a member's year of facts, decoded, is over 100 KB, and
        a batch may change a thousand members."""
        ids = sorted(i for i in b.members if i >= member_id)[:LOAD_SLICE] or [member_id]
        await ctx.uow.prefetch((MEMBERS, i) for i in ids)
        wanted: set[str] = set()
        for i in ids:
            doc, facts, *_ = b.loaded[i] = await self._one(ctx, b, i)
            wanted |= set((doc or {}).get("branches") or ())
            wanted |= {s.branch_id for s in facts.stints()} | ({facts.branch_id} if facts.branch_id else set())
        await ctx.uow.prefetch((ORGS, i) for i in sorted(wanted))

    async def refresh(self, ctx: Context, loaded: Loaded, day: str) -> None:
        """`loaded.doc`: the member's document as read, of which only the alerts and name are read
        here (`_one` changes its facts' sets in place, as `loaded.facts`); `roll` and `changed`: its
        study roll as read and how its contribution changed, taken before such changes (`as_read`)."""
        doc, facts, roll_before = loaded.doc, loaded.facts, loaded.roll
        diff = loaded.changed(facts)
        await figure_store.apply(ctx, diff)
        for branch in sorted({b for (series, b, _d), f in diff.items() if series == DAY_SERIES and "reg" in f}):
            defer_branch_alerts(ctx, branch, day, self.emit_alerts)
        open_alerts = (doc or {}).get("open_alerts", [])
        # Alerts move forward in time only: an old event arriving late does not reopen the past.
        evaluated = max(day, (doc or {}).get("evaluated_on") or day)
        alerts_of = None  # open_alerts not those of the facts: the alert list works them out
        if facts.registered_on is not None:
            current = al.member_alerts(facts, evaluated)
            open_alerts = emit_changes(ctx, open_alerts, current, evaluated) if self.emit_alerts else [
                x.to_dict() for x in current]
            alerts_of = alerts_key(evaluated, records_start())
        stored = member_to_doc(facts, open_alerts, evaluated, alerts_of)
        ctx.put(MEMBERS, stored, changed=loaded.written)
        # What remote study weighs, kept apart when it changed (most changes are notices and dues):
        # its roll as read is worked out from the facts as read, rather than read. Both derived from
        # the member's document, written beside it on its version: guarded.
        if (doc or {}).get("study_roll") != STUDY_ROLL_VERSION or study_roll(facts, copy=False) != roll_before:
            ctx.put(STUDY_ROLL, study_roll(facts), guarded=True)
        listed, listed_before = listed_alerts(stored), listed_alerts(doc)
        if listed and listed != listed_before:
            ctx.put(MEMBER_ALERTS, listed, guarded=True)
        elif listed_before and not listed:
            ctx.delete(MEMBER_ALERTS, facts.member_id, guarded=True)


def loaded(doc: dict | None, member_id: str, changes: Iterable[Callable[[MemberFacts], None]] = (),
           attended: Iterable[str] = (), attendance_only: bool = True) -> Loaded:
    """A member as read, with `changes` made to their facts: `attendance_only` when those touch
    their attendance of the activities `attended` and nothing else (no change at all, as in the
    daily pass, is such a case: nothing to count, and the write sets only what the refresh works
    out again)."""
    facts, roll, changed = as_read(doc, member_id, attendance_only=attendance_only)
    for change in changes:
        change(facts)
    return Loaded(doc, facts, roll, changed, attendance_written(doc, facts, attended) if attendance_only else None)


def as_read(doc: dict | None, member_id: str, attendance_only: bool = False) -> tuple[MemberFacts, dict | None,
                                                                                     Changed]:
    """A member's facts from their document as read, a private copy (the unit keeps members
    encoded: a decode, no clone) that becomes their new facts, changed in place; with their study
    roll as read and how their contribution changed, taken first. `attendance_only`: the changes
    to come touch their attendance alone, and the difference is worked out from that
    (`attendance_difference`), unless the document holds the contribution it was counted with."""
    facts = facts_from_doc(doc, member_id, copy=False)
    roll = study_roll(facts) if doc is not None else None
    if attendance_only and _stored_without_contribution(doc):
        before = first_present(facts)
        return facts, roll, lambda after: attendance_difference(after, before)
    counted = counted_contribution(doc, facts)
    return facts, roll, lambda after: difference(counted, member_contribution(after))


def attendance_written(doc: dict | None, facts: MemberFacts, activity_ids: Iterable[str]) -> list[str] | None:
    """Where a member's new document differs from the one read when the batch changed their
    attendance alone: the entries of those activities and what every refresh works out again
    (`MEMBER_REFRESHED`); the write sets these instead of sending a year of facts (a member's
    document is rewritten at every meeting they attend: SecantusDB spent 0.38 ms of CPU on such a
    `$set` against 0.49 on a replacement, though reporting's pace did not move beyond its trials'
    spread: docs/benchmarks.md). None (written whole) for a member not stored yet,
    or stored with the contribution it was counted with (`counted_contribution`: dropped now)."""
    if not _stored_without_contribution(doc):
        return None
    return [*(f"facts.attendance.{i}" for i in sorted(activity_ids) if i in facts.attendance), *MEMBER_REFRESHED]


def _stored_without_contribution(doc: dict | None) -> bool:
    """Whether a member is stored, and without the contribution an earlier version counted them
    with: the condition of an attendance alone's shortcuts (`as_read`, `attendance_written`)."""
    return doc is not None and "contribution" not in doc


def counted_contribution(doc: dict | None, facts: MemberFacts) -> Contribution:
    """What a member's facts as read add to the figures: worked out again from them, not stored (a
    member's refresh writes their whole document, and the database's cost of a write grows with
    its fields: the contribution was some 46 of a median 108 at 100,000 members in January;
    docs/secantusdb.md 5). The same facts give the same contribution under the same rules, so a
    change of the rules (domain/contributions.py), like one of RECORDS_START, needs a rebuild. A
    document written before this still holds the contribution it was counted with: that is taken."""
    if doc is None:
        return {}
    if "contribution" in doc:
        return contribution_from_doc(doc["contribution"])
    return member_contribution(facts)


def build_handlers(emit_alerts: bool = True) -> dict[str, Handler]:
    """The table of handlers. A rebuild replays history without announcing old alerts again."""
    update = MemberUpdater(emit_alerts)

    # ---- members.events ---------------------------------------------------------------------
    async def organization_established(e: m.OrganizationEstablished, ctx: Context) -> None:
        doc = await ctx.get(ORGS, e.org_id) or {}
        doc.update({"_id": e.org_id, "name": e.name, "kind": e.kind, "parent_id": e.parent_id,
                    "ancestors": e.ancestors, "has_committee": e.has_committee, "party_groups": e.party_groups,
                    "placed": True})
        doc.setdefault("established_on", event_day(ctx))
        doc = await figure_store.place_branch(ctx, doc)
        figure_store.count_branch(ctx, doc)
        ctx.put(ORGS, doc)
        for year in doc.get("ledger_years", []):  # its settings decide what is required of it
            defer_ledger(ctx, e.org_id, year)
        ask_branch_alerts(ctx, e.org_id, event_day(ctx), emit_alerts)

    async def org_change(ctx: Context, org_id: str, change: Callable[[dict], None]) -> None:
        # A change may arrive before the establishment (other key, other partition): keep it.
        doc = await ctx.get(ORGS, org_id) or {"_id": org_id, "name": org_id, "kind": "branch", "ancestors": []}
        change(doc)
        figure_store.count_branch(ctx, doc)  # a merge changes what its subtree requires
        ctx.put(ORGS, doc)

    async def secretary_appointed(e: m.SecretaryAppointed, ctx: Context) -> None:
        await org_change(ctx, e.branch_id, lambda o: o.update(secretary_id=e.member_id, secretary_name=e.member_name))
        ask_branch_alerts(ctx, e.branch_id, event_day(ctx), emit_alerts)

    async def branch_rated(e: m.BranchRated, ctx: Context) -> None:
        await org_change(ctx, e.branch_id, lambda o: o.setdefault("stars", {}).update({str(e.year): e.stars}))

    async def branches_merged(e: m.BranchesMerged, ctx: Context) -> None:
        await org_change(ctx, e.from_branch_id, lambda o: o.update(merged_on=e.on.isoformat(),
                                                                    merged_into=e.into_branch_id))

    async def award_granted(e: m.AwardGranted, ctx: Context) -> None:
        ctx.put(AWARDS, {"_id": e.award_id, "year": e.year, "category": e.category, "subject_id": e.subject_id,
                         "subject_kind": e.subject_kind, "subject_name": e.subject_name})

    async def member_registered(e: m.MemberRegistered, ctx: Context) -> None:
        def change(f: MemberFacts) -> None:
            f.name, f.branch_id = e.profile.name, e.branch_id
            f.registered_on = (e.profile.registered_on or local_date(ctx.envelope.occurred_at)).isoformat()
            f.lives_alone, f.health = e.profile.lives_alone, e.profile.health
            f.specialist_id = e.specialist_id or f.specialist_id
            f.dues_paid_through = e.dues_paid_through or f.dues_paid_through
        await update(ctx, e.member_id, change)

    async def profile_updated(e: m.MemberProfileUpdated, ctx: Context) -> None:
        def change(f: MemberFacts) -> None:
            f.name, f.lives_alone, f.health = e.profile.name, e.profile.lives_alone, e.profile.health
            if e.profile.registered_on:
                f.registered_on = e.profile.registered_on.isoformat()
        await update(ctx, e.member_id, change)

    async def transferred(e: m.MemberTransferred, ctx: Context) -> None:
        t = {"on": e.on.isoformat(), "from_branch_id": e.from_branch_id, "to_branch_id": e.to_branch_id}
        await update(ctx, e.member_id, lambda f: f.transfers.append(t) if t not in f.transfers else None)

    async def marked_away(e: m.MemberMarkedAway, ctx: Context) -> None:
        x = {"from": e.from_.isoformat(), "until": e.until.isoformat() if e.until else None, "location": e.location}
        await update(ctx, e.member_id, lambda f: f.away.append(x) if x not in f.away else None)

    async def returned(e: m.MemberReturned, ctx: Context) -> None:
        on = e.on.isoformat()
        await update(ctx, e.member_id, lambda f: f.returns.append(on) if on not in f.returns else None)

    async def exempted(e: m.MemberExempted, ctx: Context) -> None:
        x = {"from": e.from_.isoformat(), "until": e.until.isoformat() if e.until else None}
        await update(ctx, e.member_id, lambda f: f.exempt.append(x) if x not in f.exempt else None)

    async def died(e: m.MemberDied, ctx: Context) -> None:
        await update(ctx, e.member_id, lambda f: setattr(f, "died_on", e.on.isoformat()))

    async def dues_paid(e: m.DuesPaid, ctx: Context) -> None:
        pay = {"months": sorted(set(e.months)), "cents": int(e.amount * 100), "paid_on": e.paid_on.isoformat()}
        await update(ctx, e.member_id, lambda f: f.payments.__setitem__(e.payment_id, pay))

    async def specialist_assigned(e: m.SpecialistAssigned, ctx: Context) -> None:
        await update(ctx, e.member_id, lambda f: setattr(f, "specialist_id", e.specialist_id))

    async def evaluation_recorded(e: m.EvaluationRecorded, ctx: Context) -> None:
        await update(ctx, e.member_id, lambda f: f.evaluations.__setitem__(str(e.year), e.result))

    # ---- activities.events ------------------------------------------------------------------
    async def activity_change(ctx: Context, activity_id: str, change: Callable[[dict], None]) -> dict:
        doc = await ctx.get(ACTIVITIES, activity_id) or {"_id": activity_id, "attendees": []}
        change(doc)
        ctx.put(ACTIVITIES, doc)
        counts = doc.get("held") and not doc.get("cancelled")
        meeting = {"activity_id": activity_id, "kind": doc["kind"], "day": doc["held_on"]}

        def record(ledger: dict) -> None:
            others = [x for x in ledger["meetings"] if x["activity_id"] != activity_id]
            ledger["meetings"] = sorted(others + ([meeting] if counts else []), key=lambda x: (x["day"], x["activity_id"]))
        year = doc["held_on"][:4]
        for branch in doc["branch_ids"]:
            org = await ctx.get(ORGS, branch) or {"_id": branch, "name": branch, "kind": "branch", "ancestors": []}
            if year not in org.get("ledger_years", []):
                org["ledger_years"] = sorted([*org.get("ledger_years", []), year])
                ctx.put(ORGS, org)
            defer_ledger(ctx, branch, year, record, alerts_as_of=event_day(ctx), emit_alerts=emit_alerts)
        return doc

    def described(e) -> dict:
        return {"kind": e.kind, "branch_ids": list(e.branch_ids), "held_on": e.held_on.isoformat()}

    async def attend(ctx: Context, act: dict, member_id: str, status: str, mode: str) -> None:
        entry = attendance_entry(act["held_on"], act["kind"], status, mode, bool(act.get("cancelled")))
        await update(ctx, member_id, lambda f: f.attendance.__setitem__(act["_id"], entry), attendance_of=act["_id"])

    async def activity_scheduled(e: a.ActivityScheduled, ctx: Context) -> None:
        await activity_change(ctx, e.activity_id, lambda d: d.update(described(e), title=e.title))

    async def activity_held(e: a.ActivityHeld, ctx: Context) -> None:
        ids = [x.member_id for x in e.attendance]
        act = await activity_change(ctx, e.activity_id, lambda d: d.update(
            described(e), title=e.title, held=True, attendees=sorted(set(d.get("attendees", [])) | set(ids))))
        for x in e.attendance:
            await attend(ctx, act, x.member_id, x.status, x.mode)

    async def attendance_recorded(e: a.AttendanceRecorded, ctx: Context) -> None:
        act = await activity_change(ctx, e.activity_id, lambda d: d.update(
            {**described(e), **{k: d[k] for k in ("kind", "branch_ids", "held_on") if k in d}},
            attendees=sorted(set(d.get("attendees", [])) | {e.member_id})))
        await attend(ctx, act, e.member_id, e.status, e.mode)

    async def activity_cancelled(e: a.ActivityCancelled, ctx: Context) -> None:
        act = await activity_change(ctx, e.activity_id, lambda d: d.update(described(e), cancelled=True))

        def cancel(f: MemberFacts) -> None:
            if e.activity_id in f.attendance:
                f.attendance[e.activity_id]["cancelled"] = True
        for member_id in act["attendees"]:
            await update(ctx, member_id, cancel, attendance_of=e.activity_id)

    async def hours_logged(e: a.VolunteerHoursLogged, ctx: Context) -> None:
        entry = {"on": e.on.isoformat(), "hundredths": int(Decimal(e.hours) * 100), "team": e.team}
        if e.team_id:
            entry["team_id"] = e.team_id
        await teams.hours_logged(e, ctx)  # the team's hours by person (issue 13)
        await update(ctx, e.member_id, lambda f: f.hours.__setitem__(e.entry_id, entry))

    async def visit_recorded(e: a.VisitRecorded, ctx: Context) -> None:
        await update(ctx, e.member_id, lambda f: f.visits.__setitem__(e.visit_id, e.on.isoformat()))

    # ---- notifications.events ---------------------------------------------------------------
    async def notice_created(e: n.NoticeCreated, ctx: Context) -> None:
        # Same key (the notice) as its dispatches and acknowledgements, but not always before them:
        # two instances of notifications each publish what they commit, so a dispatch committed by
        # one just after the notice by the other can reach the topic first (finding 27 of
        # docs/reliability.md). Pairs that came first waited in this document (`address`); now
        # that it is known whether the notice asks for acknowledgement, they count or are dropped.
        await notice_known(ctx, e.notice_id, e.require_ack, {"category": e.category})

    async def notice_known(ctx: Context, notice_id: str, require_ack: bool, more: dict | None = None) -> None:
        """Whether the notice asks for acknowledgement is known now: the pairs that waited for it
        count (if it asks) or are dropped."""
        doc = await ctx.get(NOTICES, notice_id) or {}
        ctx.put(NOTICES, {"_id": notice_id, "require_ack": require_ack, **(more or {})})
        if not require_ack:
            return
        for member_id, seen in sorted(doc.get("waiting", {}).items()):
            def change(f: MemberFacts, seen=seen) -> None:
                x = f.notices.setdefault(notice_id, {})
                for field, day in seen.items():
                    x[field] = min(day, x.get(field) or day)
                x["require_ack"] = True
            await update(ctx, member_id, change)

    async def require_ack(ctx: Context, notice_id: str) -> dict:
        notice = await ctx.read(NOTICES, notice_id)  # only looked at: no copy, on every dispatch
        return {"require_ack": notice["require_ack"]} if notice and "require_ack" in notice else {}

    async def wait_for_notice(ctx: Context, notice_id: str, member_ids: list[str], field: str, on: str) -> bool:
        """Whether the pairs must wait for the notice's NoticeCreated (not handled yet, and not an
        automatic notice): then they are kept, earliest day each, in the notice's document."""
        if notice_id.startswith(AUTOMATIC_NOTICE_PREFIXES):
            return False
        seen = await ctx.read(NOTICES, notice_id)  # a copy only when the pair waits (below)
        if seen is not None and "require_ack" in seen:
            return False
        doc = await ctx.get(NOTICES, notice_id) or {"_id": notice_id}
        waiting = doc.setdefault("waiting", {})
        for member_id in member_ids:
            seen = waiting.setdefault(member_id, {})
            seen[field] = min(on, seen.get(field) or on)
        ctx.put(NOTICES, doc)
        return True

    async def addressed(e, ctx: Context) -> None:
        # A notice counts as sent to a member on the first day it was addressed to them,
        # whichever channel (or the door) carried it; retries and fallbacks count once.
        on = (getattr(e, "addressed_on", None) or local_date(ctx.envelope.occurred_at)).isoformat()
        if not await wait_for_notice(ctx, e.notice_id, [e.member_id], "addressed_on", on):
            await address(ctx, e.notice_id, [e.member_id], on)

    async def notice_addressed(e: n.NoticeAddressed, ctx: Context) -> None:
        # The pairs as addressing gives them (finding 11 of docs/reliability.md): the same in every
        # run, whether or when the delivery worker dispatched. A member's stint on the day decides,
        # from reporting's own facts, whether and for which branch the pair counts.
        # Only a notice that asks for acknowledgement is said to be addressed (contract), so its
        # dispatches need not wait for its NoticeCreated. A notice to more than a page of members
        # comes with its last page: until then each dispatch waited in the notice's document, which
        # grew with every one (copied each time) and was then applied at once: at 20,000 members
        # one transaction read 7,600 members and took reporting to 384 MB.
        seen = await ctx.read(NOTICES, e.notice_id)
        if seen is None or "require_ack" not in seen:
            await notice_known(ctx, e.notice_id, True)
        await address(ctx, e.notice_id, e.member_ids, e.addressed_on.isoformat(), {"require_ack": True})

    async def address(ctx: Context, notice_id: str, member_ids: list[str], on: str, says: dict | None = None) -> None:
        known = {**(says or {}), **await require_ack(ctx, notice_id)}
        if not requires_ack(notice_id, known):
            # Counted nowhere (contract: notices), so not kept: most pairs are automatic meeting
            # notices, and recording them would refresh their member's figures for nothing.
            return

        def change(f: MemberFacts) -> None:
            x = f.notices.setdefault(notice_id, {})
            x["addressed_on"] = min(on, x.get("addressed_on") or on)
            x.update(known)
        for member_id in member_ids:
            await update(ctx, member_id, change)

    async def acknowledged(e: n.NoticeAcknowledged, ctx: Context) -> None:
        on = event_day(ctx)
        if await wait_for_notice(ctx, e.notice_id, [e.member_id], "acked_on", on):
            return
        known = await require_ack(ctx, e.notice_id)

        def change(f: MemberFacts) -> None:
            x = f.notices.setdefault(e.notice_id, {})
            x["acked_on"] = min(on, x.get("acked_on") or on)
            x.update(known)
        await update(ctx, e.member_id, change)

    def notice_member(e) -> list:
        return [(NOTICES, e.notice_id), *member(e)]

    def notice_only(e) -> list:
        # Most dispatches are of notices that ask for no acknowledgement and change no member:
        # the member (a year of facts) is read, with the batch's others, only when it is changed
        # (MemberUpdater._load), not prefetched for every dispatch.
        return [(NOTICES, e.notice_id)]

    def member(e) -> list:
        return [(MEMBERS, e.member_id), *branches(e)]

    def activity(e) -> list:
        year = e.held_on.isoformat()[:4]
        return [(ACTIVITIES, e.activity_id), *branches(e), *((LEDGERS, ledger_id(b, year)) for b in e.branch_ids)]

    from services.reporting.leadership import build_handlers as leadership  # it imports this module
    from services.reporting.funds import build_handlers as branch_funds
    from services.reporting.grades import build_handlers as branch_grades
    from services.reporting.study import build_handlers as remote_study
    from services.reporting.activists import build_handlers as party_applicants
    return {
        **leadership(emit_alerts),  # a branch's committee, elections, secretaries (leadership.py)
        **branch_funds(emit_alerts),  # a branch's funds (funds.py)
        **branch_grades(emit_alerts),  # a branch's yearly grade (grades.py)
        **remote_study(emit_alerts),  # remote study accounts and use (study.py)
        **party_applicants(emit_alerts),  # the way into the Party (activists.py)
        **teams.build_handlers(),  # volunteer service teams (teams.py, issue 13)
        **service_requests.build_handlers(emit_alerts),  # service requests and difficulties (issue 13)
        **reorganization.build_handlers(emit_alerts),  # 化并转: dissolved, moved, settings (issue 13)
        **facility_demand.build_handlers(),  # 阵地需求 and the venues' facilities (facility_demand.py, issue 13)
        "OrganizationEstablished": Handler(organization_established, lambda e: [(ORGS, e.org_id)]),
        "SecretaryAppointed": Handler(secretary_appointed, branches),
        "BranchRated": Handler(branch_rated, branches),
        "BranchesMerged": Handler(branches_merged, branches),
        "AwardGranted": Handler(award_granted),
        "MemberRegistered": Handler(member_registered, member),
        "MemberProfileUpdated": Handler(profile_updated, member),
        "MemberTransferred": Handler(transferred, member),
        "MemberMarkedAway": Handler(marked_away, member),
        "MemberReturned": Handler(returned, member),
        "MemberExempted": Handler(exempted, member),
        "MemberDied": Handler(died, member),
        "DuesPaid": Handler(dues_paid, member),
        "SpecialistAssigned": Handler(specialist_assigned, member),
        "EvaluationRecorded": Handler(evaluation_recorded, member),
        "ActivityScheduled": Handler(activity_scheduled, activity),
        "ActivityHeld": Handler(activity_held, lambda e: activity(e) + [(MEMBERS, x.member_id) for x in e.attendance]),
        "AttendanceRecorded": Handler(attendance_recorded, lambda e: [*activity(e), *member(e)]),
        "ActivityCancelled": Handler(activity_cancelled, activity),
        "VolunteerHoursLogged": Handler(hours_logged, lambda e: member(e) + teams.hours_wants(e)),
        "VisitRecorded": Handler(visit_recorded, member),
        "NoticeCreated": Handler(notice_created, lambda e: [(NOTICES, e.notice_id)]),
        "NoticeAddressed": Handler(notice_addressed, lambda e: [(NOTICES, e.notice_id), *branches(e),
                                                               *((MEMBERS, i) for i in e.member_ids)]),
        "NotificationDispatched": Handler(addressed, notice_only),
        "DoorDeliveryAssigned": Handler(addressed, notice_only),
        "NoticeAcknowledged": Handler(acknowledged, notice_member),
    }


HANDLERS: dict[str, Handler] = build_handlers()
