"""Reproductions of what the fault-injection suite (`python -m chaos`) found that need a process.

Marked `xfail(strict=True)` while the defect is open; see tests/unit/test_chaos_findings.py.
"""
import time

import httpx
import pytest

from tests.infra import Infra
from tests.support.services import ServiceProcess, free_port

pytestmark = pytest.mark.integration


@pytest.mark.xfail(strict=True, reason="open: Runtime.start (shared/runtime.py) creates the topics and the indexes "
                                       "once and lets the error end the process, so an instance a supervisor starts "
                                       "while the broker (or the database) is away exits at once: seen as crashes "
                                       "when a killed instance was restarted during a broker restart")
def test_a_service_started_while_the_broker_is_away_waits_for_it():
    nowhere = Infra(f"127.0.0.1:{free_port()}", f"mongodb://127.0.0.1:{free_port()}/", "nowhere")
    p = ServiceProcess("members", nowhere, "tchaosfind.").start()
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert p.proc.poll() is None, f"the process exited by itself ({p.proc.returncode}): see {p.log_path}"
            try:
                if httpx.get(p.url + "/health", timeout=2).status_code == 200:
                    return  # up, and waiting for the broker (/ready says not yet)
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError("neither up nor gone after 180 s")
    finally:
        p.kill()
