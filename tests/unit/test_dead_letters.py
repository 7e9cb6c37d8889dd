"""What an operator sees of a dead letter (shared/messaging/dead_letters.py) and who may ask
(GET /api/v1/dead-letters, shared/http/dead_letters.py), without a broker."""
import json
from types import SimpleNamespace

import httpx
import pytest

from shared.messaging import dead_letters
from shared.messaging.dead_letters import describe, dlq_topics
from tests.support import auth

PHONE, NAME = "13912345678", "王秀英"
HEADERS = [("content-type", b"application/json"), ("x-source-signer", b"community-registry"),
           ("x-dlq-reason", b"handler_failed"), ("x-dlq-error", b"KeyError: " + b"x" * 3000),
           ("x-dlq-consumer", b"sunsetred-members"), ("x-original-topic", b"t1.members.commands"),
           ("x-original-partition", b"2"), ("x-original-offset", b"41")]


def _envelope(**extra) -> bytes:
    return json.dumps({"id": "c-1", "type": "RegisterMember", "schema_version": 1, "source": "community-registry",
                       "correlation_id": "corr-1", "occurred_at": "2026-03-01T08:00:00+08:00",
                       "data": {"member_id": "m1", "name": NAME, "phone": PHONE}, **extra},
                      ensure_ascii=False).encode()


def test_an_envelope_shows_its_naming_fields_and_the_headers_never_its_data():
    d = describe("t1.members.commands.dlq", 2, 7, 1_764_700_000_123, HEADERS, _envelope())
    assert d == {
        "topic": "t1.members.commands.dlq", "partition": 2, "offset": 7,
        "timestamp": "2025-12-02T18:26:40.123000+00:00",
        "reason": "handler_failed", "error": ("KeyError: " + "x" * 3000)[:dead_letters.ERROR_CHARS],
        "consumer": "sunsetred-members", "original_topic": "t1.members.commands", "original_partition": 2,
        "original_offset": 41,
        "envelope": {"id": "c-1", "type": "RegisterMember", "schema_version": 1, "source": "community-registry",
                     "correlation_id": "corr-1"}}
    text = json.dumps(d, ensure_ascii=False)
    assert PHONE not in text and NAME not in text and "data" not in d and "occurred_at" not in text
    assert "x-source-signer" not in text  # the original record's own headers are not repeated


@pytest.mark.parametrize("value", [b"\xff not json {", b"", None, b"[1, 2]", b'"just text"',
                                   json.dumps({"phone": PHONE, "name": NAME}).encode()])
def test_a_body_that_is_no_envelope_gives_null_fields_and_nothing_of_itself(value):
    d = describe("t1.members.commands.dlq", 0, 0, None, [("x-dlq-reason", b"not_envelope")], value)
    assert d["envelope"] == dict.fromkeys(dead_letters.ENVELOPE_FIELDS)
    assert d["reason"] == "not_envelope" and d["timestamp"] is None and d["error"] is None
    assert d["original_partition"] is None and PHONE not in json.dumps(d)


def test_a_field_without_the_envelopes_shape_is_not_shown():
    """Whatever a sender put in an envelope's naming fields (a long text, an object, a number where a
    text belongs) is not repeated: only a short text, or an integer version."""
    value = _envelope(id={"phone": PHONE}, type="x" * 200, source=13912345678, schema_version="1",
                      correlation_id=True)
    assert describe("t", 0, 0, 0, [], value)["envelope"] == dict.fromkeys(dead_letters.ENVELOPE_FIELDS)


def test_the_dead_letter_topics_are_those_of_what_the_service_reads():
    assert dlq_topics("t1.", ["members.events", "activities.commands", "members.events"]) == [
        "t1.activities.commands.dlq", "t1.members.events.dlq"]


@pytest.fixture
async def members_http(monkeypatch):
    from services.members.entrypoints.app import create_app
    from shared.auth.http import verifier_for
    from shared.settings import Settings

    asked: list = []

    async def recent(settings, principal, topics, limit):  # the broker's side: integration tests
        asked.append((principal, topics, limit))
        return [describe(topics[0], 0, 3, 0, [("x-dlq-reason", b"not_envelope")], b"{}")]

    monkeypatch.setattr(dead_letters, "recent", recent)
    app = create_app()
    app.state.verifier = verifier_for(Settings(auth_jwks=auth.jwks_file()))
    app.state.runtime = SimpleNamespace(service="members", settings=Settings(topic_prefix="t1."), subscriptions=[
        SimpleNamespace(topics=["members.commands"]), SimpleNamespace(topics=["activities.events"])])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield http, asked


async def test_operators_read_the_services_dead_letters_and_officials_may_not(members_http):
    http, asked = members_http
    r = await http.get("/api/v1/dead-letters", headers=auth.headers("operator"))
    assert r.status_code == 200
    assert r.json()["topics"] == ["t1.activities.events.dlq", "t1.members.commands.dlq"]
    body = r.json()
    assert body["limit"] == 50 and body["count"] == 1 and body["dead_letters"][0]["reason"] == "not_envelope"
    assert asked == [("sunsetred-members", ["t1.activities.events.dlq", "t1.members.commands.dlq"], 50)]
    r = await http.get("/api/v1/dead-letters", headers=auth.headers("district"))
    assert r.status_code == 403 and r.json()["detail"] == "区委组织部无权查看运行状态"
    assert (await http.get("/api/v1/dead-letters")).status_code == 401
    for limit in (0, 501):
        r = await http.get("/api/v1/dead-letters", params={"limit": limit}, headers=auth.headers("operator"))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "limit"
    assert (await http.get("/api/v1/dead-letters", params={"limit": 500}, headers=auth.headers("operator"))
            ).status_code == 200
