"""Schemathesis against every service's OpenAPI document, signed in as a district official.

    python scripts/schemathesis_run.py [--max-examples N] [--services members,reporting] [--out DIR]

Starts the four services under a prefix of their own on the stack of KAFKA_BOOTSTRAP_SERVERS and
MONGODB_URL (tests/support/services.py: tokens of the tests' key), runs `schemathesis run` on each
with the check `not_a_server_error` (no 5xx; `--checks all` for every check), and prints per
service the operations tested, the test cases generated and the failures. Exit status 1 when a
server error was found. The figures of a run are in docs/security.md (`make schemathesis`): it
takes minutes, so it is not part of `make test`.
"""
import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.infra import Infra  # noqa: E402
from tests.support import auth  # noqa: E402
from tests.support.services import start_all  # noqa: E402

SERVICES = ["members", "activities", "notifications", "reporting"]


def run_one(name: str, url: str, max_examples: int, out: Path, checks: str) -> dict:
    report = out / f"{name}.ndjson"
    cmd = [str(Path(sys.executable).parent / "schemathesis"), "run", f"{url}/openapi.json",
           "-H", f"Authorization: Bearer {auth.token('district', seconds=6 * 3600)}",
           "--checks", checks, "--max-examples", str(max_examples), "--seed", "2025",
           "--request-timeout", "30", "--no-shrink", "--warnings", "off", "--continue-on-failure",
           "--report", "ndjson", "--report-ndjson-path", str(report)]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    text = proc.stdout + proc.stderr
    (out / f"{name}.txt").write_text(text)
    return {"service": name, "seconds": round(time.monotonic() - started, 1), "exit": proc.returncode,
            **_figures(text)}


def _figures(text: str) -> dict:
    """The summary lines of `schemathesis run`: operations, test cases, failures."""
    def n(pattern: str) -> int | None:
        m = re.search(pattern, text)
        return int(m.group(1).replace(",", "")) if m else None
    return {"operations": n(r"Selected:\s+(\d+)/"), "tested": n(r"Tested:\s+(\d+)"),
            "cases": n(r"([\d,]+) generated"), "failures": n(r"(\d+) unique failures?") or 0,
            "server_errors": n(r"Server error:\s+(\d+)") or 0}


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-examples", type=int, default=100)
    ap.add_argument("--services", default=",".join(SERVICES))
    ap.add_argument("--checks", default="not_a_server_error")
    ap.add_argument("--out", default=str(ROOT / "artifacts" / "schemathesis"))
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    infra = Infra(os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
                  os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/"), "environment")
    names = a.services.split(",")
    # Fuzzed as fast as it goes: the per-person rate bound (shared/http/rate.py) would answer 429.
    procs = await start_all(names, infra, f"st{uuid.uuid4().hex[:6]}.", {"HTTP_RATE_PER_SECOND": "0"})
    try:
        results = [await asyncio.to_thread(run_one, n, procs[n].url, a.max_examples, out, a.checks) for n in names]
    finally:
        for p in procs.values():
            p.stop()
    print(json.dumps(results, ensure_ascii=False, indent=1))
    return 1 if any(r["server_errors"] or r["exit"] not in (0,) for r in results) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
