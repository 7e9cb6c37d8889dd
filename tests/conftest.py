import uuid

import pytest

from tests.infra import Infra, provide


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
