"""Who a Kafka client is, in one place: every producer, consumer, admin client and FastStream
broker of the repository takes its connection settings from `client_kwargs` (services, from
their Settings) or `tool_kwargs` (the simulator, tests, benchmarks, chaos).

A principal's credentials are a Kafka client properties file (`<secrets>/<principal>.properties`,
written by `python -m shared.infra.kafka_acls secrets`; in production a mounted secret):

    bootstrap.servers=127.0.0.1:9092
    security.protocol=SASL_PLAINTEXT
    sasl.mechanism=SCRAM-SHA-512
    sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="…" password="…";
    # a district system's file also carries its registered source and its signing key:
    sunsetred.source=community-registry
    sunsetred.signing.key=<hex>

Kafka does not tell a consumer who produced a record, so a command's `source` is proven by two
headers: `x-source-signer` (the sender's registered source) and `x-source-signature` = hex
HMAC-SHA256(key, id + "\\n" + source + "\\n" + sha256 hex of the record value), with the key
registered for that source (`SourceKeys`, the file `sources.json` beside the credentials). A
service answers a command on its commands topic whose sender is unknown, unsigned, wrongly signed
or not the envelope's `source` with `CommandRejected` `not_allowed` (shared/messaging/pipeline.py).
The HTTP ingress (POST /api/v1/commands) signs what it publishes with the service's own key and
names itself as the signer and as the envelope's source: the caller was authenticated by its token,
not by a key.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SIGNATURE_HEADER = "x-source-signature"
SIGNER_HEADER = "x-source-signer"
ROOT = Path(__file__).resolve().parents[1]
_JAAS = re.compile(r'username="(?P<u>[^"]*)"\s+password="(?P<p>[^"]*)"')


@dataclass(frozen=True)
class Credentials:
    principal: str
    password: str
    security_protocol: str = "SASL_PLAINTEXT"
    mechanism: str = "SCRAM-SHA-512"
    bootstrap: str | None = None
    source: str | None = None  # a district system's registered source
    signing_key: bytes | None = None

    def kwargs(self) -> dict[str, Any]:
        return {"security_protocol": self.security_protocol, "sasl_mechanism": self.mechanism,
                "sasl_plain_username": self.principal, "sasl_plain_password": self.password}

    def properties(self) -> str:
        lines = [f"bootstrap.servers={self.bootstrap or ''}", f"security.protocol={self.security_protocol}",
                 f"sasl.mechanism={self.mechanism}",
                 "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
                 f'username="{self.principal}" password="{self.password}";']
        if self.source:
            lines.append(f"sunsetred.source={self.source}")
        if self.signing_key:
            lines.append(f"sunsetred.signing.key={self.signing_key.hex()}")
        return "\n".join(lines) + "\n"


def read_properties(path: str | Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def load_credentials(path: str | Path) -> Credentials:
    p = read_properties(path)
    m = _JAAS.search(p.get("sasl.jaas.config", ""))
    if not m:
        raise ValueError(f"{path}: no username and password in sasl.jaas.config")
    key = p.get("sunsetred.signing.key")
    return Credentials(principal=m["u"], password=m["p"], security_protocol=p.get("security.protocol", "SASL_PLAINTEXT"),
                       mechanism=p.get("sasl.mechanism", "SCRAM-SHA-512"), bootstrap=p.get("bootstrap.servers") or None,
                       source=p.get("sunsetred.source"), signing_key=bytes.fromhex(key) if key else None)


def credentials_for(settings, principal: str | None) -> Credentials | None:
    """A process's credentials from its settings, in this order: KAFKA_SASL_USERNAME and
    KAFKA_SASL_PASSWORD; the file KAFKA_CREDENTIALS; `<KAFKA_SECRETS_DIR>/<principal>.properties`.
    None: the broker takes clients without authentication (PLAINTEXT, development only)."""
    if settings.kafka_sasl_username:
        return Credentials(settings.kafka_sasl_username, settings.kafka_sasl_password or "",
                           settings.kafka_security_protocol, settings.kafka_sasl_mechanism)
    if settings.kafka_credentials:
        return load_credentials(settings.kafka_credentials)
    if settings.kafka_secrets_dir and principal:
        path = Path(settings.kafka_secrets_dir) / f"{principal}.properties"
        if not path.is_file():
            raise FileNotFoundError(f"no Kafka credentials for {principal}: {path} is missing")
        return load_credentials(path)
    return None


def client_kwargs(settings, principal: str | None) -> dict[str, Any]:
    """aiokafka / FastStream keyword arguments of a process: `{}` on a PLAINTEXT broker."""
    c = credentials_for(settings, principal)
    return c.kwargs() if c else {}


def faststream_security(settings, principal: str | None):
    """The same credentials as FastStream's `security=` argument of a KafkaBroker (None: PLAINTEXT)."""
    c = credentials_for(settings, principal)
    if c is None:
        return None
    from faststream.security import SASLScram256, SASLScram512

    kind = SASLScram512 if c.mechanism == "SCRAM-SHA-512" else SASLScram256
    return kind(c.principal, c.password, use_ssl=c.security_protocol == "SASL_SSL")


