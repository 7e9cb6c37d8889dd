"""The notifications service layer: one handler per message type, and the one table of them.

Commands (notifications.commands) send notices and record what members did with them; events
from members.events keep the projection of each member's dated facts; activities.events and
reporting.events start automatic notices. Handlers address recipients and queue deliveries; the
sending itself, and whatever is said about each delivery (dispatched, handed to a specialist,
unreachable), is background work (`delivery_worker.py`).

A notice is addressed as of its day, from the facts recorded by its `open_until` day (domain/
recipients.py). The two pipelines (commands; members, activities and reporting events) and the
topics within one come in no order relative to one another, so a fact about a member may arrive
after a notice that concerns them was addressed: `_settle_member` then settles that member's
delivery of every notice still open to the fact, as if the fact had come first; a delivery
already under way or done is never changed (README, "Late facts").
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from services.notifications.adapters.documents import (
    ALERTS, DELIVERIES, DELIVERY, FEEDBACK, MEMBER, MEMBERS, NOTICE, NOTICE_INDEX, NOTICES, ORGS, delivery_id, index_id,
    member_from_doc, org_doc,
)
from services.notifications.domain import alert_reminders as ar
from services.notifications.domain import delivery as deliveries
from services.notifications.domain import district_office
from services.notifications.domain import notice as notices
from services.notifications.domain import texts
from services.notifications.domain.addressing import as_it_stands, delivery_for
from services.notifications.domain.channels import BY_SPECIALIST
from services.notifications.domain.delivery import Delivery, stamp
from services.notifications.domain.notice import Notice
from services.notifications.domain.quiet_hours import QuietHours
from services.notifications.domain.recipients import Member, branch_path, open_until
from services.notifications.naming import as_if, caused_by, emit_for_delivery
from services.notifications.settings import district_office_contact, reminder_settle_seconds
from shared.contracts import activities as a
from shared.contracts import members as m
from shared.contracts import reorganization as rz
from shared.contracts import notifications as c
from shared.contracts import reporting as r
from shared.errors import duplicate, not_allowed, unknown_reference
from shared.messaging.pipeline import Context, Handler, NotYet
from shared.periods import local_date

REMINDED_KINDS = ("dues_arrears", "no_participation")


# ---- addressing a notice ------------------------------------------------------------------------

# Members addressed in one transaction. A notice to more (a district-wide one: 100,000 members) is
# addressed a page of whole branches at a time, by the delivery worker (`address_next_page`): in
# one transaction it did not fit the storage engine's cache, and held a gigabyte in the service.
ADDRESS_PAGE = 2000


async def _audience(ctx: Context, n: Notice, strict: bool) -> list[str]:
    """The branches of the audience's subtrees, each once, in the order of the audience."""
    org_ids = n.audience["org_ids"]
    await ctx.uow.prefetch([(ORGS, o) for o in org_ids])
    branches: list[str] = []
    for i, org_id in enumerate(org_ids):
        org = await ctx.read(ORGS, org_id)
        if strict and (org is None or org.get("kind") is None):
            raise unknown_reference(f"organisation {org_id} is not known", f"data.audience.org_ids.{i}")
        branches.extend((org or {}).get("branches", []))
    branches = list(dict.fromkeys(branches))
    await ctx.uow.prefetch([(ORGS, b) for b in branches])
    return branches


async def _members(ctx: Context, branches: list[str], named: list[str]) -> list[Member]:
    """Everyone who has ever belonged to these branches, and the named members (sorted by id: the
    order they were projected in does not matter)."""
    ids = set(named)
    for b in branches:
        ids.update(((await ctx.read(ORGS, b)) or {}).get("members", []))
    members = ctx.repo(MEMBER)
    await members.prefetch(sorted(ids))
    return [mb for mid in sorted(ids) if (mb := await members.peek(mid)) is not None]


async def _check_named(ctx: Context, named: list[str]) -> None:
    await ctx.repo(MEMBER).prefetch(named)
    for i, mid in enumerate(named):
        mb = await ctx.repo(MEMBER).peek(mid)
        if mb is None or not mb.known:
            raise unknown_reference(f"member {mid} is not known", f"data.audience.member_ids.{i}")


async def _address(ctx: Context, n: Notice, due: datetime, scheduled: bool, strict: bool,
                   emitter: Context | None = None) -> None:
    """Queue one delivery per recipient as of the notice's day, and index the notice so that
    late facts about its audience find it. A notice to more than ADDRESS_PAGE members is left to
    the delivery worker, a page of branches at a time (`address_next_page`); its NoticeCreated
    comes with the last page."""
    n.due_at, n.scheduled = stamp(due), scheduled
    n.open_until = n.open_until or open_until(n.addressed_on)
    n.correlation_id = ctx.envelope.correlation_id or ctx.envelope.id
    n.recipients = []
    named = n.audience["member_ids"]
    branches = await _audience(ctx, n, strict)
    if strict:
        await _check_named(ctx, named)
    await _index(ctx, n)
    reach = len(named)
    for b in branches:
        reach += _size(await ctx.read(ORGS, b))
    if reach > ADDRESS_PAGE:
        # "": the members it names, first
        n.to_address, n.addressed_by = [*([""] if named else []), *branches], (emitter or ctx).envelope.id
        ctx.repo(NOTICE).add(n)
        return
    addressed = await _address_members(ctx, n, await _members(ctx, branches, named), fresh=True)
    _created(ctx, n, emitter)
    _addressed(ctx, n, addressed, emitter)


