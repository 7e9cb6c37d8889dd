"""What the simulator intends: the facts it sent, and the figures a report should show for them.

The figures follow the definitions of the contract's `GET /orgs/{id}/report` (members, participation,
organisational life, dues, volunteer hours, visits), per branch and summed up the tree, so a test
can compare them with what reporting answers.
"""
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal

from shared.contracts.types import plain

from shared.periods import Period, parse_period
from services.reporting.domain.requirements import branch_required as required
from simulator import branch_records, facility_demand, leadership, reorganization, services, teams
from simulator.world import World

ORG_LIFE_AND_STUDY = {"branch_assembly", "committee_meeting", "group_meeting", "party_lecture",
                      "themed_party_day", "org_life_meeting", "democratic_evaluation", "study"}
ORG_LIFE = ("branch_assembly", "committee_meeting", "group_meeting", "party_lecture", "themed_party_day",
            "org_life_meeting", "democratic_evaluation")


class Tally:
    def __init__(self) -> None:
        self.commands: Counter[str] = Counter()
        self.held: dict[str, list[tuple[str, date]]] = defaultdict(list)  # branch → (kind, day)
        self.present: dict[str, set[date]] = defaultdict(set)  # member → days present (org life, study)
        self.attendance = Counter()  # (status, mode) → count
        self.paid_months: dict[str, set[str]] = defaultdict(set)
        self.payments: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
        self.hours: dict[str, list[tuple[date, Decimal, str]]] = defaultdict(list)
        self.visits: dict[str, list[date]] = defaultdict(list)
        self.notices: list[tuple[str, date, int]] = []  # (notice_id, day, recipients)
        # (notice day, member, acknowledged) of each pair addressed by a notice asking for acknowledgement
        self.notice_pairs: list[list] = []
        # (key, pairs by branch) for the reports' expectations (_pairs_by_branch)
        self.pairs_index: tuple[tuple | None, dict] = (None, {})
        self.acks = 0
        self.door_deliveries = 0
        self.feedback = 0
        self.cancelled = 0
        self.requests = services.Requests()  # service requests and difficulties (issue 13)

    def held_activity(self, branch_ids: list[str], kind: str, day: date) -> None:
        for b in branch_ids:
            self.held[b].append((kind, day))

    def attended(self, member_id: str, kind: str, day: date, status: str, mode: str) -> None:
        self.attendance[(status, mode)] += 1
        if status == "present" and kind in ORG_LIFE_AND_STUDY:
            self.present[member_id].add(day)


