import uuid

import pytest

from tests.infra import Infra, provide
from tests.support.messages import Bus
from tests.support.services import start_all

SERVICES = ["members", "activities", "notifications", "reporting"]


@pytest.fixture(scope="session")
def infra() -> Infra:
    stack: list = []
    yield provide(stack)
    for container in reversed(stack):
        container.stop()


@pytest.fixture(scope="session")
def run_id() -> str:
    """Random per test session: topic and database prefixes, so no cleanup is needed."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
async def platform(infra, run_id):
    """All four services as real processes on real Kafka and MongoDB, under this run's prefix."""
    prefix = f"t{run_id}."
    procs = await start_all(SERVICES, infra, prefix)
    yield procs
    for p in procs.values():
        p.stop()


@pytest.fixture(scope="session")
async def bus(infra, run_id):
    b = Bus(infra.kafka, f"t{run_id}.")
    await b.start()
    yield b
    await b.stop()


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
