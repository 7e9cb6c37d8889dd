"""One recipient's delivery of one notice: the channels tried, every attempt, and the outcome.

States: `pending` (waiting for `next_at`: send_at, quiet hours or a retry's backoff; every
delivery starts here, even one for a specialist or one no channel can reach: nothing is said of
it before it is due, so a fact arriving late may still change or withdraw it, see `untouched`),
`sending` (an attempt was durably claimed and handed to a gateway), `delivered`,
`door_assigned` (a specialist must visit or call), `door_done`, `exhausted` (every channel
failed and none is left), `unreachable` (no channel works for the member at all),
`acknowledged` (the member acknowledged before it was sent: nothing more is sent).

At most one real send per (notice, member, channel, attempt): an attempt is recorded as
`sending` BEFORE the gateway is called. An attempt still `sending` when the process starts
again has an unknown outcome (the gateway may or may not have sent it); it is never resent on
the same channel: it is marked `unknown` and the delivery falls back to the next channel.

A gateway that took the request and did not answer in time (a read timeout, the connection
dropped before the answer) may have sent it too. That attempt is marked `unanswered` and sent
again after the retry's backoff as the SAME attempt, under the same idempotency key
(`<notice>|<member>|<channel>|<attempt>`), which a gateway that keeps keys drops if it already
took it: a new attempt would carry a new key and reach the member twice. Still unanswered after
`MAX_RESENDS` resends, its outcome stays unknown, as an orphan's: marked `unknown`, never sent
again on that channel, and the delivery falls back to the next one.
"""
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from services.notifications.domain.backoff import delay
from services.notifications.domain.channels import BY_SPECIALIST
from services.notifications.domain.quiet_hours import QuietHours

UNKNOWN_OUTCOME = "发送结果未知：进程在发送中重启，不再经同一渠道重发"
UNANSWERED = "发送结果未知：网关多次未及时答复，不再经同一渠道重发"
NO_CHANNEL = "没有可用的送达渠道（无电话、微信、邮箱，且人在外地不能上门）"
MAX_RESENDS = 2  # an unanswered attempt is sent at most this many times more under its key


def stamp(moment: datetime) -> str:
    """Instants are stored as fixed-width UTC ISO strings, so they compare as text."""
    from datetime import timezone

    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


@dataclass
class Attempt:
    channel: str
    attempt: int
    state: str  # sending · delivered · failed · unanswered (sent again under its key) · unknown
    started_at: str
    finished_at: str | None = None
    error: str | None = None
    transport: str | None = None


@dataclass
class Delivery:
    notice_id: str
    member_id: str
    branch_id: str | None
    addressed_on: str  # YYYY-MM-DD, the day the notice was addressed (send_at's or the command's date)
    plan: list[str]
    index: int = 0
    attempt: int = 0  # attempts made on the current channel
    state: str = "pending"
    next_at: str | None = None
    held: str | None = None  # why it waits: scheduled · quiet_hours · retry
    attempts: list[Attempt] = field(default_factory=list)
    specialist_id: str | None = None
    door: dict | None = None
    acknowledged: dict | None = None
    contacts: dict = field(default_factory=dict)
    correlation_id: str | None = None
    preferred: str | None = None  # the member's preferred channel (named when nothing can reach them)

    @property
    def channel(self) -> str | None:
        return self.plan[self.index] if self.index < len(self.plan) else None


def address(d: Delivery, due: datetime, scheduled: bool) -> None:
    """Queue a fresh delivery until it is due (`scheduled`: held for its send_at). What it needs
    (a send, a specialist, or nothing at all) is decided when it is due (`claim`)."""
    d.state, d.next_at, d.held = "pending", stamp(due), "scheduled" if scheduled else None


def untouched(d: Delivery) -> bool:
    """Nothing has been done or said about it yet (no attempt, no task for a specialist, no
    acknowledgement): a late fact may still re-address or withdraw it. Anything else stays, as proof."""
    return unsaid(d) and d.state == "pending" and d.acknowledged is None


def unsaid(d: Delivery) -> bool:
    """The service has done and said nothing about it (the member may have acknowledged it, e.g.
    heard it at a meeting): a late fact may still re-address it, but not withdraw it."""
    return (d.state in ("pending", "acknowledged") and not d.attempts and d.index == 0 and d.attempt == 0
            and d.door is None)


def addressing(d: Delivery) -> tuple:
    """What addressing decides: two deliveries equal here are the same delivery."""
    return (d.notice_id, d.member_id, d.branch_id, d.addressed_on, tuple(d.plan), d.specialist_id,
            tuple(sorted((d.contacts or {}).items())), d.preferred)


Step = Literal["send", "resend", "door", "held", "skip", "unreachable"]


