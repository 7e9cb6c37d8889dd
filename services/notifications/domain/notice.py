"""Notices (通知、文件、学习材料) sent down to members."""
from dataclasses import dataclass, field
from functools import cached_property

from shared.errors import duplicate


@dataclass
class Notice:
    notice_id: str
    title: str
    body: str
    category: str
    audience: dict
    require_ack: bool = False
    send_at: str | None = None
    recipients: list[str] = field(default_factory=list)
    addressed_on: str | None = None  # YYYY-MM-DD: the day the audience is resolved as of
    origin: str | None = None  # what made the service send it by itself (activity, alert), if it did
    open_until: str | None = None  # the last day a fact recorded still changes its addressing (recipients.open_until)
    due_at: str | None = None  # the instant its deliveries are due (send_at, or when it was addressed)
    scheduled: bool = False  # due later than it was addressed (send_at in the future)
    correlation_id: str | None = None  # of what created it: its deliveries, even those added later, carry it
    # A large notice being addressed a page at a time: the branches still to address ("": the
    # members it names), and the id of the message that sent it, which its events derive from.
    to_address: list[str] = field(default_factory=list)
    addressed_by: str | None = None

    @cached_property
    def audience_sets(self) -> tuple[frozenset[str], frozenset[str]]:
        """The members and the organisations it is addressed to, as sets, made once a notice: asked
        for every member addressed, and a volunteer-service notice of the 100,000-member year was to
        1,587 branches or more (set up again for each of its members: a tenth of notifications'
        samples while it addressed pages). Its audience is never changed once it is created."""
        return frozenset(self.audience.get("member_ids", ())), frozenset(self.audience.get("org_ids", ()))


def create(existing: Notice | None, *, notice_id: str, title: str, body: str, category: str, audience: dict,
           require_ack: bool, send_at: str | None) -> Notice:
    if existing is not None:
        raise duplicate(f"notice {notice_id} already exists", "data.notice_id")
    return Notice(notice_id, title, body, category, audience, require_ack, send_at)
