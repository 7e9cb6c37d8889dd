"""The four services as real processes (uvicorn), isolated by topic and database prefixes."""
import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from shared.infra.kafka_acls import secure_prefix
from shared.kafka_auth import secrets_dir_for
from tests.infra import ROOT, Infra
from tests.support import auth

ARTIFACTS = ROOT / "artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServiceProcess:
    """One process of a service. `instance` names it among several of the same service under one
    prefix (they share the consumer groups): it sets INSTANCE_ID and gives it a log of its own."""

    def __init__(self, name: str, infra: Infra, prefix: str, extra_env: dict[str, str] | None = None,
                 instance: str | None = None):
        self.name, self.prefix, self.instance = name, prefix, instance
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": infra.kafka, "MONGODB_URL": infra.mongo,
                    "TOPIC_PREFIX": prefix, "DATABASE_PREFIX": prefix.replace(".", "_"),
                    "AUTH_JWKS": auth.jwks_file(),  # tokens of tests/support/auth.py
                    "BATCH_TIMEOUT_MS": "20",
                    # Rejections for references that never arrive come after this wait; tests that
                    # publish out of order set a longer one.
                    "REFERENCE_WAIT": "3s", "PARKED_SWEEP_S": "0.5",
                    # A reminder waits this long for its alert to stand (production: 5 minutes), and
                    # an alert's change this long before reporting announces it (production: 2).
                    "NOTIFY_REMINDER_SETTLE_SECONDS": "2", "REPORTING_ALERT_SETTLE_SECONDS": "2",
                    **(extra_env or {}),
                    **({"INSTANCE_ID": instance} if instance else {})}
        # A secured stack: the service's own credentials (KAFKA_SECRETS_DIR), and the prefix's ACLs
        # and topics set up before it starts (a service may not create topics).
        self.bootstrap, self.secrets = infra.kafka, secrets_dir_for(infra.kafka)
        if self.secrets is not None:
            self.env["KAFKA_SECRETS_DIR"] = str(self.secrets)
        self.proc: subprocess.Popen | None = None
        (ARTIFACTS / "logs").mkdir(parents=True, exist_ok=True)
        self.log_path = ARTIFACTS / "logs" / f"{prefix.strip('.')}-{instance or name}.log"

    @property
    def database(self) -> str:
        """The name of the database this process writes (its DATABASE_PREFIX and the service)."""
        return self.env["DATABASE_PREFIX"] + self.name

    def start(self) -> "ServiceProcess":
        if self.secrets is not None:
            secure(self.bootstrap, self.secrets, self.prefix)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", f"services.{self.name}.entrypoints.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    async def wait_ready(self, timeout: float = 60) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=3) as client:
            for _ in range(int(timeout / 0.25)):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited: see {self.log_path}")
                try:
                    if (await client.get("/ready")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.25)
        raise TimeoutError(f"{self.name} not ready in {timeout}s: see {self.log_path}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM, and SIGKILL if a busy machine keeps the shutdown past 30 s: a stop between
        tests never fails a test (the kill tests use `kill`)."""
        try:
            self.kill(signal.SIGTERM)
        except subprocess.TimeoutExpired:
            self.kill(signal.SIGKILL)


def secure(bootstrap: str, secrets: Path, prefix: str) -> None:
    """`secure_prefix` from synchronous code that may run inside an event loop (a thread of its own)."""
    import threading

    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(secure_prefix(bootstrap, secrets, prefix))
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            failure.append(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if failure:
        raise failure[0]


async def start_all(names: list[str], infra: Infra, prefix: str,
                    extra_env: dict[str, str] | None = None) -> dict[str, ServiceProcess]:
    procs = {n: ServiceProcess(n, infra, prefix, extra_env).start() for n in names}
    try:
        await asyncio.gather(*(p.wait_ready() for p in procs.values()))
    except BaseException:
        for p in procs.values():  # leave nothing running behind a failed start
            p.kill()
        raise
    return procs


def logs_of(proc: ServiceProcess) -> str:
    return Path(proc.log_path).read_text(errors="replace")
