"""A run streams in: its phases published as a district system would, faults at their moments.

The publisher sends a phase, then waits until every command of it is answered (an event caused by
it, or a CommandRejected), because the next phase names what this one created. Like a district
system that must not lose a command, it sends again whatever the broker did not acknowledge (the
broker restarting): a command sent twice has the same id, and the inbox drops the copy.

Faults happen at a moment of their own (seconds after the stream began), concurrently with it:
- `kill`      SIGKILL of one service instance; a supervisor starts it again `restart_after` later;
- `broker`    Kafka stopped (SIGTERM, or SIGKILL with `hard`) and started again `duration` later;
- `database`  SecantusDB stopped for `duration` seconds; meanwhile no consumer group may commit
              an offset (looked at from 5 s after the stop, when batches in flight are over).
Each fault's time to recover is measured from its end (`observe.recovery`).
"""
import asyncio
import json
import time
from dataclasses import dataclass, field

from aiokafka.errors import (
    KafkaConnectionError, KafkaError, KafkaTimeoutError, NodeNotReadyError, RequestTimedOutError,
)

from chaos.observe import Log, groups_retrying, recovery
from chaos.scenario import Run
from chaos.stack import Stack
from shared.kafka_auth import Senders
from shared.topics import COMMAND_TOPICS
from simulator.commands import Cmd

IN_FLIGHT = 2000
# Commands that, in the district, follow something the platform did: a specialist completes a door
# delivery once the platform assigned it; a member acknowledges a notice once it reached them (or
# the delivery came to its end: a NotificationFailed with a next channel is not one, the delivery
# goes on). The simulator sends them in the phase of the notice; sent before that, their fate would
# depend on how far the delivery worker got, and a run could not be compared with another.
AFTER = {"CompleteDoorDelivery": ("DoorDeliveryAssigned",),
         "AcknowledgeNotice": ("NotificationDelivered", "DoorDeliveryAssigned", "NotificationFailed")}
# Longer than a run takes to recover from its faults (92–116 s for three kills and a broker restart
# on a quiet machine): sent before the delivery's end, an acknowledgement races the worker.
GATE_TIMEOUT_S = 300.0
KILL_WAIT_S = 120.0  # a kill waits this long at most for its instance to be up again


@dataclass
class Fault:
    kind: str  # kill | broker | database
    at: float  # seconds after the stream began
    target: str | None = None  # the instance killed
    duration: float = 0.0  # broker and database: how long they stay down
    hard: bool = False  # broker: SIGKILL rather than SIGTERM
    restart_after: float | None = None  # kill: when the supervisor starts the instance again
    # what happened
    started: float | None = None  # seconds after the stream began
    ended: float | None = None
    during_stream: bool | None = None
    recovery_s: float | None = None
    recovered: bool | None = None
    commits_while_down: dict = field(default_factory=dict)
    error: str | None = None

    def describe(self) -> str:
        if self.kind == "kill":
            return f"SIGKILL {self.target} at {self.started}s" + (
                f", restarted {self.restart_after:.0f}s later" if self.restart_after is not None else "")
        return f"{self.kind} {'SIGKILL' if self.hard else 'stop'} at {self.started}s for {self.duration:.0f}s"


@dataclass
class Streamed:
    sent: int = 0
    resent: int = 0
    unanswered: list[str] = field(default_factory=list)
    published_s: float = 0.0
    answered_s: float = 0.0
    stalled: str | None = None


