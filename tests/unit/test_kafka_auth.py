"""Kafka's principals and the proof of a command's sender (shared/kafka_auth.py,
shared/infra/kafka_acls.py), without a broker."""
import json

import pytest

from shared.infra import kafka_acls
from shared.infra.kafka_acls import DESCRIBE, DISTRICT_SYSTEMS, GROUP, READ, TOPIC, WRITE, plan, write_secrets
from shared.kafka_auth import (
    SIGNATURE_HEADER, SIGNER_HEADER, SourceKeys, client_kwargs, load_credentials, sign_headers, signature,
    source_keys_for,
)
from shared.settings import Settings
from shared.topics import COMMAND_TOPICS, EVENT_TOPICS, dlq

KEY, OTHER = b"k" * 32, b"o" * 32
KEYS = SourceKeys({"community-registry": KEY, "dues-collection": OTHER, "sunsetred-members": b"m" * 32})


def _value(source="community-registry", id="c-1") -> bytes:
    return json.dumps({"id": id, "type": "RegisterMember", "source": source, "data": {}}).encode()


def test_the_signature_is_hmac_of_id_source_and_the_value_digest():
    import hashlib
    import hmac

    v = _value()
    want = hmac.new(KEY, f"c-1\ncommunity-registry\n{hashlib.sha256(v).hexdigest()}".encode(), hashlib.sha256)
    assert signature(KEY, "c-1", "community-registry", v) == want.hexdigest()
    assert sign_headers(KEY, "community-registry", v) == [(SIGNER_HEADER, b"community-registry"),
                                                          (SIGNATURE_HEADER, want.hexdigest().encode())]
    assert sign_headers(KEY, "community-registry", b"not json") == []  # dead-lettered anyway


@pytest.mark.parametrize("case, headers_of, source, refused", [
    ("good", lambda v: sign_headers(KEY, "community-registry", v), "community-registry", None),
    ("unsigned", lambda v: [], "community-registry", "没有来源签名"),
    ("another system's source", lambda v: sign_headers(OTHER, "dues-collection", v), "community-registry", "名义"),
    ("another system's key", lambda v: sign_headers(OTHER, "community-registry", v), "community-registry", "不符"),
    ("unknown signer", lambda v: sign_headers(KEY, "x-unknown", v), "x-unknown", "未登记"),
    ("the gateway, for its own topic", lambda v: sign_headers(b"m" * 32, "sunsetred-members", v), "some-portal", None),
])
def test_a_command_proves_its_sender(case, headers_of, source, refused):
    v = _value(source)
    reason = KEYS.refusal("c-1", source, v, headers_of(v), gateway="sunsetred-members")
    assert (reason is None) if refused is None else (refused in reason), (case, reason)


def test_a_signature_covers_the_bytes_and_the_id():
    v = _value()
    headers = sign_headers(KEY, "community-registry", v)
    assert "不符" in KEYS.refusal("c-1", "community-registry", v.replace(b"{}", b'{"x": 1}'), headers, "g")
    assert "不符" in KEYS.refusal("c-2", "community-registry", v, headers, "g")
    # Another service's signature is not a gateway's for this topic.
    assert "名义" in SourceKeys({"sunsetred-activities": b"a" * 32}).refusal(
        "c-1", "x", v, sign_headers(b"a" * 32, "sunsetred-activities", v), "sunsetred-members")


