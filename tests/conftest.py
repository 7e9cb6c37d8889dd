import uuid

import pytest

from tests.infra import Infra, provide
from tests.support import auth as test_auth
from tests.support.fixtures import platform_and_bus

SERVICES = ["members", "activities", "notifications", "reporting"]


@pytest.fixture(scope="session")
def infra() -> Infra:
    stack: list = []
    yield provide(stack)
    for container in reversed(stack):
        container.stop()


@pytest.fixture(scope="session")
def auth():
    """The tests' identity provider (tests/support/auth.py): `auth.client(url)` signs in as a
    district official, `auth.headers(role=…, org_ids=[…])` as anyone; every service process
    started by the tests verifies its tokens."""
    return test_auth


@pytest.fixture(scope="session")
def run_id() -> str:
    """Random per test session: topic and database prefixes, so no cleanup is needed."""
    return uuid.uuid4().hex[:8]


# All four services as real processes on real Kafka and MongoDB, under this run's prefix.
platform, bus = platform_and_bus(SERVICES)
