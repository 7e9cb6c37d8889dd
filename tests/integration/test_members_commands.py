"""The members slice on real Kafka and MongoDB: events, rejections, idempotence, DLQ."""
import json

import pytest

from tests.support import auth
from tests.support.messages import caused_by, envelope, eventually
from tests.support.scenario import register, tree, uid

pytestmark = pytest.mark.integration
EVENTS = "members.events"


async def _send_tree(bus, n=1):
    ids, cmds = tree(n)
    for cmd in cmds:  # a parent must exist before its child: wait for each
        await bus.send("members.commands", cmd)
        await bus.events(EVENTS, lambda es, c=cmd: bool(caused_by(es, c)))
    return ids


async def test_tree_and_registration_emit_events(platform, bus):
    ids = await _send_tree(bus)
    cmd = register(ids["branches"][0])
    await bus.send("members.commands", cmd)
    events = await bus.events(EVENTS, lambda es: bool(caused_by(es, cmd)))
    [ev] = caused_by(events, cmd)
    assert ev["type"] == "MemberRegistered"
    assert ev["data"]["ancestors"] == [ids["district"], ids["subdistrict"], ids["community"], ids["branches"][0]]
    assert ev["data"]["monthly_dues"] == "24.00"  # 0.5% of 4,800
    assert ev["correlation_id"] == cmd["id"]
    async with auth.client(platform["members"].url) as http:
        r = await http.get(f"/api/v1/members/{cmd['data']['member_id']}")
        assert r.status_code == 200 and r.json()["branch_id"] == ids["branches"][0]
        r = await http.get(f"/api/v1/orgs/{ids['community']}")
        assert [c["org_id"] for c in r.json()["children"]] == ids["branches"]


@pytest.mark.parametrize("case", ["unknown_parent", "wrong_nesting", "unknown_branch", "duplicate_member",
                                  "schema", "rule"])
async def test_rejections_carry_the_contract_reason(platform, bus, case):
    ids = await _send_tree(bus)
    branch = ids["branches"][0]
    if case == "unknown_parent":
        cmd, reason, field = envelope("EstablishOrganization", {"org_id": uid("b"), "name": "无",
                                      "kind": "branch", "parent_id": uid("nowhere")}), "unknown_reference", "data.parent_id"
    elif case == "wrong_nesting":
        cmd, reason, field = envelope("EstablishOrganization", {"org_id": uid("b"), "name": "错",
                                      "kind": "branch", "parent_id": ids["district"]}), "invalid", "data.parent_id"
    elif case == "unknown_branch":
        cmd, reason, field = register(uid("nobranch")), "unknown_reference", "data.branch_id"
    elif case == "duplicate_member":
        first = register(branch)
        await bus.send("members.commands", first)
        await bus.events(EVENTS, lambda es: bool(caused_by(es, first)))
        cmd, reason, field = register(branch, first["data"]["member_id"]), "duplicate", "data.member_id"
    elif case == "schema":
        cmd, reason, field = register(branch, monthly_pension=12.5), "invalid", "data.monthly_pension"
    else:
        cmd, reason, field = register(branch, joined_party_on="1940-01-01"), "invalid", "data.joined_party_on"
    await bus.send("members.commands", cmd)
    events = await bus.events(EVENTS, lambda es: bool(caused_by(es, cmd)))
    [ev] = caused_by(events, cmd)
    assert ev["type"] == "CommandRejected"
    assert ev["data"]["reason"] == reason and ev["data"]["command_id"] == cmd["id"]
    assert field in [e["field"] for e in ev["data"]["errors"]]


async def test_same_command_id_twice_gives_one_event(platform, bus):
    ids = await _send_tree(bus)
    cmd = register(ids["branches"][0])
    await bus.send("members.commands", cmd, cmd)
    marker = register(ids["branches"][0])  # sent after: once it is answered, both copies were consumed
    await bus.send("members.commands", marker)
    events = await bus.events(EVENTS, lambda es: bool(caused_by(es, marker)))
    assert [e["type"] for e in caused_by(events, cmd)] == ["MemberRegistered"]