def figures(world: World, tally: Tally, branch_ids: list[str], period: Period) -> dict[str, object]:
    """A report's figures for the branches of a subtree, as of the period's last day."""
    end = period.end
    months = period.months
    f: Counter = Counter()
    amount = Decimal("0.00")
    hours = Decimal("0")
    held_req = Counter()
    for bid in branch_ids:
        branch = world.branch(bid)
        for kind, n in required(period, has_committee=branch.has_committee,
                                party_groups=branch.party_groups).items():
            held_req[f"organisational_life.{kind}.required"] += n
        for kind, day in tally.held.get(bid, ()):
            if period.start <= day <= end:
                held_req[f"organisational_life.{kind}.held"] += 1
        for mid in branch.member_ids:
            m = world.member(mid)
            if m.died_on and period.start <= m.died_on <= end:
                f["members.deceased"] += 1
            if not m.registered(end):
                continue
            f["members.registered"] += 1
            away, exempt = m.away_on(end), m.exempt_on(end)
            f["members.away"] += away
            f["members.exempt"] += exempt
            if any(period.start <= d <= end for d in tally.present.get(mid, ())):
                f["participation.active"] += 1
            first = f"{m.registered_on.year:04d}-{m.registered_on.month:02d}"
            due = [mo for mo in months if mo >= first]
            f["dues.member_months_due"] += len(due)
            f["dues.member_months_paid"] += sum(mo in tally.paid_months.get(mid, ()) for mo in due)
            amount += sum((a for d, a in tally.payments.get(mid, ()) if period.start <= d <= end), Decimal("0.00"))
            f["visits.members_visited"] += any(period.start <= d <= end for d in tally.visits.get(mid, ()))
        # Hours and notices count for the member's branch on their day, whatever happened to the member after.
        for mid in branch.member_ids:
            for d, h, _ in tally.hours.get(mid, ()):
                if period.start <= d <= end and world.member(mid).registered(d):
                    hours += h
    by_branch = _pairs_by_branch(world, tally)
    for bid in branch_ids:
        for day, _, acked in by_branch.get(bid, ()):
            if period.start <= day <= end:
                f["notices.sent"] += 1
                f["notices.acknowledged"] += acked
    out: dict[str, object] = {k: f[k] for k in ("members.registered", "members.away", "members.exempt",
                                                "members.deceased", "participation.active")}
    out["members.resident"] = f["members.registered"] - f["members.away"]
    for kind in ORG_LIFE:
        out[f"organisational_life.{kind}.required"] = held_req[f"organisational_life.{kind}.required"]
        out[f"organisational_life.{kind}.held"] = held_req[f"organisational_life.{kind}.held"]
    out["dues.member_months_due"] = f["dues.member_months_due"]
    out["dues.member_months_paid"] = f["dues.member_months_paid"]
    out["dues.amount_paid"] = f"{amount:.2f}"
    out["volunteer_hours"] = plain(hours)
    out["notices.sent"], out["notices.acknowledged"] = f["notices.sent"], f["notices.acknowledged"]
    out["notices.ack_rate"] = round(f["notices.acknowledged"] / f["notices.sent"], 4) if f["notices.sent"] else 0
    out["visits.members_visited"] = f["visits.members_visited"]
    out |= services.figures(tally.requests, branch_ids, period)  # service requests (issue 13)
    return out | leadership.figures(world, branch_ids, period)  # committees, training, allowance (issue 13)


def _pairs_by_branch(world: World, tally: Tally) -> dict[str, list[list]]:
    """The notice pairs by their member's branch as the world ends, worked out once for all the
    reports: scanned again for each of them (581,475 pairs for each of 13,365 reports at 100,000
    members), the plan was still in the expectations when stopped after 5.5 CPU-minutes."""
    key = (id(world), len(tally.notice_pairs))
    if tally.pairs_index[0] != key:
        index: dict[str, list[list]] = defaultdict(list)
        for pair in tally.notice_pairs:  # the pairs themselves: an acknowledgement marks one later
            index[world.member(pair[1]).branch_id].append(pair)
        tally.pairs_index = (key, index)
    return tally.pairs_index[1]


def hours_by_team(world: World, tally: Tally, branch_ids: list[str], period: Period) -> dict[str, str]:
    """The subtree's volunteer hours of the period by team (the report's `volunteer_hours`, split)."""
    by_team: dict[str, Decimal] = defaultdict(Decimal)
    for bid in branch_ids:
        for mid in world.branch(bid).member_ids:
            for d, h, team in tally.hours.get(mid, ()):
                if period.start <= d <= period.end and world.member(mid).registered(d):
                    by_team[team] += h
    return {team: plain(h) for team, h in sorted(by_team.items())}


def subtrees(world: World) -> list[tuple[str, str, str, list[str]]]:
    """(org_id, name, kind, branch ids under it) for every org of the tree."""
    by_community = defaultdict(list)
    by_sub = defaultdict(list)
    for b in world.branches:
        community, sub = reorganization.placement(world, b)  # a branch moved (化并转, issue 13) counts where it is
        by_community[community].append(b.org_id)
        by_sub[sub].append(b.org_id)
    out = [(world.district.org_id, world.district.name, "district", [b.org_id for b in world.branches])]
    out += [(s.org_id, s.name, s.kind, by_sub[s.org_id]) for s in world.subdistricts]
    out += [(c.org_id, c.name, "community", by_community[c.org_id]) for c in world.communities]
    out += [(b.org_id, b.name, "branch", [b.org_id]) for b in world.branches]
    return out


