"""Prometheus metrics: the series the pipeline feeds, the lag read at scrape time, GET /metrics.

The metrics live in the process's registry, so each test uses a service name of its own.
"""
import asyncio
import uuid

import httpx
import pytest
from aiokafka.errors import IllegalOperation, KafkaTimeoutError
from aiokafka.structs import TopicPartition
from fastapi import FastAPI
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from shared import metrics
from shared.http.health import router

pytestmark = pytest.mark.unit


def svc() -> str:
    return f"svc-{uuid.uuid4().hex[:8]}"


def value(name: str, **labels) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(text) for s in f.samples}


@pytest.fixture(autouse=True)
def no_lag_sources():
    yield
    for key in list(metrics._lag_sources):
        metrics._lag_sources.pop(key)
        metrics._set_lag(key, {})


def test_counting_records_by_outcome():
    s = svc()
    metrics.count(s, "commands", "handled")
    metrics.count(s, "commands", "handled", 41)
    metrics.count(s, "commands", "dead_lettered", 2)
    metrics.count(s, "commands", "parked", 0)
    assert value("sunsetred_records_total", service=s, pipeline="commands", outcome="handled") == 42
    assert value("sunsetred_records_total", service=s, pipeline="commands", outcome="dead_lettered") == 2
    assert value("sunsetred_records_total", service=s, pipeline="commands", outcome="duplicate") is None
    with pytest.raises(ValueError):
        metrics.count(s, "commands", "lost")


def test_batches_retries_and_backlog():
    s = svc()
    metrics.observe_batch(s, "events", 0.004)
    metrics.observe_batch(s, "events", 12.0)
    metrics.retried(s, "events", "conflict")
    metrics.retried(s, "events", "transient")
    metrics.retried(s, "events", "transient")
    metrics.set_outbox_backlog(s, 17)
    metrics.set_outbox_backlog(s, 3)
    assert value("sunsetred_batch_seconds_count", service=s, pipeline="events") == 2
    assert value("sunsetred_batch_seconds_bucket", service=s, pipeline="events", le="0.005") == 1
    assert value("sunsetred_batch_seconds_bucket", service=s, pipeline="events", le="30.0") == 2
    assert value("sunsetred_batch_seconds_sum", service=s, pipeline="events") == pytest.approx(12.004)
    assert value("sunsetred_batch_retries_total", service=s, pipeline="events", reason="transient") == 2
    assert value("sunsetred_batch_retries_total", service=s, pipeline="events", reason="conflict") == 1
    assert value("sunsetred_outbox_backlog", service=s) == 3
    with pytest.raises(ValueError):
        metrics.retried(s, "events", "boredom")


def test_a_declared_pipeline_shows_zeros():
    s = svc()
    metrics.declare_pipeline(s, "commands")
    for outcome in metrics.OUTCOMES:
        assert value("sunsetred_records_total", service=s, pipeline="commands", outcome=outcome) == 0
    assert value("sunsetred_batch_retries_total", service=s, pipeline="commands", reason="conflict") == 0


async def test_the_rendered_text_holds_the_series():
    s = svc()
    metrics.count(s, "commands", "rejected", 5)
    metrics.observe_batch(s, "commands", 0.2)
    metrics.set_outbox_backlog(s, 9)
    body, content_type = await metrics.render()
    assert content_type.startswith("text/plain") and "version=" in content_type
    text = body.decode()
    assert "# TYPE sunsetred_records_total counter" in text
    assert "# TYPE sunsetred_batch_seconds histogram" in text
    assert "# TYPE sunsetred_outbox_backlog gauge" in text
    got = samples(text)
    assert got[("sunsetred_records_total", (("outcome", "rejected"), ("pipeline", "commands"), ("service", s)))] == 5
    assert got[("sunsetred_outbox_backlog", (("service", s),))] == 9


async def test_a_lag_source_feeds_the_gauge_at_each_refresh():
    s = svc()
    lag = {("members.commands", 0): 12, ("members.commands", 1): 0}

    async def source():
        return dict(lag)

    metrics.register_lag_source(s, "g1", source)
    await metrics.refresh_lag()
    assert value("sunsetred_consumer_lag", service=s, group="g1", topic="members.commands", partition="0") == 12
    assert value("sunsetred_consumer_lag", service=s, group="g1", topic="members.commands", partition="1") == 0

    lag.pop(("members.commands", 1))  # revoked: its series goes
    lag[("members.commands", 0)] = 3
    body, _ = await metrics.render()
    got = samples(body.decode())
    assert got[("sunsetred_consumer_lag", (("group", "g1"), ("partition", "0"), ("service", s),
                                           ("topic", "members.commands")))] == 3
    assert value("sunsetred_consumer_lag", service=s, group="g1", topic="members.commands", partition="1") is None


async def test_a_failing_or_slow_source_is_logged_not_raised_and_others_still_count(caplog):
    s = svc()

    async def good():
        return {("t", 0): 4}

    async def broken():
        raise KafkaTimeoutError()

    async def slow():
        await asyncio.sleep(10)
        return {("t", 1): 1}

    metrics.register_lag_source(s, "good", good)
    metrics.register_lag_source(s, "broken", broken)
    metrics.register_lag_source(s, "slow", slow)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await metrics.refresh_lag(timeout=0.05)
    assert loop.time() - started < 1
    assert value("sunsetred_consumer_lag", service=s, group="good", topic="t", partition="0") == 4
    assert value("sunsetred_consumer_lag", service=s, group="slow", topic="t", partition="1") is None
    assert sum("consumer lag unavailable" in r.getMessage() for r in caplog.records) == 2


