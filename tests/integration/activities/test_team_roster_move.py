"""Teams written while the roster lived in the team's document get their memberships at start-up,
on a real replica set, and the service then works on them as on any other."""
import uuid

import pytest
from pymongo import AsyncMongoClient

from services.activities.adapters.documents import (
    TEAM, TEAM_MEMBER, TEAM_MEMBERS, TEAMS, membership_id, move_team_rosters, setup,
)
from services.activities.domain import teams
from shared.messaging.mongo_uow import MongoStore
from shared.messaging.repository import Repository

pytestmark = pytest.mark.integration


@pytest.fixture
async def db(infra):
    client = AsyncMongoClient(infra.mongo, tz_aware=True)
    database = client[f"teams_{uuid.uuid4().hex[:8]}"]
    yield client, database
    await client.drop_database(database.name)
    await client.close()


async def test_a_team_with_its_roster_inside_is_moved_once_and_then_handled_as_any_other(db):
    client, database = db
    await database[TEAMS].insert_one({
        "_id": "t1", "name": "义务血压站", "community_id": "c1", "formed_on": "2025-06-01", "_v": 4,
        "roster": [{"member_id": "m1", "from": "2025-06-01", "until": "2025-08-01"},
                   {"member_id": "m2", "from": "2025-06-01", "until": None},
                   {"member_id": "m1", "from": "2025-09-01", "until": None}],
        "leaders": [{"member_id": "m2", "from": "2025-06-01"}]})
    # m2's spans were written since by a handler of the new code: they stand.
    await database[TEAM_MEMBERS].insert_one({"_id": membership_id("t1", "m2"), "team_id": "t1", "member_id": "m2",
                                             "spans": [{"from": "2025-06-01", "until": "2025-10-01"}], "_v": 1})
    await setup(database)
    team = await database[TEAMS].find_one({"_id": "t1"})
    assert "roster" not in team and team["_v"] == 5 and team["leaders"] == [{"member_id": "m2", "from": "2025-06-01"}]
    m1 = await database[TEAM_MEMBERS].find_one({"_id": membership_id("t1", "m1")})
    assert m1["spans"] == [{"from": "2025-06-01", "until": "2025-08-01"}, {"from": "2025-09-01", "until": None}]
    m2 = await database[TEAM_MEMBERS].find_one({"_id": membership_id("t1", "m2")})
    assert m2["spans"] == [{"from": "2025-06-01", "until": "2025-10-01"}]
    assert await move_team_rosters(database) == 0  # done once

    # The moved team through the real unit of work: m1 leaves (a versioned write of m1's spans only).
    store = MongoStore(client, database)
    await store.setup(["commands"])
    uow = store.unit()
    team, spans = await Repository(uow, TEAM).get("t1"), Repository(uow, TEAM_MEMBER)
    spans.add(teams.leave(team, await spans.get(membership_id("t1", "m1")), "m1", "2025-11-01"))
    uow.commit_message()
    await store.commit(uow, "commands", ["x1"])
    m1 = await database[TEAM_MEMBERS].find_one({"_id": membership_id("t1", "m1")})
    assert m1["spans"][-1] == {"from": "2025-09-01", "until": "2025-11-01"} and m1["_v"] == 2
