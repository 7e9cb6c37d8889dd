"""Prometheus metrics of a service: what its pipelines did, how long batches took, the outbox
backlog and the consumer lag. `GET /metrics` (shared/http/health.py) renders them.

The metrics live in the process's default registry, created once on import. The pipeline calls
the small functions below; consumer lag is not pushed but pulled: a service registers one lag
source per consumer group (`register_lag_source`, or `register_broker_lag` for every subscriber
of a FastStream broker), and `refresh_lag()` asks them all when Prometheus scrapes.
"""
import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka.errors import IllegalOperation, KafkaError
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

log = logging.getLogger(__name__)

OUTCOMES = ("handled", "duplicate", "rejected", "dead_lettered", "parked")
RETRY_REASONS = ("conflict", "transient")
# 1 ms to 30 s: a batch of a few records on a quiet day, up to a large batch on a slow database.
BATCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)
LAG_TIMEOUT = 1.0  # seconds each lag source may take at a scrape
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

RECORDS = Counter("sunsetred_records", "Records a pipeline consumed, by what became of them",
                  ["service", "pipeline", "outcome"])
BATCH_SECONDS = Histogram("sunsetred_batch_seconds", "Time a pipeline took to process one batch",
                          ["service", "pipeline"], buckets=BATCH_BUCKETS)
BATCH_RETRIES = Counter("sunsetred_batch_retries", "Batches a pipeline ran again, by why",
                        ["service", "pipeline", "reason"])
OUTBOX_BACKLOG = Gauge("sunsetred_outbox_backlog", "Events written to the outbox and not yet published",
                       ["service"])
CONSUMER_LAG = Gauge("sunsetred_consumer_lag", "Records on a partition the consumer group has not committed yet",
                     ["service", "group", "topic", "partition"])

FENCE_WALK_SECONDS = Histogram("sunsetred_causal_fence_walk_seconds",
                               "Time from a causal fence walk's start until every hop had passed (or was given up)",
                               ["fence", "outcome"], buckets=BATCH_BUCKETS)

LagSource = Callable[[], Awaitable[dict[tuple[str, int], int]]]
_lag_sources: dict[tuple[str, str], LagSource] = {}
_lag_series: dict[tuple[str, str], set[tuple[str, int]]] = {}  # what each source last reported


# ---- what the pipeline calls ----------------------------------------------------------------

def count(service: str, pipeline: str, outcome: str, n: int = 1) -> None:
    """Add `n` records of one outcome: handled, duplicate, rejected, dead_lettered or parked."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; one of {OUTCOMES}")
    if n:
        RECORDS.labels(service, pipeline, outcome).inc(n)


def observe_batch(service: str, pipeline: str, seconds: float) -> None:
    BATCH_SECONDS.labels(service, pipeline).observe(seconds)


def retried(service: str, pipeline: str, reason: str) -> None:
    """One batch run again: `conflict` (a concurrent write) or `transient` (Kafka or MongoDB failed)."""
    if reason not in RETRY_REASONS:
        raise ValueError(f"unknown retry reason {reason!r}; one of {RETRY_REASONS}")
    BATCH_RETRIES.labels(service, pipeline, reason).inc()


def fence_walked(fence: str, outcome: str, seconds: float) -> None:
    """A causal fence walk ended (shared/messaging/causal_fence.py): `passed`, or `given_up`."""
    FENCE_WALK_SECONDS.labels(fence, outcome).observe(seconds)


def set_outbox_backlog(service: str, n: int) -> None:
    OUTBOX_BACKLOG.labels(service).set(n)


def resident_mb() -> float | None:
    """The process's resident memory now, in MB (None where /proc is not there): logged with each
    batch, so a rise in memory can be laid beside the batch that caused it."""
    try:
        with open("/proc/self/statm") as f:
            return round(int(f.read().split()[1]) * _PAGE / 2**20, 1)
    except (OSError, ValueError, IndexError):
        return None


def declare_pipeline(service: str, pipeline: str) -> None:
    """Create a pipeline's series at zero, so they exist (and `rate()` works) before anything happens."""
    for outcome in OUTCOMES:
        RECORDS.labels(service, pipeline, outcome)
    for reason in RETRY_REASONS:
        BATCH_RETRIES.labels(service, pipeline, reason)
    BATCH_SECONDS.labels(service, pipeline)


# ---- consumer lag -----------------------------------------------------------------------------

def register_lag_source(service: str, group: str, fn: LagSource) -> Callable[[], None]:
    """`fn()` answers {(topic, partition): lag} for the consumer group; asked at each scrape.

    Registering the same (service, group) again replaces the source. Returns a function that
    unregisters it (and removes its series).
    """
    key = (service, group)
    _lag_sources[key] = fn

    def unregister() -> None:
        if _lag_sources.get(key) is fn:
            del _lag_sources[key]
            _set_lag(key, {})

    return unregister