async def test_unregistering_removes_the_series_and_registering_again_replaces():
    s = svc()

    async def one():
        return {("t", 0): 1}

    async def two():
        return {("t", 0): 2}

    metrics.register_lag_source(s, "g", one)
    unregister = metrics.register_lag_source(s, "g", two)
    await metrics.refresh_lag()
    assert value("sunsetred_consumer_lag", service=s, group="g", topic="t", partition="0") == 2
    unregister()
    await metrics.refresh_lag()
    assert value("sunsetred_consumer_lag", service=s, group="g", topic="t", partition="0") is None


class FakeConsumer:
    """What `kafka_lag` uses of aiokafka's AIOKafkaConsumer (0.14)."""

    def __init__(self, ends, committed, positions=None, highwater=None, group=True, ends_fail=False):
        self.ends, self._committed, self.positions = ends, committed, positions or {}
        self._highwater, self.group, self.ends_fail = highwater or {}, group, ends_fail

    def assignment(self):
        return set(self.ends) | set(self._highwater)

    async def end_offsets(self, partitions):
        if self.ends_fail:
            raise KafkaTimeoutError()
        return {tp: self.ends[tp] for tp in partitions}

    def highwater(self, tp):
        return self._highwater.get(tp)

    async def committed(self, tp):
        if not self.group:
            raise IllegalOperation("Requires group_id")
        return self._committed.get(tp)

    async def position(self, tp):
        return self.positions[tp]


A0, A1, B0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)


async def test_kafka_lag_is_end_offset_minus_committed_or_position():
    c = FakeConsumer(ends={A0: 100, A1: 5, B0: 7}, committed={A0: 90, A1: 5}, positions={B0: 2})
    assert await metrics.kafka_lag(c) == {("a", 0): 10, ("a", 1): 0, ("b", 0): 5}
    no_group = FakeConsumer(ends={A0: 100}, committed={}, positions={A0: 60}, group=False)
    assert await metrics.kafka_lag(no_group) == {("a", 0): 40}
    fallback = FakeConsumer(ends={A0: 0, A1: 0}, committed={A0: 10, A1: 1}, highwater={A0: 30, A1: None},
                            ends_fail=True)
    assert await metrics.kafka_lag(fallback) == {("a", 0): 20}
    assert await metrics.kafka_lag(FakeConsumer(ends={}, committed={})) == {}


class FakeSubscriber:
    def __init__(self, group_id, consumer=None, subgroup=None):
        self.group_id, self.consumer = group_id, consumer
        if subgroup is not None:
            self.consumer_subgroup = subgroup


class FakeBroker:
    def __init__(self, subscribers):
        self.subscribers = subscribers


async def test_a_brokers_subscribers_feed_the_lag_gauge():
    s = svc()
    c1 = FakeConsumer(ends={A0: 10}, committed={A0: 4})
    c2, c3 = FakeConsumer(ends={A1: 3}, committed={A1: 1}), FakeConsumer(ends={B0: 9}, committed={B0: 9})
    commands = FakeSubscriber("p.sunsetred-x-commands")
    broker = FakeBroker([commands, FakeSubscriber("p.sunsetred-x-events", subgroup=[c2, c3]),
                         FakeSubscriber(None, consumer=FakeConsumer(ends={A0: 99}, committed={}))])
    metrics.register_broker_lag(s, broker)  # before start: no consumer yet
    await metrics.refresh_lag()
    assert value("sunsetred_consumer_lag", service=s, group="p.sunsetred-x-commands", topic="a", partition="0") is None
    commands.consumer = c1  # started
    assert [g for g, _ in metrics.subscriber_consumers(broker)] == [
        "p.sunsetred-x-commands", "p.sunsetred-x-events", "p.sunsetred-x-events"]
    await metrics.refresh_lag()
    assert value("sunsetred_consumer_lag", service=s, group="p.sunsetred-x-commands", topic="a", partition="0") == 6
    assert value("sunsetred_consumer_lag", service=s, group="p.sunsetred-x-events", topic="a", partition="1") == 2
    assert value("sunsetred_consumer_lag", service=s, group="p.sunsetred-x-events", topic="b", partition="0") == 0


async def test_get_metrics_answers_prometheus_text():
    s = svc()
    metrics.count(s, "commands", "handled", 3)
    app = FastAPI()
    app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=")
    assert f'sunsetred_records_total{{outcome="handled",pipeline="commands",service="{s}"}} 3.0' in r.text


def test_subscriber_consumers_reads_faststream_kafka_subscribers():
    """The real FastStream 0.7 broker: subscribers are listed, with no consumer before start."""
    from faststream.kafka import KafkaBroker

    broker = KafkaBroker("localhost:1")

    @broker.subscriber("t1", group_id="g1", batch=True)
    async def one(msg): ...

    @broker.subscriber("t2", group_id="g2")
    async def two(msg): ...

    assert sorted(sub.group_id for sub in broker.subscribers) == ["g1", "g2"]
    assert all(hasattr(sub, "consumer") for sub in broker.subscribers)
    assert metrics.subscriber_consumers(broker) == []