class Publisher:
    def __init__(self, bootstrap: str):
        self.bootstrap = bootstrap
        self.producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        # Each record as the district system its source names, signed; the fuzzer's as chaos-fuzz.
        producer = Senders(self.bootstrap, fallback="chaos-fuzz", acks="all", enable_idempotence=True,
                           linger_ms=20, max_batch_size=512 * 1024, request_timeout_ms=20000,
                           max_request_size=2 * 1024 * 1024)
        try:
            for principal in {producer.principal_for(t, None) for t in COMMAND_TOPICS}:
                await producer.producer(principal)  # connect now: a broker away fails the start
        except BaseException:
            await producer.stop()
            raise
        self.producer = producer

    async def stop(self) -> None:
        if self.producer:
            try:
                await asyncio.wait_for(self.producer.stop(), 30)
            except Exception:
                pass
            self.producer = None

    async def _restart(self) -> None:
        await self.stop()
        while True:
            try:
                await self.start()
                return
            except Exception:
                await asyncio.sleep(1)

    async def send(self, records: list[tuple[str, bytes | None, bytes | None]]) -> tuple[list, int]:
        """Send (topic, key, value) records until the broker acknowledged each; returns their
        (partition, offset) in order (or the error for a record the broker refuses for good),
        and how many sends had to be repeated."""
        out: list = [None] * len(records)
        todo = list(range(len(records)))
        resent = failures = 0
        tries: dict[int, int] = {}
        while todo:
            futures, failed = [], []
            for i in todo:
                topic, key, value = records[i]
                try:
                    futures.append((i, await self.producer.send(topic, value, key=key)))
                except Exception as exc:
                    failed.append((i, exc))
                if len(futures) >= IN_FLIGHT:
                    failed += await self._settle(futures, out)
                    futures = []
            failed += await self._settle(futures, out)
            todo = []
            for i, exc in failed:
                tries[i] = tries.get(i, 0) + 1
                if _permanent(exc) and tries[i] >= 3:
                    out[i] = exc  # refused for good (a record the broker will never take)
                else:
                    todo.append(i)
            if todo:
                resent += len(todo)
                failures += 1
                await asyncio.sleep(1)
                if failures % 3 == 0:  # a producer that keeps failing is started afresh
                    await self._restart()
        return out, resent

    @staticmethod
    async def _settle(futures, out) -> list[tuple[int, BaseException]]:
        failed = []
        results = await asyncio.gather(*(f for _, f in futures), return_exceptions=True)
        for (i, _), r in zip(futures, results):
            if isinstance(r, BaseException):
                failed.append((i, r))
            else:
                out[i] = (r.partition, r.offset)
        return failed


def _permanent(exc: BaseException) -> bool:
    """An error sending again will not cure (the record itself is refused), as opposed to the
    broker being away or busy."""
    if isinstance(exc, (KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError, RequestTimedOutError,
                        asyncio.TimeoutError, ConnectionError)):
        return False
    if isinstance(exc, KafkaError):
        return not exc.retriable
    return True


def _record(c: Cmd) -> tuple[str, bytes, bytes]:
    return c.topic, c.key.encode(), json.dumps(c.envelope, ensure_ascii=False).encode()


class Injector:
    """Runs the faults of one stream at their moments, and measures each one's recovery."""

    def __init__(self, stack: Stack, faults: list[Fault], say, recovery_timeout: float = 600):
        self.stack, self.faults, self.say = stack, sorted(faults, key=lambda f: f.at), say
        self.recovery_timeout = recovery_timeout
        self.t0 = 0.0
        self.streaming = True
        self.down = 0  # the broker or the database is down now: silence is no stall then
        self._tasks: list[asyncio.Task] = []

    def now(self) -> float:
        return round(time.monotonic() - self.t0, 1)

    async def run(self, t0: float) -> None:
        """Each fault at its own moment, independently of the others (a kill may land while the
        broker is down)."""
        self.t0 = t0
        await asyncio.gather(*(self._at(f) for f in self.faults))

    async def _at(self, f: Fault) -> None:
        await asyncio.sleep(max(0.0, self.t0 + f.at - time.monotonic()))
        try:
            await self._inject(f)
        except Exception as exc:
            f.error = f"{type(exc).__name__}: {exc}"
            self.say(f"fault {f.kind} failed: {f.error}")

    async def _inject(self, f: Fault) -> None:
        if f.kind == "kill":
            await self._until_running(f.target)
        f.started, f.during_stream = self.now(), self.streaming
        if f.kind == "kill":
            self.stack.kill(f.target)
            f.ended = self.now()
            self.say(f"SIGKILL {f.target} at {f.started}s")
            if f.restart_after is not None:
                self._tasks.append(asyncio.create_task(self._restart_later(f.restart_after)))
        elif f.kind == "broker":
            self.down += 1
            if f.hard:
                self.stack.kill("kafka")
            else:
                await self.stack.stop_kafka()
            self.say(f"Kafka {'killed' if f.hard else 'stopped'} at {f.started}s")
            await asyncio.sleep(max(0.0, f.duration - (self.now() - f.started)))
            await self._again(self.stack.start_kafka, "Kafka")
            f.ended = self.now()
            self.down -= 1
            self.say(f"Kafka back at {f.ended}s")
        elif f.kind == "database":
            self.down += 1
            await self.stack.stop_mongo()
            self.say(f"SecantusDB stopped at {f.started}s")
            await asyncio.sleep(5)  # batches in flight when it stopped are over by now
            before, _ = await groups_retrying(self.stack.kafka)
            await asyncio.sleep(max(0.0, f.duration - (self.now() - f.started)))
            after, _ = await groups_retrying(self.stack.kafka)
            f.commits_while_down = {f"{g} {t}[{p}]": [before.get((g, t, p)), off]
                                    for (g, t, p), off in after.items() if before.get((g, t, p)) != off}
            await self._again(self.stack.start_mongo, "SecantusDB")
            f.ended = self.now()
            self.down -= 1
            self.say(f"SecantusDB back at {f.ended}s" + (
                f"; offsets committed while it was down: {f.commits_while_down}" if f.commits_while_down else ""))
        else:
            raise ValueError(f.kind)
        self._tasks.append(asyncio.create_task(self._measure(f)))

    async def _again(self, start, what: str, tries: int = 4) -> None:
        """Start a server again; on a busy machine it may take longer than stack.sh waits."""
        for attempt in range(1, tries + 1):
            try:
                return await start()
            except RuntimeError:
                if attempt == tries:
                    raise
                self.say(f"{what} not answering yet ({self.now()}s): waiting again")

    async def _until_running(self, name: str, timeout: float = KILL_WAIT_S) -> None:
        """Two kills of one instance moments apart: the second waits until the supervisor has
        started it again (it was "not running", and the fault was lost), for at most `timeout`."""
        deadline = time.monotonic() + timeout
        while not self.stack.running().get(name, True) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)

    async def _restart_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.stack.restart_services()

    async def _measure(self, f: Fault) -> None:
        f.recovery_s = await recovery(self.stack.kafka, self.t0 + f.ended, self.recovery_timeout,
                                      down=lambda: self.down > 0)
        f.recovered = f.recovery_s is not None

    async def finish(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)