# ---- tools: the simulator, the tests, benchmarks, chaos ------------------------------------------

_KNOWN: dict[str, Path] = {}


def remember_secrets(bootstrap: str, directory: str | Path) -> None:
    """Where the credentials of a stack this process started live (chaos: a stack of its own)."""
    _KNOWN[bootstrap] = Path(directory)


def secrets_dir_for(bootstrap: str) -> Path | None:
    """The credentials folder of the stack at `bootstrap`: one this process was told of
    (`remember_secrets`), KAFKA_SECRETS_DIR, else the one the local stack wrote
    (`$SUNSET_DATA_DIR/secrets/kafka`, default .data/) if it was written for that address.
    None: that broker takes clients without authentication."""
    if bootstrap in _KNOWN:
        return _KNOWN[bootstrap]
    if os.environ.get("KAFKA_SECRETS_DIR"):
        return Path(os.environ["KAFKA_SECRETS_DIR"])
    data = Path(os.environ.get("SUNSET_DATA_DIR") or ROOT / ".data")
    d = data / "secrets" / "kafka"
    admin = d / "admin.properties"
    if admin.is_file() and read_properties(admin).get("bootstrap.servers") == bootstrap:
        return d
    return None


def tool_credentials(bootstrap: str, principal: str) -> Credentials | None:
    d = secrets_dir_for(bootstrap)
    if d is None:
        return None
    path = d / f"{principal}.properties"
    if not path.is_file():
        raise FileNotFoundError(f"no Kafka credentials for {principal}: {path} is missing")
    return load_credentials(path)


def tool_security(bootstrap: str, principal: str):
    """FastStream's `security=` for a tool's KafkaBroker (None: PLAINTEXT)."""
    c = tool_credentials(bootstrap, principal)
    if c is None:
        return None
    from faststream.security import SASLScram512

    return SASLScram512(c.principal, c.password, use_ssl=c.security_protocol == "SASL_SSL")


def tool_kwargs(bootstrap: str, principal: str) -> dict[str, Any]:
    """`bootstrap_servers` and the credentials of `principal` for a tool's aiokafka client."""
    c = tool_credentials(bootstrap, principal)
    return {"bootstrap_servers": bootstrap, **(c.kwargs() if c else {})}


# ---- the source of a command ------------------------------------------------------------------------

def signature(key: bytes, message_id: str, source: str, value: bytes) -> str:
    digest = hashlib.sha256(value).hexdigest()
    return hmac.new(key, f"{message_id}\n{source}\n{digest}".encode(), hashlib.sha256).hexdigest()


def _message_id(value: bytes | None) -> str | None:
    try:
        obj = json.loads(value) if value else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return obj["id"] if isinstance(obj, dict) and isinstance(obj.get("id"), str) else None


def sign_headers(key: bytes, signer: str, value: bytes | None) -> list[tuple[str, bytes]]:
    """The headers that prove who sent a record: `x-source-signer` (the sender's registered source)
    and `x-source-signature` over the envelope's id, that source and the value. A record without
    an id gets none: it is not an envelope and is dead-lettered whatever it carries."""
    message_id = _message_id(value)
    if message_id is None:
        return []
    return [(SIGNER_HEADER, signer.encode()),
            (SIGNATURE_HEADER, signature(key, message_id, signer, value or b"").encode())]


