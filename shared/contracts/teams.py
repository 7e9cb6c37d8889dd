"""activities.commands and activities.events of volunteer service teams (志愿服务队, issue 13): a
team with its roster, its leader and the community it serves. Hours are logged for a team by
naming it (`LogVolunteerHours.team_id`); the free-text `team` label stays only as a fallback.

Every message is keyed by `team_id`, so a team's roster changes in the order they were sent.
"""
from typing import ClassVar

from pydantic import Field, field_validator

from shared.contracts.base import Command, Event
from shared.contracts.types import Day, Id, Name
from shared.topics import ACTIVITIES_COMMANDS, ACTIVITIES_EVENTS


class _TeamCommand(Command):
    ABSTRACT: ClassVar[bool] = True
    TOPIC: ClassVar[str] = ACTIVITIES_COMMANDS
    KEY: ClassVar[str] = "team_id"


class _TeamEvent(Event):
    ABSTRACT: ClassVar[bool] = True
    TOPIC: ClassVar[str] = ACTIVITIES_EVENTS
    KEY: ClassVar[str] = "team_id"


class RegisterVolunteerTeam(_TeamCommand):
    """A team formed on a day, serving one community, with its first roster and its leader."""

    team_id: Id
    name: Name
    community_id: Id = Field(description="the community it serves")
    formed_on: Day
    leader_id: Id = Field(description="a member of the roster")
    member_ids: list[Id] = Field(min_length=1, max_length=500)

    @field_validator("member_ids")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("member_ids names a member twice")
        return v


class JoinVolunteerTeam(_TeamCommand):
    team_id: Id
    member_id: Id
    on: Day


class LeaveVolunteerTeam(_TeamCommand):
    team_id: Id
    member_id: Id
    on: Day


class AppointTeamLeader(_TeamCommand):
    """A member of the roster leads the team from `on` (the previous leader stays on the roster)."""

    team_id: Id
    member_id: Id
    on: Day


class VolunteerTeamRegistered(_TeamEvent):
    team_id: Id
    name: str
    community_id: Id
    formed_on: Day
    leader_id: Id
    member_ids: list[Id] = Field(default_factory=list)


class VolunteerTeamMemberJoined(_TeamEvent):
    team_id: Id
    member_id: Id
    on: Day
    team_name: str = ""


class VolunteerTeamMemberLeft(_TeamEvent):
    team_id: Id
    member_id: Id
    on: Day
    team_name: str = ""


class TeamLeaderAppointed(_TeamEvent):
    team_id: Id
    member_id: Id
    on: Day
    previous_leader_id: Id | None = None
