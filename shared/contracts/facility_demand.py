"""activities.commands and activities.events of 阵地需求 (issue 13, item 8): the activities members ask
for (乒乓球、羽毛球、游泳…) in a community, one member's wish or a count gathered at once (a survey,
a meeting). Reporting sets them against what the community's venues offer (`RegisterVenue.facilities`,
shared/rules/facilities.py) and lists the gaps: `GET /api/v1/orgs/{org_id}/facility-gaps`.

Every message is keyed by `demand_id`.
"""
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from shared.contracts.base import Command, Event
from shared.contracts.types import Day, Id, Text
from shared.topics import ACTIVITIES_COMMANDS, ACTIVITIES_EVENTS

# The activities asked for (labels: shared/rules/facilities.py, FACILITY_ACTIVITIES).
FacilityActivity = Literal["table_tennis", "badminton", "swimming", "billiards", "gateball", "chess", "calligraphy",
                           "choir", "dance", "taichi", "fitness", "reading"]
DemandSource = Literal["member", "survey", "secretary"]  # 党员本人提出 · 问卷/会议汇总 · 支部书记反映


class RecordFacilityDemand(Command):
    """Members of a community ask for an activity no venue may offer: one member (`member_id`, a
    count of 1) or `count` people at once (a survey or a meeting, no member named)."""

    TOPIC: ClassVar[str] = ACTIVITIES_COMMANDS
    KEY: ClassVar[str] = "demand_id"

    demand_id: Id
    community_id: Id = Field(description="the community the members live in")
    activity: FacilityActivity
    on: Day
    member_id: Id | None = Field(None, description="the member who asked (then count is 1)")
    count: int = Field(1, ge=1, le=10000, description="how many people asked")
    source: DemandSource = "member"
    note: Text | None = None

    @model_validator(mode="after")
    def _one_member_or_a_count(self):
        if self.member_id is not None and self.count != 1:
            raise ValueError("a demand naming a member counts that one member (count 1)")
        return self


class FacilityDemandRecorded(Event):
    TOPIC: ClassVar[str] = ACTIVITIES_EVENTS
    KEY: ClassVar[str] = "demand_id"

    demand_id: Id
    community_id: Id
    activity: FacilityActivity
    on: Day
    member_id: Id | None = None
    count: int = Field(1, ge=1)
    source: DemandSource = "member"
