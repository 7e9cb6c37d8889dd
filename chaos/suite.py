"""The runs of the suite, and the table.

A plan is a list of runs on one stack: first the clean run (no fault but the misbehaving gateway,
which every run meets alike), then runs with faults. Every run sends the same scenario renamed by
its tag, waits until the platform is at rest, and is compared with the clean run and with the
simulator's expectations (`compare`).
"""
import json
import random
import re
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from chaos import fuzz as fz
from chaos.compare import Outcome, compare, self_check
from chaos.gateway import World
from chaos.observe import Log, addressing, at_rest, reports
from chaos.scenario import AGGREGATE_ID, Names, Run, Scenario
from chaos.stack import ROOT, Ports, Stack
from chaos.stream import Fault, Publisher, stream
from shared.auth.local import auth_headers

ARTIFACTS = ROOT / "artifacts" / "chaos"


@dataclass
class RunPlan:
    tag: str
    kind: str  # the table's row: clean | control | kill | broker | database | fuzz | mixed
    faults: list[Fault] = field(default_factory=list)
    fuzz_per_topic: int = 0


@dataclass
class Plan:
    name: str
    seed: int = 2025
    members: int = 30
    year: int = 2025
    kills: int = 50
    broker: tuple[bool, ...] = (False, True)  # one run per restart: SIGTERM, SIGKILL
    broker_down_s: float = 10
    database_down_s: float | None = 30
    fuzz_per_topic: int = 10_000
    mixed: bool = False  # short: every fault in one run
    # The commands that follow a delivery (AFTER in chaos/stream.py) are sent in the background as
    # their deliveries come out, instead of holding their phase (`Gate`), with the same commands.
    # (On a loaded machine the stream was no shorter for it: the platform's pace dominates.)
    gate_in_background: bool = False
    months: int = 12  # the stream: the whole year, or its first months
    control: bool = True  # a second clean run: what differs without any fault is timing, not a fault
    # How long to wait before calling something stuck: no answer in a phase, not at rest, a fault
    # not recovered from, a fuzzed message not answered.
    stall_timeout_s: float = 240
    rest_timeout_s: float = 600
    recovery_timeout_s: float = 600
    fuzz_timeout_s: float = 180

    @classmethod
    def short(cls) -> "Plan":
        # January (and February, where January's last facts are sent): about 440 commands a run.
        # Its waits are the full plan's: on a loaded machine (load 40 on two cores) the platform took
        # more than 150 s to come to rest after three kills and a broker restart, and the run
        # failed for it; on a quiet one it is at rest in seconds and the bounds cost nothing.
        return cls("short", kills=3, broker=(False,), broker_down_s=5, database_down_s=None, fuzz_per_topic=1000,
                   mixed=True, months=1, control=False, fuzz_timeout_s=180)

    @classmethod
    def full(cls) -> "Plan":
        return cls("full", gate_in_background=True)


@dataclass
class RunResult:
    tag: str
    kind: str
    commands: int = 0
    fuzz_sent: int = 0
    faults: list[dict] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    worker: dict = field(default_factory=dict)  # of lost and duplicated: the delivery worker's events
    copies: int = 0
    crashes: list[dict] = field(default_factory=list)
    fuzz: dict | None = None
    gateway: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)


class Registry:
    """Every run's names, so the gateway can tell which run a request belongs to."""

    def __init__(self):
        self.by_id: dict[str, Names] = {}

    def add(self, names: Names) -> None:
        for renamed in names.aggregates:
            self.by_id[renamed] = names

    def resolve(self, text: str) -> tuple[str | None, str]:
        tag = None

        def back(m):
            nonlocal tag
            names = self.by_id.get(m.group(0))
            if names is None:
                return m.group(0)
            tag = names.tag
            return names.aggregates[m.group(0)]

        canonical = AGGREGATE_ID.sub(back, text)
        return tag, canonical