class SourceKeys:
    """The registry source → signing key a service checks commands against (`sources.json`)."""

    def __init__(self, keys: dict[str, bytes]):
        self._keys = dict(keys)

    @classmethod
    def load(cls, path: str | Path) -> "SourceKeys":
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls({s: bytes.fromhex(k) for s, k in raw.items()})

    def key(self, source: str) -> bytes | None:
        return self._keys.get(source)

    def refusal(self, message_id: str, source, value: bytes, headers, gateway: str) -> str | None:
        """None when the record proves its sender and the sender may use the envelope's `source`;
        otherwise why not (in Chinese, for the answer). The sender is `x-source-signer` (the
        envelope's source when the header is absent); it must be that source, or `gateway`, the
        consuming service itself (its HTTP ingress: since issue 12 it also names itself as the
        source, but records it published before still carry the caller's). An envelope whose
        source is not even a text is answered `invalid` afterwards, once its sender is proven."""
        h = dict(headers)
        raw = h.get(SIGNER_HEADER)
        signer = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else source
        if not isinstance(signer, str):
            return "命令没有可确认的来源"
        key = self._keys.get(signer)
        if key is None:
            return f"来源 {signer} 未登记，不能发送命令"
        given = h.get(SIGNATURE_HEADER)
        if not given:
            return f"命令没有来源签名（{SIGNATURE_HEADER}），无法确认来自 {signer}"
        expected = signature(key, message_id, signer, value).encode()
        if not hmac.compare_digest(expected, given if isinstance(given, bytes) else str(given).encode()):
            return f"来源签名不符：命令不是 {signer} 发出的"
        if isinstance(source, str) and source != signer and signer != gateway:
            return f"{signer} 不能以来源 {source} 的名义发送命令"
        return None


def source_keys_for(settings) -> SourceKeys | None:
    """The registry a service checks commands against: KAFKA_SOURCE_KEYS, else `sources.json` in
    KAFKA_SECRETS_DIR. None (no check) is allowed only on a PLAINTEXT broker (development)."""
    path = settings.kafka_source_keys or (
        str(Path(settings.kafka_secrets_dir) / "sources.json") if settings.kafka_secrets_dir else None)
    if path:
        return SourceKeys.load(path)
    if credentials_for(settings, None) is not None or settings.kafka_secrets_dir or \
            settings.kafka_security_protocol != "PLAINTEXT":
        raise RuntimeError("Kafka is secured but no source registry is set (KAFKA_SOURCE_KEYS): "
                           "commands could not be checked")
    return None


# ---- tools that play the district's systems ------------------------------------------------------

