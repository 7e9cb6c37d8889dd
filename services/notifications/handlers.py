"""The notifications service layer: one handler per message type, and the one table of them.

Commands (notifications.commands) send notices and record what members did with them; events
from members.events keep the projection of who can be reached how; activities.events and
reporting.events start automatic notices. Handlers address recipients and queue deliveries;
the sending itself is background work (`delivery_worker.py`).
"""
from datetime import datetime, timedelta

from services.notifications.adapters.documents import (
    DELIVERIES, DELIVERY, FEEDBACK, MEMBER, MEMBERS, NOTICE, NOTICES, ORGS, REMINDERS, delivery_id, org_doc,
)
from services.notifications.domain import delivery as deliveries
from services.notifications.domain import notice as notices
from services.notifications.domain import texts
from services.notifications.domain.channels import plan
from services.notifications.domain.delivery import Delivery
from services.notifications.domain.notice import Notice
from services.notifications.domain.recipients import Member, audience
from shared.contracts import activities as a
from shared.contracts import members as m
from shared.contracts import notifications as c
from shared.contracts import reporting as r
from shared.errors import duplicate, not_allowed, unknown_reference
from shared.messaging.pipeline import Context, Handler
from shared.periods import local_date

NO_CHANNEL = "没有可用的送达渠道（无电话、微信、邮箱，且人在外地不能上门）"
REMINDED_KINDS = ("dues_arrears", "no_participation")


# ---- addressing a notice ------------------------------------------------------------------------

async def _resolve(ctx: Context, org_ids: list[str], member_ids: list[str], on, strict: bool) -> list[Member]:
    """The members of the org subtrees and the named members, registered on `on`, each once."""
    await ctx.uow.prefetch([(ORGS, o) for o in org_ids] + [(MEMBERS, i) for i in member_ids])
    branches: list[str] = []
    for i, org_id in enumerate(org_ids):
        org = await ctx.get(ORGS, org_id)
        if org is None or org.get("kind") is None:
            if strict:
                raise unknown_reference(f"organisation {org_id} is not known", f"data.audience.org_ids.{i}")
            continue
        branches.extend(org["branches"])
    branches = list(dict.fromkeys(branches))
    await ctx.uow.prefetch([(ORGS, b) for b in branches])
    in_orgs = [mid for b in branches for mid in ((await ctx.get(ORGS, b)) or {}).get("members", [])]
    ids = audience(in_orgs, member_ids)
    members = ctx.repo(MEMBER)
    await members.prefetch(ids)
    out = []
    for mid in ids:
        member = await members.get(mid)
        if member is None and strict and mid in member_ids:
            raise unknown_reference(f"member {mid} is not known", f"data.audience.member_ids.{member_ids.index(mid)}")
        if member is not None and member.registered(on):
            out.append(member)
    return out


def _address(ctx: Context, n: Notice, recipients: list[Member], due: datetime, scheduled: bool) -> None:
    """Queue one delivery per recipient; a visit or a call goes to the specialist at once."""
    on = datetime.fromisoformat(f"{n.addressed_on}T00:00:00").date()
    n.recipients = [mb.member_id for mb in recipients]
    for mb in recipients:
        d = Delivery(notice_id=n.notice_id, member_id=mb.member_id, branch_id=mb.branch_id,
                     addressed_on=n.addressed_on, plan=plan(mb.reach(on)), specialist_id=mb.specialist_id,
                     contacts={"phone": mb.phone, "email": mb.email, "wechat_openid": mb.wechat_openid},
                     correlation_id=ctx.envelope.correlation_id or ctx.envelope.id)
        step = deliveries.address(d, due, None, scheduled)
        ctx.repo(DELIVERY).add(d)
        if step == "door":
            ctx.emit(c.DoorDeliveryAssigned(notice_id=n.notice_id, member_id=mb.member_id, branch_id=mb.branch_id,
                                            specialist_id=mb.specialist_id, channel=d.channel, addressed_on=on))
        elif d.state == "unreachable":
            ctx.emit(c.NotificationFailed(notice_id=n.notice_id, member_id=mb.member_id, branch_id=mb.branch_id,
                                          channel=mb.preferred_channel, attempt=0, error=NO_CHANNEL))
    ctx.repo(NOTICE).add(n)
    ctx.emit(c.NoticeCreated(notice_id=n.notice_id, title=n.title, body=n.body, category=n.category,
                             audience=c.AudienceView(**n.audience), require_ack=n.require_ack,
                             send_at=datetime.fromisoformat(n.send_at) if n.send_at else None,
                             recipient_count=len(recipients)))


