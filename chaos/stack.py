"""The suite's own stack, driven through `infra/local/stack.sh` with ports and a data folder of its own.

Every address is the suite's (Kafka 29092/29093, SecantusDB 37117, services 28001.. by default,
shifted by `offset` for a second suite on one machine) and the data lives under /tmp: the stack
other engineers use on the default ports (9092, 27017, 8001-8004) and `.data/` is never touched.

The watchdog looks at every process of the stack twice a second. A process that is gone without
the suite having killed or stopped it has crashed: that is counted, with the end of its log.
"""
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from shared.kafka_auth import remember_secrets
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
STACK_SH = ROOT / "infra" / "local" / "stack.sh"
SERVICES = ("members", "activities", "notifications", "reporting")
DEFAULT_PORTS = {9092, 9093, 27017, *range(8001, 8005), *range(8011, 8015), *range(8021, 8025)}


@dataclass(frozen=True)
class Ports:
    kafka: int = 29092
    controller: int = 29093
    mongo: int = 37117
    services: int = 28001  # members; activities +1, notifications +2, reporting +3; instance k +10*(k-1)
    gateway: int = 28091
    smtp: int = 28092

    @classmethod
    def shifted(cls, offset: int) -> "Ports":
        base = cls()
        return cls(*(getattr(base, f) + offset for f in cls.__dataclass_fields__))

    def service(self, name: str, k: int = 1) -> int:
        return self.services + SERVICES.index(name) + 10 * (k - 1)

    def all(self, instances: int) -> list[int]:
        return [*self.stack(instances), self.gateway, self.smtp]

    def stack(self, instances: int) -> list[int]:
        """The ports stack.sh starts servers on."""
        return [self.kafka, self.controller, self.mongo,
                *(self.service(s, k) for s in SERVICES for k in range(1, instances + 1))]


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _alive(pid: int) -> bool:
    """Running and not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


@dataclass
class Crash:
    process: str
    pid: int
    at: float
    log_tail: str


@dataclass
class Stack:
    data: Path
    ports: Ports = field(default_factory=Ports)
    instances: int = 2
    settings: dict[str, str] = field(default_factory=dict)  # the services' environment
    crashes: list[Crash] = field(default_factory=list)
    _expected_down: set[int] = field(default_factory=set)
    _known: dict[str, int] = field(default_factory=dict)
    _watch: asyncio.Task | None = None
    _restarting: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        used = DEFAULT_PORTS & set(self.ports.all(self.instances))
        if used:
            raise ValueError(f"the chaos stack must not use the default stack's ports: {sorted(used)}")
        if self.data.resolve() in ((ROOT / ".data").resolve(), ROOT.resolve()):
            raise ValueError("the chaos stack needs a data folder of its own, not the default .data/")
        # stack.sh secures its Kafka and writes the credentials there: this process's clients use them.
        remember_secrets(self.kafka, self.data / "secrets" / "kafka")

    # ---- addresses ----------------------------------------------------------------------------

    @property
    def kafka(self) -> str:
        return f"127.0.0.1:{self.ports.kafka}"

    @property
    def mongo(self) -> str:
        return f"mongodb://127.0.0.1:{self.ports.mongo}/"

    def url(self, service: str, k: int = 1) -> str:
        return f"http://127.0.0.1:{self.ports.service(service, k)}"

    def names(self) -> list[str]:
        return [f"{s}-{k}" for s in SERVICES for k in range(1, self.instances + 1)]

    def env(self) -> dict[str, str]:
        # Nothing of the caller's deployment leaks in (a KAFKA_BOOTSTRAP_SERVERS of the default
        # stack, a TOPIC_PREFIX, NOTIFY_* of a developer's shell): only the suite's settings.
        ours = {n.upper() for n in Settings.model_fields}
        env = {k: v for k, v in os.environ.items()
               if k.upper() not in ours and not k.startswith(("NOTIFY_", "REPORTING_", "MEMBERS_", "ACTIVITIES_",
                                                              "NOTIFICATIONS_"))}
        env.update({
            "SUNSET_DATA_DIR": str(self.data), "INSTANCES": str(self.instances),
            "KAFKA_PORT": str(self.ports.kafka), "KAFKA_CONTROLLER_PORT": str(self.ports.controller),
            "MONGO_PORT": str(self.ports.mongo), "KAFKA_BOOTSTRAP_SERVERS": self.kafka, "MONGODB_URL": self.mongo,
            **{f"{s.upper()}_PORT": str(self.ports.service(s)) for s in SERVICES},
            **self.settings,
        })
        return env

    # ---- stack.sh -----------------------------------------------------------------------------

    async def sh(self, command: str, timeout: float = 300) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        with open(self.data / "stack-commands.log", "ab") as log:
            log.write(f"\n$ stack.sh {command}  ({time.strftime('%H:%M:%S')})\n".encode())
            log.flush()
            proc = await asyncio.create_subprocess_exec(str(STACK_SH), command, env=self.env(), cwd=ROOT,
                                                        stdout=log, stderr=log)
            try:
                rc = await asyncio.wait_for(proc.wait(), timeout)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
                raise RuntimeError(f"stack.sh {command} did not finish in {timeout:.0f}s "
                                   f"(see {self.data / 'stack-commands.log'})")
        if rc != 0:
            raise RuntimeError(f"stack.sh {command} failed ({rc}): see {self.data / 'stack-commands.log'}")

    async def up(self, fresh: bool = True) -> None:
        busy = [p for p in self.ports.stack(self.instances) if not port_free(p)]
        if busy:
            raise RuntimeError(f"ports of the chaos stack are in use: {busy} (another chaos run? "
                               f"`SUNSET_DATA_DIR={self.data} infra/local/stack.sh down`, or choose --port-offset)")
        if fresh and self.data.exists():
            shutil.rmtree(self.data)
        await self.sh("up", timeout=900)
        self._refresh()
        self._watch = asyncio.create_task(self._watchdog())

    async def down(self) -> None:
        if self._watch:
            self._watch.cancel()
            with contextlib.suppress(BaseException):
                await self._watch
            self._watch = None
        self._expected_down.update(self._known.values())
        await self.sh("down", timeout=120)

    # ---- faults -------------------------------------------------------------------------------

    def pid(self, name: str) -> int | None:
        try:
            return int((self.data / "run" / f"{name}.pid").read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def kill(self, name: str) -> int:
        """SIGKILL one process of the stack (e.g. `members-2`, `kafka`); returns its pid."""
        pid = self.pid(name)
        if pid is None or not _alive(pid):
            raise RuntimeError(f"{name} is not running")
        self._expected_down.add(pid)
        os.kill(pid, signal.SIGKILL)
        return pid

    async def restart_services(self) -> None:
        """Start every service instance that is not running (as a supervisor would); one at a time."""
        async with self._restarting:
            try:
                await self.sh("services", timeout=300)
            finally:
                self._refresh()

    async def restart_all_services(self) -> None:
        """Stop every service instance and start them again (after a run that did not come to
        rest, so the next run starts from a platform that works)."""
        async with self._restarting:
            self._expected_down.update(pid for name, pid in self._known.items() if name not in ("kafka", "secantus"))
            await self.sh("stop-services", timeout=120)
            try:
                await self.sh("services", timeout=300)
            finally:
                self._refresh()

    async def stop_kafka(self) -> None:
        self._expect("kafka")
        await self.sh("stop-kafka", timeout=60)

    async def start_kafka(self) -> None:
        await self.sh("start-kafka", timeout=180)
        self._refresh()

    async def stop_mongo(self) -> None:
        self._expect("secantus")
        await self.sh("stop-mongo", timeout=60)

    async def start_mongo(self) -> None:
        await self.sh("start-mongo", timeout=120)
        self._refresh()

    def _expect(self, name: str) -> None:
        pid = self.pid(name)
        if pid:
            self._expected_down.add(pid)

    # ---- the watchdog -------------------------------------------------------------------------

    def _refresh(self) -> None:
        for name in [*self.names(), "kafka", "secantus"]:
            pid = self.pid(name)
            if pid and _alive(pid):
                self._known[name] = pid

    def running(self) -> dict[str, bool]:
        return {n: bool(self.pid(n) and _alive(self.pid(n))) for n in self.names()}

    def check(self) -> list[Crash]:
        """Processes gone without the suite's doing since the last look."""
        found = []
        for name, pid in list(self._known.items()):
            if _alive(pid):
                continue
            del self._known[name]
            if pid in self._expected_down:
                continue
            log = self.data / "logs" / f"{name}.log"
            if name == "kafka":
                log = self.data / "kafka" / "logs" / "stdout.log"
            elif name == "secantus":
                log = self.data / "secantus" / "secantus.log"
            tail = ""
            with contextlib.suppress(OSError):
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            crash = Crash(name, pid, time.time(), tail)
            self.crashes.append(crash)
            found.append(crash)
        self._refresh()
        return found

    async def _watchdog(self) -> None:
        while True:
            for c in self.check():
                print(f"[chaos] CRASH: {c.process} (pid {c.pid}) exited by itself", flush=True)
            await asyncio.sleep(0.5)