class Gate:
    """Sends the commands of `AFTER` once the platform's event for their (notice, member) is out
    (or their wait is over), in the background, while the phases go on: a phase waits for its own
    commands' answers only. Waiting in the phase instead holds the stream on the slowest delivery
    (a gateway connection that hangs is taken for an orphan after NOTIFY_ORPHAN_AFTER_SECONDS).
    Nothing later in the scenario names what these commands create, so the stream's content is the
    same. (On a loaded machine the stream was no shorter for it: the platform's pace dominated.)"""

    def __init__(self, bootstrap: str, events: Log):
        self.publisher, self.events = Publisher(bootstrap), events
        self.waiting: list[tuple[Cmd, float]] = []  # (command, deadline)
        self.resent = 0
        self.more = asyncio.Event()
        self.closed = False

    def add(self, cmds: list[Cmd]) -> None:
        deadline = time.monotonic() + GATE_TIMEOUT_S
        self.waiting += [(c, deadline) for c in cmds]
        self.more.set()

    def _ready(self, c: Cmd, deadline: float) -> bool:
        return time.monotonic() > deadline or any(
            (t, c.envelope["data"]["notice_id"], c.envelope["data"]["member_id"]) in self.events.deliveries
            for t in AFTER[c.type])

    async def run(self) -> None:
        await self.publisher.start()
        try:
            while self.waiting or not self.closed:
                ready = [(c, d) for c, d in self.waiting if self._ready(c, d)]
                if ready:
                    _, resent = await self.publisher.send([_record(c) for c, _ in ready])
                    self.resent += resent
                    self.waiting = [w for w in self.waiting if w not in ready]
                elif self.waiting:
                    await self.events.changed(0.5)
                else:
                    self.more.clear()
                    try:
                        await asyncio.wait_for(self.more.wait(), 1.0)
                    except asyncio.TimeoutError:
                        pass
        finally:
            await self.publisher.stop()


async def _answered(ids: list[str], events: Log, injector: "Injector", stall_timeout: float, name: str,
                    say) -> str | None:
    """Wait until every id is answered; a stall (nothing answered for stall_timeout, the broker and
    the database up) is said and returned."""
    waiting = [i for i in ids if i not in events.answers]
    last = time.monotonic()
    while waiting:
        await events.changed(1.0)
        before = len(waiting)
        waiting = [i for i in waiting if i not in events.answers]
        if len(waiting) < before or injector.down:
            last = time.monotonic()
        elif time.monotonic() - last > stall_timeout:
            stalled = f"phase {name}: {len(waiting)} of {len(ids)} unanswered for {stall_timeout:.0f}s"
            say(stalled)
            return stalled
    return None


