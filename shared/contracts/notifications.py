"""notifications.commands and notifications.events."""
from typing import ClassVar

from pydantic import Field, model_validator

from shared.contracts.base import Command, Event, Loose, Strict
from shared.contracts.codes import Channel, NoticeCategory
from shared.contracts.types import Day, Id, Name, Text, Timestamp
from shared.topics import NOTIFICATIONS_COMMANDS, NOTIFICATIONS_EVENTS


class _NoticeCommand(Command):
    ABSTRACT: ClassVar[bool] = True
    TOPIC: ClassVar[str] = NOTIFICATIONS_COMMANDS
    KEY: ClassVar[str] = "notice_id"


class _NoticeEvent(Event):
    ABSTRACT: ClassVar[bool] = True
    TOPIC: ClassVar[str] = NOTIFICATIONS_EVENTS
    KEY: ClassVar[str] = "notice_id"


class Audience(Strict):
    org_ids: list[Id] = Field(default_factory=list)
    member_ids: list[Id] = Field(default_factory=list)

    @model_validator(mode="after")
    def _someone(self):
        if not self.org_ids and not self.member_ids:
            raise ValueError("the audience names no org and no member")
        return self


class AudienceView(Loose):
    org_ids: list[Id] = Field(default_factory=list)
    member_ids: list[Id] = Field(default_factory=list)


# ---- commands -------------------------------------------------------------------------------

class SendNotice(_NoticeCommand):
    notice_id: Id
    title: Name
    body: Text
    category: NoticeCategory
    audience: Audience
    require_ack: bool = False
    send_at: Timestamp | None = None


class AcknowledgeNotice(_NoticeCommand):
    notice_id: Id
    member_id: Id
    channel: Channel | None = None


class RecordFeedback(_NoticeCommand):
    KEY: ClassVar[str] = "member_id"
    feedback_id: Id
    member_id: Id
    notice_id: Id | None = None
    text: Text = Field(min_length=1)


class CompleteDoorDelivery(_NoticeCommand):
    notice_id: Id
    member_id: Id
    specialist_id: Id
    on: Day


# ---- events ---------------------------------------------------------------------------------

class NoticeCreated(_NoticeEvent):
    notice_id: Id
    title: str
    body: str
    category: NoticeCategory
    audience: AudienceView
    require_ack: bool = False
    send_at: Timestamp | None = None
    recipient_count: int = 0


class NoticeAddressed(_NoticeEvent):
    """Added: a notice that asks for acknowledgement is addressed to these members of one branch,
    as of its day (`addressed_on`): said when the notice is addressed (one event per branch, at most
    ADDRESSED_CHUNK members each), and for one member when a fact arriving later makes them a
    recipient. Reporting's `notices.sent` counts these pairs, whatever the delivery worker did since."""
    notice_id: Id
    branch_id: Id | None = None
    addressed_on: Day
    member_ids: list[Id] = Field(default_factory=list)


ADDRESSED_CHUNK = 2000  # members per NoticeAddressed: well under the broker's record size at 128-character ids


class NotificationDispatched(_NoticeEvent):
    notice_id: Id
    member_id: Id
    branch_id: Id | None = None
    channel: Channel
    attempt: int = 1
    addressed_on: Day | None = None


class NotificationDelivered(_NoticeEvent):
    notice_id: Id
    member_id: Id
    branch_id: Id | None = None
    channel: Channel
    attempt: int = 1


class NotificationFailed(_NoticeEvent):
    notice_id: Id
    member_id: Id
    branch_id: Id | None = None
    channel: Channel
    attempt: int = 1
    error: str = ""
    next_channel: Channel | None = None


class DoorDeliveryAssigned(_NoticeEvent):
    notice_id: Id
    member_id: Id
    branch_id: Id | None = None
    specialist_id: Id | None = None
    channel: Channel = "door"
    # added: the day the notice was addressed to the member (reporting's `sent` date)
    addressed_on: Day | None = None


class DoorDeliveryCompleted(_NoticeEvent):
    notice_id: Id
    member_id: Id
    branch_id: Id | None = None
    specialist_id: Id
    on: Day


class NoticeAcknowledged(_NoticeEvent):
    notice_id: Id
    member_id: Id
    branch_id: Id | None = None
    channel: Channel | None = None


class FeedbackReceived(_NoticeEvent):
    KEY: ClassVar[str] = "member_id"
    feedback_id: Id
    member_id: Id
    branch_id: Id | None = None
    notice_id: Id | None = None
    text: str
