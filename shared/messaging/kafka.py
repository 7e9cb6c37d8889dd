"""FastStream wiring of the pipeline: one batch subscriber per pipeline, and the publisher.

The subscriber uses `AckPolicy.NACK_ON_ERROR`: a batch whose processing raises is sought back
and consumed again (after a pause, so a database outage does not spin); a batch that returns
is committed. The pipeline returns only once the batch's effects and events are durable.
"""
import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from shared.kafka_auth import faststream_security
from shared.messaging.pipeline import Pipeline
from shared.messaging.records import Incoming, Outgoing
from shared.settings import Settings

log = logging.getLogger(__name__)


def make_broker(settings: Settings, service: str) -> KafkaBroker:
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"sunsetred-{service}",
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_request_size=4 * 1024 * 1024,
        log_level=logging.DEBUG,
        description=f"夕阳红 Sunset Red — {service} service",
        security=faststream_security(settings, f"sunsetred-{service}"),
    )


class KafkaPublisher:
    """Sends records keyed by their aggregate id and waits for the broker's acknowledgement."""

    def __init__(self, broker: KafkaBroker):
        self._broker = broker

    async def send_all(self, records: list[Outgoing]) -> None:
        futures = [
            await self._broker.publish(r.value, topic=r.topic, key=r.key, headers=r.headers, no_confirm=True)
            for r in records
        ]
        if futures:
            await asyncio.gather(*futures)


async def _keep_raw(msg: Any) -> None:
    """Decode nothing: the pipeline reads the raw records, garbage included."""
    return None


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
