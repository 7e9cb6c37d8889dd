"""Service requests and difficulties (服务 and 困难帮扶, issue 13): who asked (a visit, the member, the
secretary), who sees to it, by when, and how it ended.

A visit's `needs` become requests (source `visit`, the specialist responsible, due
`VISIT_DUE_DAYS` after the visit), one per need not already open for the member: a need a
specialist records again at every visit stays one request until it is resolved.

"Open" means open on the day of the visit, whatever order the commands are handled in: a
resolution travels on the request's key and a visit on the member's, so a visit made after a
resolution may be handled before it, and the other way round. A visit that finds its need open
is remembered by that request (`MemberRequests.taken_in`); if the request turns out resolved
before that visit, the visit opens its request then (`after_resolution`). A visit handled after
a resolution but made before it opens nothing (`MemberRequests.resolved`).
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

from shared.errors import conflict, duplicate, invalid, not_allowed

VISIT_DUE_DAYS = 14
# The words of the specialists' app (a visit's `needs`) and the services they ask for.
NEED_SERVICES = {
    "党报党刊": "party_papers", "订阅报刊": "party_papers", "理发": "haircut", "义务理发": "haircut",
    "爱心义剪": "haircut", "体检": "health_check", "健康体检": "health_check", "楼道清扫": "stair_cleaning",
    "调解": "mediation", "矛盾调解": "mediation", "邻里纠纷": "mediation", "送学上门": "study_delivery",
    "陪同就医": "medical_escort", "代购药品": "shopping", "家政服务": "housekeeping", "助餐服务": "meals",
    "心理慰藉": "counselling", "法律援助": "legal_aid",
}


@dataclass
class ServiceRequest:
    request_id: str
    member_id: str
    kind: str  # service · difficulty
    service: str
    description: str
    source: str  # visit · member · secretary
    opened_on: str
    responsible_id: str
    due_on: str
    visit_id: str | None = None
    responsible_name: str | None = None
    branch_id: str | None = None
    resolved_on: str | None = None
    outcome: str | None = None
    resolution: str | None = None
    assignments: list[dict] = field(default_factory=list)  # {on, responsible_id, due_on}

    @property
    def key(self) -> str:
        """What a later visit's need is compared with: the same service and words."""
        return need_key(self.service, self.description)


@dataclass
class MemberRequests:
    """The member's open requests by `key`, so that a visit opens none already open."""

    member_id: str
    open: dict[str, str] = field(default_factory=dict)  # key → request_id
    # request_id → the needs of later visits that found it open: [{visit_id, position, on, need,
    # service, specialist_id}]
    taken_in: dict[str, list[dict]] = field(default_factory=dict)
    # key → the need's last resolved request: {request_id, opened_on, resolved_on}
    resolved: dict[str, dict] = field(default_factory=dict)


def need_key(service: str, description: str) -> str:
    """A known service is one need whatever the words; anything else is told apart by its words."""
    return service if service != "other" else f"other|{description.strip()}"


def service_of(need: str) -> str:
    return NEED_SERVICES.get(need.strip(), "other")


def open_request(existing: ServiceRequest | None, **fields) -> ServiceRequest:
    if existing is not None:
        raise duplicate(f"request {fields['request_id']} is already open", "data.request_id")
    r = ServiceRequest(**fields)
    if r.due_on < r.opened_on:
        raise invalid("due_on comes before opened_on", "data.due_on")
    return r


def from_visit(index: MemberRequests, *, visit_id: str, on: str, needs: list[str],
               specialist_id: str | None = None) -> list[tuple[int, str, str]]:
    """(position, service, need) of the needs that open a request: those not open on the day of
    the visit. A need an open request takes in is remembered by it (see `after_resolution`)."""
    out = []
    for i, need in enumerate(needs):
        service = service_of(need)
        key = need_key(service, need)
        open_id = index.open.get(key)
        if open_id is not None:
            taken = index.taken_in.setdefault(open_id, [])
            if not any(t["visit_id"] == visit_id and t["position"] == i for t in taken):
                taken.append({"visit_id": visit_id, "position": i, "on": on, "need": need, "service": service,
                              "specialist_id": specialist_id})
            continue
        last = index.resolved.get(key)
        if last is not None and last["opened_on"] <= on <= last["resolved_on"]:
            continue  # made while that request was still open: the same need
        out.append((i, service, need))
    return out


def after_resolution(index: MemberRequests, r: ServiceRequest) -> tuple[dict, list[dict]] | None:
    """The index once `r` is resolved. Of the visits `r` took in, those made after its resolution
    were handled before it: the first of them opens a request now, and takes in the rest
    (returned as (first, rest)); None when there are none."""
    if index.open.get(r.key) == r.request_id:
        del index.open[r.key]
    last = index.resolved.get(r.key)
    if last is None or last["resolved_on"] <= r.resolved_on:
        index.resolved[r.key] = {"request_id": r.request_id, "opened_on": r.opened_on, "resolved_on": r.resolved_on}
    later = sorted((t for t in index.taken_in.pop(r.request_id, []) if t["on"] > r.resolved_on),
                   key=lambda t: (t["on"], t["visit_id"], t["position"]))
    if not later or r.key in index.open:
        return None
    return later[0], later[1:]


def visit_due(on: str) -> str:
    return (date.fromisoformat(on) + timedelta(days=VISIT_DUE_DAYS)).isoformat()


def assign(r: ServiceRequest, *, responsible_id: str, responsible_name: str | None, on: str,
           due_on: str | None) -> str:
    """The previous person responsible."""
    if r.resolved_on is not None:
        raise not_allowed(f"request {r.request_id} was resolved on {r.resolved_on}", "data.request_id")
    if on < r.opened_on:
        raise invalid(f"request {r.request_id} was opened on {r.opened_on}, after {on}", "data.on")
    if due_on is not None and due_on < r.opened_on:
        raise invalid(f"due_on comes before the request was opened ({r.opened_on})", "data.due_on")
    previous = r.responsible_id
    r.responsible_id, r.responsible_name = responsible_id, responsible_name
    r.due_on = due_on or r.due_on
    r.assignments.append({"on": on, "responsible_id": responsible_id, "due_on": r.due_on})
    return previous


def resolve(r: ServiceRequest, *, on: str, outcome: str, resolution: str) -> bool:
    """Whether it was resolved late (after its due date)."""
    if r.resolved_on is not None:
        raise conflict(f"request {r.request_id} was already resolved on {r.resolved_on}", "data.request_id")
    if on < r.opened_on:
        raise invalid(f"request {r.request_id} was opened on {r.opened_on}, after {on}", "data.on")
    r.resolved_on, r.outcome, r.resolution = on, outcome, resolution.strip()
    return on > r.due_on