async def _address_members(ctx: Context, n: Notice, members: list[Member], fresh: bool) -> dict[str, list[str]]:
    """The deliveries of these members (those who are recipients); returns them by branch.
    `fresh`: no delivery of the notice exists yet; otherwise a member a late fact has already
    addressed (`_settle`) is left as they are."""
    if not fresh:
        await ctx.uow.prefetch([(DELIVERIES, delivery_id(n.notice_id, mb.member_id)) for mb in members])
    by_branch: dict[str, list[str]] = {}
    for mb in members:
        if not fresh and await ctx.repo(DELIVERY).peek(delivery_id(n.notice_id, mb.member_id)) is not None:
            continue
        d = delivery_for(n, mb)
        if d is not None:
            ctx.repo(DELIVERY).add(d, new=fresh)  # a fresh notice's deliveries: inserted unread
            n.recipients.append(mb.member_id)
            by_branch.setdefault(d.branch_id or "", []).append(mb.member_id)
    ctx.repo(NOTICE).add(n)
    return by_branch


def _addressed(ctx: Context, n: Notice, by_branch: dict[str, list[str]], emitter: Context | None) -> None:
    """The NoticeAddressed of a notice that asks for acknowledgement."""
    if n.require_ack:  # what reporting counts as sent (finding 11 of docs/reliability.md)
        for branch_id in sorted(by_branch):
            members = sorted(by_branch[branch_id])
            for i in range(0, len(members), c.ADDRESSED_CHUNK):
                chunk = members[i:i + c.ADDRESSED_CHUNK]
                # Named after what it says: its branch (the notice when there is none), and for the
                # chunks after a branch's first, its first member.
                basis = (chunk[0] if i else branch_id or n.notice_id) + "/NoticeAddressed"
                (emitter or ctx).emit(c.NoticeAddressed(notice_id=n.notice_id, branch_id=branch_id or None,
                                                        addressed_on=n.addressed_on, member_ids=chunk), basis=basis)


def _created(ctx: Context, n: Notice, emitter: Context | None) -> None:
    (emitter or ctx).emit(c.NoticeCreated(notice_id=n.notice_id, title=n.title, body=n.body, category=n.category,
                                          audience=c.AudienceView(**n.audience), require_ack=n.require_ack,
                                          send_at=datetime.fromisoformat(n.send_at) if n.send_at else None,
                                          recipient_count=len(n.recipients)), basis=n.notice_id)


async def address_next_page(ctx: Context, notice_id: str) -> bool:
    """The next page of a large notice's branches (whole branches, about ADDRESS_PAGE members),
    emitting as the message that sent the notice; returns whether pages remain. Run by the
    delivery worker, one unit a page: the deliveries of a page go out while the next is addressed."""
    n = await ctx.repo(NOTICE).get(notice_id)
    if n is None or not n.to_address:
        return False
    await ctx.uow.prefetch([(ORGS, b) for b in n.to_address[:100] if b])
    page, reach = [], 0
    while n.to_address:
        branch = n.to_address[0]
        size = _size(await ctx.read(ORGS, branch)) if branch else len(n.audience["member_ids"])
        if page and reach + size > ADDRESS_PAGE:
            break
        page.append(n.to_address.pop(0))
        reach += size
    named = n.audience["member_ids"] if "" in page else []
    emitter = as_if(ctx, id=n.addressed_by, correlation_id=n.correlation_id)
    addressed = await _address_members(ctx, n, await _members(ctx, [b for b in page if b], named), fresh=False)
    _addressed(ctx, n, addressed, emitter)
    if n.to_address:
        return True
    n.recipients = sorted(n.recipients)
    ctx.repo(NOTICE).add(n)
    _created(ctx, n, emitter)
    return False


def _size(branch: dict | None) -> int:
    return len((branch or {}).get("members", []))


async def _index(ctx: Context, n: Notice) -> None:
    """The notice under each audience org (by the month of its open_until day), and in each named
    member's document. Each org document is written even when unchanged: a member placed in its
    subtree at the same time (a registration, a transfer in) writes it too (`_settle_member`), so
    one of the two commits first and the other runs again and sees it — neither misses the other.
    (A fact that changes how a member already placed is reached needs no such thing: the delivery
    worker checks the delivery against the member's facts as they stand just before acting on it.)"""
    month, entry = n.open_until[:7], {"day": n.addressed_on, "until": n.open_until}
    for org_id in n.audience["org_ids"]:
        org = await _org(ctx, org_id)
        org["notice_months"] = sorted({*org.get("notice_months", []), month})
        ctx.put(ORGS, org)
        key = index_id(org_id, month)
        idx = await ctx.get(NOTICE_INDEX, key) or {"_id": key, "org": org_id, "month": month, "notices": {}}
        idx["notices"][n.notice_id] = entry
        ctx.put(NOTICE_INDEX, idx)
    for member_id in n.audience["member_ids"]:
        if member_id == district_office.OFFICE_ID:
            # No fact about the department ever comes late (it has none: its record is
            # configuration), so nothing needs to find the notices that name it. Indexed, every
            # six-month alert of the district would grow its one document, read and written whole
            # by each reminder: 11,000 entries, 1.2 MB, after a 100,000-member ledger, and
            # reminders slowing with each (docs/reliability.md, finding 36).
            continue
        mb = await _member(ctx, member_id)
        mb.named[n.notice_id] = entry
        ctx.repo(MEMBER).add(mb)