async def send_notice(cmd: c.SendNotice, ctx: Context) -> None:
    n = notices.create(await ctx.repo(NOTICE).get(cmd.notice_id), notice_id=cmd.notice_id,
                       title=cmd.title, body=cmd.body, category=cmd.category,
                       audience=cmd.audience.model_dump(), require_ack=cmd.require_ack,
                       send_at=cmd.send_at.isoformat() if cmd.send_at else None)
    sent = ctx.envelope.occurred_at
    due = max(cmd.send_at, sent) if cmd.send_at else sent
    n.addressed_on = local_date(due).isoformat()
    recipients = await _resolve(ctx, cmd.audience.org_ids, cmd.audience.member_ids, local_date(due), strict=True)
    _address(ctx, n, recipients, due, scheduled=due > sent)


async def activity_scheduled(ev: a.ActivityScheduled, ctx: Context) -> None:
    """A meeting notice to the members of the activity's branches (once per activity)."""
    notice_id = f"activity:{ev.activity_id}"
    if await ctx.repo(NOTICE).get(notice_id) is not None:
        return
    title, body = texts.meeting_notice(ev.kind, ev.title, ev.starts_at, None)
    due = ctx.envelope.occurred_at
    n = Notice(notice_id, title, body, "meeting", {"org_ids": ev.branch_ids, "member_ids": []},
               addressed_on=local_date(due).isoformat(), origin=f"activity:{ev.activity_id}")
    _address(ctx, n, await _resolve(ctx, ev.branch_ids, [], local_date(due), strict=False), due, False)


async def alert_raised(ev: r.AlertRaised, ctx: Context) -> None:
    """A reminder to the member and their branch secretary: once per (rule, member, month),
    and again within the month only when the facts (since when, how many months) change."""
    if ev.kind not in REMINDED_KINDS or ev.level != "warning":
        return
    month = ev.as_of.isoformat()[:7]
    key = f"{ev.kind}|{ev.subject_id}|{month}"
    facts = {"since": ev.since, "months": ev.months}
    done = await ctx.get(REMINDERS, key)
    if done is not None and done["facts"] == facts:
        return
    member = await ctx.repo(MEMBER).get(ev.subject_id)
    if member is None or not member.registered(ev.as_of):
        return
    branch = await ctx.get(ORGS, member.branch_id) or {}
    base = f"reminder:{ev.kind}:{ev.subject_id}:{month}:{ev.since}:{ev.months}"
    due = ctx.envelope.occurred_at
    sent = []
    title, body = texts.reminder_to_member(ev.kind, member.name, ev.months or 0, ev.since)
    targets = [(f"{base}:member", title, body, member.member_id)]
    secretary = branch.get("secretary_id")
    if secretary and secretary != member.member_id:
        title, body = texts.reminder_to_secretary(ev.kind, member.name, ev.months or 0, ev.since)
        targets.append((f"{base}:secretary", title, body, secretary))
    for notice_id, title, body, to in targets:
        if await ctx.repo(NOTICE).get(notice_id) is not None:
            continue
        n = Notice(notice_id, title, body, "reminder", {"org_ids": [], "member_ids": [to]},
                   addressed_on=local_date(due).isoformat(), origin=f"alert:{ev.alert_id}")
        _address(ctx, n, await _resolve(ctx, [], [to], local_date(due), strict=False), due, False)
        sent.append(notice_id)
    history = (done or {}).get("notices", [])
    ctx.put(REMINDERS, {"_id": key, "rule": ev.kind, "member_id": ev.subject_id, "month": month,
                        "facts": facts, "notices": history + sent})


# ---- what members and specialists did ---------------------------------------------------------

async def _delivery(ctx: Context, notice_id: str, member_id: str) -> Delivery:
    if await ctx.repo(NOTICE).get(notice_id) is None:
        raise unknown_reference(f"notice {notice_id} is not known", "data.notice_id")
    d = await ctx.repo(DELIVERY).get(delivery_id(notice_id, member_id))
    if d is None:
        raise unknown_reference(f"member {member_id} is not a recipient of notice {notice_id}", "data.member_id")
    return d


async def acknowledge_notice(cmd: c.AcknowledgeNotice, ctx: Context) -> None:
    d = await _delivery(ctx, cmd.notice_id, cmd.member_id)
    if deliveries.acknowledge(d, local_date(ctx.envelope.occurred_at), cmd.channel):
        ctx.repo(DELIVERY).add(d)
        ctx.emit(c.NoticeAcknowledged(notice_id=d.notice_id, member_id=d.member_id, branch_id=d.branch_id,
                                      channel=cmd.channel))


