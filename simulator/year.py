"""The district's year as phases of commands, in the order district systems would send them.

A phase holds commands that may travel together: within it, everything about one aggregate shares
a Kafka key and topic, so it stays in order. A command that names another aggregate (a member's
branch, a secretary's member) sits in a later phase than the one creating it; the publisher waits
for every command of a phase to be answered before starting the next. Phases are generated lazily,
month by month, so a district of 100,000 members never sits in memory as commands.
"""
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from simulator import branch_records, facility_demand, leadership, reorganization, services, teams, vocab
from simulator.commands import Cmd, Factory, at
from simulator.tally import Tally
from simulator.world import Branch, Member, World

# Sources: the district's other systems that publish these facts.
REGISTRY, DUES, DEVICES, SPECIALISTS, WECHAT, DEPARTMENT = (
    "community-registry", "dues-collection", "attendance-devices", "specialist-app", "x-juminli",
    "district-org-department")
# Day of the month of each branch activity (never a month's first or last day), and its hours.
SLOTS = {"committee_meeting": (3, 9), "study": (6, 9), "themed_party_day": (10, 9), "group_meeting": (13, 14),
         "org_life_meeting": (16, 9), "party_lecture": (20, 9), "democratic_evaluation": (22, 9),
         "branch_assembly": (24, 9), "convenience_service": (26, 9)}
QUARTER_ENDS, LECTURE_MONTHS = (3, 6, 9, 12), (2, 5, 8, 11)


LEDGER_PHASES = 6  # the tree (4), registrations, ledger: what every later phase names
PHASES = LEDGER_PHASES + 12 + 1  # then twelve months and the year's end


@dataclass
class Phase:
    name: str
    commands: list[Cmd] = field(default_factory=list)


def plan(world: World, tally: Tally) -> Iterator[Phase]:
    """Every phase of the simulated year; `tally` learns what was sent as phases are drawn."""
    y = Year(world, tally)
    yield y.orgs("区", [world.district])
    yield y.orgs("街道和镇", world.subdistricts)
    yield y.orgs("社区", world.communities)
    yield y.branches()
    yield y.registrations()
    yield y.ledger()
    carry: list[Cmd] = []
    for month in range(1, 13):
        phase, carry = y.month(month, carry)
        yield phase
    yield y.year_end(carry)