async def send_notice(cmd: c.SendNotice, ctx: Context) -> None:
    # Addressed from the member facts published before it (a death, a transfer, an away period),
    # however far members or this service's events pipeline lag: held until they have arrived
    # (the causal fence, services/notifications/README.md).
    if not ctx.upstream_arrived():
        raise NotYet("the member facts published before this notice are still on their way")
    n = notices.create(await ctx.repo(NOTICE).get(cmd.notice_id), notice_id=cmd.notice_id,
                       title=cmd.title, body=cmd.body, category=cmd.category,
                       audience=cmd.audience.model_dump(), require_ack=cmd.require_ack,
                       send_at=cmd.send_at.isoformat() if cmd.send_at else None)
    sent = ctx.envelope.occurred_at
    due = _due(cmd, sent)
    n.addressed_on = local_date(due).isoformat()
    await _address(ctx, n, due, scheduled=due > sent, strict=True)


def _due(cmd: c.SendNotice, sent: datetime) -> datetime:
    """When a notice is addressed: when it was sent, or the later time it was sent for."""
    return max(cmd.send_at, sent) if cmd.send_at else sent


async def activity_scheduled(ev: a.ActivityScheduled, ctx: Context) -> None:
    """A meeting notice to the members of the activity's branches (once per activity), open to
    late facts until the meeting's day."""
    notice_id = f"activity:{ev.activity_id}"
    if await ctx.repo(NOTICE).peek(notice_id) is not None:
        return
    title, body = texts.meeting_notice(ev.kind, ev.title, ev.starts_at, None)
    due = ctx.envelope.occurred_at
    day = local_date(due).isoformat()
    n = Notice(notice_id, title, body, "meeting", {"org_ids": list(ev.branch_ids), "member_ids": []},
               addressed_on=day, origin=f"activity:{ev.activity_id}", open_until=open_until(day, ev.held_on.isoformat()))
    await _address(ctx, n, due, False, strict=False)


async def alert_raised(ev: r.AlertRaised, ctx: Context) -> None:
    """At a warning (3 to 5 months), a reminder to the member and their branch secretary, once per
    (alert, months): every month the run grows. At an alert (6 months), the secretary and the
    district's organisation department are told (domain.md), once per alert: the run is past the
    Party Constitution's six months, it is theirs to act on now, and a month more changes nothing.
    Each waits until the alert has stood for the settling time, and goes only if it still stands
    then (domain/alert_reminders.py); with no settling time, at once."""
    if ev.kind not in REMINDED_KINDS or ev.level not in (ar.WARNING, ar.ALERT):
        return
    now = datetime.now(timezone.utc)
    settle = reminder_settle_seconds()
    reminder = {"alert_id": ev.alert_id, "kind": ev.kind, "level": ev.level, "subject_id": ev.subject_id,
                "org_id": ev.org_id, "since": ev.since, "months": ev.months,
                "occurred_at": stamp(ctx.envelope.occurred_at),
                "correlation_id": ctx.envelope.correlation_id or ctx.envelope.id}
    doc = ar.raised(await ctx.get(ALERTS, ev.alert_id), ev.alert_id, ev.as_of.isoformat(),
                    ar.reminder_name(ev.alert_id, ev.level, ev.months), reminder, now + timedelta(seconds=settle))
    if settle <= 0:
        await remind_due(ctx, doc, now)
    ctx.put(ALERTS, doc)


async def alert_cleared(ev: r.AlertCleared, ctx: Context) -> None:
    """The alert is gone: the reminders still waiting for it to stand are dropped."""
    if ev.kind in REMINDED_KINDS:
        ctx.put(ALERTS, ar.cleared(await ctx.get(ALERTS, ev.alert_id), ev.alert_id, ev.as_of.isoformat()))


async def remind_due(ctx: Context, doc: dict, now: datetime) -> None:
    """Create the reminders of this alert whose settling time is over (from `alert_raised`, or from
    the delivery worker's rounds), each as the AlertRaised that asked for it would have."""
    names = []
    for name, p in ar.due(doc, now):
        await _remind(_as_raised(ctx, p), name, p)
        names.append(name)
    ar.reminded(doc, names)


async def remind_page(ctx: Context, alert_ids: list[str], now: datetime) -> None:
    """The reminders now due of these alerts, in one unit of the delivery worker's
    (`DeliveryWorker.remind`)."""
    docs = [doc for alert_id in alert_ids if (doc := await ctx.get(ALERTS, alert_id)) is not None]
    await prefetch_reminders(ctx, docs, now)
    for doc in docs:
        await remind_due(ctx, doc, now)
        ctx.put(ALERTS, doc)


async def prefetch_reminders(ctx: Context, docs: list[dict], now: datetime) -> None:
    """What the reminders now due of these alerts read (`_remind`), in a query per collection and
    step rather than a few a reminder: their notices, members and branches, then the branches'
    secretaries (the 100,000-member ledger benchmark raised some 187,000 alerts: finding 36 of
    docs/reliability.md)."""
    due = [(name, p) for doc in docs for name, p in ar.due(doc, now)]
    if not due:
        return
    await ctx.uow.prefetch([(NOTICES, f"{name}:{to}") for name, _ in due for to in ("member", "secretary", "district")]
                           + [(MEMBERS, p["subject_id"]) for _, p in due] + [(ORGS, p["org_id"]) for _, p in due]
                           + [(MEMBERS, district_office.OFFICE_ID)])
    secretaries = {((await ctx.read(ORGS, p["org_id"])) or {}).get("secretary_id") for _, p in due}
    await ctx.uow.prefetch([(MEMBERS, s) for s in sorted(secretaries - {None})])