def _set_lag(key: tuple[str, str], lag: dict[tuple[str, int], int]) -> None:
    service, group = key
    for topic, partition in _lag_series.get(key, set()) - set(lag):
        try:
            CONSUMER_LAG.remove(service, group, topic, str(partition))
        except KeyError:
            pass
    for (topic, partition), n in lag.items():
        CONSUMER_LAG.labels(service, group, topic, str(partition)).set(n)
    if lag:
        _lag_series[key] = set(lag)
    else:
        _lag_series.pop(key, None)


async def _refresh_one(key: tuple[str, str], fn: LagSource, timeout: float) -> None:
    try:
        lag = await asyncio.wait_for(fn(), timeout)
    except Exception as exc:  # a scrape never fails because one consumer cannot answer
        log.warning("consumer lag unavailable", extra={"lag_service": key[0], "group": key[1],
                                                       "error": repr(exc)})
        lag = {}  # no figure rather than a stale one
    _set_lag(key, lag)


async def refresh_lag(timeout: float = LAG_TIMEOUT) -> None:
    """Ask every registered lag source, all at once, each for at most `timeout` seconds."""
    await asyncio.gather(*(_refresh_one(k, fn, timeout) for k, fn in list(_lag_sources.items())))


async def render() -> tuple[bytes, str]:
    """The body and content type of `GET /metrics`, lag refreshed first."""
    await refresh_lag()
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


async def kafka_lag(consumer: Any, *, step_timeout: float = 0.5) -> dict[tuple[str, int], int]:
    """{(topic, partition): lag} of the partitions assigned to an aiokafka `AIOKafkaConsumer`.

    Lag = the partition's end offset (the offset the next record produced will get) minus the
    group's committed offset, i.e. what `kafka-consumer-groups --describe` shows. The end offset
    is asked of the broker; if that fails it falls back to the highwater mark of the last fetch.
    Without a commit yet (or without a group) the consumer's position stands in for it. A
    partition revoked meanwhile is left out.
    """
    tps = sorted(consumer.assignment())
    if not tps:
        return {}
    try:
        ends = await asyncio.wait_for(consumer.end_offsets(tps), step_timeout)
    except (asyncio.TimeoutError, KafkaError):
        ends = {}
        for tp in tps:
            try:
                hw = consumer.highwater(tp)
            except AssertionError:  # no longer assigned
                continue
            if hw is not None:
                ends[tp] = hw

    async def base(tp) -> int | None:
        try:
            committed = await consumer.committed(tp)
        except IllegalOperation:  # no group: nothing is committed
            committed = None
        if committed is not None:
            return committed
        try:
            return await asyncio.wait_for(consumer.position(tp), step_timeout)
        except (asyncio.TimeoutError, KafkaError):
            return None

    known = [tp for tp in tps if tp in ends]
    bases = await asyncio.gather(*(base(tp) for tp in known))
    return {(tp.topic, tp.partition): max(0, ends[tp] - b) for tp, b in zip(known, bases) if b is not None}


def _consumers_of(subscriber: Any) -> list[Any]:
    """The running aiokafka consumers of one FastStream 0.7 Kafka subscriber."""
    subgroup = getattr(subscriber, "consumer_subgroup", None)  # ConcurrentBetweenPartitionsSubscriber
    if subgroup:
        return list(subgroup)
    consumer = getattr(subscriber, "consumer", None)
    return [consumer] if consumer is not None else []


def subscriber_consumers(broker: Any) -> list[tuple[str, Any]]:
    """(group id, AIOKafkaConsumer) of every subscriber of a started FastStream `KafkaBroker`
    that consumes in a group. Empty before `broker.start()` and after `broker.stop()`."""
    return [(sub.group_id, c) for sub in broker.subscribers if getattr(sub, "group_id", None)
            for c in _consumers_of(sub)]


def register_broker_lag(service: str, broker: Any) -> list[Callable[[], None]]:
    """Register the lag of every grouped subscriber of a FastStream `KafkaBroker`, one source per
    group id (as the subscriber names it, topic prefix included).

    May be called before or after `broker.start()`, once the subscribers are declared: each source
    looks up the subscribers' consumers when asked, so a restarted broker is followed. Returns the
    unregister functions.
    """
    groups: dict[str, list[Any]] = {}
    for sub in broker.subscribers:
        if getattr(sub, "group_id", None):
            groups.setdefault(sub.group_id, []).append(sub)

    def source(subs: list[Any]) -> LagSource:
        async def lag() -> dict[tuple[str, int], int]:
            out: dict[tuple[str, int], int] = {}
            for consumer in [c for sub in subs for c in _consumers_of(sub)]:
                out.update(await kafka_lag(consumer))  # a group's consumers hold disjoint partitions
            return out

        return lag

    return [register_lag_source(service, group, source(subs)) for group, subs in groups.items()]
