from tests.conftest import SERVICES
from tests.support.fixtures import platform_and_bus

YEAR = 2025
# The four services with the district's records beginning on the simulated year's first day, as
# `make demo` starts them (RECORDS_START): the simulator's intended alerts count from it.
platform, bus = platform_and_bus(SERVICES, "s", {"RECORDS_START": f"{YEAR}-01-01"})