def _as_raised(ctx: Context, p: dict) -> Context:
    return as_if(ctx, occurred_at=datetime.fromisoformat(p["occurred_at"]), correlation_id=p["correlation_id"])


async def _remind(ctx: Context, name: str, p: dict) -> None:
    """The notices of one reminder. Their ids, and those of the events they cause here, derive from
    the reminder's name, not from the message that asked for it (whose id depends on the order
    reporting saw its facts in)."""
    months = p["months"] or 0
    member = await ctx.repo(MEMBER).get(p["subject_id"])
    who = member.name if member is not None else ""
    branch = await ctx.get(ORGS, p["org_id"]) or {}
    targets = []
    if p["level"] == ar.WARNING:
        targets.append((f"{name}:member", *texts.reminder_to_member(p["kind"], who, months, p["since"]),
                        p["subject_id"]))
    secretary = branch.get("secretary_id")
    if secretary and secretary != p["subject_id"]:
        targets.append((f"{name}:secretary", *texts.reminder_to_secretary(p["kind"], who, months, p["since"],
                                                                          p["level"]), secretary))
    if p["level"] == ar.ALERT:
        office = district_office.office(await ctx.repo(MEMBER).get(district_office.OFFICE_ID), ctx.envelope.district,
                                        district_office_contact())
        if office is not None:
            ctx.repo(MEMBER).add(office)
        targets.append((f"{name}:district", *texts.alert_to_district(p["kind"], who, branch.get("name", ""), months,
                                                                     p["since"]), district_office.OFFICE_ID))
    due = ctx.envelope.occurred_at
    emitter = caused_by(ctx, name)
    for notice_id, title, body, to in targets:
        if await ctx.repo(NOTICE).peek(notice_id) is not None:
            continue
        n = Notice(notice_id, title, body, "reminder", {"org_ids": [], "member_ids": [to]},
                   addressed_on=local_date(due).isoformat(), origin=f"alert:{p['alert_id']}")
        await _address(ctx, n, due, False, strict=False, emitter=emitter)


# ---- what members and specialists did ---------------------------------------------------------

async def _delivery(ctx: Context, notice_id: str, member_id: str) -> Delivery:
    # The notice is only looked at here and in `_hand_over` (`peek`, no copy): a district notice
    # names its 100,000 recipients (2.9 MB), and copying it for each acknowledgement and door
    # visit was 71 % of notifications' CPU while the 100,000-member demo's year was answered (py-spy).
    n = await ctx.repo(NOTICE).peek(notice_id)
    if n is None:
        raise unknown_reference(f"notice {notice_id} is not known", "data.notice_id")
    d = await ctx.repo(DELIVERY).get(delivery_id(notice_id, member_id))
    if d is None and n.to_address:
        # A large notice is addressed a page of branches at a time (`address_next_page`): the member
        # may be on a page to come. Held until it is (not rejected when REFERENCE_WAIT runs out: at
        # 100,000 members a district notice took longer than that, and 25,146 acknowledgements of its
        # members were refused as from no recipient; docs/reliability.md, finding 41).
        raise NotYet(f"notice {notice_id} is still being addressed")
    if d is None:
        raise unknown_reference(f"member {member_id} is not a recipient of notice {notice_id}", "data.member_id")
    return d


async def acknowledge_notice(cmd: c.AcknowledgeNotice, ctx: Context) -> None:
    d = await _delivery(ctx, cmd.notice_id, cmd.member_id)
    if not deliveries.acknowledge(d, local_date(ctx.envelope.occurred_at), cmd.channel):
        # Answered, as a second CompleteDoorDelivery is: the sender hears that it changed nothing.
        raise duplicate("this member has already acknowledged this notice", "data.member_id")
    ctx.repo(DELIVERY).add(d)
    ctx.emit(c.NoticeAcknowledged(notice_id=d.notice_id, member_id=d.member_id, branch_id=d.branch_id,
                                  channel=cmd.channel))


async def complete_door_delivery(cmd: c.CompleteDoorDelivery, ctx: Context) -> None:
    d = await _delivery(ctx, cmd.notice_id, cmd.member_id)
    if d.state == "door_done":
        raise duplicate("this door delivery is already completed", "data.member_id")
    if d.state == "pending" and d.channel in BY_SPECIALIST and not d.attempts:
        # For the specialist, not handed over yet (the delivery worker does it when it is due): the
        # specialist has done it, so it is handed over now, as the worker would have (the same event).
        d = await _hand_over(ctx, d)
    if d.state != "door_assigned":
        raise not_allowed("no door delivery is assigned for this member and notice", "data.member_id")
    deliveries.complete_door(d, cmd.on, cmd.specialist_id)
    ctx.repo(DELIVERY).add(d)
    ctx.emit(c.DoorDeliveryCompleted(notice_id=d.notice_id, member_id=d.member_id, branch_id=d.branch_id,
                                     specialist_id=cmd.specialist_id, on=cmd.on))


