"""A branch's leadership in the simulated district (issue 13): committees and their elections.

Drawn once with the world (`draw`): each branch with a committee elected its committee at a
general election before the year (the secretary among them), a branch without one has its
secretary appointed (AppointSecretary, as before). The report's stories, each in one named branch:
- 天鹅湖: elected five years ago in March, its term ends in March and it holds its general
  election (换届) in April, with one new committee member;
- 军安: its term ended last November and no election follows all year (换届逾期);
- 世纪花园: its propaganda member resigns in May and the post stays empty (职务空缺);
- 欧美亚, the branch without a secretary: its other posts were appointed, no election recorded.
Committee members are members who stay all year, registered before the election.

The district trains its branch secretaries twice a year (March and September, half the branches
each); 怡园's secretary misses both (the alert of October), and one attendance of September is
recorded a few days late (RecordTrainingAttendance).

Every secretary has a monthly allowance from January (300 yuan with a committee, 200 without),
paid after each quarter; 宜和园's third quarter is not paid by the year's end. The department
assesses the secretaries in January (the year before) and at the year's end (the year).
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from simulator.world import Branch, Member, World

RE_ELECTED, OVERDUE, RESIGNS, UNTRAINED, UNPAID = "天鹅湖", "军安", "世纪花园", "怡园", "宜和园"
# When each quarter's allowance is paid (month, day), and the months it covers.
ALLOWANCE_PAID = {4: (8, (1, 2, 3)), 7: (8, (4, 5, 6)), 10: (9, (7, 8, 9)), 12: (26, (10, 11, 12))}
# The department's assessments: the best and the weakest secretaries, the others competent.
ASSESSED = {"天鹅湖": "excellent", "世茂滨江": "excellent", UNTRAINED: "basically_competent"}
COMMITTEE = ("secretary", "organization_member", "propaganda_member", "discipline_member")
TERM_YEARS = 5  # RecordElection's default term: the simulator sends none


@dataclass
class Election:
    ref: str  # names its ids
    held_on: date
    kind: str
    eligible: int
    present: int
    elected: list[tuple[str, str, int]]  # (member_id, post, votes)


@dataclass
class BranchLeadership:
    elections: list[Election] = field(default_factory=list)
    appointments: list[tuple[date, str, str]] = field(default_factory=list)  # (on, post, member_id)
    removals: list[tuple[date, str, str]] = field(default_factory=list)  # (on, post, reason)

    def line_up(self, day: date) -> dict[str, str]:
        """Who holds each post on `day`, as the commands will have it."""
        held: dict[str, tuple[date, str]] = {}
        changes = [(e.held_on, 0, e) for e in self.elections] + [(on, 1, (p, m)) for on, p, m in self.appointments]
        for on, kind, what in sorted(changes, key=lambda x: (x[0], x[1])):
            if on > day:
                break
            if kind == 0:
                if what.kind == "general":
                    held = {}
                held.update({post: (on, member) for member, post, _ in what.elected})
            else:
                held[what[0]] = (on, what[1])
        for on, post, _reason in self.removals:
            if on <= day and post in held and held[post][0] <= on:
                del held[post]
        return {post: member for post, (_on, member) in held.items()}

    @property
    def elected(self) -> bool:
        return any(e.kind == "general" for e in self.elections)

    def term_ends(self, day: date) -> date | None:
        general = [e for e in self.elections if e.kind == "general" and e.held_on <= day]
        return general[-1].held_on.replace(year=general[-1].held_on.year + TERM_YEARS) if general else None


@dataclass
class Session:
    ref: str
    held_on: date
    title: str
    attendees: list[str]  # member ids, recorded with the session
    late: list[str] = field(default_factory=list)  # recorded afterwards, one by one
    hours: str = "6"


@dataclass
class DistrictLeadership:
    branches: dict[str, BranchLeadership]
    sessions: list[Session]


def draw(world: World) -> DistrictLeadership:
    """Each branch's committee story (a branch with an elected committee gets its secretary from
    it), then the year's training sessions."""
    branches = _committees(world)
    return DistrictLeadership(branches, _sessions(world))