class Suite:
    def __init__(self, plan: Plan, ports: Ports, data: Path, say=None, rng_seed: int | None = None):
        self.plan, self.ports = plan, ports
        self.rng = random.Random(rng_seed if rng_seed is not None else time.time_ns())
        self.say = say or (lambda text: print(f"[chaos] {text}", flush=True))
        self.registry = Registry()
        # 2 s: long enough that a loaded machine does not turn an answer into a timeout no fate decided
        # (the SMTP server answers from the suite's own process), short enough for quick runs.
        self.world = World(ports.gateway, ports.smtp, send_timeout=2.0, resolve=self.registry.resolve)
        settings = {
            # A command waits for its references far longer than a rebalance after a kill takes.
            "REFERENCE_WAIT": "120s",
            # Deliveries: no quiet hours (the result must not depend on the time of day), quick
            # retries, and an attempt left `sending` by a killed process settled within half a minute
            # (at 10 s, a loaded machine's slow rounds were taken for orphans: 111–459 deliveries a
            # full-year run at load 25–40, outcome unknown, so runs differed without a fault).
            "NOTIFY_QUIET_HOURS": "00:00-00:00", "NOTIFY_RETRY_BASE_SECONDS": "1", "NOTIFY_MAX_ATTEMPTS": "2",
            "NOTIFY_ORPHAN_AFTER_SECONDS": "30", "NOTIFY_POLL_SECONDS": "0.5", "NOTIFY_REMINDER_SETTLE_SECONDS": "10",
            # Reporting announces an alert's change once it has stood as long (finding 29): longer
            # than the topics drift apart in a run with kills, so both runs announce the same.
            "REPORTING_ALERT_SETTLE_SECONDS": "10",
            "LOG_LEVEL": "INFO",
            **self.world.settings(),
        }
        self.stack = Stack(data, ports, instances=2, settings=settings)
        self.log: Log | None = None
        self.scenario: Scenario | None = None
        self.clean: Outcome | None = None
        self.stream_estimate = 40.0  # seconds a stream takes without faults (the shortest seen)
        self.results: list[RunResult] = []
        self.started = time.monotonic()
        self.date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        self.commit = _commit()
        self.out = ARTIFACTS / plan.name
        self.problems: list[str] = []

    # ---- the plan ---------------------------------------------------------------------------------

    def runs(self) -> list[RunPlan]:
        """The runs after the clean one: first a second clean run (what differs without any fault
        is the platform's timing, not a fault's doing), then the faults."""
        control = [RunPlan(f"{self.plan.name}-control", "control")] if self.plan.control else []
        return [*control, *self._faulted()]

    def _faulted(self) -> list[RunPlan]:
        p, r = self.plan, self.rng
        instances = self.stack.names()
        # a fraction of the stream: made seconds when the run starts (`_run`), from how long the
        # streams have taken so far, so that the fault lands while the year streams in
        moment = lambda: round(r.uniform(0.05, 0.85), 3)
        kill = lambda: Fault("kill", moment(), target=r.choice(instances), restart_after=round(r.uniform(1, 8), 1))
        if p.mixed:
            faults = [kill() for _ in range(p.kills)]
            faults += [Fault("broker", moment(), duration=p.broker_down_s, hard=h) for h in p.broker]
            if p.database_down_s:
                faults.append(Fault("database", moment(), duration=p.database_down_s))
            return [RunPlan(f"{p.name}-mixed", "mixed", faults, p.fuzz_per_topic)]
        # The kills come last: a suite cut short by time (its runs are kept one file each, and
        # `python -m chaos table` rebuilds the table from them) still has every other fault.
        plans = [RunPlan(f"{p.name}-broker-{'kill' if h else 'stop'}", "broker",
                         [Fault("broker", moment(), duration=p.broker_down_s, hard=h)]) for h in p.broker]
        if p.database_down_s:
            plans.append(RunPlan(f"{p.name}-database", "database",
                                 [Fault("database", moment(), duration=p.database_down_s)]))
        if p.fuzz_per_topic:
            plans.append(RunPlan(f"{p.name}-fuzz", "fuzz", [], p.fuzz_per_topic))
        plans += [RunPlan(f"{p.name}-kill-{i + 1}", "kill", [kill()]) for i in range(p.kills)]
        return plans

    # ---- running -------------------------------------------------------------------------------

    async def main(self) -> dict:
        self.out.mkdir(parents=True, exist_ok=True)
        for old in self.out.glob("*.json"):  # a folder holds one suite's runs
            old.unlink()
        self.scenario = Scenario.draw(self.plan.seed, self.plan.members, self.plan.year, self.plan.months)
        self.say(f"scenario: seed {self.plan.seed}, {self.plan.members} members, "
                 f"{len(self.scenario.commands)} commands a run")
        self.world.start()
        try:
            t = time.monotonic()
            self.say(f"starting the chaos stack (data {self.stack.data}, Kafka {self.stack.kafka}, "
                     f"SecantusDB {self.stack.mongo}, services from :{self.ports.services}, 2 instances each)")
            await self.stack.up()
            self.say(f"stack up in {time.monotonic() - t:.0f}s")
            self.log = Log(self.stack.kafka)
            await self.log.start()
            try:
                await self._clean()
                for plan in self.runs():
                    try:
                        await self._run(plan)
                    except Exception as exc:  # the suite's own failure: said, and the next run goes on
                        res = RunResult(plan.tag, plan.kind, faults=[asdict(f) for f in plan.faults],
                                        problems=[f"the run could not be completed: {type(exc).__name__}: {exc}"])
                        self._done(res)
                        await self.stack.restart_all_services()
            finally:
                await self.log.stop()
        finally:
            try:
                await self.stack.down()
            finally:
                self.world.stop()
        summary = self.summary()
        (self.out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1, default=str))
        return summary

    async def _clean(self) -> None:
        run = self._renamed(f"{self.plan.name}-clean")
        res = RunResult(run.tag, "clean")
        t = time.monotonic()
        streamed = await stream(run, self.stack, self.log, [], self.say, stall_timeout=self.plan.stall_timeout_s,
                                gate_in_background=self.plan.gate_in_background)
        self.stream_estimate = max(10.0, streamed.published_s)
        self.say(f"clean run streamed in {streamed.published_s}s; waiting for the platform to be at rest")
        res.commands = streamed.sent
        res.seconds["stream"] = streamed.published_s
        res.seconds["rest"] = await at_rest(self.stack.kafka, self.stack.mongo, self.log,
                                             timeout=self.plan.rest_timeout_s, say=self.say)
        self.clean = await self._outcome(run)
        res.problems = self_check(self.clean)
        res.crashes = self._crashes(t)
        res.gateway = self._gateway(run.tag)
        res.lost = len(self.clean.unanswered)
        res.duplicated = len(self.clean.differing_records) + len(res.gateway["sent_twice"])
        res.copies = self.clean.copies
        res.details = {"figures not as intended": self.clean.figure_mismatches(),
                       "deliveries with an unknown outcome": sorted(self.clean.unknown_outcome),
                       "events compared": sum(self.clean.derived.values()),
                       "worker events": sum(self.clean.worker.values())}
        res.seconds["total"] = round(time.monotonic() - t, 1)
        self._done(res)

    async def _run(self, plan: RunPlan) -> None:
        if not all(self.stack.running().values()):
            await self.stack.restart_services()
        run = self._renamed(plan.tag)
        res = RunResult(run.tag, plan.kind)
        t = time.monotonic()
        for f in plan.faults:
            f.at = round(f.at * self.stream_estimate, 1)
        self.say(f"run {plan.tag}: " + ("; ".join(f"{f.kind} at {f.at}s" + (f" ({f.target})" if f.target else "")
                                                  for f in plan.faults) or "no fault")
                 + (f"; {plan.fuzz_per_topic} fuzzed messages on each commands topic" if plan.fuzz_per_topic else ""))
        fuzz_state: dict = {}
        also = self._fuzz(plan.fuzz_per_topic, fuzz_state) if plan.fuzz_per_topic else None
        streamed = await stream(run, self.stack, self.log, plan.faults, self.say, also=also,
                                stall_timeout=self.plan.stall_timeout_s, recovery_timeout=self.plan.recovery_timeout_s,
                                gate_in_background=self.plan.gate_in_background)
        res.commands = streamed.sent
        res.seconds["stream"] = streamed.published_s
        if not plan.faults:
            self.stream_estimate = min(self.stream_estimate, streamed.published_s)
        self.say(f"run {plan.tag} streamed in {streamed.published_s}s ({streamed.resent} sends repeated)")
        if streamed.stalled:
            res.problems.append(streamed.stalled)
        if not all(self.stack.running().values()):
            await self.stack.restart_services()
        stuck = False
        try:
            res.seconds["rest"] = await at_rest(self.stack.kafka, self.stack.mongo, self.log,
                                             timeout=self.plan.rest_timeout_s, say=self.say)
        except TimeoutError as exc:
            stuck = True
            res.problems.append(str(exc)[:2000])
        if fuzz_state.get("sent"):
            account = await fz.wait_accounted(fuzz_state["sent"], self.log, timeout=self.plan.fuzz_timeout_s,
                                               say=self.say)
            res.fuzz = account.table()
            res.fuzz_sent = account.sent
            if fuzz_state.get("setup_missing"):
                res.problems.append(f"fuzz tree not answered: {fuzz_state['setup_missing'][:5]}")
            if account.unanswered:
                res.problems.append(f"fuzz: {len(account.unanswered)} messages neither answered nor dead-lettered, "
                                    f"e.g. {account.unanswered[:3]}")
            if account.unsent:
                res.problems.append(f"fuzz: {len(account.unsent)} messages the suite failed to send, "
                                    f"e.g. {account.unsent[:3]}")
            if account.without_reason:
                res.problems.append(f"fuzz: {len(account.without_reason)} answers without a reason, "
                                    f"e.g. {account.without_reason[:3]}")
        outcome = await self._outcome(run)
        verdict = compare(self.clean, outcome)
        res.lost, res.duplicated, res.copies = verdict["lost"], verdict["duplicated"], verdict["copies"]
        res.worker = verdict["worker"]
        res.problems += verdict["problems"]
        res.details = verdict["details"]
        res.gateway = self._gateway(run.tag)
        res.duplicated += len(res.gateway["sent_twice"])
        res.faults = [asdict(f) for f in plan.faults]
        for f in plan.faults:
            if f.error:
                res.problems.append(f"fault {f.describe()} could not be injected: {f.error}")
            if not f.recovered:
                res.problems.append(f"no recovery from {f.describe()}")
            if f.commits_while_down:
                res.problems.append(f"offsets committed while the database was down: {f.commits_while_down}")
        res.crashes = self._crashes(t)
        res.seconds["total"] = round(time.monotonic() - t, 1)
        self.log.forget(run.names.correlation_id)
        self._done(res)
        if stuck:
            self.say("the platform did not come to rest: every service instance is started afresh for the next run")
            await self.stack.restart_all_services()

    async def _fuzz(self, per_topic: int, state: dict) -> None:
        fuzzer = fz.Fuzzer(self.rng.randrange(10**6), per_topic)
        publisher = Publisher(self.stack.kafka)
        await publisher.start()
        try:
            state["setup_missing"] = await fz.setup(fuzzer, publisher, self.log, timeout=self.plan.fuzz_timeout_s)
            state["sent"] = await fz.send(fuzzer, publisher, self.log)
            self.say(f"fuzz: {len(state['sent'])} messages sent")
        finally:
            await publisher.stop()

    # ---- helpers -------------------------------------------------------------------------------

    def _renamed(self, tag: str) -> Run:
        run = self.scenario.renamed(tag)
        self.registry.add(run.names)
        return run

    async def _outcome(self, run: Run) -> Outcome:
        urls = [self.stack.url("reporting", k) for k in range(1, self.stack.instances + 1)
                if self.stack.running().get(f"reporting-{k}")]
        year = str(self.plan.year)
        got, alerts, errors = await reports(urls, run.org_ids, sorted({e["period"] for e in run.expectations}),
                                            f"{year}-12-31", run.district_id,
                                            headers=auth_headers(self.stack.data))  # stack.sh wrote the token
        addressed = await addressing(self.stack.mongo, run.names.correlation_id)
        return Outcome(run, list(self.log.runs.get(run.names.correlation_id, [])),
                       self.log.answered(c.id for c in run.commands), got, alerts, errors, addressed)

    def _crashes(self, since_monotonic: float) -> list[dict]:
        since = time.time() - (time.monotonic() - since_monotonic)
        self.stack.check()
        return [{"process": c.process, "pid": c.pid, "log_tail": c.log_tail[-3000:]}
                for c in self.stack.crashes if c.at >= since]

    def _gateway(self, tag: str) -> dict:
        faults = self.world.faults(tag)
        return {"requests": sum(faults.values()), "fates": dict(faults),
                "faults": sum(n for f, n in faults.items() if f not in ("ok", "known")),
                "sent_twice": self.world.sent_twice(tag)}

    def _done(self, res: RunResult) -> None:
        self.results.append(res)
        (self.out / f"{res.tag}.json").write_text(json.dumps(asdict(res), ensure_ascii=False, indent=1, default=str))
        rec = [f["recovery_s"] for f in res.faults if f.get("recovery_s") is not None]
        self.say(f"run {res.tag} done in {res.seconds.get('total')}s: {res.commands} commands, lost {res.lost}, "
                 f"duplicated {res.duplicated}, copies {res.copies}, crashes {len(res.crashes)}"
                 + (f", recovered in {rec}s" if rec else "")
                 + (f", fuzz {res.fuzz['rejected']} rejected / {res.fuzz['dead_lettered']} dead-lettered / "
                    f"{res.fuzz['accepted']} accepted / {res.fuzz['unanswered']} unanswered" if res.fuzz else ""))
        for p in res.problems:
            self.say(f"  ! {p[:600]}")

    # ---- the table -------------------------------------------------------------------------------

    def summary(self) -> dict:
        return {"plan": self.plan.name, "date": self.date, "commit": self.commit, "seed": self.plan.seed,
                "members": self.plan.members, "minutes": round((time.monotonic() - self.started) / 60, 1),
                **summarize(self.results, self.plan.database_down_s)}


