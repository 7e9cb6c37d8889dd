"""The members service alone, under its own topic and database prefix.

These tests need no other service, and a prefix of their own means they never share a
consumer group or a database with the services the root `platform` fixture starts when the
whole suite runs in one session.
"""
import pytest

from tests.support.messages import Bus
from tests.support.services import start_all


@pytest.fixture(scope="session")
def members_prefix(run_id) -> str:
    return f"t{run_id}m."


@pytest.fixture(scope="session")
async def platform(infra, members_prefix):
    procs = await start_all(["members"], infra, members_prefix)
    yield procs
    for p in procs.values():
        p.stop()


@pytest.fixture(scope="session")
async def bus(infra, members_prefix):
    b = Bus(infra.kafka, members_prefix)
    await b.start()
    yield b
    await b.stop()
