"""A member's delivery of a notice, as addressing it gives: as of the notice's day, from the facts
recorded by its open_until day. Used when a notice is addressed, when a late fact settles it, and
by the delivery worker just before it acts on a delivery (domain/recipients.py)."""
from datetime import datetime

from services.notifications.domain import delivery as deliveries
from services.notifications.domain.channels import plan
from services.notifications.domain.delivery import Delivery
from services.notifications.domain.notice import Notice
from services.notifications.domain.recipients import Member, in_audience


def delivery_for(n: Notice, mb: Member | None) -> Delivery | None:
    """The delivery the member is owed of the notice (None: not a recipient)."""
    s = mb.standing(n.addressed_on, n.open_until) if mb is not None else None
    if s is None or not in_audience(s, n.audience_sets):
        return None
    d = Delivery(notice_id=n.notice_id, member_id=mb.member_id, branch_id=s.branch_id, addressed_on=n.addressed_on,
                 plan=plan(s.reach()), specialist_id=s.specialist_id, contacts=s.contacts,
                 correlation_id=n.correlation_id, preferred=s.preferred_channel)
    deliveries.address(d, datetime.fromisoformat(n.due_at), n.scheduled)
    return d


def as_it_stands(have: Delivery, want: Delivery | None) -> Delivery | None:
    """A delivery the service has said nothing about yet (`deliveries.unsaid`), made what the
    member's facts now say: None (not a recipient after all: withdrawn), `have` itself (unchanged,
    or acknowledged by the member: that stays), or `want` (reached otherwise), keeping the time it
    is due and the member's acknowledgement (pending again, so the worker takes it up as it would
    have: a visit is handed over, sends stop)."""
    if want is None:
        return None if have.acknowledged is None else have
    if deliveries.addressing(want) == deliveries.addressing(have):
        return have
    want.next_at, want.held, want.acknowledged = have.next_at, have.held, have.acknowledged
    return want
