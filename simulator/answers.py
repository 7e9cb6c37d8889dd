"""Watching the events topics for the answers to our commands (an accepted event or CommandRejected).

Every command on a commands topic is answered by its service: events carry `causation_id` = the
command's id. The watcher reads the events topics from their beginning, so a re-run of the same
seed (whose commands are all duplicates, answered by nothing new) finds the answers of the first
run. Only events of this simulator's correlation id are kept.
"""
import asyncio
import json
import logging
import time
from collections import Counter

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.infra.kafka_acls import OBSERVER
from shared.kafka_auth import tool_kwargs

from shared.topics import ACTIVITIES_EVENTS, MEMBERS_EVENTS, NOTIFICATIONS_EVENTS, named

log = logging.getLogger(__name__)
WATCHED = (MEMBERS_EVENTS, ACTIVITIES_EVENTS, NOTIFICATIONS_EVENTS)


class Stalled(Exception):
    """Commands stayed unanswered for too long: a service is down or behind."""


class AnswerWatcher:
    def __init__(self, bootstrap: str, prefix: str, correlation_id: str):
        self.bootstrap, self.prefix, self.correlation_id = bootstrap, prefix, correlation_id
        self.answered: set[str] = set()
        self.rejected: Counter[tuple[str, str]] = Counter()  # (command type, reason)
        self.examples: dict[tuple[str, str], list] = {}
        self.unhandled: set[str] = set()  # command types a service does not handle (yet)
        self.times: dict[str, tuple[float, str]] = {}  # cause: when its answer came (monotonic), its type
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task | None = None
        self._progress = asyncio.Event()

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(**tool_kwargs(self.bootstrap, OBSERVER), enable_auto_commit=False,
                                          auto_offset_reset="earliest", group_id=None, max_poll_records=5000)
        await self._consumer.start()
        parts = []
        for topic in WATCHED:
            name = named(self.prefix, topic)
            for p in await self._partitions(name):
                parts.append(TopicPartition(name, p))
        self._consumer.assign(parts)
        await self._consumer.seek_to_beginning(*parts)
        self._task = asyncio.create_task(self._run())

    async def _partitions(self, topic: str) -> set[int]:
        for _ in range(60):
            parts = self._consumer.partitions_for_topic(topic)
            if parts:
                return parts
            await self._consumer._client.force_metadata_update()  # aiokafka learns new topics lazily
            await asyncio.sleep(0.5)
        raise RuntimeError(f"topic {topic} does not exist: are the services running with this prefix?")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer:
            await self._consumer.stop()

    async def _run(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for r in records:
                    self._take(r.value)
            if batches:
                self._progress.set()

    def _take(self, value: bytes) -> None:
        try:
            e = json.loads(value)
        except ValueError:
            return
        if not isinstance(e, dict) or e.get("correlation_id") != self.correlation_id:
            return
        cause = e.get("causation_id")
        if not cause or cause in self.answered:
            return
        self.answered.add(cause)
        self.times[cause] = (time.monotonic(), str(e.get("type")))
        if e.get("type") == "CommandRejected":
            d = e.get("data") or {}
            key = (str(d.get("command_type")), str(d.get("reason")))
            self.rejected[key] += 1
            if any(isinstance(x, dict) and x.get("field") == "type" for x in d.get("errors") or ()):
                self.unhandled.add(key[0])
            examples = self.examples.setdefault(key, [])
            if len(examples) < 3:
                examples.append({"command_id": cause, "errors": d.get("errors")})

    def tail(self, ids: list[str], started: float, share: float = 0.05) -> dict:
        """What answered last of these commands: the answers' types in the last `share` of them, and
        from when (seconds after `started`): the commands that pace a run's end."""
        times = sorted(self.times[i] for i in ids if i in self.times)
        last = times[-max(1, int(len(times) * share)):] if times else []
        return {"from_s": round(last[0][0] - started, 1) if last else None,
                "types": dict(Counter(t for _, t in last).most_common(6))}

    def pending(self, ids: list[str]) -> list[str]:
        return [i for i in ids if i not in self.answered]

    async def wait_for(self, ids: list[str], stall_timeout: float, on_progress=None) -> None:
        """Until every id is answered; fails if no answer at all arrives for `stall_timeout` seconds."""
        waiting = self.pending(ids)
        last_progress = time.monotonic()
        while waiting:
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), timeout=1.0)
            except asyncio.TimeoutError:
                pass
            before = len(waiting)
            waiting = [i for i in waiting if i not in self.answered]
            if len(waiting) < before:
                last_progress = time.monotonic()
            if on_progress:
                on_progress(len(ids) - len(waiting), len(ids))
            if time.monotonic() - last_progress > stall_timeout:
                raise Stalled(f"{len(waiting)} of {len(ids)} commands unanswered for {stall_timeout:.0f}s "
                              f"(e.g. {waiting[0]}): are all four services running with this topic prefix?")

    def rejections(self) -> dict:
        """Refusals by (type/reason), with examples; types refused as not handled at all listed apart."""
        return {f"{t}/{r}": {"count": n, "examples": self.examples.get((t, r), [])}
                for (t, r), n in sorted(self.rejected.items()) if t not in self.unhandled}