async def complete_door_delivery(cmd: c.CompleteDoorDelivery, ctx: Context) -> None:
    d = await _delivery(ctx, cmd.notice_id, cmd.member_id)
    if d.state == "door_done":
        raise duplicate("this door delivery is already completed", "data.member_id")
    if d.state != "door_assigned":
        raise not_allowed("no door delivery is assigned for this member and notice", "data.member_id")
    deliveries.complete_door(d, cmd.on, cmd.specialist_id)
    ctx.repo(DELIVERY).add(d)
    ctx.emit(c.DoorDeliveryCompleted(notice_id=d.notice_id, member_id=d.member_id, branch_id=d.branch_id,
                                     specialist_id=cmd.specialist_id, on=cmd.on))


async def record_feedback(cmd: c.RecordFeedback, ctx: Context) -> None:
    if await ctx.get(FEEDBACK, cmd.feedback_id) is not None:
        raise duplicate(f"feedback {cmd.feedback_id} already exists", "data.feedback_id")
    member = await ctx.repo(MEMBER).get(cmd.member_id)
    if member is None:
        raise unknown_reference(f"member {cmd.member_id} is not known", "data.member_id")
    if cmd.notice_id and await ctx.repo(NOTICE).get(cmd.notice_id) is None:
        raise unknown_reference(f"notice {cmd.notice_id} is not known", "data.notice_id")
    on = local_date(ctx.envelope.occurred_at)
    ctx.put(FEEDBACK, {"_id": cmd.feedback_id, "member_id": member.member_id, "member_name": member.name,
                       "branch_id": member.branch_id, "ancestors": member.ancestors, "notice_id": cmd.notice_id,
                       "text": cmd.text, "on": on.isoformat()})
    ctx.emit(c.FeedbackReceived(feedback_id=cmd.feedback_id, member_id=member.member_id,
                                branch_id=member.branch_id, notice_id=cmd.notice_id, text=cmd.text))


# ---- the projection of members.events -----------------------------------------------------------

async def _org(ctx: Context, org_id: str) -> dict:
    return await ctx.get(ORGS, org_id) or org_doc(org_id)


def _add(doc: dict, key: str, value: str) -> None:
    if value not in doc[key]:
        doc[key].append(value)


async def _join(ctx: Context, member_id: str, branch_id: str, path: list[str]) -> None:
    """Record the member in the branch, and the branch in every org above it (events may come
    before the org's own OrganizationEstablished: the path they carry is enough)."""
    branch = await _org(ctx, branch_id)
    _add(branch, "members", member_id)
    _add(branch, "branches", branch_id)
    ctx.put(ORGS, branch)
    for org_id in path:
        if org_id != branch_id:
            org = await _org(ctx, org_id)
            _add(org, "branches", branch_id)
            ctx.put(ORGS, org)


async def _leave(ctx: Context, member_id: str, branch_id: str) -> None:
    branch = await _org(ctx, branch_id)
    if member_id in branch["members"]:
        branch["members"].remove(member_id)
        ctx.put(ORGS, branch)


async def _member(ctx: Context, member_id: str) -> Member:
    return await ctx.repo(MEMBER).get(member_id) or Member(member_id)


def _contacts(mb: Member, p: m.MemberProfile) -> None:
    mb.name, mb.phone, mb.wechat_openid, mb.email = p.name, p.phone, p.wechat_openid, p.email
    mb.preferred_channel, mb.lives_alone, mb.health = p.preferred_channel, p.lives_alone, p.health
    if p.registered_on:
        mb.registered_on = p.registered_on.isoformat()


async def organization_established(ev: m.OrganizationEstablished, ctx: Context) -> None:
    org = await _org(ctx, ev.org_id)
    org.update(kind=ev.kind, name=ev.name, ancestors=ev.ancestors)
    ctx.put(ORGS, org)
    if ev.kind == "branch":
        _add(org, "branches", ev.org_id)
        ctx.put(ORGS, org)
        for anc in ev.ancestors:
            parent = await _org(ctx, anc)
            _add(parent, "branches", ev.org_id)
            ctx.put(ORGS, parent)


async def secretary_appointed(ev: m.SecretaryAppointed, ctx: Context) -> None:
    branch = await _org(ctx, ev.branch_id)
    branch["secretary_id"] = ev.member_id
    ctx.put(ORGS, branch)


async def member_registered(ev: m.MemberRegistered, ctx: Context) -> None:
    mb = await _member(ctx, ev.member_id)
    _contacts(mb, ev.profile)
    mb.branch_id, mb.ancestors = ev.branch_id, ev.ancestors or [ev.branch_id]
    mb.registered_on = mb.registered_on or local_date(ctx.envelope.occurred_at).isoformat()
    mb.specialist_id = mb.specialist_id or ev.specialist_id
    if mb.status not in ("transferred", "deceased"):
        mb.status = "resident"
    ctx.repo(MEMBER).add(mb)
    await _join(ctx, mb.member_id, ev.branch_id, mb.ancestors)


