"""End-to-end throughput: replay a simulator file into four fresh services and time the answers.

    python benchmarks/end_to_end.py --members 5000 [--seed 1] [--file F] [--out results.jsonl]

Kafka and MongoDB must be running (`make up`, or KAFKA_BOOTSTRAP_SERVERS / MONGODB_URL). The
four services are started here under a fresh topic and database prefix, so every run starts
from empty stores and runs are comparable; the same file is replayed each time (written once,
on the first run). "End to end" is: published by the district systems → answered by the
services (accepted or refused), phase by phase, as `make demo` does it.
"""
import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.answers import Stalled  # noqa: E402
from simulator.progress import Progress  # noqa: E402
from simulator.publisher import Target, publish  # noqa: E402
from simulator.sources import FromFile, Generated, write  # noqa: E402

SERVICES = ("members", "activities", "notifications", "reporting")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _ready(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    async with httpx.AsyncClient(timeout=3) as http:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"a service exited early: {url}")
            try:
                if (await http.get(url + "/ready")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise TimeoutError(url)


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--members", type=int, default=5000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--year", type=int, default=2025)
    p.add_argument("--file", help="the commands file (default: .data/bench/district-<seed>-<members>.jsonl.gz)")
    p.add_argument("--chunk", type=int, default=0, help="wait for answers every N commands (0: per phase)")
    p.add_argument("--out", help="append the result as one JSON line to this file")
    args = p.parse_args()
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    mongo = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")
    path = Path(args.file or ROOT / f".data/bench/district-{args.seed}-{args.members}.jsonl.gz")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        n = write(Generated(args.seed, args.members, args.year), path)
        print(f"wrote {n} commands to {path} in {time.monotonic() - t0:.1f}s", file=sys.stderr)
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    logs = ROOT / "artifacts" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    procs = []
    try:
        for name in SERVICES:
            port = _port()
            env = {**os.environ, "PYTHONPATH": str(ROOT), "KAFKA_BOOTSTRAP_SERVERS": kafka, "MONGODB_URL": mongo,
                   "TOPIC_PREFIX": prefix, "DATABASE_PREFIX": prefix.replace(".", "_"),
                   "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING")}
            log = open(logs / f"{prefix.strip('.')}-{name}.log", "ab")
            proc = subprocess.Popen([sys.executable, "-m", "uvicorn", f"services.{name}.entrypoints.app:create_app",
                                     "--factory", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
                                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            procs.append((f"http://127.0.0.1:{port}", proc))
        await asyncio.gather(*(_ready(url, proc) for url, proc in procs))
        source = FromFile(path)
        try:
            run = await publish(source, Target(kafka, prefix, stall_timeout=300, chunk=args.chunk), Progress(source.header["phases"]))
        except Stalled as exc:
            sys.exit(f"benchmark stopped: {exc} (service logs: {logs}/{prefix.strip('.')}-*.log)")
    finally:
        for _, proc in procs:
            proc.terminate()
        for _, proc in procs:
            proc.wait(timeout=60)
    result = {"file": str(path), "members": source.header["members"], "seed": source.header["seed"],
              "chunk": args.chunk,
              "commands": run["commands"], "seconds": run["seconds"],
              "commands_per_second": run["commands_per_second"],
              "slowest_phases": sorted(run["phases"], key=lambda ph: -ph["seconds"])[:3],
              "rejected": {k: v["count"] for k, v in run["rejected"].items()},
              "unhandled_types": run["unhandled_types"]}
    print(json.dumps(result, ensure_ascii=False, indent=1))
    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(result, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