async def stream(run: Run, stack: Stack, events: Log, faults: list[Fault], say,
                 stall_timeout: float = 240, also=None, recovery_timeout: float = 600,
                 gate_in_background: bool = False) -> Streamed:
    """Publish a run phase by phase with its faults; `also` (a coroutine) runs alongside (fuzz).
    `gate_in_background`: the commands of `AFTER` do not hold their phase (`Gate`)."""
    if gate_in_background:
        return await _stream_gated_in_background(run, stack, events, faults, say, stall_timeout, also,
                                                 recovery_timeout)
    out = Streamed()
    events.watched_correlations.add(run.names.correlation_id)
    events.watched_ids.update(c.id for c in run.commands)
    publisher = Publisher(stack.kafka)
    await publisher.start()
    injector = Injector(stack, faults, say, recovery_timeout)
    t0 = time.monotonic()
    faulting = asyncio.create_task(injector.run(t0))
    alongside = asyncio.create_task(also) if also is not None else None
    try:
        for name, cmds in run.phases:
            gated = [c for c in cmds if c.type in AFTER]
            _, resent = await publisher.send([_record(c) for c in cmds if c.type not in AFTER])
            out.resent += resent
            deadline = time.monotonic() + GATE_TIMEOUT_S
            while gated:
                ready = [c for c in gated if time.monotonic() > deadline or any(
                    (t, c.envelope["data"]["notice_id"], c.envelope["data"]["member_id"]) in events.deliveries
                    for t in AFTER[c.type])]
                if ready:
                    _, resent = await publisher.send([_record(c) for c in ready])
                    out.resent += resent
                    gated = [c for c in gated if c not in ready]
                else:
                    await events.changed(0.5)
            out.sent += len(cmds)
            out.stalled = await _answered([c.id for c in cmds], events, injector, stall_timeout, name, say)
            if out.stalled:
                break
        out.published_s = round(time.monotonic() - t0, 1)
        injector.streaming = False
        await faulting
        if alongside is not None:
            await alongside
        await injector.finish()
    finally:
        for t in (faulting, alongside):
            if t is not None and not t.done():
                t.cancel()
        await publisher.stop()
    out.unanswered = [c.id for c in run.commands if c.id not in events.answers]
    out.answered_s = round(time.monotonic() - t0, 1)
    return out


async def _stream_gated_in_background(run: Run, stack: Stack, events: Log, faults: list[Fault], say,
                                      stall_timeout: float, also, recovery_timeout: float) -> Streamed:
    out = Streamed()
    events.watched_correlations.add(run.names.correlation_id)
    events.watched_ids.update(c.id for c in run.commands)
    publisher = Publisher(stack.kafka)
    await publisher.start()
    gate = Gate(stack.kafka, events)
    injector = Injector(stack, faults, say, recovery_timeout)
    t0 = time.monotonic()
    faulting = asyncio.create_task(injector.run(t0))
    gating = asyncio.create_task(gate.run())
    alongside = asyncio.create_task(also) if also is not None else None
    try:
        for name, cmds in run.phases:
            now = [c for c in cmds if c.type not in AFTER]
            gate.add([c for c in cmds if c.type in AFTER])
            _, resent = await publisher.send([_record(c) for c in now])
            out.resent += resent
            out.sent += len(cmds)
            out.stalled = await _answered([c.id for c in now], events, injector, stall_timeout, name, say)
            if out.stalled:
                break
            if gating.done():  # the gate's own failure ends the stream
                gating.result()
        gate.closed = True
        if not out.stalled:
            await gating
            out.stalled = await _answered([c.id for c in run.commands], events, injector, stall_timeout,
                                          "(gated commands)", say)
        out.resent += gate.resent
        out.published_s = round(time.monotonic() - t0, 1)
        injector.streaming = False
        await faulting
        if alongside is not None:
            await alongside
        await injector.finish()
    finally:
        for t in (faulting, alongside, gating):
            if t is not None and not t.done():
                t.cancel()
        await publisher.stop()
    out.unanswered = [c.id for c in run.commands if c.id not in events.answers]
    out.answered_s = round(time.monotonic() - t0, 1)
    return out