class Senders:
    """Producers of a tool that plays the district's systems (the simulator, tests, benchmarks,
    chaos). Each record goes out as the principal it belongs to, signed when it is a command:

    - on a commands topic, the district system its envelope's `source` names, when the stack has
      credentials for it, else `fallback` (whose signature then does not match a foreign source:
      the command is answered `not_allowed`, as it would be in production);
    - on a service's events topic (tests play a service), that service;
    - anything else (a benchmark's own topics), `admin`.

    `send` has the signature of `AIOKafkaProducer.send` (topic with the deployment's prefix) and
    returns its future; `as_` names the principal outright; `headers`, when given, are sent as
    they are, unsigned unless the caller signed them. On a broker without authentication
    (development) a single producer sends everything, unsigned."""

    def __init__(self, bootstrap: str, prefix: str = "", fallback: str = "test-registry", **producer_kwargs):
        self.bootstrap, self.prefix, self.fallback = bootstrap, prefix, fallback
        self.kwargs = producer_kwargs
        self.secrets = secrets_dir_for(bootstrap)
        self._producers: dict[str | None, Any] = {}
        self._creds: dict[str, Credentials | None] = {}
        # (topic, key): (principal, its last record's acknowledgement, and, while that record waits
        # in a task, a future set once it is handed to the producer)
        self._last: dict[tuple[str, bytes], tuple[str | None, Any, Any]] = {}

    def _credentials(self, principal: str) -> Credentials | None:
        if principal not in self._creds:
            path = self.secrets / f"{principal}.properties" if self.secrets else None
            try:
                found = path is not None and path.is_file()
            except (OSError, ValueError):  # a name no file can have: too long, or with a NUL byte
                found = False
            self._creds[principal] = load_credentials(path) if found else None
        return self._creds[principal]

    def principal_for(self, topic: str, value: bytes | None) -> str | None:
        if self.secrets is None:
            return None
        from shared.topics import COMMAND_TOPICS, EVENTS_OF

        base = topic[len(self.prefix):] if self.prefix and topic.startswith(self.prefix) else topic
        if base in COMMAND_TOPICS:
            try:
                source = json.loads(value).get("source") if value else None
            except (ValueError, UnicodeDecodeError, RecursionError, AttributeError):
                source = None
            c = self._credentials(source) if isinstance(source, str) and "/" not in source else None
            return source if c is not None and c.source == source and not source.startswith("sunsetred-") \
                else self.fallback
        owner = next((s for s, t in EVENTS_OF.items() if t == base), None)
        return f"sunsetred-{owner}" if owner else "admin"

    async def producer(self, principal: str | None):
        if principal not in self._producers:
            from aiokafka import AIOKafkaProducer

            c = self._credentials(principal) if principal else None
            if principal and c is None:
                raise FileNotFoundError(f"no Kafka credentials for {principal} in {self.secrets}")
            p = AIOKafkaProducer(bootstrap_servers=self.bootstrap, **self.kwargs, **(c.kwargs() if c else {}))
            try:
                await p.start()
            except BaseException:
                await p.stop()
                raise
            self._producers[principal] = p
        return self._producers[principal]

    def headers_for(self, principal: str | None, topic: str, value: bytes | None) -> list[tuple[str, bytes]]:
        c = self._credentials(principal) if principal else None
        if c is None or not c.signing_key or not topic.endswith(".commands"):
            return []
        return sign_headers(c.signing_key, c.source or principal, value)

    async def send(self, topic: str, value: bytes | None = None, key: bytes | None = None, *,
                   headers: list[tuple[str, bytes]] | None = None, as_: str | None = None):
        principal = None if self.secrets is None else as_ if as_ is not None else self.principal_for(topic, value)
        producer = await self.producer(principal)
        if headers is None:  # given headers are sent as they are: the caller signs, or does not
            headers = self.headers_for(principal, topic, value)
        if key is None:
            return await producer.send(topic, value, key=None, headers=headers or None)
        # A key's records keep their order even when two systems send them (a notice, then its
        # acknowledgements). A record whose key another producer sent last is sent, in a task of
        # its own, once that record is acknowledged; the key's next records of the same producer
        # wait only until it is handed to that producer, which keeps their order. Other keys go
        # on meanwhile: a switch of producer costs its key one round trip, not the whole stream.
        k = (topic, key)
        last = self._last.get(k)
        before = None
        if last is not None:
            sender, acked, handed = last
            if sender != principal and not acked.done():
                before = acked
            elif sender == principal and handed is not None and not handed.done():
                before = handed
        if before is None:
            future = await producer.send(topic, value, key=key, headers=headers or None)
            self._last[k] = (principal, future, None)
        else:
            handed = asyncio.get_running_loop().create_future()
            future = asyncio.ensure_future(self._send_after(before, handed, producer, topic, value, key, headers))
            self._last[k] = (principal, future, handed)
        if len(self._last) > 100_000:
            self._last = {k: v for k, v in self._last.items() if not v[1].done()}
        return future

    @staticmethod
    async def _send_after(before, handed, producer, topic: str, value, key: bytes, headers):
        await asyncio.wait([before])  # its outcome is its own sender's to see
        try:
            acked = await producer.send(topic, value, key=key, headers=headers or None)
        finally:
            if not handed.done():
                handed.set_result(None)
        return await acked

    async def send_and_wait(self, topic: str, value: bytes | None = None, key: bytes | None = None, **kw):
        return await (await self.send(topic, value, key, **kw))

    async def stop(self) -> None:
        producers, self._producers = list(self._producers.values()), {}
        for p in producers:
            await p.stop()