async def member_profile_updated(ev: m.MemberProfileUpdated, ctx: Context) -> None:
    mb = await _member(ctx, ev.member_id)
    _contacts(mb, ev.profile)
    mb.branch_id = mb.branch_id or ev.branch_id
    ctx.repo(MEMBER).add(mb)


async def member_transferred(ev: m.MemberTransferred, ctx: Context) -> None:
    mb = await _member(ctx, ev.member_id)
    await _leave(ctx, ev.member_id, ev.from_branch_id)
    if ev.to_branch_id:
        mb.branch_id, mb.ancestors = ev.to_branch_id, ev.to_ancestors or [ev.to_branch_id]
        await _join(ctx, mb.member_id, ev.to_branch_id, mb.ancestors)
    else:
        mb.status = "transferred"
    ctx.repo(MEMBER).add(mb)


async def branches_merged(ev: m.BranchesMerged, ctx: Context) -> None:
    into = await _org(ctx, ev.into_branch_id)
    path = [*into["ancestors"], ev.into_branch_id]
    for member_id in ev.member_ids:
        mb = await _member(ctx, member_id)
        await _leave(ctx, member_id, ev.from_branch_id)
        mb.branch_id, mb.ancestors = ev.into_branch_id, path
        ctx.repo(MEMBER).add(mb)
        await _join(ctx, member_id, ev.into_branch_id, path)


async def member_marked_away(ev: m.MemberMarkedAway, ctx: Context) -> None:
    mb = await _member(ctx, ev.member_id)
    mb.away_from, mb.away_until = ev.from_.isoformat(), ev.until.isoformat() if ev.until else None
    ctx.repo(MEMBER).add(mb)


async def member_returned(ev: m.MemberReturned, ctx: Context) -> None:
    mb = await _member(ctx, ev.member_id)
    if mb.away_from:  # away until the day before the return
        mb.away_until = (ev.on - timedelta(days=1)).isoformat()
    ctx.repo(MEMBER).add(mb)


async def member_died(ev: m.MemberDied, ctx: Context) -> None:
    mb = await _member(ctx, ev.member_id)
    mb.status = "deceased"
    mb.branch_id = mb.branch_id or ev.branch_id
    ctx.repo(MEMBER).add(mb)


async def specialist_assigned(ev: m.SpecialistAssigned, ctx: Context) -> None:
    mb = await _member(ctx, ev.member_id)
    mb.specialist_id, mb.specialist_name = ev.specialist_id, ev.specialist_name
    ctx.repo(MEMBER).add(mb)


def _member_keys(ev) -> list:
    return [(MEMBERS, ev.member_id), (ORGS, ev.branch_id)]


HANDLERS: dict[str, Handler] = {
    # notifications.commands
    "SendNotice": Handler(send_notice, lambda x: [(NOTICES, x.notice_id)]),
    "AcknowledgeNotice": Handler(acknowledge_notice, lambda x: [(NOTICES, x.notice_id),
                                                                (DELIVERIES, delivery_id(x.notice_id, x.member_id))]),
    "CompleteDoorDelivery": Handler(complete_door_delivery,
                                    lambda x: [(NOTICES, x.notice_id), (DELIVERIES, delivery_id(x.notice_id, x.member_id))]),
    "RecordFeedback": Handler(record_feedback, lambda x: [(FEEDBACK, x.feedback_id), (MEMBERS, x.member_id)]),
    # members.events
    "OrganizationEstablished": Handler(organization_established, lambda x: [(ORGS, x.org_id), *((ORGS, o) for o in x.ancestors)]),
    "SecretaryAppointed": Handler(secretary_appointed, lambda x: [(ORGS, x.branch_id)]),
    "MemberRegistered": Handler(member_registered, lambda x: [(MEMBERS, x.member_id), *((ORGS, o) for o in x.ancestors)]),
    "MemberProfileUpdated": Handler(member_profile_updated, _member_keys),
    "MemberTransferred": Handler(member_transferred, lambda x: [(MEMBERS, x.member_id), (ORGS, x.from_branch_id),
                                                                *((ORGS, o) for o in x.to_ancestors)]),
    "BranchesMerged": Handler(branches_merged, lambda x: [(ORGS, x.from_branch_id), (ORGS, x.into_branch_id),
                                                          *((MEMBERS, i) for i in x.member_ids)]),
    "MemberMarkedAway": Handler(member_marked_away, _member_keys),
    "MemberReturned": Handler(member_returned, _member_keys),
    "MemberDied": Handler(member_died, _member_keys),
    "SpecialistAssigned": Handler(specialist_assigned, _member_keys),
    # activities.events and reporting.events
    "ActivityScheduled": Handler(activity_scheduled, lambda x: [(NOTICES, f"activity:{x.activity_id}")]),
    "AlertRaised": Handler(alert_raised, lambda x: [(MEMBERS, x.subject_id), (ORGS, x.org_id)]),
}
