"""Activities' integration tests run members and activities only (the planner's projection comes
from members.events), under a prefix of their own so they never share consumers or databases
with a whole-platform run in the same session, and so a half-built other service cannot stop them."""
from tests.support.fixtures import platform_and_bus

platform, bus = platform_and_bus(["members", "activities"], "act")
