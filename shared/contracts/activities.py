"""activities.commands and activities.events."""
from typing import ClassVar

from pydantic import Field, ValidationInfo, field_validator, model_validator

from shared.contracts.base import Command, Event, Loose, Strict
from shared.contracts.codes import ActivityKind, AttendanceMode, AttendanceStatus, Health, VisitKind
from shared.contracts.types import Day, Hours, Id, Labels, Name, Text, Timestamp
from shared.topics import ACTIVITIES_COMMANDS, ACTIVITIES_EVENTS


class _ActivityCommand(Command):
    ABSTRACT: ClassVar[bool] = True
    TOPIC: ClassVar[str] = ACTIVITIES_COMMANDS
    KEY: ClassVar[str] = "activity_id"


class _ActivityEvent(Event):
    ABSTRACT: ClassVar[bool] = True
    TOPIC: ClassVar[str] = ACTIVITIES_EVENTS
    KEY: ClassVar[str] = "activity_id"


class Attendance(Strict):
    member_id: Id
    status: AttendanceStatus
    mode: AttendanceMode = "in_person"


class AttendanceEntry(Loose):
    member_id: Id
    status: AttendanceStatus
    mode: AttendanceMode = "in_person"


# ---- commands -------------------------------------------------------------------------------

class RegisterVenue(_ActivityCommand):
    KEY: ClassVar[str] = "venue_id"
    venue_id: Id
    name: Name
    org_id: Id
    capacity: int = Field(ge=1, le=100000)
    facilities: Labels = Field(default_factory=list)


class ScheduleActivity(_ActivityCommand):
    activity_id: Id
    kind: ActivityKind
    title: Name
    branch_ids: list[Id] = Field(min_length=1)
    starts_at: Timestamp
    ends_at: Timestamp
    venue_id: Id | None = None
    organizer_id: Id | None = None

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, v, info: ValidationInfo):
        starts_at = info.data.get("starts_at")
        if starts_at is not None and v <= starts_at:
            raise ValueError("ends_at must come after starts_at")
        return v

    @field_validator("branch_ids")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("branch_ids names a branch twice")
        return v


class RecordActivityHeld(_ActivityCommand):
    activity_id: Id
    minutes: Text | None = None
    attendance: list[Attendance] = Field(default_factory=list)


class RecordAttendance(_ActivityCommand):
    activity_id: Id
    member_id: Id
    status: AttendanceStatus
    mode: AttendanceMode = "in_person"


class CancelActivity(_ActivityCommand):
    activity_id: Id
    reason: str = Field(min_length=1, max_length=500)


class LogVolunteerHours(_ActivityCommand):
    KEY: ClassVar[str] = "member_id"
    entry_id: Id
    member_id: Id
    # A registered team (shared/contracts/teams.py); the free-text label only when none is named.
    team: Name | None = None
    hours: Hours
    on: Day
    activity_id: Id | None = None
    team_id: Id | None = None

    @model_validator(mode="after")
    def _team(self):
        if self.team is None and self.team_id is None:
            raise ValueError("name the team: team_id (a registered team) or team (its name)")
        return self


class RecordVisit(_ActivityCommand):
    KEY: ClassVar[str] = "member_id"
    visit_id: Id
    member_id: Id
    specialist_id: Id
    on: Day
    kind: VisitKind
    health: Health | None = None
    needs: Labels = Field(default_factory=list)
    notes: Text = ""


# ---- events ---------------------------------------------------------------------------------

class VenueRegistered(_ActivityEvent):
    KEY: ClassVar[str] = "venue_id"
    venue_id: Id
    name: str
    org_id: Id
    capacity: int
    facilities: list[str] = Field(default_factory=list)


class ActivityScheduled(_ActivityEvent):
    activity_id: Id
    kind: ActivityKind
    title: str
    branch_ids: list[Id]
    starts_at: Timestamp
    ends_at: Timestamp
    held_on: Day  # the date of starts_at in Asia/Shanghai
    venue_id: Id | None = None
    organizer_id: Id | None = None


class ActivityHeld(_ActivityEvent):
    activity_id: Id
    kind: ActivityKind
    title: str = ""
    branch_ids: list[Id]
    held_on: Day
    venue_id: Id | None = None
    starts_at: Timestamp | None = None
    ends_at: Timestamp | None = None
    minutes: str | None = None
    attendance: list[AttendanceEntry] = Field(default_factory=list)
    capacity: int | None = None
    over_capacity: bool = False


class AttendanceRecorded(_ActivityEvent):
    activity_id: Id
    kind: ActivityKind
    branch_ids: list[Id]
    held_on: Day
    member_id: Id
    status: AttendanceStatus
    mode: AttendanceMode = "in_person"
    previous_status: AttendanceStatus | None = None
    previous_mode: AttendanceMode | None = None
    title: str = ""
    venue_id: Id | None = None
    capacity: int | None = None
    over_capacity: bool = False


class ActivityCancelled(_ActivityEvent):
    activity_id: Id
    kind: ActivityKind
    branch_ids: list[Id]
    held_on: Day
    reason: str
    title: str = ""
    venue_id: Id | None = None


class VolunteerHoursLogged(_ActivityEvent):
    KEY: ClassVar[str] = "member_id"
    entry_id: Id
    member_id: Id
    team: str  # the registered team's name, or the label sent
    hours: Hours
    on: Day
    activity_id: Id | None = None
    team_id: Id | None = None


class VisitRecorded(_ActivityEvent):
    KEY: ClassVar[str] = "member_id"
    visit_id: Id
    member_id: Id
    specialist_id: Id
    on: Day
    kind: VisitKind
    health: Health | None = None
    needs: list[str] = Field(default_factory=list)
    notes: str = ""
