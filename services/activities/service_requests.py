"""The activities service layer for service requests and difficulties (issue 13): open, assign and
resolve them; and the requests a visit's needs open (`from_visit`, called by `record_visit`).

The handlers are part of the one table, `handlers.HANDLERS`.
"""
from services.activities.adapters.documents import MEMBER_REQUEST, MEMBER_VIEW, MEMBERS, MEMBER_REQUESTS, REQUEST, REQUESTS
from services.activities.domain import service_requests as rules
from services.activities.domain.service_requests import MemberRequests, ServiceRequest
from shared.contracts import service_requests as c
from shared.contracts.parsing import derived_id
from shared.errors import unknown_reference
from shared.messaging.pipeline import Context, Handler


async def _index(ctx: Context, member_id: str) -> MemberRequests:
    return await ctx.repo(MEMBER_REQUEST).get(member_id) or MemberRequests(member_id)


async def _branch(ctx: Context, member_id: str) -> str | None:
    """The member's branch as this service's projection knows it (None when not heard of yet)."""
    view = await ctx.repo(MEMBER_VIEW).get(member_id)
    return view.branch_id if view else None


def _opened(r: ServiceRequest) -> c.ServiceRequestOpened:
    return c.ServiceRequestOpened(request_id=r.request_id, member_id=r.member_id, branch_id=r.branch_id, kind=r.kind,
                                  service=r.service, description=r.description, source=r.source, visit_id=r.visit_id,
                                  opened_on=r.opened_on, responsible_id=r.responsible_id,
                                  responsible_name=r.responsible_name, due_on=r.due_on)


async def _known(ctx: Context, request_id: str) -> ServiceRequest:
    r = await ctx.repo(REQUEST).get(request_id)
    if r is None:
        raise unknown_reference(f"request {request_id} was never opened", "data.request_id")
    return r


async def open_request(cmd: c.OpenServiceRequest, ctx: Context) -> None:
    r = rules.open_request(await ctx.repo(REQUEST).get(cmd.request_id), request_id=cmd.request_id,
                           member_id=cmd.member_id, kind=cmd.kind, service=cmd.service,
                           description=cmd.description.strip(), source=cmd.source, visit_id=cmd.visit_id,
                           opened_on=cmd.opened_on.isoformat(), responsible_id=cmd.responsible_id,
                           responsible_name=cmd.responsible_name, due_on=cmd.due_on.isoformat(),
                           branch_id=await _branch(ctx, cmd.member_id))
    index = await _index(ctx, r.member_id)
    index.open.setdefault(r.key, r.request_id)
    ctx.repo(REQUEST).add(r)
    ctx.repo(MEMBER_REQUEST).add(index)
    ctx.emit(_opened(r))


async def assign_request(cmd: c.AssignServiceRequest, ctx: Context) -> None:
    r = await _known(ctx, cmd.request_id)
    previous = rules.assign(r, responsible_id=cmd.responsible_id, responsible_name=cmd.responsible_name,
                            on=cmd.on.isoformat(), due_on=cmd.due_on.isoformat() if cmd.due_on else None)
    ctx.repo(REQUEST).add(r)
    ctx.emit(c.ServiceRequestAssigned(request_id=r.request_id, member_id=r.member_id, on=cmd.on,
                                      responsible_id=r.responsible_id, responsible_name=r.responsible_name,
                                      previous_responsible_id=previous, due_on=r.due_on))


async def resolve_request(cmd: c.ResolveServiceRequest, ctx: Context) -> None:
    r = await _known(ctx, cmd.request_id)
    late = rules.resolve(r, on=cmd.on.isoformat(), outcome=cmd.outcome, resolution=cmd.resolution)
    index = await _index(ctx, r.member_id)
    reopen = rules.after_resolution(index, r)
    ctx.repo(REQUEST).add(r)
    ctx.emit(c.ServiceRequestResolved(request_id=r.request_id, member_id=r.member_id, on=cmd.on, outcome=cmd.outcome,
                                      resolution=r.resolution, due_on=r.due_on, late=late))
    if reopen is not None:
        first, rest = reopen
        opened = await _open_for_visit(ctx, index, member_id=r.member_id, visit_id=first["visit_id"],
                                       position=first["position"], service=first["service"], need=first["need"],
                                       on=first["on"], specialist_id=first["specialist_id"] or r.responsible_id,
                                       branch=await _branch(ctx, r.member_id) or r.branch_id)
        if rest:
            index.taken_in[opened.request_id] = rest
    ctx.repo(MEMBER_REQUEST).add(index)


async def _open_for_visit(ctx: Context, index: MemberRequests, *, member_id: str, visit_id: str, position: int,
                          service: str, need: str, on: str, specialist_id: str, branch: str | None) -> ServiceRequest:
    request_id = c.visit_request_id(visit_id, position)
    r = rules.open_request(await ctx.repo(REQUEST).get(request_id), request_id=request_id, member_id=member_id,
                           kind="service", service=service, description=need, source="visit",
                           visit_id=visit_id, opened_on=on, responsible_id=specialist_id,
                           due_on=rules.visit_due(on), branch_id=branch)
    index.open[r.key] = r.request_id
    ctx.repo(REQUEST).add(r)
    # Named after the request, not the message that opened it: a visit, or the resolution of the
    # request that took the visit in, whichever order they were handled in.
    ctx.emit(_opened(r), id=derived_id("visit-request-opened", r.request_id))
    return r


async def from_visit(ctx: Context, *, visit_id: str, member_id: str, specialist_id: str, on: str,
                     needs: list[str]) -> None:
    """A visit's needs: a request for each one not open on the day of the visit (the specialist
    responsible, due `VISIT_DUE_DAYS` later); ids derive from the visit, so a replay opens none twice.
    A visit without needs reads nothing (most visits: the member's index was read for each)."""
    if not needs:
        return
    index = await _index(ctx, member_id)
    opened = rules.from_visit(index, visit_id=visit_id, on=on, needs=needs, specialist_id=specialist_id)
    if opened:
        branch = await _branch(ctx, member_id)
        for i, service, need in opened:
            await _open_for_visit(ctx, index, member_id=member_id, visit_id=visit_id, position=i, service=service,
                                  need=need, on=on, specialist_id=specialist_id, branch=branch)
    ctx.repo(MEMBER_REQUEST).add(index)


def visit_wants(m) -> list:
    """A visit's needs: the member's index and branch, and the request each need would open."""
    if not m.needs:
        return []
    return [(MEMBER_REQUESTS, m.member_id), (MEMBERS, m.member_id),
            *((REQUESTS, c.visit_request_id(m.visit_id, i)) for i in range(len(m.needs)))]


def _resolve_then(m: c.ResolveServiceRequest, _envelope, read) -> list:
    """The member the request names: their index (and branch, should a visit it took in reopen)."""
    r = read(REQUESTS, m.request_id)
    return [(MEMBER_REQUESTS, r["member_id"]), (MEMBERS, r["member_id"])] if r else []


HANDLERS: dict[str, Handler] = {
    "OpenServiceRequest": Handler(open_request, lambda m: [(REQUESTS, m.request_id), (MEMBER_REQUESTS, m.member_id),
                                                           (MEMBERS, m.member_id)]),
    "AssignServiceRequest": Handler(assign_request, lambda m: [(REQUESTS, m.request_id)]),
    "ResolveServiceRequest": Handler(resolve_request, lambda m: [(REQUESTS, m.request_id)], _resolve_then),
}
