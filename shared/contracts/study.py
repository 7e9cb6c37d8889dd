"""members.commands and members.events of remote study (远程学习, issue 13, item 6): whether a member
has an account on the district's "红色X" platform and on 学习强国, and their study use per month.

Keyed by `member_id`. Use is what the platform reports for a month (points, sessions, minutes); a
second report of the same member, platform and month replaces the first (`replaces`). Remote
study is not attendance: a meeting attended remotely is an `AttendanceRecorded`/`ActivityHeld`
with `mode` `remote` (activities service), counted apart by reporting.
"""
from typing import ClassVar

from pydantic import Field

from shared.contracts.base import Loose
from shared.contracts.codes import StudyPlatform
from shared.contracts.members import _MemberCommand, _MemberEvent
from shared.contracts.types import Day, Id, Month


class RecordStudyAccount(_MemberCommand):
    """The member has (or no longer has) an account on a platform from a day."""

    member_id: Id
    platform: StudyPlatform
    has_account: bool
    on: Day


class RecordStudyUse(_MemberCommand):
    """The member's use of a platform in a month, as the platform reports it."""

    member_id: Id
    platform: StudyPlatform
    month: Month
    points: int = Field(default=0, ge=0, le=100000, description="学习积分")
    sessions: int = Field(default=0, ge=0, le=10000, description="学习次数")
    minutes: int = Field(default=0, ge=0, le=44640, description="学习时长（分钟），至多一个月")


class StudyAccountRecorded(_MemberEvent):
    member_id: Id
    branch_id: Id
    platform: StudyPlatform
    has_account: bool
    on: Day
    previous: bool | None = None  # whether the member had an account on the day before, as recorded


class StudyUse(Loose):
    points: int = 0
    sessions: int = 0
    minutes: int = 0


class StudyUseRecorded(_MemberEvent):
    member_id: Id
    branch_id: Id
    platform: StudyPlatform
    month: Month
    points: int = 0
    sessions: int = 0
    minutes: int = 0
    replaces: StudyUse | None = None  # the use of that month reported before