async def _hand_over(ctx: Context, d: Delivery) -> Delivery:
    """What the delivery worker does with a visit when it is due (delivery_worker.py), done now."""
    n = await ctx.repo(NOTICE).peek(d.notice_id)
    if deliveries.unsaid(d) and n.due_at is not None:  # (not so for a notice stored in the earlier format)
        d = as_it_stands(d, delivery_for(n, await ctx.repo(MEMBER).get(d.member_id)))
        if d is None:
            raise unknown_reference(f"member is not a recipient of notice {n.notice_id}", "data.member_id")
    if d.channel in BY_SPECIALIST and deliveries.claim(d, ctx.envelope.occurred_at, QuietHours()) == "door":
        emit_for_delivery(ctx, c.DoorDeliveryAssigned(
            notice_id=d.notice_id, member_id=d.member_id, branch_id=d.branch_id, specialist_id=d.specialist_id,
            channel=d.channel, addressed_on=d.addressed_on))
    return d


async def record_feedback(cmd: c.RecordFeedback, ctx: Context) -> None:
    if await ctx.get(FEEDBACK, cmd.feedback_id) is not None:
        raise duplicate(f"feedback {cmd.feedback_id} already exists", "data.feedback_id")
    member = await ctx.repo(MEMBER).get(cmd.member_id)
    if member is None or not member.known:
        raise unknown_reference(f"member {cmd.member_id} is not known", "data.member_id")
    if cmd.notice_id and await ctx.repo(NOTICE).peek(cmd.notice_id) is None:
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


async def _member(ctx: Context, member_id: str) -> Member:
    return await ctx.repo(MEMBER).get(member_id) or Member(member_id)


def _recorded(ctx: Context) -> str:
    """The day a fact was recorded: the date of its event."""
    return local_date(ctx.envelope.occurred_at).isoformat()


def _profile(mb: Member, p: m.MemberProfile, recorded: str) -> None:
    mb.name, mb.lives_alone, mb.health = p.name, p.lives_alone, p.health
    contacts = {"phone": p.phone, "wechat_openid": p.wechat_openid, "email": p.email,
                "preferred_channel": p.preferred_channel}
    if not mb.contacts or {k: mb.contacts[-1].get(k) for k in contacts} != contacts:
        mb.contacts.append({"recorded": recorded, **contacts})
    if p.registered_on:
        _registered(mb, p.registered_on.isoformat(), recorded)


def _registered(mb: Member, on: str, recorded: str) -> None:
    if not mb.registered or mb.registered[-1]["on"] != on:
        mb.registered.append({"recorded": recorded, "on": on})


def _specialist(mb: Member, specialist_id: str | None, name: str | None, recorded: str) -> None:
    last = mb.specialists[-1] if mb.specialists else {}
    if specialist_id and (last.get("specialist_id") != specialist_id or (name and last.get("specialist_name") != name)):
        mb.specialists.append({"recorded": recorded, "specialist_id": specialist_id,
                               "specialist_name": name or (last.get("specialist_name")
                                                           if last.get("specialist_id") == specialist_id else None)})


def _transfer(mb: Member, recorded: str, on: str, to_branch_id: str | None, path: list[str]) -> None:
    """A move (or leaving the district), once: a merge says it twice (MemberTransferred and
    BranchesMerged, in either order); the earlier record counts."""
    for t in mb.transfers:
        if (t["on"], t["to_branch_id"]) == (on, to_branch_id):
            t["recorded"] = min(t["recorded"], recorded)
            return
    mb.transfers.append({"recorded": recorded, "on": on, "to_branch_id": to_branch_id, "path": path})


def _addressing(mb: Member) -> tuple:
    """What of the member their deliveries are made of (`Member.standing`): their places, the days
    they were away or gone, their contacts, and which specialist they had from when. A specialist
    named again, a profile's name or health: the same deliveries."""
    specialists, last = [], None
    for s in sorted(mb.specialists, key=lambda s: s["recorded"]):
        if s["specialist_id"] != last:
            specialists.append((s["recorded"], s["specialist_id"]))
            last = s["specialist_id"]
    return (repr(mb.registered), repr(mb.branch), repr(mb.transfers), repr(mb.died), repr(mb.away),
            repr(mb.returns), repr(mb.contacts), specialists)


@dataclass
class _Late:
    """A member whose delivery of some open notices a fact of the batch may change."""
    notices: set[str] = field(default_factory=set)  # the notices still open to the facts


def _late(ctx: Context) -> dict[str, _Late]:
    """The batch's members with late facts, until its deferred steps settle them (kept beside its
    unit of work). A message that rolls back may leave its member here: their deliveries are then
    read, and settled only if another fact of the batch asked."""
    return ctx.uow.beside("late-facts", dict)


