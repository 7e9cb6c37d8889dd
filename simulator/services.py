"""Service requests and difficulties (服务 and 困难帮扶, issue 13) in the simulated district.

- A specialist's first visit of the month may record one of the member's needs (the second visit
  of the frail records none); activities opens a request for a need not already open. The
  specialist resolves it 2–7 days later, except about one in seventy, which stays open past its due
  date (the `request_overdue` alerts). A resolution names a request a visit opened on another key, so it
  is sent with the next month's phase; that month's visit records no need being resolved then.
- Each branch's members and secretary ask for the branches' services and report difficulties:
  a neighbours' dispute for the mediation room (调解室, March), party papers (党报党刊, April), the stair
  cleaning (楼道清扫, June), and a difficulty reported by the secretary in September, handed to a
  volunteer (AssignServiceRequest) and resolved; in **宜和园** November's difficulty is still open at
  the year's end.
The model (`Requests`) follows the same rule as activities, so the simulator knows what it intends.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

from shared.contracts.service_requests import visit_request_id
from simulator.world import Branch, World

LEFT_OPEN = "宜和园"
DUE_DAYS = 14  # activities' VISIT_DUE_DAYS
NEED_SERVICES = {"送学上门": "study_delivery", "代购药品": "shopping", "健康体检": "health_check", "陪同就医": "medical_escort",
                 "家政服务": "housekeeping", "心理慰藉": "counselling", "法律援助": "legal_aid", "助餐服务": "meals"}
# (month, day, kind, service, description, source): what each branch asks for in the year.
BRANCH_REQUESTS = [
    (3, 11, "service", "mediation", "邻里因楼上漏水发生纠纷，申请调解室调解", "member"),
    (4, 7, "service", "party_papers", "申请订阅《人民日报》《党建》", "member"),
    (6, 9, "service", "stair_cleaning", "单元楼道堆放杂物，申请义务清扫", "member"),
    (9, 4, "difficulty", "other", "独居老人家中水管漏水，无人维修", "secretary"),
    (11, 18, "difficulty", "other", "老伴住院，生活无人照料", "secretary"),
]


@dataclass
class Requests:
    """What the simulator sent: the requests by id, and each member's needs open (as activities keeps them)."""

    opened: dict[str, dict] = field(default_factory=dict)
    open_needs: dict[str, set] = field(default_factory=dict)
    # A resolution names a request a visit opened (another key): it is sent in the next phase, with the
    # next month's visits; a need being resolved there is not recorded again in that month.
    resolving: dict[str, set] = field(default_factory=dict)  # member → keys resolved in the coming phase
    carry: list = field(default_factory=list)
    # (how many requests, the requests by branch) for the reports' expectations (`by_branch`)
    _index: tuple = field(default=(None, {}), repr=False)

    def by_branch(self) -> dict[str, list[dict]]:
        """The requests by branch, worked out once for all the reports' expectations: scanned for
        each report, they were where a 100,000-member plan spent its time once the notice pairs
        were indexed (py-spy)."""
        if self._index[0] != len(self.opened):
            index: dict[str, list[dict]] = {}
            for r in self.opened.values():  # the requests themselves: a resolution marks one later
                index.setdefault(r["branch_id"], []).append(r)
            self._index = (len(self.opened), index)
        return self._index[1]

    @staticmethod
    def key(need: str) -> str:
        service = NEED_SERVICES.get(need, "other")
        return service if service != "other" else f"other|{need}"

    def new_month(self) -> list:
        """The resolutions of last month's requests (for this month's phase)."""
        out, self.carry = self.carry, []
        self.resolving, self._next = getattr(self, "_next", {}), {}
        return out

    def needs_of(self, m, needs: list[str]) -> list[str]:
        return [n for n in needs if self.key(n) not in self.resolving.get(m.member_id, ())]

    def visit(self, y, m, visit_id: str, day: date, needs: list[str]) -> None:
        """The requests this visit opens (none for a need already open); their resolutions are carried."""
        from simulator.commands import at

        mine = self.open_needs.setdefault(m.member_id, set())
        for i, need in enumerate(needs):
            service = NEED_SERVICES.get(need, "other")
            key = self.key(need)
            if key in mine:
                continue
            rid = visit_request_id(visit_id, i)
            due = day + timedelta(days=DUE_DAYS)
            self.opened[rid] = {"kind": "service", "service": service, "opened_on": day, "due_on": due,
                                "resolved_on": None, "branch_id": m.branch_id, "source": "visit"}
            if y.roll("request", m.index, day) < 0.015 and m.died_on is None and m.transferred_on is None:
                mine.add(key)  # left open: overdue from the day after its due date
                continue
            done = day + timedelta(days=2 + int(y.roll("resolve", m.index, day) * 6))
            self.opened[rid]["resolved_on"] = done
            self._next.setdefault(m.member_id, set()).add(key)
            self.carry.append(y.cmd("ResolveServiceRequest", rid, {
                "request_id": rid, "on": done.isoformat(), "outcome": "resolved",
                "resolution": f"{need}：已上门办理"}, at(done, 16), "specialist-app"))