def _sessions(world: World) -> list[Session]:
    y = world.year
    out = [Session(f"{y}/1", date(y, 3, 18), f"{y}年社区离退休干部党支部书记培训班（第一期）", []),
           Session(f"{y}/2", date(y, 9, 16), f"{y}年社区离退休干部党支部书记培训班（第二期）", [])]
    trained = [b for b in world.branches if b.secretary_id and b.short != UNTRAINED]
    for i, b in enumerate(trained):
        out[i % 2].attendees.append(b.secretary_id)
    if len(out[1].attendees) > 1:  # one attendance of September recorded a few days later
        out[1].late.append(out[1].attendees.pop())
    return [s for s in out if s.attendees or s.late]


def _committees(world: World) -> dict[str, BranchLeadership]:
    out = {}
    for i, b in enumerate(world.branches):
        out[b.org_id] = plan = BranchLeadership()
        if not b.has_committee:
            continue
        if "no_secretary" in b.gaps:
            pool = _pool(world, b, date(world.year - 1, 6, 3))
            plan.appointments = [(date(world.year - 1, 6, 3), post, m.member_id)
                                 for post, m in zip(COMMITTEE[1:], pool)]
            continue
        held_on = _first_election(b, i, world.year)
        first = _election(world, b, f"{b.org_id}/{held_on}", held_on, "general")
        if first is None:
            continue
        plan.elections.append(first)
        b.secretary_id = first.elected[0][0]
        if b.short == RE_ELECTED:
            again = date(world.year, 4, 16)
            keep = [m for m, post, _ in first.elected if post != "discipline_member"]
            leave = [m for m, post, _ in first.elected if post == "discipline_member"]
            second = _election(world, b, f"{b.org_id}/{again}", again, "general", keep=keep, leave=leave)
            if second is not None:
                plan.elections.append(second)
        if b.short == RESIGNS and any(post == "propaganda_member" for _, post, _ in first.elected):
            plan.removals.append((date(world.year, 5, 20), "propaganda_member", "resigned"))
    return out


def _first_election(b: Branch, i: int, year: int) -> date:
    if b.short == RE_ELECTED:
        return date(year - 5, 3, 18)  # the term ends in March of the year
    if b.short == OVERDUE:
        return date(year - 6, 11, 12)  # the term ended last November
    return date(year - 1 - i % 3, 3 + (i * 5) % 8, 8 + i % 15)


def _pool(world: World, b: Branch, day: date) -> list[Member]:
    """Members who may serve: registered by `day`, staying all year, in good standing; the
    likeliest secretaries (healthy, at home all year) first."""
    ms = [world.member(mid) for mid in b.member_ids]
    ok = [m for m in ms if m.registered_on <= day and m.died_on is None and m.transferred_on is None
          and not m.disengaged and m.paid_through is None]
    return sorted(ok, key=lambda m: (m.health != "good" or bool(m.away), m.index))