async def _settle_member(ctx: Context, mb: Member, recorded: str, placed: bool = False,
                         was: tuple | None = None) -> None:
    """A fact about the member, recorded on `recorded`, was added: stage the member, keep the tree's
    lists, and settle their delivery of every notice still open to it (open_until on or after that
    day) that names them or one of the orgs they have belonged to.

    The settling itself is deferred to the end of the batch (`_read_late`, `_settle_late`): the
    deliveries and notices of all the batch's members are read in one query each, not a few
    queries a member (a district publishing at once sends thousands of facts behind its notices).
    What the notices are is known now, and reserved in the unit of work, which cuts a batch by
    what it will read: one fact may settle some 200 notices.

    `placed`: the fact put the member in a branch (a registration, a transfer or merge into it);
    then every org on their paths is written, even unchanged, as a notice addressed to it at the
    same time does (`_index`): one of the two commits first, the other runs again and sees it.
    Other facts write no org document, so they never contend with notices being addressed."""
    mb.refresh()
    ctx.repo(MEMBER).add(mb)
    if was is not None and not placed and _addressing(mb) == was:
        # No delivery can change (`was`: `_addressing` before the fact). Worth saying: a fact
        # recorded early, handled after a year of notices (a district publishing all at once),
        # would otherwise re-address every one of them.
        return
    places = mb.placements()
    org_ids = list(dict.fromkeys(o for _, path in places for o in path))
    await ctx.uow.prefetch([(ORGS, o) for o in org_ids])
    keys = []
    for org_id in org_ids:
        # Looked at, not copied (an org lists every member and branch under it); copied only to change.
        seen = await ctx.read(ORGS, org_id) or org_doc(org_id)
        missing = any((org_id == branch_id and mb.member_id not in seen["members"])
                      or (org_id in path and branch_id not in seen["branches"]) for branch_id, path in places)
        if placed or missing:
            org = await _org(ctx, org_id)
            for branch_id, path in places:
                if org_id == branch_id:
                    _add(org, "members", mb.member_id)
                if org_id in path:
                    _add(org, "branches", branch_id)
            ctx.put(ORGS, org)
        keys += _open_indexes(org_id, seen, recorded[:7])
    await ctx.uow.prefetch([(NOTICE_INDEX, k) for k in keys])
    open_ = {nid for nid, e in mb.named.items() if e["until"] >= recorded}
    for k in keys:
        open_.update(nid for nid, e in ((await ctx.read(NOTICE_INDEX, k)) or {}).get("notices", {}).items()
                     if e["until"] >= recorded)
    late = _late(ctx).setdefault(mb.member_id, _Late())
    ctx.uow.reserve(2 * len(open_ - late.notices))  # each a delivery and a notice, at most
    late.notices |= open_
    ctx.defer(("late-facts", "a"), _read_late)
    ctx.defer(("late-facts", "b", mb.member_id), lambda c, member_id=mb.member_id: _settle_late(c, member_id))


def _open_indexes(org_id: str, org: dict, month: str) -> list[str]:
    """The org's notice indexes of the months from `month` on: the notices a fact of that month may
    still change (`_settle_member`, and what a batch reads for it at once: `_settling_reads`)."""
    return [index_id(org_id, m) for m in org.get("notice_months", []) if m >= month]


async def _read_late(ctx: Context) -> None:
    """The batch's late facts, first: the deliveries they may change, then the notices of those
    that may still change (a notice, with its recipients, is large; a late fact finds most of the
    member's deliveries already acted on), each in one query."""
    late, now = _late(ctx), stamp(clock())
    await ctx.uow.prefetch([(DELIVERIES, delivery_id(n, mid)) for mid, x in late.items() for n in x.notices])
    wanted = {n for mid, x in late.items() for n in x.notices if await _may_change(ctx, delivery_id(n, mid), now)}
    await ctx.uow.prefetch([(NOTICES, n) for n in sorted(wanted)])


async def _settle_late(ctx: Context, member_id: str) -> None:
    """The member's deliveries of the notices their facts of the batch reached, as addressing them
    now would give (in the correlation of the member's last fact)."""
    mb, now = await ctx.repo(MEMBER).peek(member_id), stamp(clock())
    for notice_id in sorted(_late(ctx)[member_id].notices):
        await _settle(ctx, notice_id, mb, now)


def clock() -> datetime:
    """Now (a function, so the unit tests can set it: see `_left_to_worker`)."""
    return datetime.now(timezone.utc)


def _left_to_worker(d: Delivery, now: str) -> bool:
    """An untouched delivery already due is the delivery worker's: it works the delivery out again
    from the member's facts as they stand just before it first acts on it (delivery_worker._claim,
    `as_it_stands`, as `_settle` would), so a late fact leaves it alone rather than writing it under
    the worker. The worker takes up every due delivery of a notice published at once, and the two
    writing the same deliveries made large batches of late facts run again (docs/reliability.md,
    finding 21). The delivery is the same either way: written by the fact with the worker's claim
    after it, or left and worked out by the claim; whichever commits first, the other's reads say
    the same of it (untouched and due, or under way: the fact writes neither)."""
    return d.state == "pending" and d.next_at is not None and d.next_at <= now


async def _may_change(ctx: Context, key: str, now: str) -> bool:
    have = await ctx.repo(DELIVERY).peek(key)
    return have is None or (deliveries.unsaid(have) and not _left_to_worker(have, now))


async def _settle(ctx: Context, notice_id: str, mb: Member, now: str) -> None:
    """Make the member's delivery of the notice what addressing it now would give, unless the
    service has already done or said something about it (then it stays, as proof; one the member
    acknowledged is re-planned, never withdrawn), or it is due and left to the delivery worker
    (`_left_to_worker`)."""
    key = delivery_id(notice_id, mb.member_id)
    # Both looked at, not copied: `have` is only compared and, kept, never written; the notice is
    # written (below) as a new snapshot with its new recipients.
    have = await ctx.repo(DELIVERY).peek(key)
    if have is not None and (not deliveries.unsaid(have) or _left_to_worker(have, now)):
        return  # decided before the notice is read: a notice (its recipients) is large, most are done
    n = await ctx.repo(NOTICE).peek(notice_id)
    if n is None or n.due_at is None:
        return
    want = delivery_for(n, mb)
    if have is not None:
        want = as_it_stands(have, want)
        if want is have:
            return
    elif want is None:
        return
    if want is None:
        ctx.repo(DELIVERY).remove(key)
    else:
        ctx.repo(DELIVERY).add(want)
        if have is None and n.require_ack:  # a recipient after all: said as at addressing
            caused_by(ctx, f"addressed|{n.notice_id}|{mb.member_id}").emit(
                c.NoticeAddressed(notice_id=n.notice_id, branch_id=want.branch_id, addressed_on=n.addressed_on,
                                  member_ids=[mb.member_id]), basis=f"{mb.member_id}/NoticeAddressed")
    recipients = sorted(({*n.recipients} - {mb.member_id}) | ({mb.member_id} if want else set()))
    if recipients != n.recipients:
        n.recipients = recipients
        ctx.repo(NOTICE).add(n)


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
    mb, day = await _member(ctx, ev.member_id), _recorded(ctx)
    _profile(mb, ev.profile, day)
    if not mb.registered:  # registered_on defaults to the date of the registration
        _registered(mb, day, day)
    mb.branch = {"branch_id": ev.branch_id, "path": branch_path(ev.branch_id, ev.ancestors)}
    _specialist(mb, ev.specialist_id, None, day)
    await _settle_member(ctx, mb, day, placed=True)