async def test_garbage_goes_to_the_dlq_and_the_next_message_is_processed(platform, bus):
    ids = await _send_tree(bus)
    key = uid("k").encode()
    await bus.send_raw("members.commands", b"\xff not json {", key=key)
    await bus.send_raw("members.commands", json.dumps({"hello": "world"}).encode(), key=key)
    cmd = register(ids["branches"][0])
    await bus.send("members.commands", cmd)
    events = await bus.events(EVENTS, lambda es: bool(caused_by(es, cmd)))
    assert caused_by(events, cmd)[0]["type"] == "MemberRegistered"
    dead = await bus.read("members.commands.dlq", lambda rs: sum(r.key == key for r in rs) >= 2)
    mine = [r for r in dead if r.key == key]
    assert [r.value for r in mine] == [b"\xff not json {", b'{"hello": "world"}']  # unchanged
    headers = dict(mine[0].headers)
    assert headers["x-dlq-reason"] == b"not_envelope" and headers["x-original-topic"].endswith(b"members.commands")


async def test_http_commands_endpoint(platform, bus):
    ids = await _send_tree(bus)
    cmd = register(ids["branches"][0])
    async with auth.client(platform["members"].url) as http:
        ok = await http.post("/api/v1/commands", json=cmd)
        bad = await http.post("/api/v1/commands", json={**cmd, "data": {**cmd["data"], "birth_date": "1948-13-40"}})
        other = await http.post("/api/v1/commands", json=envelope("CancelActivity", {"activity_id": "a", "reason": "r"}))
        garbage = await http.post("/api/v1/commands", json=[1, 2])
        missing = await http.get("/api/v1/members/nobody")
        assert ok.status_code == 202 and ok.json()["id"] == cmd["id"]
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "data.birth_date"
        assert other.status_code == 422 and other.json()["errors"][0]["field"] == "type"
        assert garbage.status_code == 422
        assert missing.status_code == 404
        await eventually(lambda: _member_exists(http, cmd["data"]["member_id"]))


async def _member_exists(http, member_id):
    return (await http.get(f"/api/v1/members/{member_id}")).status_code == 200


async def test_operators_read_dead_letters_over_http_without_their_bodies(platform, bus, infra):
    """Issue 12: the operator sees what members dead-lettered — where, when, why, and an envelope's
    id — and nothing of the bodies; an official, without `ops:read`, sees nothing."""
    from datetime import datetime

    from shared.kafka_auth import secrets_dir_for
    from shared.messaging.dead_letters import recent
    from shared.settings import Settings

    phone, name = "13912345678", "王秀英"
    key, marker = uid("k").encode(), uid("dl")
    await bus.send_raw("members.commands", f"\xff not json {phone}".encode("latin-1"), key=key)
    await bus.send_raw("members.commands", json.dumps({"id": marker, "data": {"phone": phone, "name": name}},
                                                      ensure_ascii=False).encode(), key=key)
    async with auth.client(platform["members"].url, role="operator") as http:
        async def both():
            r = await http.get("/api/v1/dead-letters", params={"limit": 500})
            assert r.status_code == 200, r.text
            letters = r.json()["dead_letters"]
            at = [i for i, d in enumerate(letters) if d["envelope"]["id"] == marker]
            # Same key, same partition: the garbage is the letter just before the marker's, listed after it.
            return (r.text, letters[at[0]], letters[at[0] + 1]) if at and at[0] + 1 < len(letters) else None
        text, second, first = await eventually(both)
        assert phone not in text and name not in text and "data" not in second
        assert second["reason"] == "not_envelope" and second["error"].startswith("no usable envelope")
        assert second["envelope"]["type"] is None and second["consumer"] == "sunsetred-members"
        assert second["topic"] == bus.prefix + "members.commands.dlq" == first["topic"]
        assert second["original_topic"] == bus.prefix + "members.commands"
        assert (first["partition"], first["offset"] + 1) == (second["partition"], second["offset"])
        assert first["reason"] == "not_envelope" and first["error"].startswith("not JSON")
        assert first["envelope"] == dict.fromkeys(["id", "type", "schema_version", "source", "correlation_id"])
        assert datetime.fromisoformat(second["timestamp"]).utcoffset().total_seconds() == 0
        r = await http.get("/api/v1/dead-letters", params={"limit": 1})
        assert r.json()["count"] == 1 and r.json()["topics"] == sorted(
            bus.prefix + t + ".dlq" for t in ("members.commands", "activities.events"))
    async with auth.client(platform["members"].url, role="district") as http:
        r = await http.get("/api/v1/dead-letters")
        assert r.status_code == 403 and r.json()["detail"] == "区委组织部无权查看运行状态"
    # A dead-letter topic not there yet (a stack whose set-up made none) has no dead letters.
    secrets = secrets_dir_for(infra.kafka)
    settings = Settings(kafka_bootstrap_servers=infra.kafka, kafka_secrets_dir=str(secrets) if secrets else None)
    assert await recent(settings, "sunsetred-members", [bus.prefix + "nowhere.dlq"], 5) == []
