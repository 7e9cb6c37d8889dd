"""activities.commands and activities.events of service requests and difficulties (服务 and 困难帮扶,
issue 13): the branches' convenience services (党报党刊, 义务理发, 体检, 楼道清扫, the 调解室…) asked for
by a member, the secretary or found on a specialist's visit, and the difficulties (困难) the
specialists find; each with the person responsible, a due date and its resolution.

A visit's `needs` open requests by themselves (`RecordVisit` → `ServiceRequestOpened`, source
`visit`). Every message is keyed by `request_id`, except those a visit causes (the visit's key,
`member_id`).
"""
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from shared.contracts.base import Command, Event
from shared.contracts.types import Day, Id, Name, Text
from shared.topics import ACTIVITIES_COMMANDS, ACTIVITIES_EVENTS

RequestKind = Literal["service", "difficulty"]  # 服务需求 · 困难
# The branches' services (domain.md: 便民生活服务) and the needs the specialists record.
ServiceCode = Literal["party_papers", "haircut", "health_check", "stair_cleaning", "mediation", "study_delivery",
                      "medical_escort", "shopping", "housekeeping", "meals", "counselling", "legal_aid", "other"]
RequestSource = Literal["visit", "member", "secretary"]
RequestOutcome = Literal["resolved", "referred", "declined"]


def visit_request_id(visit_id: str, position: int) -> str:
    """The id of the request that the `position`-th need of a visit opens (the same on every replay):
    a specialists' app resolves it by this id without reading the events."""
    import uuid

    return "rq-" + uuid.uuid5(uuid.NAMESPACE_URL, f"sunsetred:visit-need:{visit_id}/{position}").hex[:24]


class _RequestCommand(Command):
    ABSTRACT: ClassVar[bool] = True
    TOPIC: ClassVar[str] = ACTIVITIES_COMMANDS
    KEY: ClassVar[str] = "request_id"


class _RequestEvent(Event):
    ABSTRACT: ClassVar[bool] = True
    TOPIC: ClassVar[str] = ACTIVITIES_EVENTS
    KEY: ClassVar[str] = "request_id"


class OpenServiceRequest(_RequestCommand):
    request_id: Id
    member_id: Id = Field(description="the member it is for")
    kind: RequestKind
    service: ServiceCode = "other"
    description: Text = Field(default="", max_length=500)
    source: RequestSource
    visit_id: Id | None = Field(default=None, description="the visit that found it (source visit)")
    opened_on: Day
    responsible_id: Id = Field(description="who sees to it: a specialist, the secretary, a volunteer…")
    responsible_name: Name | None = None
    due_on: Day

    @model_validator(mode="after")
    def _rules(self):
        if self.due_on < self.opened_on:
            raise ValueError("due_on comes before opened_on")
        if (self.source == "visit") != (self.visit_id is not None):
            raise ValueError("visit_id is given exactly when the source is a visit")
        return self


class AssignServiceRequest(_RequestCommand):
    """Another person responsible from `on`, and the due date (unchanged when not given)."""

    request_id: Id
    responsible_id: Id
    responsible_name: Name | None = None
    on: Day
    due_on: Day | None = None


class ResolveServiceRequest(_RequestCommand):
    request_id: Id
    on: Day
    outcome: RequestOutcome
    resolution: Text = Field(min_length=1, max_length=1000)


class ServiceRequestOpened(_RequestEvent):
    request_id: Id
    member_id: Id
    branch_id: Id | None = None  # the member's branch as activities knows it (null when not yet known)
    kind: RequestKind
    service: ServiceCode = "other"
    description: str = ""
    source: RequestSource
    visit_id: Id | None = None
    opened_on: Day
    responsible_id: Id
    responsible_name: str | None = None
    due_on: Day


class ServiceRequestAssigned(_RequestEvent):
    request_id: Id
    member_id: Id
    on: Day
    responsible_id: Id
    responsible_name: str | None = None
    previous_responsible_id: Id | None = None
    due_on: Day


class ServiceRequestResolved(_RequestEvent):
    request_id: Id
    member_id: Id
    on: Day
    outcome: RequestOutcome
    resolution: str
    due_on: Day
    late: bool = False  # resolved after its due date