async def member_profile_updated(ev: m.MemberProfileUpdated, ctx: Context) -> None:
    mb, day = await _member(ctx, ev.member_id), _recorded(ctx)
    was = _addressing(mb)
    _profile(mb, ev.profile, day)
    _specialist(mb, ev.specialist_id, None, day)
    await _settle_member(ctx, mb, day, was=was)


async def _path(ctx: Context, branch_id: str, ancestors: list[str]) -> list[str]:
    return branch_path(branch_id, ancestors or (await _org(ctx, branch_id))["ancestors"])


async def member_transferred(ev: m.MemberTransferred, ctx: Context) -> None:
    mb, day = await _member(ctx, ev.member_id), _recorded(ctx)
    path = await _path(ctx, ev.to_branch_id, ev.to_ancestors) if ev.to_branch_id else []
    _transfer(mb, day, ev.on.isoformat(), ev.to_branch_id, path)
    await _settle_member(ctx, mb, day, placed=ev.to_branch_id is not None)


async def branches_merged(ev: m.BranchesMerged, ctx: Context) -> None:
    day = _recorded(ctx)
    path = await _path(ctx, ev.into_branch_id, ev.into_ancestors)
    for member_id in ev.member_ids:
        mb = await _member(ctx, member_id)
        _transfer(mb, day, ev.on.isoformat(), ev.into_branch_id, path)
        await _settle_member(ctx, mb, day, placed=True)


async def branch_moved(ev: rz.BranchMoved, ctx: Context) -> None:
    """化并转 (issue 13): the branch, and each of its members from `on`, take their new place in the
    tree, as a transfer into the same branch under its new path (notices addressed to the new
    community reach them from then on; the old community's, before)."""
    day = _recorded(ctx)
    branch = await _org(ctx, ev.branch_id)
    branch["ancestors"] = list(ev.ancestors)
    ctx.put(ORGS, branch)
    path = branch_path(ev.branch_id, ev.ancestors)
    for member_id in ev.member_ids:
        mb = await _member(ctx, member_id)
        _transfer(mb, day, ev.on.isoformat(), ev.branch_id, path)
        await _settle_member(ctx, mb, day, placed=True)


async def member_marked_away(ev: m.MemberMarkedAway, ctx: Context) -> None:
    mb, day = await _member(ctx, ev.member_id), _recorded(ctx)
    was = _addressing(mb)
    start = ev.from_.isoformat()
    mb.away = [x for x in mb.away if x["from"] != start] + [
        {"recorded": day, "from": start, "until": ev.until.isoformat() if ev.until else None}]
    await _settle_member(ctx, mb, day, was=was)


async def member_returned(ev: m.MemberReturned, ctx: Context) -> None:
    mb, day = await _member(ctx, ev.member_id), _recorded(ctx)
    was = _addressing(mb)
    if all(x["on"] != ev.on.isoformat() for x in mb.returns):
        mb.returns.append({"recorded": day, "on": ev.on.isoformat()})
    await _settle_member(ctx, mb, day, was=was)


async def member_died(ev: m.MemberDied, ctx: Context) -> None:
    mb, day = await _member(ctx, ev.member_id), _recorded(ctx)
    was = _addressing(mb)
    mb.died = {"recorded": day, "on": ev.on.isoformat()}
    await _settle_member(ctx, mb, day, was=was)


async def specialist_assigned(ev: m.SpecialistAssigned, ctx: Context) -> None:
    mb, day = await _member(ctx, ev.member_id), _recorded(ctx)
    was = _addressing(mb)
    _specialist(mb, ev.specialist_id, ev.specialist_name, day)
    await _settle_member(ctx, mb, day, was=was)


def _member_keys(ev) -> list:
    return [(MEMBERS, ev.member_id), (ORGS, ev.branch_id)]


def _settling_reads(member_id: str, envelope, read, *paths: list[str]) -> list:
    """What `_settle_member` will read for a fact about the member (`Handler.then`): the orgs on
    their paths (and on `paths`, the fact's own), then those orgs' notice indexes of the months
    from the fact's on; read for the whole batch in two queries, not one or two a fact (the indexes
    were 352 of notifications' 2,142 commands to the database in the end-to-end year)."""
    mb = member_from_doc(read(MEMBERS, member_id)) or Member(member_id)
    org_ids = dict.fromkeys(o for path in [*(p for _, p in mb.placements()), *paths] for o in path)
    month = local_date(envelope.occurred_at).isoformat()[:7]
    keys = []
    for org_id in org_ids:
        org = read(ORGS, org_id)
        if org is None:  # not read yet (or absent: then not read again)
            keys.append((ORGS, org_id))
        else:
            keys += [(NOTICE_INDEX, k) for k in _open_indexes(org_id, org, month)]
    return keys