LABELS = {"clean": "clean run (slow/failing gateway)", "control": "no fault (a second clean run)",
          "kill": "SIGKILL of a service instance", "broker": "broker restart", "database": "database down {s:.0f}s",
          "fuzz": "fuzzed messages", "mixed": "kills + broker restart + fuzz in one run"}
WORKER = re.compile(r"delivery worker's events as \(type, notice, member\): (\d+) missing .*?, (\d+) more")


def summarize(results: list[RunResult], database_down_s: float | None) -> dict:
    """The table's rows (one per kind of run), the totals and every run's problems."""
    rows = []
    for kind in LABELS:
        rs = [r for r in results if r.kind == kind]
        if not rs:
            continue
        faults = sum(len(r.faults) for r in rs)
        if kind == "clean":
            faults = sum(r.gateway.get("faults", 0) for r in rs)
        downs = [f.get("duration") for r in rs for f in r.faults if f.get("kind") == "database"]
        rec = [f["recovery_s"] for r in rs for f in r.faults if f.get("recovery_s") is not None]
        unrecovered = sum(1 for r in rs for f in r.faults if not f.get("recovered"))
        fuzz = [r.fuzz for r in rs if r.fuzz]
        rows.append({
            "scenario": LABELS[kind].format(s=(downs or [database_down_s or 0])[0]), "runs": len(rs), "faults": faults,
            "gateway_faults": sum(r.gateway.get("faults", 0) for r in rs),
            "fuzzed": sum(f["sent"] for f in fuzz),
            "commands": sum(r.commands for r in rs) + sum(f["sent"] for f in fuzz),
            "lost": sum(r.lost for r in rs), "duplicated": sum(r.duplicated for r in rs),
            "lost_worker": sum(r.worker.get("lost", 0) for r in rs),
            "duplicated_worker": sum(r.worker.get("duplicated", 0) for r in rs),
            "copies": sum(r.copies for r in rs),
            "rejected": sum(f["rejected"] for f in fuzz), "dead_lettered": sum(f["dead_lettered"] for f in fuzz),
            "fuzz_unanswered": sum(f["unanswered"] + f["without_reason"] for f in fuzz),
            "crashes": sum(len(r.crashes) for r in rs),
            "recovery_median_s": round(statistics.median(rec), 1) if rec else None,
            "recovery_max_s": max(rec) if rec else None, "unrecovered": unrecovered,
            "problems": sum(len(r.problems) for r in rs),
        })
    return {"rows": rows,
            "totals": {k: sum(r[k] for r in rows) for k in ("lost", "duplicated", "crashes", "fuzz_unanswered",
                                                            "unrecovered")},
            "problems": {r.tag: r.problems for r in results if r.problems}}


