"""Publishing phases to Kafka as the district's systems would, waiting for answers between phases.

Within a phase the producer batches (linger) and keeps many sends in flight; at the end of a
phase it waits until the services answered every command of it, because the next phase may name
what this one created (a member's branch, a secretary's member).

With `all_at_once` the year goes out as one stream and the answers are awaited at the end: the
services hold a command whose reference has not arrived yet (contract), so nothing needs
waiting for. `first_phases=N` still sends the first N phases phase by phase (`LEDGER_PHASES`:
the tree and the ledger) and the rest at once when every consumer of the deployment has caught
up: fewer commands are held, and held commands are tried again after every batch.
"""
import asyncio
import json
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from shared.infra.kafka_acls import OBSERVER, secure_prefix
from shared.infra.topics import ensure_topics
from shared.kafka_auth import Senders, tool_kwargs
from shared.settings import Settings
from shared.topics import named
from simulator.answers import AnswerWatcher, Stalled
from simulator.progress import Progress

IN_FLIGHT = 5000  # sends awaited together: bounds memory while keeping the producer's batches full


@dataclass
class Target:
    bootstrap: str
    prefix: str = ""
    stall_timeout: float = 180.0
    # Wait for answers after every `chunk` commands (0: once per phase). Smaller chunks make the
    # services' batches smaller, at the price of throughput.
    chunk: int = 0
    # Send without waiting for answers, then wait for all of them (see above).
    all_at_once: bool = False
    # With all_at_once: the leading phases still sent phase by phase (LEDGER_PHASES: the tree and the ledger).
    first_phases: int = 0


async def _send(producer: Senders, prefix: str, cmds, on_progress) -> None:
    pending = []
    for n, c in enumerate(cmds, 1):
        value = json.dumps(c.envelope, ensure_ascii=False).encode()
        pending.append(await producer.send(named(prefix, c.topic), value, key=c.key.encode()))
        if len(pending) >= IN_FLIGHT:
            await asyncio.gather(*pending)
            pending.clear()
            on_progress(n)
    await asyncio.gather(*pending)


async def consumers_lag(bootstrap: str, prefix: str) -> int:
    """Records the deployment's consumer groups (`<prefix>sunsetred-…`) have not committed yet."""
    admin = AIOKafkaAdminClient(**tool_kwargs(bootstrap, OBSERVER))
    consumer = AIOKafkaConsumer(**tool_kwargs(bootstrap, OBSERVER))
    await admin.start()
    await consumer.start()
    try:
        groups = [g[0] for g in await admin.list_consumer_groups() if g[0].startswith(f"{prefix}sunsetred-")]
        lag = 0
        for group in groups:
            committed = await admin.list_consumer_group_offsets(group)
            topics = {tp.topic for tp in committed}
            tps = [tp for tp in committed] + [
                tp for t in topics for tp in _partitions(consumer, t) if tp not in committed]
            ends = await consumer.end_offsets(tps) if tps else {}
            lag += sum(max(0, end - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0))
                       for tp, end in ends.items())
        return lag
    finally:
        await consumer.stop()
        await admin.close()


def _partitions(consumer: AIOKafkaConsumer, topic: str):
    from aiokafka import TopicPartition
    return [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]


async def caught_up(bootstrap: str, prefix: str, timeout: float) -> None:
    """Until every consumer group of the deployment has committed all it reads."""
    deadline = time.monotonic() + timeout
    while await consumers_lag(bootstrap, prefix):
        if time.monotonic() > deadline:
            raise Stalled(f"the services' consumers still lag after {timeout:.0f}s")
        await asyncio.sleep(0.2)


async def publish(source, target: Target, progress: Progress | None = None) -> dict:
    """Send every phase of `source`; returns the run's figures (counts, rejections, throughput)."""
    # Each command goes out as the district system its source names, signed (shared.kafka_auth).
    producer = Senders(target.bootstrap, target.prefix, fallback="district-org-department", acks="all",
                       enable_idempotence=True, linger_ms=20, max_batch_size=512 * 1024, request_timeout_ms=60000)
    if producer.secrets is not None:
        await secure_prefix(target.bootstrap, producer.secrets, target.prefix)
    else:
        await ensure_topics(Settings(kafka_bootstrap_servers=target.bootstrap, topic_prefix=target.prefix))
    watcher = AnswerWatcher(target.bootstrap, target.prefix, source.correlation_id)
    progress = progress or Progress(source.header.get("phases", 1), quiet=True)
    first = target.first_phases if target.all_at_once else None
    await watcher.start()
    started = time.monotonic()
    sent = 0
    phases = []
    at_once: list[str] = []  # ids sent without waiting
    published = None
    try:
        for index, phase in enumerate(source.phases(), 1):
            t0 = time.monotonic()
            if first is not None and index > first:
                await _send(producer, target.prefix, phase.commands,
                            lambda n, i=index, p=phase: progress.show(i, p.name, n, len(p.commands)))
                at_once += [c.id for c in phase.commands]
                progress.show(index, phase.name, len(phase.commands), len(phase.commands), final=True)
            else:
                size = target.chunk or len(phase.commands) or 1
                for start in range(0, len(phase.commands), size):
                    chunk = phase.commands[start:start + size]
                    await _send(producer, target.prefix, chunk,
                                lambda n, i=index, p=phase, s=start: progress.show(i, p.name, s + n, len(p.commands)))
                    await watcher.wait_for([c.id for c in chunk], target.stall_timeout,
                                           lambda done, _, i=index, p=phase, s=start:
                                           progress.show(i, p.name, s + len(chunk), len(p.commands), s + done))
                progress.show(index, phase.name, len(phase.commands), len(phase.commands), len(phase.commands),
                              final=True)
                if index == first:
                    await caught_up(target.bootstrap, target.prefix, target.stall_timeout)
            progress.phase_done(len(phase.commands))
            sent += len(phase.commands)
            phases.append({"name": phase.name, "commands": len(phase.commands),
                           "seconds": round(time.monotonic() - t0, 3)})
        if at_once:
            published = time.monotonic() - started
            await watcher.wait_for(at_once, target.stall_timeout,
                                   lambda done, total: progress.show(len(phases), "answers", done, total, done))
    finally:
        await watcher.stop()
        await producer.stop()
    seconds = time.monotonic() - started
    return {"commands": sent, "seconds": round(seconds, 3), "started_at": started,
            "published_seconds": round(published, 3) if published is not None else None,
            "commands_per_second": round(sent / seconds, 1) if seconds else None,
            "rejected": watcher.rejections(), "unhandled_types": sorted(watcher.unhandled), "phases": phases,
            "answers_last": watcher.tail(at_once, started) if at_once else None}
