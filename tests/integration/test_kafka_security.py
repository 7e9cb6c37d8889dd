"""Kafka that knows who is talking (issue 12, step 4): the broker refuses clients without
credentials, the ACLs keep a district system off the events topics, and a command whose sender is
not proven by its signature is answered `not_allowed` — never dropped, never blocking.

The broker tests need the secured stack (`infra/local/stack.sh infra` secures it); on a broker
without authentication they are skipped and say so. The signature tests run on either: on a
PLAINTEXT broker the service gets a registry of its own (KAFKA_SOURCE_KEYS)."""
import json
import secrets
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError

from shared.kafka_auth import SIGNATURE_HEADER, SIGNER_HEADER, secrets_dir_for, sign_headers, tool_credentials
from tests.support import auth
from tests.support.messages import Bus, caused_by, envelope
from tests.support.scenario import tree, uid
from tests.support.services import ServiceProcess

pytestmark = pytest.mark.integration
EVENTS = "members.events"


def _secured(infra) -> bool:
    return secrets_dir_for(infra.kafka) is not None


async def _refused(**kwargs) -> BaseException:
    producer = AIOKafkaProducer(request_timeout_ms=5000, **kwargs)
    try:
        await producer.start()
        await producer.send_and_wait("members.commands", b"{}")
    except (KafkaError, OSError) as exc:
        return exc
    finally:
        await producer.stop()
    raise AssertionError("the broker took the record")


async def test_a_producer_without_credentials_is_refused(infra):
    if not _secured(infra):
        pytest.skip("this broker takes clients without authentication (not the secured local stack)")
    assert await _refused(bootstrap_servers=infra.kafka)  # PLAINTEXT on the SASL listener: no connection
    good = tool_credentials(infra.kafka, "test-registry")
    assert await _refused(bootstrap_servers=infra.kafka, security_protocol="SASL_PLAINTEXT",
                          sasl_mechanism="SCRAM-SHA-512", sasl_plain_username=good.principal,
                          sasl_plain_password=good.password + "x")


async def test_a_district_system_cannot_write_an_events_topic(infra, signed):
    if not _secured(infra):
        pytest.skip("this broker authorizes nothing (not the secured local stack)")
    _proc, bus, _key = signed
    forged = envelope("MemberRegistered", {"member_id": uid("m")}, source="test-registry")
    with pytest.raises(TopicAuthorizationFailedError):
        await bus.send("members.events", forged, as_="test-registry")
    # ... nor a commands topic it is not granted: dues collection writes members' commands only.
    with pytest.raises(TopicAuthorizationFailedError):
        await bus.send("notifications.commands", envelope("SendNotice", {"notice_id": uid("n")},
                                                          source="dues-collection"))


@pytest.fixture(scope="module")
async def signed(infra, run_id, tmp_path_factory):
    """members under a prefix of its own, and the key `test-registry` signs with."""
    prefix = f"t{run_id}src."
    d = secrets_dir_for(infra.kafka)
    if d is not None:
        key, extra = tool_credentials(infra.kafka, "test-registry").signing_key, None
    else:  # a PLAINTEXT broker: a registry of the test's own
        key = secrets.token_bytes(32)
        path = tmp_path_factory.mktemp("sources") / "sources.json"
        path.write_text(json.dumps({"test-registry": key.hex(), "sunsetred-members": secrets.token_hex(32)}))
        extra = {"KAFKA_SOURCE_KEYS": str(path)}
    proc = ServiceProcess("members", infra, prefix, extra).start()
    bus = Bus(infra.kafka, prefix)
    await bus.start()
    await proc.wait_ready()
    yield proc, bus, key
    await bus.stop()
    proc.stop()


async def _send(bus, env: dict, headers: list) -> None:
    value = json.dumps(env, ensure_ascii=False).encode()
    await bus.send_raw("members.commands", value, env["data"]["org_id"].encode(), as_="test-registry",
                       headers=headers)


def _head() -> dict:
    """A command of its own: a new district's EstablishOrganization."""
    return tree(1)[1][0]


async def _answer(bus, cmd: dict) -> dict:
    events = await bus.events(EVENTS, lambda es: bool(caused_by(es, cmd)))
    [ev] = caused_by(events, cmd)
    return ev


async def test_sources_proven_or_refused(signed):
    """A good signature is accepted; another system's source, no signature or a wrong one are
    answered not_allowed, and a later genuine command of the same id is still handled."""
    proc, bus, key = signed
    good = _head()
    value = lambda e: json.dumps(e, ensure_ascii=False).encode()  # noqa: E731

    foreign = {**_head(), "source": "community-registry"}  # signed by test-registry, claims another source
    unsigned = _head()
    tampered = _head()
    for env, headers in [
        (foreign, sign_headers(key, "test-registry", value(foreign))),
        (unsigned, []),
        (tampered, [(SIGNER_HEADER, b"test-registry"), (SIGNATURE_HEADER, b"0" * 64)]),
    ]:
        await _send(bus, env, headers)
    for env in (foreign, unsigned, tampered):
        ev = await _answer(bus, env)
        assert ev["type"] == "CommandRejected" and ev["data"]["reason"] == "not_allowed", ev
        assert ev["data"]["errors"][0]["field"] == "source"
    # The forged copy did not take the id: the genuine command of the same id is handled.
    await _send(bus, good, sign_headers(key, "test-registry", value(good)))
    assert (await _answer(bus, good))["type"] == "OrganizationEstablished"
    genuine_after_forgery = {**unsigned}
    await _send(bus, genuine_after_forgery, sign_headers(key, "test-registry", value(genuine_after_forgery)))
    events = await bus.events(EVENTS, lambda es: any(e["type"] == "OrganizationEstablished"
                                                     for e in caused_by(es, unsigned)))
    assert {e["type"] for e in caused_by(events, unsigned)} == {"CommandRejected", "OrganizationEstablished"}


async def test_http_commands_pass_the_check(signed):
    """POST /api/v1/commands publishes as the service itself (the token proved the caller)."""
    proc, bus, _key = signed
    cmd = {**_head(), "source": "some-portal"}  # a system without Kafka credentials, signed in by token
    async with auth.client(proc.url) as http:
        r = await http.post("/api/v1/commands", json=cmd)
    assert r.status_code == 202, r.text
    assert (await _answer(bus, cmd))["type"] == "OrganizationEstablished"


async def test_the_bus_signs_as_the_source(signed):
    """What every test sends through the bus is signed by the system its source names."""
    if signed[1]._senders.secrets is None:
        pytest.skip("on a broker without authentication the bus does not sign")
    proc, bus, _key = signed
    cmd = _head()
    await bus.send("members.commands", cmd)
    assert (await _answer(bus, cmd))["type"] == "OrganizationEstablished"
    other = {**_head(), "id": str(uuid.uuid4()), "source": "x-unregistered"}
    await bus.send("members.commands", other)
    ev = await _answer(bus, other)
    assert (ev["type"], ev["data"]["reason"]) == ("CommandRejected", "not_allowed")
