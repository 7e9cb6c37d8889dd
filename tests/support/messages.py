"""Building and publishing envelopes as a district system would, and reading topics back."""
import asyncio
import json
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

from aiokafka import AIOKafkaConsumer

from shared.contracts import lookup
from shared.infra.kafka_acls import OBSERVER, secure_prefix
from shared.kafka_auth import Senders, tool_kwargs


def envelope(type_: str, data: dict[str, Any], *, id: str | None = None, occurred_at: str | None = None,
             source: str = "test-registry", correlation_id: str | None = None) -> dict[str, Any]:
    return {"id": id or str(uuid.uuid4()), "type": type_, "schema_version": 1,
            "occurred_at": occurred_at or datetime.now(timezone.utc).isoformat(),
            "district": "x-district", "source": source, "correlation_id": correlation_id,
            "causation_id": None, "data": data}


def key_of(env: dict[str, Any]) -> bytes:
    cls = lookup(env["type"], env.get("schema_version", 1))
    return str(env["data"][cls.KEY]).encode()


class Bus:
    """The district's systems' view of Kafka, scoped to one test run's topic prefix. On a secured
    stack each record goes out as the principal it belongs to (`shared.kafka_auth.Senders`: the
    system its `source` names, signed; a service for its events topic), or as `as_`; topics are
    read as the observer. The prefix's ACLs and topics are set up at start."""

    def __init__(self, bootstrap: str, prefix: str):
        self.bootstrap, self.prefix = bootstrap, prefix
        self._senders = Senders(bootstrap, prefix, acks="all", enable_idempotence=True)

    async def start(self) -> None:
        if self._senders.secrets is not None:
            await secure_prefix(self.bootstrap, self._senders.secrets, self.prefix)

    async def stop(self) -> None:
        await self._senders.stop()

    async def send(self, topic: str, *envs: dict[str, Any], as_: str | None = None) -> None:
        for env in envs:
            await self._senders.send_and_wait(self.prefix + topic, json.dumps(env, ensure_ascii=False).encode(),
                                              key=key_of(env), as_=as_)

    async def send_raw(self, topic: str, value: bytes, key: bytes | None = None, *, as_: str | None = None,
                       headers: list[tuple[str, bytes]] | None = None) -> None:
        await self._senders.send_and_wait(self.prefix + topic, value, key=key, as_=as_, headers=headers)

    async def read(self, topic: str, until: Callable[[list], bool], timeout: float = 30.0) -> list:
        """Every record of a topic from the start, until `until(records)` holds (or time runs out)."""
        consumer = AIOKafkaConsumer(self.prefix + topic, **tool_kwargs(self.bootstrap, OBSERVER),
                                    auto_offset_reset="earliest", enable_auto_commit=False)
        await consumer.start()
        records: list = []
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=500)
                for recs in batch.values():
                    records.extend(recs)
                if until(records):
                    break
        finally:
            await consumer.stop()
        return records

    async def events(self, topic: str, until: Callable[[list[dict]], bool], timeout: float = 30.0) -> list[dict]:
        recs = await self.read(topic, lambda rs: until([json.loads(r.value) for r in rs]), timeout)
        return [json.loads(r.value) for r in recs]


def caused_by(events: list[dict], command: dict) -> list[dict]:
    return [e for e in events if e.get("causation_id") == command["id"]]


async def answered(bus: Bus, topic: str, cmd: dict, timeout: float = 60) -> dict:
    """Send a command on its commands `topic` and return the one event answering it, which must not
    be a CommandRejected."""
    await bus.send(topic, cmd)
    events = await bus.events(topic.replace("commands", "events"), lambda es: bool(caused_by(es, cmd)), timeout)
    [ev] = caused_by(events, cmd)
    assert ev["type"] != "CommandRejected", ev
    return ev


async def eventually(check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.3) -> Any:
    """Poll an async check until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")
