"""End-to-end throughput of a district year replayed from a file, beside two peers (prints figures; not a test).

    python benchmarks/end_to_end.py --members 300 [--repeat 3] [--modes all,phases] [--no-peers]

Kafka and MongoDB must be running (`make up`, or KAFKA_BOOTSTRAP_SERVERS / MONGODB_URL). The file
is written once by `python -m simulator write` (`.data/bench/district-<seed>-<members>-<hash of the
simulator's code>.jsonl.gz`) and replayed by every run. Each repetition runs, one after the other:

- the platform, `all`: the four services started fresh (new topic and database prefix, so every
  run starts from empty stores), every command of the year published at once, without waiting
  for answers (the services hold a command whose reference has not arrived yet). The clock runs
  from the first publish until reporting shows the year: every command answered, and the
  district's report for the year equal, figure by figure, to what the simulator expects (and
  still equal once the platform is at rest). Then, apart: when it caught up (every service's
  consumer lag 0 and outbox backlog 0 at one moment, GET /metrics, with the report equal), and
  when it came to rest (nothing consumed for 15 s: the delivery worker's sends come last, and
  while they go on a moment of lag 0 everywhere comes by chance, which made the caught-up time
  fall into two groups of runs; it was the clock until 3 December);
- the platform, `ledger`: the same, the tree and the ledger phase by phase first, then the rest
  at once (see simulator/publisher.py);
- the platform, `phases`: the same, phase by phase, waiting for the answers between phases as
  `python -m simulator run` does;
- the naive peer and the ceiling (`benchmarks/peers.py`), reading the same file's commands from
  a fresh topic.

Printed per run: commands/s, events/s (records the services published), the batches' time by
phase (from their `batch done` lines), CPU seconds and maximum RSS (/proc/<pid>/status VmRSS)
per process; then the medians over the repetitions, the platform's ratio to the naive peer and
its share of the ceiling. Compare ratios within one run: the machine is shared.
"""
import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.auth.local import local_issuer  # noqa: E402
from shared.topics import EVENT_TOPICS, all_topics, named  # noqa: E402
from simulator.answers import Stalled  # noqa: E402
from simulator.guide import _figure  # noqa: E402
from simulator.progress import Progress  # noqa: E402
from simulator.publisher import Target, publish  # noqa: E402
from simulator.sources import FromFile, Generated, write  # noqa: E402
from shared.infra.kafka_acls import OBSERVER, secure_prefix  # noqa: E402
from shared.kafka_auth import secrets_dir_for, tool_kwargs  # noqa: E402
from simulator.year import LEDGER_PHASES  # noqa: E402

SERVICES = ("members", "activities", "notifications", "reporting")
PY = sys.executable
TICKS = os.sysconf("SC_CLK_TCK")
LOGS = ROOT / "artifacts" / "logs"
# How often the run asks every service's /metrics and reporting's report while it waits: a
# scrape renders every series and asks the broker for each consumer's lag, so at four a second it
# was 3-7 % of a measured service's CPU (py-spy). Once a second bounds the clock's error at 1 s.
POLL_S = 1.0
# How often the year's report is asked once every command is answered: the clock stops at the first
# answer equal to the simulator's, so it is up to this late (it was asked every POLL_S until
# 5 December, 17:15).
REPORT_POLL_S = 0.25
# The figures `make demo` waits for; a difference in any other figure is reported, not waited for.
KEY_FIGURES = ("members.registered", "members.deceased", "dues.member_months_paid", "participation.active")


def say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


# ---- processes: start, memory, CPU ------------------------------------------------------------

