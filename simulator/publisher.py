"""Publishing phases to Kafka as the district's systems would, waiting for answers between phases.

Within a phase the producer batches (linger) and keeps many sends in flight; at the end of a
phase it waits until the services answered every command of it, because the next phase may name
what this one created (a member's branch, a secretary's member).
"""
import asyncio
import json
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from shared.infra.topics import ensure_topics
from shared.settings import Settings
from shared.topics import named
from simulator.answers import AnswerWatcher
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


async def _send(producer: AIOKafkaProducer, prefix: str, cmds, on_progress) -> None:
    pending = []
    for n, c in enumerate(cmds, 1):
        value = json.dumps(c.envelope, ensure_ascii=False).encode()
        pending.append(await producer.send(named(prefix, c.topic), value, key=c.key.encode()))
        if len(pending) >= IN_FLIGHT:
            await asyncio.gather(*pending)
            pending.clear()
            on_progress(n)
    await asyncio.gather(*pending)


async def publish(source, target: Target, progress: Progress | None = None) -> dict:
    """Send every phase of `source`; returns the run's figures (counts, rejections, throughput)."""
    await ensure_topics(Settings(kafka_bootstrap_servers=target.bootstrap, topic_prefix=target.prefix))
    producer = AIOKafkaProducer(bootstrap_servers=target.bootstrap, acks="all", enable_idempotence=True,
                                linger_ms=20, max_batch_size=512 * 1024, request_timeout_ms=60000)
    watcher = AnswerWatcher(target.bootstrap, target.prefix, source.correlation_id)
    progress = progress or Progress(source.header.get("phases", 1), quiet=True)
    await producer.start()
    await watcher.start()
    started = time.monotonic()
    sent = 0
    phases = []
    try:
        for index, phase in enumerate(source.phases(), 1):
            t0 = time.monotonic()
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
            progress.phase_done(len(phase.commands))
            sent += len(phase.commands)
            phases.append({"name": phase.name, "commands": len(phase.commands),
                           "seconds": round(time.monotonic() - t0, 3)})
    finally:
        await watcher.stop()
        await producer.stop()
    seconds = time.monotonic() - started
    return {"commands": sent, "seconds": round(seconds, 3),
            "commands_per_second": round(sent / seconds, 1) if seconds else None,
            "rejected": watcher.rejections(), "unhandled_types": sorted(watcher.unhandled), "phases": phases}