class Year:
    def __init__(self, world: World, tally: Tally):
        self.w, self.t = world, tally
        self.make = Factory(world.ids, f"simulator-{world.seed}")
        self.y = world.year

    def cmd(self, type_: str, ref: str, data: dict, when, source: str) -> Cmd:
        self.t.commands[type_] += 1
        return self.make(type_, ref, data, when, source)

    def roll(self, *parts) -> float:
        """One draw in [0, 1) named by its parts: a hash, far cheaper than seeding a Random per decision."""
        digest = hashlib.blake2b("/".join(map(str, (self.w.seed, *parts))).encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    # ---- the tree and the ledger --------------------------------------------------------------

    def orgs(self, name: str, orgs) -> Phase:
        start = at(date(self.y - 16, 1, 5))
        return Phase(name, [self.cmd("EstablishOrganization", o.org_id,
                                     {"org_id": o.org_id, "name": o.name, "kind": o.kind, "parent_id": o.parent_id},
                                     start, DEPARTMENT) for o in orgs])

    def branches(self) -> Phase:
        start = at(date(self.y - 16, 1, 6))
        return Phase("支部", [self.cmd("EstablishOrganization", b.org_id, {
            "org_id": b.org_id, "name": b.name, "kind": "branch", "parent_id": b.community_id,
            "has_committee": b.has_committee, "party_groups": b.party_groups}, start, DEPARTMENT)
            for b in self.w.branches])

    def registrations(self) -> Phase:
        cmds = [self.cmd("RegisterVenue", b.venue_id, {
            "venue_id": b.venue_id, "name": f"{b.short}社区党员活动室", "org_id": b.community_id,
            "capacity": 40 + (b.size // 10) * 10, "facilities": facility_demand.venue_facilities(self.w, b)},
            at(date(self.y - 16, 2, 1)), REGISTRY) for b in self.w.branches]
        for m in self.w.members:
            cmds.append(self.cmd("RegisterMember", m.member_id, _profile(m, self.y), at(m.registered_on, 10), REGISTRY))
        return Phase("党员登记", cmds)

    def ledger(self) -> Phase:
        """Committees and secretaries, specialists, exemptions, and last winter's departures with their dues."""
        cmds = []
        for b in self.w.branches:
            cmds += leadership.ledger_commands(self, b)  # committees elected before the year
            if appointed := leadership.appointed_secretary(self.w, b):
                on, member_id = appointed
                cmds.append(self.cmd("AppointSecretary", b.org_id, {"branch_id": b.org_id, "member_id": member_id},
                                     at(on), REGISTRY))
        cmds += leadership.allowance_rates(self)
        cmds += teams.commands(self)  # volunteer service teams and their rosters (issue 13)
        for m in self.w.members:
            sp = m.specialist
            cmds.append(self.cmd("AssignSpecialist", m.member_id, {
                "member_id": m.member_id, "specialist_id": sp.specialist_id, "specialist_name": sp.name,
                "specialist_phone": sp.phone}, at(max(m.registered_on, date(self.y - 1, 10, 29)), 11), REGISTRY))
            if m.exempt_from:
                cmds.append(self.cmd("ExemptMember", m.member_id, {
                    "member_id": m.member_id, "from": m.exempt_from.isoformat(), "until": None,
                    "reason": "年老体弱，长期卧床，经支部同意免于参加组织生活"}, at(m.exempt_from, 15), REGISTRY))
            for a in m.away:
                if a.start.year < self.y:
                    cmds.append(self._away(m, a))
            if m.winters_away and not m.disengaged:
                cmds += self._payment(m, date(self.y - 1, 11, 1) - timedelta(days=3),
                                      [(self.y - 1, 11), (self.y - 1, 12), *((self.y, k) for k in range(1, 5))])
        return Phase("台账", _in_time(cmds))

    # ---- a month ------------------------------------------------------------------------------

    def month(self, mo: int, carried: list[Cmd]) -> tuple[Phase, list[Cmd]]:
        cmds, later = list(carried), []
        self.t.requests.new_month()  # last month's resolutions came with `carried` (issue 13)
        for m in self.w.members:
            cmds += self._life_events(m, mo)
            cmds += self._dues(m, mo)
            cmds += self._visits(m, mo)
        for b in self.w.branches:
            cmds += self._branch_activities(b, mo)
            cmds += leadership.month_commands(self, b, mo)
            cmds += services.branch_commands(self, b, mo)  # requests and difficulties (issue 13)
        cmds += leadership.training_commands(self, mo)
        cmds += reorganization.month_commands(self, mo)  # 化并转: a branch moves (issue 13)
        cmds += leadership.allowance_payments(self, mo)
        if mo == 1:
            cmds += leadership.assessments(self, self.y - 1, date(self.y, 1, 20))
        cmds += branch_records.month_commands(self, mo)  # funds, study, grades, activists (issue 13)
        cmds += facility_demand.month_commands(self, mo)  # 阵地需求: activities asked for (issue 13)
        service, hours = self._volunteering(mo)
        cmds += service
        later += hours
        cmds += self._alliance(mo)
        later += self.t.requests.carry  # resolutions of the month's requests: in the next phase
        notice, after = self._notice(mo)
        cmds += notice
        later += after
        return Phase(f"{self.y}-{mo:02d}", _in_time(cmds)), later

    def _life_events(self, m: Member, mo: int) -> list[Cmd]:
        out = []
        for a in m.away:
            if (a.start.year, a.start.month) == (self.y, mo):
                out.append(self._away(m, a))
            if a.returned and (a.returned.year, a.returned.month) == (self.y, mo):
                out.append(self.cmd("MarkMemberReturned", f"{m.member_id}/{a.returned}", {
                    "member_id": m.member_id, "on": a.returned.isoformat()}, at(a.returned, 18), REGISTRY))
        if m.died_on and m.died_on.month == mo:
            out.append(self.cmd("RecordMemberDeath", m.member_id, {"member_id": m.member_id, "on": m.died_on.isoformat()},
                                at(m.died_on, 20), REGISTRY))
        if m.transferred_on and m.transferred_on.month == mo:
            out.append(self.cmd("TransferMember", m.member_id, {
                "member_id": m.member_id, "on": m.transferred_on.isoformat(), "to_branch_id": None,
                "destination": m.destination}, at(m.transferred_on, 16), REGISTRY))
        return out

    def _away(self, m: Member, a) -> Cmd:
        return self.cmd("MarkMemberAway", f"{m.member_id}/{a.start}", {
            "member_id": m.member_id, "from": a.start.isoformat(), "until": a.until.isoformat() if a.until else None,
            "location": a.location, "reason": a.reason}, at(a.start, 8), REGISTRY)

    def _dues(self, m: Member, mo: int) -> list[Cmd]:
        if m.disengaged:
            return []
        reg = m.registered_on
        first = reg.month if reg.year == self.y else 1
        if mo < first:
            return []
        scheme = "monthly" if reg.year == self.y else m.dues_scheme
        if scheme == "monthly":
            months = [mo]
        elif scheme == "quarterly":
            months = list(range(mo, mo + 3)) if mo in (1, 4, 7, 10) else []
        elif scheme == "half_year":
            months = list(range(mo, mo + 6)) if mo in (1, 7) else []
        else:  # winter: six months before leaving in November, six months on coming back in May
            months = list(range(5, 11)) if mo == 5 else list(range(11, 13)) if mo == 11 else []
        if m.paid_through is not None:
            months = [k for k in months if k <= m.paid_through]
        if not months:
            return []
        day = date(self.y, mo, 21 + m.index % 6) if (reg.year, reg.month) == (self.y, mo) else \
            date(self.y, mo, 5 + m.index % 15)
        if scheme == "winter" and mo == 11:
            day = m.away[-1].start - timedelta(days=1)
        if (m.died_on and day >= m.died_on) or (m.transferred_on and day >= m.transferred_on):
            return []
        spans = [(self.y, k) for k in months]
        if scheme == "winter" and mo == 11:
            spans += [(self.y + 1, k) for k in range(1, 5)]
        return self._payment(m, day, spans)

    def _payment(self, m: Member, day: date, spans: list[tuple[int, int]]) -> list[Cmd]:
        months = [f"{yy:04d}-{mm:02d}" for yy, mm in spans]
        amount = _monthly_dues(m.monthly_pension) * len(months)
        pid = self.w.ids.of("p", f"{m.index}/{months[0]}")
        self.t.paid_months[m.member_id].update(months)
        self.t.payments[m.member_id].append((day, amount))
        return [self.cmd("RecordDuesPayment", pid, {
            "payment_id": pid, "member_id": m.member_id, "from_month": months[0], "to_month": months[-1],
            "amount": f"{amount:.2f}", "paid_on": day.isoformat()}, at(day, 10), DUES)]

    def _visits(self, m: Member, mo: int) -> list[Cmd]:
        if m.neglected and mo > 1:
            return []
        days = [date(self.y, mo, 8 + m.index % 13)]
        if m.lives_alone or m.health in ("poor", "bedridden"):
            days.append(days[0] + timedelta(days=14))
        out = []
        for n, day in enumerate(days):
            if not m.registered(day):
                continue
            away = m.away_on(day)
            if away and not m.phone:
                continue
            kind = "phone" if away or (n == 1 and m.phone) else "home"
            roll = self.roll("visit", m.index, day)
            vid = self.w.ids.of("vis", f"{m.index}/{day}")
            # the month's first visit may record a need (it opens a service request: simulator/services.py)
            needs = [m.service_needs[int(roll * 1000) % len(m.service_needs)]] if (
                m.service_needs and roll < 0.5 and n == 0 and m.registered(day + timedelta(days=10))) else []
            needs = self.t.requests.needs_of(m, needs)
            out.append(self.cmd("RecordVisit", vid, {
                "visit_id": vid, "member_id": m.member_id, "specialist_id": m.specialist.specialist_id,
                "on": day.isoformat(), "kind": kind, "health": m.health, "needs": needs,
                "notes": vocab.VISIT_NOTES[int(roll * 10000) % len(vocab.VISIT_NOTES)]}, at(day, 15), SPECIALISTS))
            self.t.visits[m.member_id].append(day)
            self.t.requests.visit(self, m, vid, day, needs)
        return out

    # ---- activities ---------------------------------------------------------------------------

    def _branch_activities(self, b: Branch, mo: int) -> list[Cmd]:
        kinds = ["themed_party_day", "study", "convenience_service"]
        if b.has_committee and ("skips_committee" not in b.gaps or mo in (1, 4, 7, 10)):
            kinds.append("committee_meeting")
        if mo in QUARTER_ENDS:
            kinds.append("branch_assembly")
        if mo in LECTURE_MONTHS:
            kinds.append("party_lecture")
        if mo == 1:
            kinds += ["org_life_meeting", "democratic_evaluation"]
        if "no_secretary" in b.gaps:  # nobody calls the meetings: some are simply not held
            kinds = [k for k in kinds if not (k == "themed_party_day" and mo in (4, 11)) and
                     not (k == "branch_assembly" and mo == 9) and not (k == "party_lecture" and mo == 5)
                     and k != "democratic_evaluation"]
        out = []
        for kind in kinds:
            out += self._activity(b, kind, mo)
        for g in range(1, b.party_groups + 1):
            out += self._activity(b, "group_meeting", mo, group=g)
        return out

    def _activity(self, b: Branch, kind: str, mo: int, group: int = 0) -> list[Cmd]:
        day_of, hour = SLOTS[kind]
        day = date(self.y, mo, day_of + group)
        aid = self.w.ids.of("a", f"{b.org_id}/{kind}/{mo}/{group}")
        title = vocab.ACTIVITY_TITLES[kind].format(m=mo, q=(mo - 1) // 3 + 1, g=group)
        start = at(day, hour, 30 if group else 0)
        schedule = self.cmd("ScheduleActivity", aid, {
            "activity_id": aid, "kind": kind, "title": title, "branch_ids": [b.org_id],
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1, minutes=30)).isoformat(),
            "venue_id": b.venue_id, "organizer_id": b.secretary_id}, at(day - timedelta(days=2), 8), DEVICES)
        if "no_secretary" in b.gaps and kind == "themed_party_day" and mo == 8:
            self.t.cancelled += 1
            return [schedule, self.cmd("CancelActivity", aid, {"activity_id": aid, "reason": "高温天气，活动取消"},
                                       at(day - timedelta(days=1), 18), DEVICES)]
        members = [self.w.member(mid) for mid in b.member_ids]
        if group:
            members = [m for m in members if m.group == group]
        attendance = [self._attend(m, aid, kind, day) for m in members if m.registered(day)]
        self.t.held_activity([b.org_id], kind, day)
        held = self.cmd("RecordActivityHeld", aid, {
            "activity_id": aid, "minutes": vocab.MINUTES.get(kind, "活动顺利开展。"),
            "attendance": [a for a in attendance if a]}, at(day, hour + 2), DEVICES)
        out = [schedule, held]
        if kind == "democratic_evaluation":
            out += self._evaluations(b, day)
        return out

    def _attend(self, m: Member, aid: str, kind: str, day: date) -> dict | None:
        roll = self.roll("attend", aid, m.index)
        if kind == "convenience_service":  # a service, not a meeting: only who came is recorded
            if m.disengaged or m.away_on(day) or roll > 0.3:
                return None
            status, mode = "present", "in_person"
        elif m.disengaged:
            status, mode = "absent", "in_person"
        elif m.exempt_on(day):
            status, mode = ("present", "home_delivery") if roll < 0.7 else ("leave", "in_person")
        elif m.away_on(day):
            status, mode = ("present", "remote") if m.phone and roll < 0.6 else ("leave", "in_person")
        else:
            chance = 0.6 if m.health == "poor" else 0.88
            status = "present" if roll < chance else "leave" if roll < chance + 0.08 else "absent"
            mode = "in_person"
        self.t.attended(m.member_id, kind, day, status, mode)
        return {"member_id": m.member_id, "status": status, "mode": mode}

    def _evaluations(self, b: Branch, day: date) -> list[Cmd]:
        out = []
        for mid in b.member_ids:
            m = self.w.member(mid)
            if not m.registered(day) or m.registered_on.year >= self.y:
                continue
            roll = self.roll("evaluation", m.index)
            result = "basically_qualified" if m.disengaged else "excellent" if roll < 0.2 else "qualified"
            out.append(self.cmd("RecordEvaluation", f"{mid}/{self.y - 1}", {
                "member_id": mid, "year": self.y - 1, "result": result}, at(day, 12), REGISTRY))
        return out

    def _volunteering(self, mo: int) -> tuple[list[Cmd], list[Cmd]]:
        """The teams' monthly service; the hours are logged in the next phase, once it was scheduled."""
        out, hours_logged = [], []
        for t, team in enumerate(vocab.VOLUNTEER_TEAMS):
            day = date(self.y, mo, 15 + t)
            volunteers = [m for m in self.w.members if m.team == team and m.registered(day) and not m.away_on(day)]
            if not volunteers:
                continue
            branch_ids = sorted({m.branch_id for m in volunteers}, key=lambda bid: self.w.branch(bid).name)
            aid = self.w.ids.of("a", f"team/{team}/{mo}")
            start = at(day, 8)
            out.append(self.cmd("ScheduleActivity", aid, {
                "activity_id": aid, "kind": "volunteer_service", "title": f"{team}志愿服务", "branch_ids": branch_ids,
                "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=3)).isoformat()},
                at(day - timedelta(days=3), 8), DEVICES))
            out.append(self.cmd("RecordActivityHeld", aid, {
                "activity_id": aid, "minutes": f"{team}服务居民。",
                "attendance": [{"member_id": m.member_id, "status": "present"} for m in volunteers]},
                at(day, 12), DEVICES))
            self.t.held_activity(branch_ids, "volunteer_service", day)
            for m in volunteers:
                hours = Decimal(4 + int(self.roll("hours", m.index, mo) * 9)) / 2
                eid = self.w.ids.of("vh", f"{m.index}/{mo}")
                self.t.hours[m.member_id].append((day, hours, team))
                self.t.attended(m.member_id, "volunteer_service", day, "present", "in_person")
                hours_logged.append(self.cmd("LogVolunteerHours", eid, {
                    "entry_id": eid, "member_id": m.member_id, "team_id": teams.team_id(self.w, team), "hours": str(hours),
                    "on": day.isoformat(), "activity_id": aid}, at(day, 13), DEVICES))
        return out, hours_logged

    def _alliance(self, mo: int) -> list[Cmd]:
        """The activity alliance (活动联盟): festival events shared by a subdistrict's branches."""
        out = []
        for mmdd, title in vocab.CULTURAL:
            if int(mmdd[:2]) != mo:
                continue
            day = date.fromisoformat(f"{self.y}-{mmdd}")
            for s in self.w.subdistricts:
                branches = [b for b in self.w.branches if b.subdistrict_id == s.org_id]
                if not branches:
                    continue
                aid = self.w.ids.of("a", f"alliance/{s.org_id}/{mmdd}")
                start = at(day, 15)
                out.append(self.cmd("ScheduleActivity", aid, {
                    "activity_id": aid, "kind": "cultural", "title": f"{s.name}{title}",
                    "branch_ids": [b.org_id for b in branches], "starts_at": start.isoformat(),
                    "ends_at": (start + timedelta(hours=2, minutes=30)).isoformat(), "venue_id": branches[0].venue_id},
                    at(day - timedelta(days=10), 8), DEVICES))
                attendance = [self._attend(self.w.member(mid), aid, "convenience_service", day)
                              for b in branches for mid in b.member_ids if self.w.member(mid).registered(day)]
                out.append(self.cmd("RecordActivityHeld", aid, {
                    "activity_id": aid, "minutes": f"{title}圆满举行。", "attendance": [a for a in attendance if a]},
                    at(day, 18), DEVICES))
                self.t.held_activity([b.org_id for b in branches], "cultural", day)
        return out

    # ---- notices ------------------------------------------------------------------------------

    def _notice(self, mo: int) -> tuple[list[Cmd], list[Cmd]]:
        """The month's district notice, its acknowledgements; door deliveries and feedback follow later."""
        category, title, body, require_ack = vocab.NOTICES[(mo - 1) % len(vocab.NOTICES)]
        day = date(self.y, mo, 5)
        nid = self.w.ids.of("n", str(mo))
        now, later = [self.cmd("SendNotice", nid, {
            "notice_id": nid, "title": f"{self.y}年{mo}月{title}", "body": body, "category": category,
            "audience": {"org_ids": [self.w.district.org_id], "member_ids": []}, "require_ack": require_ack,
            "send_at": at(day, 10).isoformat()}, at(day, 10), DEPARTMENT)], []
        recipients = [m for m in self.w.members if m.registered(day)]
        self.t.notices.append((nid, day, len(recipients)))
        for m in recipients:
            # Addressed (contract: a recipient on the notice's day, NoticeAddressed), whether or not a
            # channel reaches the member (away, and no phone: no WeChat or email either).
            pair = [day, m.member_id, False]
            if require_ack:
                self.t.notice_pairs.append(pair)
            roll = self.roll("notice", nid, m.index)
            ack_day = day + timedelta(days=1 + int(roll * 7))
            gone = m.died_on or m.transferred_on
            # A death or move sent in the same phase may reach notifications before the notice does,
            # and then the member is no recipient: nothing more is sent about that member's notice.
            if not m.registered(ack_day) or (gone and (gone.year, gone.month) == (self.y, mo)):
                continue
            # Notifications hands these to the specialist: a visit to a member without a phone who is
            # at home (送学上门), or the call a member asked for. A member away without a phone is unreachable.
            if (not m.phone and not m.away_on(day)) or m.preferred_channel == "phone_call":
                self.t.door_deliveries += 1
                later.append(self.cmd("CompleteDoorDelivery", f"{nid}/{m.member_id}", {
                    "notice_id": nid, "member_id": m.member_id, "specialist_id": m.specialist.specialist_id,
                    "on": ack_day.isoformat()}, at(ack_day, 16), SPECIALISTS))
            if not m.phone or m.disengaged:
                continue
            if require_ack and self.roll("ack", nid, m.index) < 0.8:
                self.t.acks += 1
                pair[2] = True
                now.append(self.cmd("AcknowledgeNotice", f"{nid}/{m.member_id}", {
                    "notice_id": nid, "member_id": m.member_id, "channel": m.preferred_channel},
                    at(ack_day, 19), WECHAT))
                if self.roll("feedback", nid, m.index) < 0.06:
                    self.t.feedback += 1
                    fid = self.w.ids.of("f", f"{nid}/{m.index}")
                    later.append(self.cmd("RecordFeedback", fid, {
                        "feedback_id": fid, "member_id": m.member_id, "notice_id": nid,
                        "text": vocab.FEEDBACK[int(roll * 1000) % len(vocab.FEEDBACK)]}, at(ack_day, 20), WECHAT))
        return now, later

    # ---- the year's end -----------------------------------------------------------------------

    def year_end(self, carried: list[Cmd]) -> Phase:
        cmds = list(carried)
        day = date(self.y, 12, 28)
        ranked = sorted(self.w.branches, key=lambda b: (len(b.gaps), -b.size, b.name))
        for i, b in enumerate(ranked):
            stars = 2 if len(b.gaps) else 5 if i < 2 else 4
            cmds.append(self.cmd("RateBranch", f"{b.org_id}/{self.y}", {
                "branch_id": b.org_id, "year": self.y, "stars": stars}, at(day, 10), DEPARTMENT))
        winners = [("five_good_branch", ranked[0].org_id), ("model_branch", ranked[1].org_id)]
        if ranked[0].secretary_id:
            winners.append(("best_secretary", ranked[0].secretary_id))
        volunteers = sorted(self.t.hours.items(), key=lambda kv: (-sum(h for _, h, _ in kv[1]), kv[0]))
        if volunteers:
            winners.append(("best_volunteer", volunteers[0][0]))
        eldest = min((m for m in self.w.members if m.registered(day) and not m.disengaged),
                     key=lambda m: (m.joined_party_on, m.member_id))
        winners.append(("best_old_member", eldest.member_id))
        cmds += leadership.assessments(self, self.y, date(self.y, 12, 27))
        cmds += branch_records.year_end_commands(self)  # the year's grades (issue 13)
        for category, subject in winners:
            aid = self.w.ids.of("aw", f"{self.y}/{category}")
            cmds.append(self.cmd("GrantAward", aid, {"award_id": aid, "year": self.y, "category": category,
                                                     "subject_id": subject}, at(day, 11), DEPARTMENT))
        return Phase("年终", _in_time(cmds))


def _in_time(cmds: list[Cmd]) -> list[Cmd]:
    """In the order things happened (stable, so what happened together keeps its order)."""
    return sorted(cmds, key=lambda c: c.occurred_at)


def _monthly_dues(pension: Decimal) -> Decimal:
    """The 2008 rule (domain.md): 0.5% of a pension up to 5,000 yuan, 1% above, on the whole pension."""
    rate = Decimal("0.005") if pension <= 5000 else Decimal("0.01")
    return (pension * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _profile(m: Member, year: int) -> dict:
    """A member brought over from the paper ledger (registered before the year) has paid up to the
    end of the year before: the opening balance (`dues_paid_through`, contract)."""
    opening = {"dues_paid_through": f"{year - 1:04d}-12"} if m.registered_on.year < year else {}
    return opening | {"member_id": m.member_id, "name": m.name, "gender": m.gender, "birth_date": m.birth_date.isoformat(),
            "branch_id": m.branch_id, "joined_party_on": m.joined_party_on.isoformat(),
            "registered_on": m.registered_on.isoformat(), "retired_on": m.retired_on.isoformat(),
            "former_unit": m.former_unit, "former_rank": m.former_rank, "phone": m.phone,
            "wechat_openid": m.wechat_openid, "email": m.email, "preferred_channel": m.preferred_channel,
            "lives_alone": m.lives_alone, "health": m.health, "specialties": m.specialties,
            "service_needs": m.service_needs, "monthly_pension": f"{m.monthly_pension:.2f}"}