def rebuild(folder: Path) -> dict:
    """The summary again from the runs' files in artifacts/chaos/<plan>/ (e.g. after a change of
    the table, or of a suite stopped before its end)."""
    results = []
    for path in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime):
        if path.name == "summary.json":
            continue
        data = json.loads(path.read_text())
        res = RunResult(**{k: v for k, v in data.items() if k in RunResult.__dataclass_fields__})
        if not res.worker:
            m = next((WORKER.search(p) for p in res.problems if WORKER.search(p)), None)
            res.worker = {"lost": int(m.group(1)), "duplicated": int(m.group(2))} if m else {}
        results.append(res)
    old = json.loads((folder / "summary.json").read_text()) if (folder / "summary.json").exists() else {}
    return {**{k: old.get(k) for k in ("plan", "date", "commit", "seed", "members", "minutes")},
            "plan": old.get("plan") or folder.name, **summarize(results, None)}


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "services", "shared"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return out.stdout.strip() + (" (services/shared modified)" if dirty else "")
    except OSError:
        return "?"


def table(summary: dict) -> str:
    """The table, in Markdown (it reads as plain text too)."""
    head = ("| scenario | runs | faults injected | commands sent | lost | duplicated effects | rejected / "
            "dead-lettered (unanswered) | crashes | time to recover, median / max |")
    lines = [head, "|" + "---|" * 9]
    # "(n of the worker's)": of those, the delivery worker's own events, compared as (type, notice, member)
    for r in summary["rows"]:
        rec = "—" if r["recovery_median_s"] is None else f"{r['recovery_median_s']} s / {r['recovery_max_s']} s"
        if r["unrecovered"]:
            rec += f" ({r['unrecovered']} did not)"
        fuzz = "—" if not r["fuzzed"] else (f"{r['rejected']:,} / {r['dead_lettered']:,} of {r['fuzzed']:,} "
                                           f"({r['fuzz_unanswered']})")
        faults = f"{r['faults']:,}"
        if r["scenario"].startswith("clean"):
            faults += " gateway"
        worker = lambda n: f" ({n} of the worker's)" if n else ""
        lines.append(f"| {r['scenario']} | {r['runs']} | {faults} | {r['commands']:,} | "
                     f"{r['lost']}{worker(r.get('lost_worker', 0))} | "
                     f"{r['duplicated']}{worker(r.get('duplicated_worker', 0))} | {fuzz} | {r['crashes']} | {rec} |")
    return "\n".join(lines)
