"""Commands posted over HTTP are scoped (issue 12): the rule, the start-up check, and the route."""
import json
from types import SimpleNamespace

import httpx
import pytest

from services.members.adapters.documents import MEMBERS, ORGS
from services.members.entrypoints.app import create_app as members_app
from shared.auth.claims import Caller
from shared.auth.command_scope import Place, check_scopes, outside, unknown
from tests.support import auth
from tests.support.memory_db import MemoryDb
from tests.support.messages import envelope

pytestmark = pytest.mark.unit
BRANCH = Place("organisation", "b1", ("d", "s1", "c1", "b1"))
MEMBER = Place("member", "m1", ("d", "s1", "c1", "b1"), "m1", "sp1")


@pytest.mark.parametrize("caller, place, allowed", [
    (Caller("x", "district"), unknown("organisation", "new"), True),  # the district writes anywhere
    (Caller("x", "community", ("c1",)), BRANCH, True),
    (Caller("x", "community", ("c2",)), BRANCH, False),
    (Caller("x", "secretary", ("b1",)), MEMBER, True),
    (Caller("x", "subdistrict", ("s1",)), unknown("organisation", "s1"), False),  # not known yet: 404 below the district
    (Caller("x", "specialist", specialist_id="sp1"), MEMBER, True),  # their own member
    (Caller("x", "specialist", specialist_id="sp2"), MEMBER, False),
    (Caller("x", "specialist", specialist_id="sp1"), BRANCH, False),  # no organisation is a specialist's
    (Caller("x", "member", member_id="m1"), MEMBER, True),
    (Caller("x", "member", member_id="m2"), MEMBER, False),
])
def test_a_caller_writes_only_within_their_scope(caller, place, allowed):
    assert (outside(caller, [place]) is None) == allowed


def test_every_place_must_be_in_scope_and_the_first_outside_is_named():
    other = Place("organisation", "b2", ("d", "s2", "c2", "b2"))
    assert outside(Caller("x", "community", ("c1",)), [BRANCH, other]) == other


def test_an_app_whose_topic_has_a_command_without_a_scope_is_not_built():
    from services.members.entrypoints.command_scope import COMMAND_SCOPES

    with pytest.raises(RuntimeError, match="RecordEvaluation: no command scope declared"):
        check_scopes({k: v for k, v in COMMAND_SCOPES.items() if k != "RecordEvaluation"}, "members.commands")
    with pytest.raises(RuntimeError, match="SendNotice: in the command scope table but not a command of"):
        check_scopes({**COMMAND_SCOPES, "SendNotice": COMMAND_SCOPES["RecordEvaluation"]}, "members.commands")
    check_scopes({}, None)  # reporting takes none


# ---- the route, with the database and the publisher in memory ---------------------------------

class _Publisher:
    def __init__(self):
        self.sent = []

    async def send_all(self, records) -> None:
        self.sent.extend(records)


@pytest.fixture
async def members_http():
    from shared.auth.http import verifier_for
    from shared.settings import Settings

    app = members_app()
    app.state.verifier = verifier_for(Settings(auth_jwks=auth.jwks_file()))
    db = MemoryDb({ORGS: [{"_id": "b1", "ancestors": ["d", "s1", "c1"]}, {"_id": "b2", "ancestors": ["d", "s2", "c2"]}],
                   MEMBERS: [{"_id": "m1", "org_path": ["d", "s1", "c1", "b1"]},
                             {"_id": "m2", "org_path": ["d", "s2", "c2", "b2"]}]})
    app.state.runtime = SimpleNamespace(started=True, db=db, publisher=_Publisher(), sources=None, service="members",
                                        settings=SimpleNamespace(topic_prefix=""))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield http, app.state.runtime.publisher


def _evaluation(member_id: str) -> dict:
    return envelope("RecordEvaluation", {"member_id": member_id, "year": 2025, "result": "qualified"},
                    source="community-registry")


async def test_a_command_outside_the_callers_subtree_is_404_and_not_published(members_http):
    http, publisher = members_http
    community = auth.headers("community", org_ids=["c1"])
    r = await http.post("/api/v1/commands", json=_evaluation("m2"), headers=community)
    assert (r.status_code, r.json()) == (404, {"detail": "未找到党员：m2"})
    r = await http.post("/api/v1/commands", json=_evaluation("m-unknown"), headers=community)
    assert r.status_code == 404
    assert publisher.sent == []
    assert (await http.post("/api/v1/commands", json=_evaluation("m1"), headers=community)).status_code == 202
    assert (await http.post("/api/v1/commands", json=_evaluation("m-unknown"), headers=auth.headers())).status_code == 202
    assert len(publisher.sent) == 2


async def test_a_command_over_http_names_this_service_as_its_source_and_the_person_as_its_actor(members_http):
    http, publisher = members_http
    r = await http.post("/api/v1/commands", json=_evaluation("m1"), headers=auth.headers("secretary", org_ids=["b1"],
                                                                                        sub="wang"))
    assert r.status_code == 202
    [record] = publisher.sent
    sent = json.loads(record.value)
    assert (sent["source"], sent["actor"]) == ("sunsetred-members", "wang")  # not the body's community-registry
