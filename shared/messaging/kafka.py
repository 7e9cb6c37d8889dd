"""FastStream wiring of the pipeline: one batch subscriber per pipeline, and the publisher.

The subscriber uses `AckPolicy.NACK_ON_ERROR`: a batch whose processing raises is sought back
and consumed again (after a pause, so a database outage does not spin); a batch that returns
is committed. The pipeline returns only once the batch's effects and events are durable.
"""
import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import (InvalidProducerEpoch, OutOfOrderSequenceNumber, ProducerClosed, ProducerFenced,
                             TransactionalIdAuthorizationFailed, UnknownProducerId)
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from shared.kafka_auth import client_kwargs, faststream_security
from shared.messaging.pipeline import Pipeline
from shared.messaging.records import Incoming, Outgoing
from shared.settings import Settings

log = logging.getLogger(__name__)


# Every producer of ours: wait for every in-sync replica, and number the batches (idempotence),
# so a retry after a lost acknowledgement is not written twice.
PRODUCER_OPTIONS = {"acks": "all", "enable_idempotence": True, "linger_ms": 5,
                    "max_request_size": 4 * 1024 * 1024}

# Errors after which aiokafka's idempotent producer is finished: its sender has stopped, and every
# later send raises the same error again (the broker lost or refused the producer's sequence, as
# after a broker restart). Only a new producer (a new producer id) can publish again.
FATAL_PRODUCER_ERRORS = (OutOfOrderSequenceNumber, ProducerFenced, InvalidProducerEpoch, UnknownProducerId,
                         ProducerClosed, TransactionalIdAuthorizationFailed)
STOP_TIMEOUT_S = 5.0


def make_broker(settings: Settings, service: str) -> KafkaBroker:
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"sunsetred-{service}",
        **PRODUCER_OPTIONS,
        log_level=logging.DEBUG,
        description=f"夕阳红 Sunset Red — {service} service",
        security=faststream_security(settings, f"sunsetred-{service}"),
    )


def make_producer(settings: Settings, service: str) -> Callable[[], AIOKafkaProducer]:
    return lambda: AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                    client_id=f"sunsetred-{service}", **PRODUCER_OPTIONS,
                                    **client_kwargs(settings, f"sunsetred-{service}"))


def producer_is_finished(producer: Any, exc: BaseException | None = None) -> bool:
    """True when this producer can never publish again: a fatal error, or its sender has stopped."""
    if isinstance(exc, FATAL_PRODUCER_ERRORS):
        return True
    sender = getattr(getattr(producer, "_sender", None), "sender_task", None)
    return bool(sender is not None and sender.done())


class KafkaPublisher:
    """Sends records keyed by their aggregate id and waits for the broker's acknowledgement.

    It owns its producer (the broker's own is left to FastStream), so that it can replace it: after
    a fatal producer error (finding 7 of docs/reliability.md: `OutOfOrderSequenceNumber` after a
    broker restart) the old producer is stopped and the next send starts a new one. The records of
    the failed send stay in the outbox and are sent again by the relay, oldest first, under their
    own ids (consumers drop a copy already published)."""

    def __init__(self, new_producer: Callable[[], Any]):
        self._new_producer = new_producer
        self._producer: Any = None
        self._lock = asyncio.Lock()
        self.replaced = 0  # producers started after the first one (a metric for tests and logs)

    async def start(self) -> None:
        await self._ready()

    async def stop(self) -> None:
        async with self._lock:
            producer, self._producer = self._producer, None
        await _stop_quietly(producer)

    async def _ready(self) -> Any:
        async with self._lock:
            if self._producer is None:
                producer = self._new_producer()
                try:
                    await producer.start()
                except BaseException:
                    await _stop_quietly(producer)
                    raise
                self._producer = producer
            return self._producer

    async def _discard(self, producer: Any, exc: BaseException | None) -> None:
        async with self._lock:
            if self._producer is not producer:
                return  # another send replaced it already
            self._producer = None
            self.replaced += 1
        log.warning("the Kafka producer can no longer publish; a new one will be started",
                    extra={"error_type": type(exc).__name__ if exc else None,
                           "error": str(exc)[:300] if exc else "its sender has stopped"})
        await _stop_quietly(producer)

    async def send_all(self, records: list[Outgoing]) -> None:
        if not records:
            return
        producer = await self._ready()
        if producer_is_finished(producer):
            await self._discard(producer, None)
            producer = await self._ready()
        try:
            futures = [await producer.send(r.topic, r.value, key=r.key,
                                           headers=[(k, v.encode()) for k, v in r.headers.items()])
                       for r in records]
            await asyncio.gather(*futures)
        except Exception as exc:
            if producer_is_finished(producer, exc):
                await self._discard(producer, exc)
            raise


async def _stop_quietly(producer: Any) -> None:
    if producer is None:
        return
    try:
        await asyncio.wait_for(producer.stop(), STOP_TIMEOUT_S)
    except Exception:
        log.debug("stopping a Kafka producer failed", exc_info=True)


async def _keep_raw(msg: Any) -> None:
    """Decode nothing: the pipeline reads the raw records, garbage included."""
    return None


async def known_partitions(consumer: AIOKafkaConsumer, topics: Sequence[str]) -> dict[str, list[TopicPartition]]:
    """The partitions of these topics, by topic, in order; a topic that does not exist is left out.
    aiokafka learns topics lazily: when one is missing, the broker is asked once more first."""
    def known() -> dict[str, list[TopicPartition]]:
        return {t: [TopicPartition(t, p) for p in sorted(ps)] for t in topics if (ps := consumer.partitions_for_topic(t))}

    parts = known()
    if len(parts) < len(topics):
        await consumer._client.force_metadata_update()
        parts = known()
    return parts


def consumer_group(service: str, pipeline: str) -> str:
    """The consumer group of a service's pipeline, before the deployment's topic prefix: its
    instances share it. Named here so that another service can ask of its commits (the causal
    fence, shared/messaging/causal_fence.py) without importing that service."""
    return f"sunsetred-{service}-{pipeline}"


def attach(broker: KafkaBroker, pipeline: Pipeline, topics: Sequence[str], settings: Settings,
           group_id: str, title: str = "") -> None:
    failures = 0
    names = [f"{settings.topic_prefix}{t}" for t in topics]

    @broker.subscriber(
        *names, group_id=f"{settings.topic_prefix}{group_id}", batch=True,
        max_records=settings.batch_max_records, batch_timeout_ms=settings.batch_timeout_ms,
        ack_policy=AckPolicy.NACK_ON_ERROR, auto_offset_reset="earliest", decoder=_keep_raw,
        # A busy batch on two shared cores must not cost the instance its partitions: the group
        # waits 45 s for a heartbeat (the pipeline also yields to the loop between messages).
        session_timeout_ms=45_000, heartbeat_interval_ms=3_000,
        title=title or None,
    )
    async def consume(msg: KafkaMessage) -> None:
        nonlocal failures
        raw = msg.raw_message if isinstance(msg.raw_message, tuple) else (msg.raw_message,)
        records = [Incoming(r.topic, r.partition, r.offset, r.key, r.value, tuple(r.headers or ()))
                   for r in raw]
        try:
            await pipeline.process(records)
            failures = 0
        except Exception:
            failures += 1
            log.exception("batch failed; it will be consumed again", extra={"failures": failures})
            await asyncio.sleep(min(0.5 * 2 ** failures, 30))
            raise
