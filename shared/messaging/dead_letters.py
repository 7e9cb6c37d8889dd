"""The most recent dead letters of a service, for operators: metadata only.

A dead letter (`Pipeline._dead_letter`) is the refused record unchanged, on `<topic>.dlq`, with
`x-dlq-*` and `x-original-*` headers saying why and where from. Its body is a member's data as the
sender wrote it (names, phones, pensions), so what leaves this module is the record's place and
time, those headers, and — when the body is a JSON envelope — only its header fields that name the
message (`ENVELOPE_FIELDS`), never `data`.

Read with a short-lived consumer of the service's own principal, without a group (nothing is
committed, nobody's offsets move): each partition from `limit` records before its end.
"""
import asyncio
import json
from datetime import datetime, timezone
from typing import Any

from aiokafka import AIOKafkaConsumer

from shared.kafka_auth import client_kwargs
from shared.messaging.kafka import known_partitions
from shared.topics import dlq

ENVELOPE_FIELDS = ("id", "type", "schema_version", "source", "correlation_id")
# Header → answer field, and how the value is read. Nothing else of the headers is shown: the
# original record's own headers are copied onto the dead letter too, and may be anything.
HEADERS = {"x-dlq-reason": ("reason", str), "x-dlq-error": ("error", str), "x-dlq-consumer": ("consumer", str),
           "x-original-topic": ("original_topic", str), "x-original-partition": ("original_partition", int),
           "x-original-offset": ("original_offset", int)}
ERROR_CHARS = 500  # an exception's text may quote what it failed on: the start says what went wrong
TEXT_CHARS = 128  # an envelope's id, type, source: longer is not one of ours, and is not shown
READ_TIMEOUT_S = 15.0


def describe(topic: str, partition: int, offset: int, timestamp_ms: int | None,
             headers: list[tuple[str, bytes]] | None, value: bytes | None) -> dict[str, Any]:
    """What an operator sees of one dead letter (pure: the body is read, and left behind)."""
    out: dict[str, Any] = {"topic": topic, "partition": partition, "offset": offset,
                           "timestamp": _iso(timestamp_ms)}
    given = dict(headers or ())
    for name, (field, kind) in HEADERS.items():
        out[field] = _header(given.get(name), kind)
    if out["error"] is not None:
        out["error"] = out["error"][:ERROR_CHARS]
    out["envelope"] = _envelope_fields(value)
    return out


def _iso(timestamp_ms: int | None) -> str | None:
    if timestamp_ms is None or timestamp_ms < 0:  # -1: the producer set none
        return None
    return datetime.fromtimestamp(timestamp_ms / 1000, timezone.utc).isoformat()


def _header(raw: bytes | None, kind: type) -> str | int | None:
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace")
    if kind is int:
        return int(text) if text.lstrip("-").isdigit() else None
    return text


def _envelope_fields(value: bytes | None) -> dict[str, Any]:
    """id, type, schema_version, source and correlation_id of a JSON object body, each only when it
    has the envelope's shape (a short text; an integer version), else null; nothing more."""
    try:
        obj = json.loads(value) if value else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        obj = None
    obj = obj if isinstance(obj, dict) else {}
    out: dict[str, Any] = {}
    for name in ENVELOPE_FIELDS:
        v = obj.get(name)
        if name == "schema_version":
            out[name] = v if isinstance(v, int) and not isinstance(v, bool) else None
        else:
            out[name] = v if isinstance(v, str) and 0 < len(v) <= TEXT_CHARS else None
    return out


def dlq_topics(prefix: str, inputs: list[str]) -> list[str]:
    """The dead-letter topics a service writes: one per topic it reads (`dlq(record.topic)`)."""
    return [dlq(f"{prefix}{t}") for t in sorted(set(inputs))]


async def recent(settings, principal: str, topics: list[str], limit: int) -> list[dict[str, Any]]:
    """The `limit` most recent dead letters of `topics`, newest first. A topic that does not exist
    yet (nothing was ever dead-lettered on a stack whose set-up made no `.dlq` topics) has none."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, group_id=None,
                                enable_auto_commit=False, client_id=f"{principal}-dead-letters",
                                request_timeout_ms=10_000, **client_kwargs(settings, principal))
    async with asyncio.timeout(READ_TIMEOUT_S):  # a broker that does not answer is a 503, not a hung request
        try:
            await consumer.start()
            return await _read(consumer, topics, limit)
        finally:  # a start that failed half-way leaves connections too
            await consumer.stop()


async def _read(consumer: AIOKafkaConsumer, topics: list[str], limit: int) -> list[dict[str, Any]]:
    tps = [tp for ps in (await known_partitions(consumer, topics)).values() for tp in ps]
    if not tps:
        return []
    consumer.assign(tps)
    starts, ends = await consumer.beginning_offsets(tps), await consumer.end_offsets(tps)
    for tp in tps:
        consumer.seek(tp, max(starts[tp], ends[tp] - limit))
    left = {tp for tp in tps if ends[tp] > starts[tp]}
    records = []
    while left:
        for tp, batch in (await consumer.getmany(*left, timeout_ms=500)).items():
            # What arrives after the end taken above is for the next call.
            records.extend(r for r in batch if r.offset < ends[tp])
        # The position, not the last record: it also passes transaction markers, which are no records.
        left = {tp for tp in left if await consumer.position(tp) < ends[tp]}
    records.sort(key=lambda r: (r.timestamp, r.topic, r.partition, r.offset), reverse=True)
    return [describe(r.topic, r.partition, r.offset, r.timestamp, r.headers, r.value) for r in records[:limit]]

