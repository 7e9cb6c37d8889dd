"""reporting.events, and CommandRejected, which every service publishes."""
from typing import Any, ClassVar

from pydantic import Field

from shared.contracts.base import Event, Loose
from shared.contracts.codes import AlertKind, AlertLevel, RejectionReason
from shared.contracts.types import Day, Id, MessageId
from shared.topics import REPORTING_EVENTS


class _ReportingEvent(Event):
    ABSTRACT: ClassVar[bool] = True
    TOPIC: ClassVar[str] = REPORTING_EVENTS
    KEY: ClassVar[str] = "subject_id"


class AlertRaised(_ReportingEvent):
    alert_id: Id
    kind: AlertKind
    level: AlertLevel
    subject_id: Id
    org_id: Id
    since: str  # the month (YYYY-MM) or day the condition began
    months: int | None = None
    as_of: Day
    # Added: what a person needs to act (missing meeting kinds, last visit, where away…).
    details: dict[str, Any] = Field(default_factory=dict)


class AlertCleared(_ReportingEvent):
    alert_id: Id
    kind: AlertKind
    subject_id: Id
    org_id: Id
    as_of: Day


class PeriodReportPublished(_ReportingEvent):
    KEY: ClassVar[str] = "org_id"
    org_id: Id
    period: str
    report: dict[str, Any]


class FieldError(Loose):
    field: str
    message: str


class CommandRejected(Event):
    """Published on the events topic of the service that refused the command."""

    TOPIC: ClassVar[str] = ""  # the refusing service's own events topic
    KEY: ClassVar[str] = "command_id"
    command_id: MessageId
    command_type: str
    reason: RejectionReason
    errors: list[FieldError] = Field(default_factory=list)