def branch_commands(y, b: Branch, mo: int) -> list:
    """The month's requests and difficulties of one branch, opened, assigned and resolved."""
    from simulator.commands import at

    out = []
    members = [y.w.member(mid) for mid in b.member_ids]
    for k, (month, dd, kind, service, text, source) in enumerate(BRANCH_REQUESTS):
        if month != mo:
            continue
        day = date(y.y, mo, dd)
        who = [m for m in members if m.registered(day + timedelta(days=20)) and not m.away_on(day)]
        if not who:
            continue
        m = who[(k * 7 + len(who)) % len(who)]
        rid = y.w.ids.of("rq", f"{b.org_id}/{k}")
        secretary = b.secretary_id or m.specialist.specialist_id
        responsible = m.specialist.specialist_id if kind == "service" else secretary
        due = day + timedelta(days=7 if kind == "service" else 10)
        out.append(y.cmd("OpenServiceRequest", rid, {
            "request_id": rid, "member_id": m.member_id, "kind": kind, "service": service, "description": text,
            "source": source, "opened_on": day.isoformat(), "responsible_id": responsible,
            "due_on": due.isoformat()}, at(day, 10), "community-registry"))
        record = {"kind": kind, "service": service, "opened_on": day, "due_on": due, "resolved_on": None,
                  "branch_id": b.org_id, "source": source}
        y.t.requests.opened[rid] = record
        if kind == "difficulty" and mo == 11 and b.short == LEFT_OPEN:
            continue  # still open at the year's end: overdue
        if kind == "difficulty":
            helper = next((x for x in who if x.team and x.member_id != m.member_id), None)
            if helper is not None:
                out.append(y.cmd("AssignServiceRequest", f"{rid}/assign", {
                    "request_id": rid, "responsible_id": helper.member_id, "responsible_name": helper.name,
                    "on": (day + timedelta(days=1)).isoformat()}, at(day + timedelta(days=1), 9),
                    "community-registry"))
        done = day + timedelta(days=5)
        record["resolved_on"] = done
        out.append(y.cmd("ResolveServiceRequest", rid, {
            "request_id": rid, "on": done.isoformat(), "outcome": "resolved",
            "resolution": "已协调处理，党员表示满意"}, at(done, 15), "community-registry"))
    return out


def summary(world: World, requests: Requests) -> dict:
    """The year's requests: opened, resolved, and open and overdue on the year's last day."""
    end = date(world.year, 12, 31)
    rs = requests.opened.values()
    open_ = [r for r in rs if r["resolved_on"] is None]
    return {"opened": len(requests.opened), "from_visits": sum(r["source"] == "visit" for r in rs),
            "resolved": sum(r["resolved_on"] is not None for r in rs), "open_at_year_end": len(open_),
            "overdue_at_year_end": sum(r["due_on"] < end for r in open_),
            "difficulties": sum(r["kind"] == "difficulty" for r in rs)}


def figures(requests: Requests, branch_ids: list[str], period) -> dict:
    """The report's `services` of these branches for a period, as of its last day."""
    start, end = period.start, period.end
    by_branch = requests.by_branch()
    rs = [r for b in branch_ids for r in by_branch.get(b, ())]
    open_ = [r for r in rs if r["opened_on"] <= end and not (r["resolved_on"] and r["resolved_on"] <= end)]
    return {"services.opened": sum(start <= r["opened_on"] <= end for r in rs),
            "services.resolved": sum(bool(r["resolved_on"]) and start <= r["resolved_on"] <= end for r in rs),
            "services.open": len(open_), "services.overdue": sum(r["due_on"] < end for r in open_)}