def _election(world: World, b: Branch, ref: str, held_on: date, kind: str, keep: list[str] = (),
              leave: list[str] = ()) -> Election | None:
    """Those in `keep` elected again (in their order), newcomers from the pool for the posts left,
    never those in `leave`."""
    pool = [m for m in _pool(world, b, held_on) if m.member_id not in leave]
    if not pool:
        return None
    by_id = {m.member_id: m for m in pool}
    chosen = [by_id[k] for k in keep if k in by_id] + [m for m in pool if m.member_id not in keep]
    eligible = sum(1 for mid in b.member_ids if world.member(mid).registered(held_on))
    present = eligible - eligible // 10  # more than four fifths: the election is valid
    # more than half of the votes of those present, each
    elected = [(m.member_id, post, present - m.index % max(1, present // 4)) for post, m in zip(COMMITTEE, chosen)]
    return Election(ref, held_on, kind, eligible, present, elected)


def appointed_secretary(world: World, b: Branch) -> tuple[date, str] | None:
    """(day, member) of the AppointSecretary sent before the year for a branch no election staffed."""
    if b.secretary_id and not world.leadership.branches[b.org_id].elected:
        return date(world.year - 1, 10, 28), b.secretary_id
    return None


# ---- the commands -------------------------------------------------------------------------------

REGISTRY = "community-registry"  # the community's system records elections and appointments
DEPARTMENT = "district-org-department"  # the department runs the secretaries' training


def ledger_commands(y, b: Branch) -> list:
    """What happened before the year: the elections and appointments that made today's committee."""
    plan = y.w.leadership.branches[b.org_id]
    return _commands(y, b, plan, lambda day: day.year < y.y)


def month_commands(y, b: Branch, mo: int) -> list:
    plan = y.w.leadership.branches[b.org_id]
    return _commands(y, b, plan, lambda day: (day.year, day.month) == (y.y, mo))


def training_commands(y, mo: int) -> list:
    """The district's training sessions of the month (and attendances recorded late)."""
    from datetime import timedelta

    from simulator.commands import at

    out = []
    for s in y.w.leadership.sessions:
        if (s.held_on.year, s.held_on.month) != (y.y, mo):
            continue
        sid = y.w.ids.of("tr", s.ref)
        out.append(y.cmd("RecordTrainingSession", sid, {
            "session_id": sid, "title": s.title, "held_on": s.held_on.isoformat(), "org_id": y.w.district.org_id,
            "hours": s.hours, "attendee_ids": s.attendees}, at(s.held_on, 17), DEPARTMENT))
        for member_id in s.late:
            out.append(y.cmd("RecordTrainingAttendance", f"{sid}/{member_id}", {
                "session_id": sid, "member_id": member_id}, at(s.held_on + timedelta(days=3), 10), DEPARTMENT))
    return out


def _commands(y, b: Branch, plan: BranchLeadership, when) -> list:
    from simulator.commands import at

    out = []
    for e in plan.elections:
        if when(e.held_on):
            eid = y.w.ids.of("el", e.ref)
            out.append(y.cmd("RecordElection", eid, {
                "election_id": eid, "branch_id": b.org_id, "held_on": e.held_on.isoformat(), "kind": e.kind,
                "eligible": e.eligible, "present": e.present,
                "elected": [{"member_id": m, "post": post, "votes": votes} for m, post, votes in e.elected]},
                at(e.held_on, 11), REGISTRY))
    for on, post, member_id in plan.appointments:
        if when(on):
            out.append(y.cmd("AppointCommitteeMember", f"{b.org_id}/{post}/{on}", {
                "branch_id": b.org_id, "member_id": member_id, "post": post, "on": on.isoformat()}, at(on, 10), REGISTRY))
    for on, post, reason in plan.removals:
        if when(on):
            out.append(y.cmd("RemoveCommitteeMember", f"{b.org_id}/{post}/{on}", {
                "branch_id": b.org_id, "post": post, "on": on.isoformat(), "reason": reason,
                "note": "因身体原因辞去委员职务"}, at(on, 10), REGISTRY))
    return out


def allowance_rate(b: Branch) -> str:
    return "300.00" if b.has_committee else "200.00"


def allowance_rates(y) -> list:
    """The district sets each branch's allowance before the year."""
    from simulator.commands import at

    return [y.cmd("SetSecretaryAllowance", f"{b.org_id}/{y.y}-01", {
        "branch_id": b.org_id, "from_month": f"{y.y}-01", "monthly_amount": allowance_rate(b)},
        at(date(y.y - 1, 12, 20)), DEPARTMENT) for b in y.w.branches]


def allowance_payments(y, mo: int) -> list:
    """A quarter's allowance to each branch's secretary (who stays in the post all year)."""
    from simulator.commands import at

    if mo not in ALLOWANCE_PAID:
        return []
    day, months = ALLOWANCE_PAID[mo]
    out = []
    for b in y.w.branches:
        if not b.secretary_id or (b.short == UNPAID and mo == 10):
            continue
        first, last = f"{y.y}-{months[0]:02d}", f"{y.y}-{months[-1]:02d}"
        pid = y.w.ids.of("ap", f"{b.org_id}/{first}")
        out.append(y.cmd("RecordAllowancePayment", pid, {
            "payment_id": pid, "branch_id": b.org_id, "member_id": b.secretary_id, "from_month": first,
            "to_month": last, "amount": f"{Decimal(allowance_rate(b)) * len(months):.2f}",
            "paid_on": date(y.y, mo, day).isoformat()}, at(date(y.y, mo, day), 10), DEPARTMENT))
    return out


def assessments(y, year: int, on: date) -> list:
    """The department's assessment of each secretary of `year`."""
    from simulator.commands import at

    return [y.cmd("RecordSecretaryAssessment", f"{b.org_id}/{year}", {
        "branch_id": b.org_id, "member_id": b.secretary_id, "year": year,
        "result": ASSESSED.get(b.short, "competent")}, at(on, 11), DEPARTMENT)
        for b in y.w.branches if b.secretary_id]


# ---- what a person should find ----------------------------------------------------------------

def summary(world: World) -> dict:
    """The year's leadership in a few figures, for the guide and the tests."""
    end = date(world.year, 12, 31)
    vacant, overdue, elections = {}, [], 0
    for b in world.branches:
        plan = world.leadership.branches[b.org_id]
        elections += sum(e.held_on.year == world.year for e in plan.elections)
        held = plan.line_up(end) if b.has_committee else ({"secretary": b.secretary_id} if b.secretary_id else {})
        required = COMMITTEE if b.has_committee else COMMITTEE[:1]
        if missing := [p for p in required if p not in held]:
            vacant[b.name] = missing
        ends = plan.term_ends(end)
        if ends is not None and ends < end:
            overdue.append(b.name)
    trained = {m for s in world.leadership.sessions for m in [*s.attendees, *s.late]}
    untrained = [b.name for b in world.branches if b.secretary_id and b.secretary_id not in trained]
    return {"committees_elected": sum(plan.elected for plan in world.leadership.branches.values()),
            "elections_in_year": elections, "terms_overdue_at_year_end": overdue, "posts_vacant_at_year_end": vacant,
            "training_sessions": len(world.leadership.sessions),
            "secretaries_trained": sum(1 for b in world.branches if b.secretary_id in trained),
            "secretaries_untrained": untrained,
            "allowance_due": f"{sum(Decimal(allowance_rate(b)) * 12 for b in world.branches if b.secretary_id):.2f}",
            "allowance_unpaid": {b.name: f"{Decimal(allowance_rate(b)) * 3:.2f}" for b in world.branches
                                 if b.secretary_id and b.short == UNPAID},
            "assessed": {b.name: ASSESSED.get(b.short, "competent") for b in world.branches if b.secretary_id}}


def figures(world: World, branch_ids: list[str], period) -> dict:
    """What a report of these branches should show of their leadership as of the period's end:
    empty posts, overdue terms, trained secretaries, and the allowance due and paid."""
    end, y = period.end, world.year
    out = dict.fromkeys(("committee.posts_vacant", "committee.terms_overdue", "training.secretaries",
                         "training.trained", "allowance.months_due"), 0)
    paid = Decimal("0.00")
    trained_on: dict[str, list[date]] = {}
    for s in world.leadership.sessions:
        for m in [*s.attendees, *s.late]:
            trained_on.setdefault(m, []).append(s.held_on)
    for bid in branch_ids:
        b, plan = world.branch(bid), world.leadership.branches[bid]
        held = plan.line_up(end) if b.has_committee else ({"secretary": b.secretary_id} if b.secretary_id else {})
        out["committee.posts_vacant"] += sum(p not in held for p in (COMMITTEE if b.has_committee else COMMITTEE[:1]))
        ends = plan.term_ends(end)
        out["committee.terms_overdue"] += int(ends is not None and ends < end)
        if not b.secretary_id:
            continue
        out["training.secretaries"] += 1
        out["training.trained"] += any(date(y, 1, 1) <= d <= end for d in trained_on.get(b.secretary_id, []))
        months = [m for m in period.months if m <= f"{end:%Y-%m}"]
        out["allowance.months_due"] += len(months)
        for mo, (day, covered) in ALLOWANCE_PAID.items():
            if date(y, mo, day) <= end and not (b.short == UNPAID and mo == 10):
                paid += Decimal(allowance_rate(b)) * sum(f"{y:04d}-{k:02d}" in months for k in covered)
    return out | {"allowance.amount_paid": f"{paid:.2f}"}
