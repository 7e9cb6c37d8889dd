"""Session fixtures: some services as real processes under a prefix of their own, and a bus on it.

A suite that needs only some services (or settings of its own) gets its own prefix, so it never
shares consumers or databases with another suite of the same session.
"""
import pytest

from tests.support.messages import Bus
from tests.support.services import start_all


def platform_and_bus(names: list[str], suffix: str = "", extra_env: dict[str, str] | None = None):
    """(platform, bus) fixtures: `platform` maps each service name to its running process."""

    @pytest.fixture(scope="session")
    async def platform(infra, run_id):
        procs = await start_all(names, infra, f"t{run_id}{suffix}.", extra_env)
        yield procs
        for p in procs.values():
            p.stop()

    @pytest.fixture(scope="session")
    async def bus(infra, run_id):
        b = Bus(infra.kafka, f"t{run_id}{suffix}.")
        await b.start()
        yield b
        await b.stop()

    return platform, bus