def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process (and of its waited-for children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def server_pids(kafka: str, mongo: str) -> dict[str, int]:
    """The Kafka broker and the database server of the stack, when they run on this machine (for
    their CPU seconds; other engineers' tests use them too, so these are upper bounds)."""
    mongo_port = (re.search(r":(\d+)", mongo.split("@")[-1]) or [None, "27017"])[1]
    kafka_port = kafka.rsplit(":", 1)[-1]
    found = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "secantusd" in cmd and f"--port {mongo_port}" in cmd:
            found["database"] = int(d.name)
        elif "kafka.Kafka" in cmd:
            props = cmd.split()[-1]
            try:
                if f":{kafka_port}" in Path(props).read_text():
                    found["kafka"] = int(d.name)
            except OSError:
                pass
    return found


class Sampler:
    """Max RSS of named processes, sampled until stopped; CPU seconds between start and `mark`."""

    def __init__(self, pids: dict[str, int], every_s: float = 0.2):
        self.pids, self.every_s = pids, every_s
        self.max_kb: dict[str, int] = defaultdict(int)
        self.cpu0 = {n: cpu_s(p) for n, p in pids.items()}
        self.cpu_last = dict(self.cpu0)  # a process that exits keeps its last reading
        self.cpu: dict[str, float] = {}
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            for name, pid in self.pids.items():
                kb = rss_kb(pid)
                if kb:
                    self.max_kb[name] = max(self.max_kb[name], kb)
                now = cpu_s(pid)
                if now is not None:
                    self.cpu_last[name] = now
            await asyncio.sleep(self.every_s)

    def mark(self) -> None:
        for n, p in self.pids.items():
            now = cpu_s(p) or self.cpu_last.get(n)
            if now is not None and self.cpu0.get(n) is not None:
                self.cpu[n] = round(now - self.cpu0[n], 1)

    async def stop(self) -> dict:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        if not self.cpu:
            self.mark()
        return {"rss_max_mb": {n: round(kb / 1024, 1) for n, kb in self.max_kb.items()}, "cpu_s": self.cpu}


class Platform:
    """The four services as processes under a fresh prefix (benchmarks/serve.py: uvicorn)."""

    def __init__(self, kafka: str, mongo: str, extra_env: dict[str, str]):
        self.kafka, self.mongo = kafka, mongo
        # Signed in with the local stack's key (.data/secrets; written if there is none yet).
        self.jwks, token = local_issuer()
        self.headers = {"Authorization": f"Bearer {token}"}
        self.prefix = f"bench{uuid.uuid4().hex[:6]}."
        self.db_prefix = self.prefix.replace(".", "_")
        self.procs: dict[str, subprocess.Popen] = {}
        self.urls: dict[str, str] = {}
        self.logs: dict[str, Path] = {}
        self.extra_env = extra_env

    async def start(self) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        # A secured broker (the local stack's) needs the prefix's ACLs and topics before the
        # services join, and each service reads its own credentials from the stack's folder.
        secrets = secrets_dir_for(self.kafka)
        if secrets is not None:
            await secure_prefix(self.kafka, secrets, self.prefix)
            self.extra_env = {"KAFKA_SECRETS_DIR": str(secrets), **self.extra_env}
        for name in SERVICES:
            port = _free_port()
            env = {**os.environ, "PYTHONPATH": str(ROOT), "KAFKA_BOOTSTRAP_SERVERS": self.kafka,
                   "MONGODB_URL": self.mongo, "TOPIC_PREFIX": self.prefix, "DATABASE_PREFIX": self.db_prefix,
                   "LOG_LEVEL": "WARNING", "AUTH_JWKS": self.jwks, **self.extra_env}
            self.logs[name] = LOGS / f"{self.prefix.strip('.')}-{name}.log"
            self.procs[name] = subprocess.Popen([PY, str(ROOT / "benchmarks" / "serve.py"), name, str(port)],
                                                cwd=ROOT, env=env, stdout=open(self.logs[name], "ab"),
                                                stderr=subprocess.STDOUT)
            self.urls[name] = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(timeout=3) as http:
            await asyncio.gather(*(self._ready(http, n) for n in SERVICES))
            await self._assigned(http)

    async def _ready(self, http: httpx.AsyncClient, name: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited early: see {self.logs[name]}")
            try:
                if (await http.get(self.urls[name] + "/ready")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.3)
        raise TimeoutError(f"{name} not ready: see {self.logs[name]}")

    async def _assigned(self, http: httpx.AsyncClient, timeout: float = 60) -> None:
        """Until every pipeline's consumer has its partitions (a lag series per group), so that
        the clock does not count the consumer groups' first join."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ms = (await self.all_metrics(http)).values()
            if all(m and m["pipelines"] and m["groups_assigned"] >= len(m["pipelines"]) for m in ms):
                return
            await asyncio.sleep(0.3)
        say("warning: not every consumer group had its partitions after 60 s; starting anyway")

    async def all_metrics(self, http: httpx.AsyncClient) -> dict[str, dict | None]:
        return dict(zip(SERVICES, await asyncio.gather(*(self.metrics(http, n) for n in SERVICES))))

    async def metrics(self, http: httpx.AsyncClient, name: str) -> dict | None:
        try:
            r = await http.get(self.urls[name] + "/metrics", timeout=5)
        except httpx.HTTPError:
            return None
        return parse_metrics(r.text) if r.status_code == 200 else None

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()

    async def held(self) -> dict[str, dict[str, int]]:
        """Commands held (waiting for a reference) per service and type."""
        client = AsyncMongoClient(self.mongo)
        out: dict[str, dict[str, int]] = {}
        try:
            for name in SERVICES:
                db = client[f"{self.db_prefix}{name}"]
                for coll in await db.list_collection_names():
                    if coll.startswith("_parked"):
                        async for d in await db[coll].aggregate([{"$group": {"_id": "$type", "n": {"$sum": 1}}}]):
                            out.setdefault(name, {})[d["_id"]] = d["n"]
        finally:
            await client.close()
        return out

    async def drop_databases(self) -> None:
        client = AsyncMongoClient(self.mongo)
        try:
            for name in SERVICES:
                await client.drop_database(f"{self.db_prefix}{name}")
        finally:
            await client.close()

    async def drop(self) -> None:
        """Delete this run's databases and topics (the shared server and broker are not ours to fill)."""
        await self.drop_databases()
        await self.drop_topics()

    async def drop_topics(self) -> None:
        await delete_topics(self.kafka, [named(self.prefix, t) for t in all_topics()])


KEEP_TOPICS = False  # --keep-topics
KEEP_DATABASES = False  # --keep-databases


_SAMPLE = re.compile(r'^(\w+)(?:\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> dict:
    lag: list[float] = []
    groups: set[str] = set()
    backlog = 0.0
    records: dict[str, float] = defaultdict(float)
    retries: dict[str, float] = defaultdict(float)
    pipelines: set[str] = set()
    db: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])  # seconds, commands
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if not m:
            continue
        name, labels, value = m.group(1), dict(_LABEL.findall(m.group(2) or "")), float(m.group(3))
        if name == "sunsetred_consumer_lag":
            lag.append(value)
            groups.add(labels.get("group", ""))
        elif name == "sunsetred_outbox_backlog":
            backlog += value
        elif name == "sunsetred_records_total":
            records[labels.get("outcome", "")] += value
            pipelines.add(labels.get("pipeline", ""))
        elif name == "sunsetred_batch_retries_total":
            retries[labels.get("reason", "")] += value
        elif name in ("sunsetred_db_command_seconds_sum", "sunsetred_db_command_seconds_count"):
            db[(labels.get("collection", ""), labels.get("command", ""))][name.endswith("_count")] += value
    return {"lag": sum(lag), "lag_series": len(lag), "groups_assigned": len(groups), "backlog": backlog,
            "records": dict(records), "retries": dict(retries), "pipelines": pipelines, "db": dict(db)}


def db_time(before: dict[str, dict], after: dict[str, dict], top: int = 8) -> list[str]:
    """Where the database's time went between two scrapes of every service's metrics, the largest
    first: `service collection command: seconds, commands, mean ms`."""
    rows = []
    for service, now in after.items():
        then = (before.get(service) or {}).get("db", {})
        for key, (secs, n) in (now or {}).get("db", {}).items():
            d_secs, d_n = secs - then.get(key, (0, 0))[0], n - then.get(key, (0, 0))[1]
            if d_n:
                rows.append((d_secs, d_n, service, *key))
    rows.sort(reverse=True)
    return [f"{svc} {coll} {cmd}: {secs:.1f}s, {int(n)} commands, {1000 * secs / n:.2f} ms each"
            for secs, n, svc, coll, cmd in rows[:top]]


def db_totals(before: dict[str, dict], after: dict[str, dict]) -> dict[str, dict]:
    """Each service's database commands between two scrapes, and the seconds it waited on them:
    the round trips a change saves or adds."""
    out = {}
    for service, now in after.items():
        then = (before.get(service) or {}).get("db", {})
        secs = n = 0.0
        for key, (s, k) in (now or {}).get("db", {}).items():
            secs, n = secs + s - then.get(key, (0, 0))[0], n + k - then.get(key, (0, 0))[1]
        out[service] = {"commands": int(n), "seconds": round(secs, 1)}
    return out


async def delete_topics(kafka: str, topics: list[str]) -> None:
    admin = AIOKafkaAdminClient(**tool_kwargs(kafka, OBSERVER))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [t for t in topics if t in existing]
        if doomed:
            await admin.delete_topics(doomed)
    except Exception as exc:  # leaving a topic behind is no reason to lose the figures
        say(f"could not delete topics: {exc!r}")
    finally:
        await admin.close()


async def records_on(kafka: str, topics: list[str]) -> int:
    """How many records the topics hold (sum of their end offsets)."""
    consumer = AIOKafkaConsumer(**tool_kwargs(kafka, OBSERVER))
    await consumer.start()
    try:
        tps = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
        if len(tps) < len(topics):
            await consumer._client.force_metadata_update()
            tps = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
        return sum((await consumer.end_offsets(tps)).values()) if tps else 0
    finally:
        await consumer.stop()


async def types_on(kafka: str, topics: list[str], limit_s: float = 60) -> dict[str, int]:
    """How many records of each message type (the `message-type` header) the topics hold."""
    consumer = AIOKafkaConsumer(**tool_kwargs(kafka, OBSERVER), enable_auto_commit=False, group_id=None,
                                max_poll_records=5000)
    await consumer.start()
    counts: dict[str, int] = defaultdict(int)
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        left = {tp for tp in tps if ends[tp] > 0}
        deadline = time.monotonic() + limit_s
        while left and time.monotonic() < deadline:
            for tp, recs in (await consumer.getmany(timeout_ms=500)).items():
                for r in recs:
                    kind = dict(r.headers or ()).get("message-type", b"?").decode(errors="replace")
                    counts[kind] += 1
                if recs and recs[-1].offset + 1 >= ends[tp]:
                    left.discard(tp)
    finally:
        await consumer.stop()
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


# ---- where the time goes: py-spy (installed apart, e.g. in a throw-away venv) -----------------

def start_py_spy(exe: Path, platform: Platform) -> list[tuple[str, subprocess.Popen, Path]]:
    out = []
    for name, proc in platform.procs.items():
        dest = LOGS / f"{platform.prefix.strip('.')}-{name}.pyspy.txt"
        spy = subprocess.Popen([str(exe), "record", "--pid", str(proc.pid), "--nonblocking", "--rate", "50",
                                "--format", "raw", "--output", str(dest)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append((name, spy, dest))
    return out


def dump_stacks(exe: Path, platform: Platform) -> dict[str, str]:
    """Every service's Python stacks now (`py-spy dump`), into a file each: what a stalled run waits on."""
    out = {}
    for name, proc in platform.procs.items():
        dest = LOGS / f"{platform.prefix.strip('.')}-{name}.stacks.txt"
        with open(dest, "wb") as f:
            subprocess.run([str(exe), "dump", "--pid", str(proc.pid), "--locals"], stdout=f,
                           stderr=subprocess.STDOUT, timeout=60)
        out[name] = str(dest)
    return out


def stop_py_spy(spies: list[tuple[str, subprocess.Popen, Path]]) -> dict:
    import signal
    for _, spy, _ in spies:
        spy.send_signal(signal.SIGINT)
    profiles = {}
    for name, spy, dest in spies:
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()
        profiles[name] = {"file": str(dest), **top_frames(dest)}
    return profiles


def top_frames(path: Path, n: int = 12) -> dict:
    """The lines (file:line) with the most samples on top of the stack (self), and the functions
    (file) with the most samples anywhere in it (total), from py-spy's raw (collapsed) output."""
    self_: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    samples = 0
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return {}
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        k = int(count)
        frames = [f for f in stack.split(";")[1:]]
        if not frames:
            continue
        samples += k
        self_[_short(frames[-1])] += k
        for f in {re.sub(r":\d+\)$", ")", _short(f)) for f in frames}:
            total[f] += k
    top = lambda d: [(f, round(100 * c / samples, 1)) for f, c in sorted(d.items(), key=lambda kv: -kv[1])[:n]]
    return {"samples": samples, "self_pct": top(self_), "total_pct": top(total)}


def _short(frame: str) -> str:
    """`fn (path/to/file.py:12)` with the path from the project root or site-packages."""
    for marker in (str(ROOT) + "/", "site-packages/", "lib/python3.11/"):
        frame = frame.replace(marker, "") if marker in frame else frame
    return re.sub(r"\(/[^()]*/(?=[^/()]+:\d+\))", "(", frame)


# ---- the batches' time, from the `batch done` lines ------------------------------------------

def batch_phases(log: Path, started_wall: float) -> dict:
    """Batches, records and seconds by phase of one service's run; `last_batch_s`: when its last
    batch ended, in seconds from the first publish (which service finished last)."""
    batches = records = 0
    last = None
    ms: dict[str, float] = defaultdict(float)
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return {}
    # The largest rise in memory from one batch or unit line to the next: the pipelines and the
    # worker run at once, so the work of several may lie between two lines; it points, not proves.
    rss_before, rise = None, None
    held = None  # the batch that held the most documents
    for line in lines:
        if '"batch done"' not in line and '"unit done"' not in line:
            continue
        try:
            d = json.loads(line)
        except ValueError:
            continue
        rss = d.get("rss_mb")
        if rss is not None and rss_before is not None and (rise is None or rss - rss_before > rise["mb"]):
            rise = {"mb": round(rss - rss_before, 1), "to_mb": rss, **_what(d)}
        rss_before = rss if rss is not None else rss_before
        if held is None or d.get("documents", 0) > held["documents"]:
            held = {"documents": d.get("documents", 0), **_what(d)}
        if d["msg"] != "batch done":
            continue
        batches += 1
        records += d.get("records", 0)
        last = d.get("ts", last)
        for k, v in (d.get("ms") or {}).items():
            ms[k] += v
    return {"batches": batches, "records": records,
            "records_per_batch": round(records / batches, 1) if batches else None,
            "seconds": {k: round(v / 1000, 2) for k, v in ms.items()},
            "last_batch_s": round(datetime.fromisoformat(last).timestamp() - started_wall, 1) if last else None,
            "largest_rise": rise, "most_held": held}


def _what(line: dict) -> dict:
    """Which batch or unit a `batch done` / `unit done` line is about."""
    keys = ("pipeline", "unit", "records", "events", "documents", "ts")
    return {k: line[k] for k in keys if k in line}


# ---- one platform run ------------------------------------------------------------------------

def district_year(path: Path) -> dict:
    """What the simulator expects the district's report for the year to show."""
    source = FromFile(path)
    for _ in source.phases():  # the outcome is the file's last line
        pass
    return next(e for e in source.outcome()["expectations"]
                if e["kind"] == "district" and e["period"] == str(source.header["year"]))


async def run_platform(path: Path, mode: str, kafka: str, mongo: str, extra_env: dict[str, str],
                       wait_s: float, py_spy: Path | None = None, profile: bool = False,
                       settle_s: float = 600, stall_s: float = 300) -> dict:
    source = FromFile(path)
    want = district_year(path)
    platform = Platform(kafka, mongo, extra_env)
    commit = git_commit()  # the code the services run (others commit while a long run goes on)
    say(f"platform ({mode}): starting the four services ({commit}) under prefix {platform.prefix}")
    try:
        await platform.start()
        pids = {n: p.pid for n, p in platform.procs.items()} | server_pids(kafka, mongo)
        sampler = Sampler(pids)
        target = Target(kafka, platform.prefix, stall_timeout=stall_s, all_at_once=mode in ("all", "ledger"),
                        first_phases=LEDGER_PHASES if mode == "ledger" else 0)
        spies = start_py_spy(py_spy, platform) if py_spy and profile else []
        async with httpx.AsyncClient(timeout=5) as http:
            db_before = await platform.all_metrics(http)
        try:
            run = await publish(source, target, Progress(source.header["phases"], quiet=True))
        except Stalled as exc:
            stop_py_spy(spies)
            dumps = dump_stacks(py_spy, platform) if py_spy else {}
            say(f"platform ({mode}) stalled: {exc} (logs: {LOGS}/{platform.prefix.strip('.')}-*.log)")
            out = {"kind": "platform", "mode": mode, "commit": commit, "prefix": platform.prefix,
                   "stalled": str(exc), "stacks": dumps, "held": await platform.held(), **(await sampler.stop())}
            platform.stop()
            await platform.drop()
            return out
        started = run["started_at"]
        answered = time.monotonic() - started
        say(f"platform ({mode}): {run['commands']} commands answered after {answered:.1f}s "
            f"(published in {run['published_seconds'] or 0:.1f}s); waiting for lag 0, backlog 0 and the report")
        done = await caught_up(platform, want, started, wait_s)
        sampler.mark()
        # The profiles cover what the clock measures, as the CPU seconds do: not the worker's sends
        # that go on until the platform is at rest.
        profiles = stop_py_spy(spies)
        rest = await at_rest(platform, started, settle_s) if settle_s else None
        async with httpx.AsyncClient(timeout=10, headers=platform.headers) as http:
            final = await _report(http, platform.urls["reporting"], want)
        final_differs = _differs(final, want)
        res = await sampler.stop()
        async with httpx.AsyncClient(timeout=5) as http:
            db_after = await platform.all_metrics(http)
            res["database_time"] = db_time(db_before, db_after, top=int(os.environ.get("BENCH_DB_TOP", "10")))
            res["database_commands"] = db_totals(db_before, db_after)
            # batches run again: "conflict" (another writer got there first) or "transient"
            res["batch_retries"] = {n: (m or {}).get("retries", {}) for n, m in db_after.items()}
        events_by_topic = {t: await records_on(kafka, [named(platform.prefix, t)]) for t in EVENT_TOPICS}
        events = sum(events_by_topic.values())
        events_by_type = await types_on(kafka, [named(platform.prefix, t) for t in EVENT_TOPICS])
    finally:
        platform.stop()
    started_wall = time.time() - (time.monotonic() - started)
    # The year shown: the report whole, every command answered (the report is asked only after).
    seconds = done["shown"] if done.get("shown") is not None else done["seconds"]
    out = {"kind": "platform", "mode": mode, "commit": commit, "prefix": platform.prefix, "commands": run["commands"],
           "seconds": round(seconds, 2), "commands_per_second": round(run["commands"] / seconds, 1),
           "caught_up_after_s": round(done["seconds"], 2), "report_differs_at_rest": final_differs,
           "events": events, "events_per_second": round(events / seconds, 1),
           "records_consumed": done["records"], "answered_after_s": round(answered, 2),
           "answered_per_second": round(run["commands"] / answered, 1),
           "at_rest_after_s": round(rest, 1) if rest else None,
           "published_after_s": run["published_seconds"], "report_matches": done["matches"],
           "report_differs": done["differs"], "caught_up": done["caught_up"],
           "rejected": {k: v["count"] for k, v in run["rejected"].items()},
           "answers_last": run.get("answers_last"),
           "unhandled_types": run["unhandled_types"],
           "events_by_topic": events_by_topic, "events_by_type": events_by_type,
           "batches": {n: batch_phases(platform.logs[n], started_wall) for n in SERVICES}, "profiles": profiles,
           **res}
    if KEEP_TOPICS:  # e.g. for benchmarks/reporting_ingest.py --topics <prefix>
        say(f"platform ({mode}): topics kept under prefix {platform.prefix}")
    if KEEP_DATABASES:  # e.g. to count what the year wrote, collection by collection
        say(f"platform ({mode}): databases kept under prefix {platform.db_prefix}")
    if not KEEP_TOPICS and not KEEP_DATABASES:
        await platform.drop()
    elif not KEEP_DATABASES:
        await platform.drop_databases()
    elif not KEEP_TOPICS:
        await platform.drop_topics()
    return out


async def caught_up(platform: Platform, want: dict, started: float, wait_s: float) -> dict:
    """Until every service has lag 0 and backlog 0 and the year's district report matches.

    If the key figures (those `make demo` waits for) match and the services are idle but some
    other figure never does, that moment counts, and the differing figures are reported."""
    deadline = time.monotonic() + wait_s
    idle_since: float | None = None
    last_records = None
    state: dict = {}
    shown: float | None = None  # the first moment the whole report matched
    ms: list = []
    metrics_at = float("-inf")
    async with httpx.AsyncClient(timeout=10, headers=platform.headers) as http:
        while time.monotonic() < deadline:
            fresh = time.monotonic() - metrics_at >= POLL_S  # the report more often: it is the clock
            if fresh:
                ms, metrics_at = list((await platform.all_metrics(http)).values()), time.monotonic()
            report = await _report(http, platform.urls["reporting"], want)
            now = time.monotonic()
            idle = fresh and all(m is not None and m["lag_series"] and m["lag"] == 0 and m["backlog"] == 0 for m in ms)
            records = sum(sum(m["records"].values()) for m in ms if m)
            differs = _differs(report, want)
            key_ok = report is not None and not any(k in differs for k in KEY_FIGURES)
            if shown is None and not differs:
                shown = now - started
            state = {"records": int(records), "matches": not differs, "differs": differs, "caught_up": True,
                     "shown": shown,
                     "lag": {n: (m["lag"], m["backlog"]) if m else None for n, m in zip(SERVICES, ms)}}
            if idle and not differs:
                return state | {"seconds": now - started}
            if fresh:  # idleness is judged on the metrics, read once a second
                if idle and key_ok and records == last_records:
                    idle_since = idle_since or now
                    if now - idle_since > 10:
                        return state | {"seconds": idle_since - started}
                else:
                    idle_since = None
                last_records = records
            await asyncio.sleep(REPORT_POLL_S)
    say(f"warning: not caught up after {wait_s:.0f}s: {state}")
    return state | {"seconds": time.monotonic() - started, "caught_up": False}


async def at_rest(platform: Platform, started: float, wait_s: float, quiet_s: float = 15) -> float | None:
    """Seconds from the first publish until the last record was consumed, once nothing has been
    consumed for `quiet_s` with lag and backlog 0 (the delivery worker's notices come after the
    report); None if the platform is not at rest within `wait_s`."""
    deadline = time.monotonic() + wait_s
    last, changed = None, time.monotonic()
    async with httpx.AsyncClient(timeout=10) as http:
        while time.monotonic() < deadline:
            ms = list((await platform.all_metrics(http)).values())
            now = time.monotonic()
            idle = all(m is not None and m["lag"] == 0 and m["backlog"] == 0 for m in ms)
            records = sum(sum(m["records"].values()) for m in ms if m)
            if records != last or not idle:
                last, changed = records, now
            elif now - changed >= quiet_s:
                return changed - started
            await asyncio.sleep(1)
    say(f"warning: the platform was not at rest {wait_s:.0f}s after the report")
    return None


def _differs(report: dict | None, want: dict) -> dict:
    """The figures of the report that are not the simulator's: {figure: (got, expected)}."""
    return {k: (_figure(report, k), v) for k, v in want["figures"].items() if report is None or _figure(report, k) != v}


async def _report(http: httpx.AsyncClient, url: str, want: dict) -> dict | None:
    try:
        r = await http.get(f"{url}/api/v1/orgs/{want['org_id']}/report", params={"period": want["period"]})
    except httpx.HTTPError:
        return None
    return r.json() if r.status_code == 200 else None


# ---- the peers -------------------------------------------------------------------------------

async def run_peers(path: Path, kafka: str, limit: dict[str, int | None]) -> list[dict]:
    topic = f"peers{uuid.uuid4().hex[:6]}.commands"
    peers_py = str(ROOT / "benchmarks" / "peers.py")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KAFKA_BOOTSTRAP_SERVERS": kafka}
    fill = await asyncio.create_subprocess_exec(PY, peers_py, "fill", str(path), topic, env=env,
                                                stdout=asyncio.subprocess.PIPE)
    n = json.loads((await fill.communicate())[0])["messages"]
    out = []
    try:
        for peer in ("naive", "ceiling"):
            count = min(n, limit.get(peer) or n)
            say(f"{peer} peer: {count} of the file's {n} commands from {topic}")
            proc = await asyncio.create_subprocess_exec(PY, peers_py, peer, topic, str(count), env=env,
                                                        stdout=asyncio.subprocess.PIPE)
            sampler = Sampler({peer: proc.pid})
            stdout, _ = await proc.communicate()
            res = await sampler.stop()
            if proc.returncode:
                raise RuntimeError(f"the {peer} peer failed ({proc.returncode})")
            r = json.loads(stdout.decode().strip().splitlines()[-1])
            out.append({"kind": peer, **r, **res})
    finally:
        await delete_topics(kafka, [topic])
    return out


# ---- printing --------------------------------------------------------------------------------

def show_run(r: dict) -> None:
    if r.get("stalled"):
        print(f"  platform/{r['mode']:<6} at {r['commit']}: STALLED ({r['stalled']}); held: {r['held']}; "
              f"stacks: {r['stacks']}")
        print(f"      max RSS MB: {r['rss_max_mb']}")
        return
    if r["kind"] == "platform":
        print(f"  platform/{r['mode']:<6} at {r['commit']}")
        print(f"  platform/{r['mode']:<6} {r['commands']:>7} commands in {r['seconds']:>7.1f}s  "
              f"{r['commands_per_second']:>8,.0f} commands/s  {r['events_per_second']:>8,.0f} events/s  "
              f"(all answered after {r['answered_after_s']}s: {r['answered_per_second']:,.0f}/s; report {'matches' if r['report_matches'] else 'DIFFERS'}"
              f"{'' if r['caught_up'] else '; NOT CAUGHT UP: the clock stopped at --wait'})")
        print(f"      caught up (lag and outbox 0 everywhere at once, the report equal) after {r.get('caught_up_after_s')}s")
        if r.get("at_rest_after_s"):
            print(f"      at rest (nothing consumed for 15 s) after {r['at_rest_after_s']}s; the report then "
                  + ("still equal" if not r.get("report_differs_at_rest") else
                     f"DIFFERS (got, expected): {r['report_differs_at_rest']}"))
        if r["report_differs"]:
            print(f"      report figures that differ (got, expected): {r['report_differs']}")
        if r["rejected"]:
            print(f"      rejected: {r['rejected']}")
        if r.get("answers_last"):
            print(f"      the last 5 % of the answers, from {r['answers_last']['from_s']} s: {r['answers_last']['types']}")
        for name, b in r["batches"].items():
            if b.get("batches"):
                phases = "  ".join(f"{k} {v:.1f}s" for k, v in b["seconds"].items())
                print(f"      {name:<13} {b['records']:>6} records in {b['batches']:>4} batches "
                      f"({b['records_per_batch']:>5}/batch), last at {b['last_batch_s']:>6}s; batch time: {phases}")
                if b.get("largest_rise") or b.get("most_held"):
                    print(f"        memory: the largest rise from one batch line to the next {b.get('largest_rise')}; "
                          f"the most documents held {b.get('most_held')}")
        print(f"      batches run again (a conflict with another writer; a transient failure): {r.get('batch_retries')}")
        print(f"      events by topic: {r['events_by_topic']}")
        print(f"      events by type: {dict(list(r['events_by_type'].items())[:10])}")
    else:
        print(f"  {r['kind']:<15} {r['messages']:>7} messages in {r['seconds']:>7.1f}s  "
              f"{r['messages_per_second']:>8,.0f} messages/s")
    print(f"      max RSS MB: {r['rss_max_mb']}   CPU s: {r['cpu_s']}")
    if r.get("database_time"):
        print("      database time by service, collection and command (the largest first):")
        for line in r["database_time"]:
            print(f"        {line}")
        print(f"      database commands and seconds waited, by service: {r.get('database_commands')}")
    for name, prof in (r.get("profiles") or {}).items():
        if prof.get("samples"):
            print(f"      py-spy {name} ({prof['samples']} samples, {prof['file']}):")
            print("        self:  " + "; ".join(f"{f} {p}%" for f, p in prof["self_pct"][:8]))
            print("        total: " + "; ".join(f"{f} {p}%" for f, p in prof["total_pct"][:12]))


def summarise(results: list[dict]) -> dict:
    def med(kind: str, key: str, mode: str | None = None) -> float | None:
        xs = [r[key] for r in results
              if r["kind"] == kind and (mode is None or r.get("mode") == mode) and r.get(key) is not None]
        return statistics.median(xs) if xs else None

    stalled = [r for r in results if r.get("stalled")]
    results = [r for r in results if not r.get("stalled")]
    s: dict = {"stalled_runs": len(stalled)} if stalled else {}
    for mode in ("all", "ledger", "phases"):
        if med("platform", "commands_per_second", mode) is not None:
            s[f"platform_{mode}"] = {"commands_per_second": med("platform", "commands_per_second", mode),
                                     "events_per_second": med("platform", "events_per_second", mode),
                                     "seconds": med("platform", "seconds", mode),
                                     "answered_commands_per_second": med("platform", "answered_per_second", mode),
                                     "caught_up_after_s": med("platform", "caught_up_after_s", mode),
                                     "at_rest_after_s": med("platform", "at_rest_after_s", mode)}
    for peer in ("naive", "ceiling"):
        if med(peer, "messages_per_second") is not None:
            s[peer] = {"messages_per_second": med(peer, "messages_per_second")}
    # Ratios within each repetition first (the machine is shared), then their median.
    reps: dict[int, dict] = defaultdict(dict)
    for r in results:
        reps[r["rep"]][r["kind"] + (f"_{r['mode']}" if r["kind"] == "platform" else "")] = r
    for mode in ("all", "ledger", "phases"):
        ratios = [rep[f"platform_{mode}"]["commands_per_second"] / rep["naive"]["messages_per_second"]
                  for rep in reps.values() if f"platform_{mode}" in rep and "naive" in rep]
        shares = [rep[f"platform_{mode}"]["commands_per_second"] / rep["ceiling"]["messages_per_second"]
                  for rep in reps.values() if f"platform_{mode}" in rep and "ceiling" in rep]
        if ratios:
            s[f"platform_{mode}"]["x_naive"] = round(statistics.median(ratios), 3)
        if shares:
            s[f"platform_{mode}"]["share_of_ceiling"] = round(statistics.median(shares), 3)
    rss: dict[str, list[float]] = defaultdict(list)
    for r in results:
        for name, mb in r["rss_max_mb"].items():
            if name not in ("database", "kafka"):
                rss[name].append(mb)
    s["rss_max_mb"] = {n: max(v) for n, v in rss.items()}
    return s


def simulator_hash() -> str:
    """Of the simulator's sources: a file written by another version (other commands, other
    expected figures) is not replayed."""
    import hashlib
    h = hashlib.sha256()
    for f in sorted((ROOT / "simulator").glob("*.py")):
        if f.stem in ("__main__", "publisher", "answers", "progress", "guide"):
            continue  # they draw nothing
        h.update(f.read_bytes())
    return h.hexdigest()[:8]


def git_commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "shared", "services", "simulator"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return sha + ("+changes" if dirty else "")
    except OSError:
        return "?"


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--members", type=int, default=300)
    p.add_argument("--seed", type=int, default=2025)
    p.add_argument("--year", type=int, default=2025)
    p.add_argument("--file", help="the commands file (default: .data/bench/district-<seed>-<members>-<hash of "
                   "the simulator's code>.jsonl.gz, written when missing)")
    p.add_argument("--repeat", type=int, default=3, help="repetitions; medians are printed (default 3)")
    p.add_argument("--modes", default="all,phases",
                   help="platform runs, comma-separated: all (everything at once), ledger (the tree and the "
                        "ledger phase by phase, then the rest at once), phases (waiting for answers after every "
                        "phase) (default all,phases)")
    p.add_argument("--no-peers", action="store_true", help="the platform only")
    p.add_argument("--naive-limit", type=int, help="the naive peer consumes only the first N commands "
                   "(its rate is steady; a large district takes it long)")
    p.add_argument("--wait", type=float, default=900, help="seconds to wait for reporting after the answers")
    p.add_argument("--stall", type=float, default=300,
                   help="give a run up when no command is answered for this many seconds (default 300)")
    p.add_argument("--settle", type=float, default=600,
                   help="after the report: seconds to wait for the platform to come to rest (0: do not)")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="an extra setting for the services (e.g. BATCH_MAX_RECORDS=1000)")
    p.add_argument("--py-spy", type=Path, help="path of a py-spy executable (installed apart): the services' "
                   "stacks are dumped when a run stalls (artifacts/logs/*.stacks.txt)")
    p.add_argument("--profile", action="store_true", help="with --py-spy: profile every service during the "
                   "platform runs, until the year is shown (artifacts/logs/*.pyspy.txt) and print the top functions")
    p.add_argument("--keep-topics", action="store_true", help="keep the platform runs' topics (their prefix is "
                   "printed), e.g. to replay reporting's input with benchmarks/reporting_ingest.py")
    p.add_argument("--keep-databases", action="store_true", help="keep the platform runs' databases (their prefix "
                   "is printed)")
    p.add_argument("--out", help="append every run and the summary as JSON lines to this file")
    args = p.parse_args()
    global KEEP_TOPICS, KEEP_DATABASES
    KEEP_TOPICS = args.keep_topics
    KEEP_DATABASES = args.keep_databases
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    mongo = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")

    path = Path(args.file or ROOT / f".data/bench/district-{args.seed}-{args.members}-{simulator_hash()}.jsonl.gz")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        n = write(Generated(args.seed, args.members, args.year), path)
        say(f"wrote {n} commands to {path} in {time.monotonic() - t0:.1f}s")
    header = FromFile(path).header
    # As `make demo`: the district's records begin on the first day of the simulated year.
    extra_env = {"RECORDS_START": f"{header['year']}-01-01"} | dict(e.split("=", 1) for e in args.env)
    modes = [m for m in args.modes.split(",") if m]
    meta = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": git_commit(),
            "cores": os.cpu_count(), "file": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
            "members": header["members"], "seed": header["seed"], "env": extra_env}
    print(f"end to end: {meta}", flush=True)
    results = []
    for rep in range(1, args.repeat + 1):
        print(f"repetition {rep}/{args.repeat}", flush=True)
        batch = [await run_platform(path, m, kafka, mongo, extra_env, args.wait, args.py_spy, args.profile,
                                    args.settle, args.stall) for m in modes]
        if not args.no_peers:
            batch += await run_peers(path, kafka, {"naive": args.naive_limit})
        for r in batch:
            r["rep"] = rep
            show_run(r)
            sys.stdout.flush()
        results += batch
        if args.out:
            with open(args.out, "a", encoding="utf-8") as f:
                for r in batch:
                    f.write(json.dumps(meta | r, ensure_ascii=False, default=list) + "\n")
    s = summarise(results)
    print("medians over the repetitions (ratios taken within each repetition):")
    print(json.dumps(s, indent=1, ensure_ascii=False))
    for mode in modes:
        m = s.get(f"platform_{mode}")
        if m and "x_naive" in m:
            print(f"platform/{mode}: {m['commands_per_second']:,.1f} commands/s = {m['x_naive']:.3g}× the naive peer, "
                  f"{m.get('share_of_ceiling', 0):.2%} of the ceiling")
    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(meta | {"kind": "summary", **s}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
