"""Start-up waits for Kafka and MongoDB, and ends the process for anything else (shared/runtime.py,
shared/http/app.py); the whole path, with a process, is in tests/integration/test_chaos_findings.py."""
import asyncio
import signal

import pytest
from aiokafka.errors import KafkaConnectionError
from pymongo.errors import ServerSelectionTimeoutError

from shared import runtime as rt
from shared.http import app

pytestmark = pytest.mark.unit


def starting(failures: list[Exception]) -> tuple[rt.Runtime, list[str]]:
    """A Runtime whose connecting fails with each of `failures` in turn; returns it and its tries."""
    r = rt.Runtime.__new__(rt.Runtime)
    tries: list[str] = []

    async def connect() -> None:
        tries.append("connect")
        raise failures[tries.count("connect") - 1]

    async def disconnect() -> None:
        tries.append("disconnect")

    r._connect, r._disconnect_broker = connect, disconnect
    return r, tries


async def test_start_up_tries_again_while_kafka_or_mongodb_is_away(monkeypatch):
    monkeypatch.setattr(rt, "START_RETRY_MAX_S", 0)  # no pause between tries here
    r, tries = starting([KafkaConnectionError("Unable to bootstrap"), ServerSelectionTimeoutError("refused"),
                         ValueError("a bug")])
    with pytest.raises(ValueError):
        await r.start()
    assert tries == ["connect", "disconnect", "connect", "disconnect", "connect"]


async def test_start_up_fails_at_once_for_anything_else():
    r, tries = starting([ValueError("a bug")])
    with pytest.raises(ValueError):
        await r.start()
    assert tries == ["connect"]


async def test_a_failed_start_up_stops_the_process_and_a_cancelled_one_does_not(monkeypatch):
    signals: list[int] = []
    monkeypatch.setattr(app.os, "kill", lambda _pid, sig: signals.append(sig))

    async def fail() -> None:
        raise ValueError("a bug")

    failed = asyncio.create_task(fail())
    await asyncio.gather(failed, return_exceptions=True)
    app._exit_if_failed(failed)
    cancelled = asyncio.create_task(asyncio.sleep(10))
    cancelled.cancel()
    await asyncio.gather(cancelled, return_exceptions=True)
    app._exit_if_failed(cancelled)
    assert signals == [signal.SIGTERM]