def _fact_reads(ev, envelope, read) -> list:
    return _settling_reads(ev.member_id, envelope, read)


def _notice_reads(cmd: c.SendNotice, envelope, _read) -> list:
    """What a notice's addressing reads first (`Handler.then`): its audience's orgs, their notice
    indexes of the month it stays open to, the members it names."""
    sent = envelope.occurred_at
    month = open_until(local_date(_due(cmd, sent)).isoformat())[:7]
    return [*((ORGS, o) for o in cmd.audience.org_ids), *((NOTICE_INDEX, index_id(o, month)) for o in cmd.audience.org_ids),
            *((MEMBERS, i) for i in cmd.audience.member_ids)]


def _meeting_notice_reads(ev: a.ActivityScheduled, envelope, read) -> list:
    """The same for a meeting's notice: its branches' indexes of the month it stays open to, and
    once their orgs are read, their members (`_members`), for the batch's meetings in one query
    rather than one a meeting (at 100,000 members, 6,450 queries of `members` in eight minutes of
    January and February). They take at most half of a batch's budget (`Pipeline._prefetch_named`)."""
    month = open_until(local_date(envelope.occurred_at).isoformat(), ev.held_on.isoformat())[:7]
    members = [(MEMBERS, m) for b in ev.branch_ids for m in (read(ORGS, b) or {}).get("members", [])]
    return [*((NOTICE_INDEX, index_id(b, month)) for b in ev.branch_ids), *members]


HANDLERS: dict[str, Handler] = {
    # notifications.commands
    "SendNotice": Handler(send_notice, lambda x: [(NOTICES, x.notice_id)], _notice_reads),
    "AcknowledgeNotice": Handler(acknowledge_notice, lambda x: [(NOTICES, x.notice_id),
                                                                (DELIVERIES, delivery_id(x.notice_id, x.member_id))]),
    # The member too: a visit completed before the worker handed it over is handed over from what the
    # member is now (`_hand_over`), read with the batch's others rather than one query a visit.
    "CompleteDoorDelivery": Handler(complete_door_delivery,
                                    lambda x: [(NOTICES, x.notice_id), (MEMBERS, x.member_id),
                                               (DELIVERIES, delivery_id(x.notice_id, x.member_id))]),
    # The notice too: feedback on a notice not addressed yet is held until it is, and woken by it.
    "RecordFeedback": Handler(record_feedback, lambda x: [(FEEDBACK, x.feedback_id), (MEMBERS, x.member_id),
                                                          *([(NOTICES, x.notice_id)] if x.notice_id else [])]),
    # members.events
    "OrganizationEstablished": Handler(organization_established, lambda x: [(ORGS, x.org_id), *((ORGS, o) for o in x.ancestors)]),
    "SecretaryAppointed": Handler(secretary_appointed, lambda x: [(ORGS, x.branch_id)]),
    "MemberRegistered": Handler(member_registered, lambda x: [(MEMBERS, x.member_id), (ORGS, x.branch_id),
                                                              *((ORGS, o) for o in x.ancestors)],
                                lambda x, env, read: _settling_reads(x.member_id, env, read,
                                                                     branch_path(x.branch_id, x.ancestors))),
    "MemberProfileUpdated": Handler(member_profile_updated, _member_keys),
    "MemberTransferred": Handler(member_transferred, lambda x: [(MEMBERS, x.member_id), (ORGS, x.from_branch_id),
                                                                *((ORGS, o) for o in x.to_ancestors)],
                                 lambda x, env, read: _settling_reads(
                                     x.member_id, env, read,
                                     *([branch_path(x.to_branch_id, x.to_ancestors)] if x.to_branch_id else []))),
    "BranchesMerged": Handler(branches_merged, lambda x: [(ORGS, x.from_branch_id), (ORGS, x.into_branch_id),
                                                          *((MEMBERS, i) for i in x.member_ids)]),
    "BranchMoved": Handler(branch_moved, lambda x: [(ORGS, x.branch_id), *((ORGS, o) for o in x.ancestors),
                                                    *((MEMBERS, i) for i in x.member_ids)]),  # issue 13
    "MemberMarkedAway": Handler(member_marked_away, _member_keys, _fact_reads),
    "MemberReturned": Handler(member_returned, _member_keys, _fact_reads),
    "MemberDied": Handler(member_died, _member_keys, _fact_reads),
    "SpecialistAssigned": Handler(specialist_assigned, _member_keys, _fact_reads),
    # activities.events and reporting.events
    "ActivityScheduled": Handler(activity_scheduled, lambda x: [(NOTICES, f"activity:{x.activity_id}"),
                                                                *((ORGS, b) for b in x.branch_ids)],
                                 _meeting_notice_reads),
    "AlertRaised": Handler(alert_raised, lambda x: [(ALERTS, x.alert_id), (MEMBERS, x.subject_id), (ORGS, x.org_id),
                                                    (MEMBERS, district_office.OFFICE_ID),
                                                    *((NOTICES, f"{ar.reminder_name(x.alert_id, x.level, x.months)}:{who}")
                                                      for who in ("member", "secretary", "district"))]),
    "AlertCleared": Handler(alert_cleared, lambda x: [(ALERTS, x.alert_id)]),
}