def claim(d: Delivery, now: datetime, quiet: QuietHours) -> Step:
    """Called when the delivery is due: record the attempt as `sending`, hand it to the
    specialist, find it unreachable, or hold it."""
    if d.state != "pending":
        return "skip"
    if not d.plan:
        d.state, d.next_at, d.held = "unreachable", None, None
        return "unreachable"
    if d.channel in BY_SPECIALIST:  # a visit or a call is handed over even if acknowledged meanwhile
        return _enter_channel(d, now, quiet, None)
    if d.acknowledged:  # the member already has it (heard it at a meeting, by a call): no more sends
        d.state = "acknowledged"
        return "skip"
    release = quiet.release(d.channel, now)
    if release > now:
        d.next_at, d.held = stamp(release), "quiet_hours"
        return "held"
    again = _unanswered(d)
    if not again:
        d.attempt += 1
    d.state, d.held, d.next_at = "sending", None, None
    d.attempts.append(Attempt(d.channel, d.attempt, "sending", stamp(now)))
    return "resend" if again else "send"


def _unanswered(d: Delivery) -> bool:
    """The current attempt went unanswered: the next send repeats it, under its key."""
    last = d.attempts[-1] if d.attempts else None
    return (last is not None and last.state == "unanswered" and last.channel == d.channel
            and last.attempt == d.attempt)


def succeeded(d: Delivery, now: datetime, transport: str) -> None:
    a = _current(d)
    a.state, a.finished_at, a.transport = "delivered", stamp(now), transport
    d.state = "delivered"


@dataclass
class Failure:
    retry_at: datetime | None = None  # another attempt on the same channel
    next_channel: str | None = None  # None with no retry: nothing is left
    door: bool = False  # the next channel is a specialist's visit or call


def failed(d: Delivery, now: datetime, error: str, quiet: QuietHours, max_attempts: int,
           base_seconds: float, transport: str | None = None, unanswered: bool = False) -> Failure:
    """`unanswered`: the gateway may have taken the request (no answer in time): sent again as the
    same attempt, up to MAX_RESENDS times; then its outcome is unknown and the next channel is tried."""
    a = _current(d)
    if unanswered:
        sends = sum(1 for x in d.attempts if x.channel == a.channel and x.attempt == a.attempt)
        if sends > MAX_RESENDS:  # still no answer: the outcome stays unknown, as an orphan's
            a.state, a.finished_at, a.error, a.transport = "unknown", stamp(now), f"{UNANSWERED}: {error}"[:500], transport
            return _fall_back(d, now, quiet)
        a.state, a.finished_at, a.error, a.transport = "unanswered", stamp(now), error[:500], transport
        at = quiet.release(d.channel, now + delay(d.attempt, base_seconds))
        d.state, d.next_at, d.held = "pending", stamp(at), "retry"
        return Failure(retry_at=at)
    a.state, a.finished_at, a.error, a.transport = "failed", stamp(now), error[:500], transport
    if d.attempt < max_attempts:
        at = quiet.release(d.channel, now + delay(d.attempt, base_seconds))
        d.state, d.next_at, d.held = "pending", stamp(at), "retry"
        return Failure(retry_at=at)
    return _fall_back(d, now, quiet)


def orphaned(d: Delivery, now: datetime, quiet: QuietHours) -> Failure:
    """An attempt found `sending` after a restart: its outcome is unknown, so never resend it."""
    a = _current(d)
    a.state, a.finished_at, a.error = "unknown", stamp(now), UNKNOWN_OUTCOME
    return _fall_back(d, now, quiet)


def name_specialist(d: Delivery, specialist_id: str | None) -> bool:
    """A delivery handed to a specialist with nobody named (the member's specialist was not known
    when it was addressed) gets the member's specialist as known now. Whether it is a visit or a
    call stays as addressed: that is proof. True when a specialist was named."""
    if d.state != "door_assigned" or d.specialist_id is not None or not specialist_id:
        return False
    d.specialist_id = specialist_id
    d.door = {**(d.door or {}), "specialist_id": specialist_id}
    return True


def complete_door(d: Delivery, on: date, specialist_id: str) -> None:
    d.state = "door_done"
    d.door = {**(d.door or {}), "completed_on": on.isoformat(), "completed_by": specialist_id}


def acknowledge(d: Delivery, on: date, channel: str | None) -> bool:
    """False when it was already acknowledged (nothing changes)."""
    if d.acknowledged:
        return False
    d.acknowledged = {"on": on.isoformat(), "channel": channel}
    return True


def _fall_back(d: Delivery, now: datetime, quiet: QuietHours) -> Failure:
    d.index += 1
    d.attempt = 0
    if d.channel is None:
        d.state = "exhausted"
        return Failure()
    step = _enter_channel(d, now, quiet, None)
    return Failure(next_channel=d.channel, door=step == "door")


def _enter_channel(d: Delivery, due: datetime, quiet: QuietHours | None, held: str | None) -> Step:
    if d.channel in BY_SPECIALIST:
        d.state, d.next_at, d.held = "door_assigned", None, None
        d.door = {"channel": d.channel, "specialist_id": d.specialist_id, "assigned_at": stamp(due)}
        return "door"
    release = quiet.release(d.channel, due) if quiet else due
    d.state, d.next_at = "pending", stamp(release)
    d.held = "quiet_hours" if release > due else held
    return "held" if d.held else "send"


def _current(d: Delivery) -> Attempt:
    return d.attempts[-1]