def test_credentials_files_and_the_registry(tmp_path):
    creds = write_secrets(tmp_path, "127.0.0.1:9092")
    again = write_secrets(tmp_path, "127.0.0.1:9092")  # idempotent: passwords and keys are kept
    assert {p: c.password for p, c in creds.items()} == {p: c.password for p, c in again.items()}
    c = load_credentials(tmp_path / "community-registry.properties")
    assert (c.principal, c.source, c.bootstrap) == ("community-registry", "community-registry", "127.0.0.1:9092")
    assert (tmp_path / "admin.properties").stat().st_mode & 0o077 == 0
    s = Settings(kafka_secrets_dir=str(tmp_path))
    assert client_kwargs(s, "sunsetred-members") == {
        "security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "sunsetred-members", "sasl_plain_password": creds["sunsetred-members"].password}
    registry = source_keys_for(s)
    assert registry.key("community-registry") == c.signing_key and registry.key("admin") is None
    assert client_kwargs(Settings(), "sunsetred-members") == {} and source_keys_for(Settings()) is None
    with pytest.raises(RuntimeError):  # secured without a registry: refuse to start
        source_keys_for(Settings(kafka_sasl_username="u", kafka_sasl_password="p",
                                 kafka_security_protocol="SASL_PLAINTEXT"))


def test_the_acls_grant_district_systems_commands_only():
    acls = plan("t1.")
    writes = {(a.principal, a.name) for a in acls if a.resource == TOPIC and a.operation == WRITE}
    for system, granted in DISTRICT_SYSTEMS.items():
        assert {n for p, n in writes if p == system} == {f"t1.{t}" for t in granted}
    for s, events in kafka_acls.OWN_EVENTS.items():  # a service writes its own events, none other's
        mine = {n for p, n in writes if p == f"sunsetred-{s}"}
        assert f"t1.{events}" in mine and not mine & {f"t1.{e}" for e in EVENT_TOPICS if e != events}
        assert {f"t1.{dlq(i)}" for i in kafka_acls.INPUTS[s]} <= mine
    assert all(a.name.startswith("t1.") for a in acls)
    assert all(a.pattern == kafka_acls.PREFIXED for a in acls if a.resource == GROUP)
    assert set(COMMAND_TOPICS) == {t for g in DISTRICT_SYSTEMS.values() for t in g}


def test_a_service_reads_its_own_dead_letters_and_no_others():
    """GET /api/v1/dead-letters reads the `.dlq` of the service's inputs as the service: READ and
    DESCRIBE on exactly those, so no service reads another's (nor the observer's view of all)."""
    acls = plan("t1.")
    for s, inputs in kafka_acls.INPUTS.items():
        for op in (READ, DESCRIBE):
            mine = {a.name for a in acls if a.principal == f"sunsetred-{s}" and a.resource == TOPIC
                    and a.operation == op and a.name.endswith(".dlq")}
            assert mine == {f"t1.{dlq(i)}" for i in inputs}, (s, op)


def test_the_acls_follow_what_the_services_read():
    """The ACL table's inputs are exactly the topics each service's bootstrap subscribes to (a
    pipeline added to a service without its ACL stops the service at start-up on a secured broker)."""
    from services.activities.bootstrap import bootstrap as activities
    from services.members.bootstrap import bootstrap as members
    from services.notifications.bootstrap import bootstrap as notifications
    from services.reporting.bootstrap import bootstrap as reporting
    from shared.settings import Settings

    for name, boot in (("members", members), ("activities", activities), ("notifications", notifications),
                       ("reporting", reporting)):
        # reporting's version pointer is read from MongoDB unless named: a unit test names it.
        runtime = boot(Settings(), **({"version": 0} if name == "reporting" else {}))
        subscribed = {t for sub in runtime.subscriptions for t in sub.topics}
        assert subscribed == set(kafka_acls.INPUTS[name]), name


class _FakeProducer:
    """Records what it is handed, in order, in a log shared by every producer; acknowledges a
    record only when the test says so."""

    def __init__(self, name: str, log: list):
        self.name, self.log, self.acks = name, log, []

    async def send(self, topic, value, key=None, headers=None):
        import asyncio

        self.log.append((self.name, key, value))
        ack = asyncio.get_running_loop().create_future()
        self.acks.append(ack)
        return ack

    def ack_all(self):
        for a in self.acks:
            if not a.done():
                a.set_result(None)


def test_a_keys_records_keep_their_order_across_senders_without_holding_up_other_keys(tmp_path):
    import asyncio

    from shared.kafka_auth import Senders

    async def scenario():
        log: list = []
        senders = Senders("127.0.0.1:1", "")
        senders.secrets = tmp_path  # as a secured stack: one producer per principal
        fakes = {p: _FakeProducer(p, log) for p in ("a", "b")}

        async def producer(principal):
            return fakes[principal]
        senders.producer = producer
        senders.headers_for = lambda *_: []
        t = "x.commands"
        sent = [await senders.send(t, b"1", key=b"k", as_="a"),
                await senders.send(t, b"2", key=b"k", as_="b"),   # waits for 1's acknowledgement
                await senders.send(t, b"3", key=b"k", as_="b"),   # behind 2, same producer
                await senders.send(t, b"9", key=b"other", as_="b")]  # another key: not held up
        await asyncio.sleep(0)
        assert [v for _, _, v in log] == [b"1", b"9"]
        fakes["a"].ack_all()
        for _ in range(5):
            await asyncio.sleep(0)
        assert [v for _, _, v in log] == [b"1", b"9", b"2", b"3"]
        fakes["b"].ack_all()
        await asyncio.gather(*sent)

    asyncio.run(scenario())


def test_a_command_whose_source_no_file_can_be_named_goes_out_as_the_fallback(tmp_path):
    """Finding 34: the fuzz's `source` of 128 Chinese characters (384 bytes) made the publisher's
    look-up of its credentials fail (`File name too long`), so the command was never sent; a NUL
    byte likewise. Such a source has no credentials: the fallback sends it, and the platform
    answers it `not_allowed`."""
    import json

    from shared.kafka_auth import Senders

    senders = Senders("127.0.0.1:1", "", fallback="chaos-fuzz")
    senders.secrets = tmp_path
    for source in ("党" * 128, "a\x00b", "x" * 300):
        value = json.dumps({"source": source}).encode()
        assert senders.principal_for("members.commands", value) == "chaos-fuzz"