def expectations(world: World, tally: Tally) -> list[dict]:
    """The figures each org's report should show for January (winter) and for the whole year."""
    out = []
    for text in (f"{world.year}-01", f"{world.year}-07", f"{world.year}"):
        period = parse_period(text)
        for org_id, name, kind, branch_ids in subtrees(world):
            out.append({"org_id": org_id, "name": name, "kind": kind, "period": text,
                        "figures": figures(world, tally, branch_ids, period),
                        "volunteer_hours_by_team": hours_by_team(world, tally, branch_ids, period)})
    return out


def summary(world: World, tally: Tally) -> dict:
    """The headline of what the simulator intended, for people (printed) and tests (JSON)."""
    y = world.year
    jan, dec = date(y, 1, 31), date(y, 12, 31)
    ms = world.members
    year = figures(world, tally, [b.org_id for b in world.branches], parse_period(str(y)))
    held = Counter(kind for acts in tally.held.values() for kind, _ in acts)
    team_hours = defaultdict(Decimal)
    for entries in tally.hours.values():
        for _, h, team in entries:
            team_hours[team] += h
    return {
        "seed": world.seed, "year": y, "district_id": world.district.org_id,
        "orgs": {"subdistricts_and_towns": len(world.subdistricts), "communities": len(world.communities),
                 "branches": len(world.branches)},
        "branches_with_gaps": {b.name: list(b.gaps) for b in world.branches if b.gaps},
        "members": {
            "registered_in_ledger": len(ms),
            "registered_end_of_year": sum(m.registered(dec) for m in ms),
            "away_end_of_january": sum(m.registered(jan) and m.away_on(jan) for m in ms),
            "away_end_of_year": sum(m.registered(dec) and m.away_on(dec) for m in ms),
            "winter_in_sanya": sum(m.winters_away for m in ms),
            "exempt": sum(m.exempt_from is not None for m in ms),
            "died": sum(m.died_on is not None for m in ms),
            "transferred_out": sum(m.transferred_on is not None for m in ms),
            "joined_this_year": sum(m.registered_on.year == y for m in ms),
            "live_alone": sum(m.lives_alone for m in ms),
            "without_phone": sum(m.phone is None for m in ms),
        },
        "activities_held": dict(sorted(held.items())),
        "activities_cancelled": tally.cancelled,
        "attendance": {f"{s}/{m}": n for (s, m), n in sorted(tally.attendance.items())},
        "participation_active_in_year": year["participation.active"],
        "dues": {"member_months_due": year["dues.member_months_due"],
                 "member_months_paid": year["dues.member_months_paid"],
                 "amount_paid": year["dues.amount_paid"],
                 "members_in_arrears_at_year_end": sum(
                     1 for m in ms if m.registered(dec) and (m.disengaged or m.paid_through is not None))},
        "volunteer_hours": {team: plain(h) for team, h in sorted(team_hours.items())},
        "visits": {"visits": sum(len(v) for v in tally.visits.values()),
                   "members_visited_in_year": year["visits.members_visited"]},
        "notices": {"sent": len(tally.notices), "recipients": sum(n for _, _, n in tally.notices),
                    "acknowledged": tally.acks, "door_deliveries": tally.door_deliveries,
                    "feedback": tally.feedback,
                    # what reporting counts (contract): pairs of the notices asking for acknowledgement
                    "pairs_sent": year["notices.sent"], "pairs_acknowledged": year["notices.acknowledged"]},
        "leadership": leadership.summary(world),
        "branch_records": branch_records.summary(world),  # funds, study, grades, activists (issue 13)
        "volunteer_teams": teams.summary(world),  # issue 13
        "service_requests": services.summary(world, tally.requests),  # issue 13
        "facility_demand": facility_demand.summary(world),  # 阵地需求 (issue 13)
        "commands": {"total": sum(tally.commands.values()), "by_type": dict(sorted(tally.commands.items()))},
    }
