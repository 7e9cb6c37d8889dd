"""Work under way, joined rather than done twice: a report's sections being computed
(section_cache.py), a pass over a district's members for remote study (study_queries.py). Nothing
is kept here once the work is done; what to keep is the caller's business."""
import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


class InFlight:
    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Future] = {}

    def under_way(self, key: Hashable) -> bool:
        return key in self._running

    def __len__(self) -> int:
        """How many are under way."""
        return len(self._running)

    async def run(self, key: Hashable, start: Callable[[], Awaitable[Any]]) -> Any:
        """The result of the work under way for `key`, or of `start()` begun now. Shielded: a caller
        that goes away leaves the work to the others waiting for it. The result is shared by them
        all: a caller that changes it must copy it first."""
        running = self._running.get(key)
        if running is None:
            running = self._running[key] = asyncio.ensure_future(start())

            def done(f: asyncio.Future) -> None:
                if self._running.get(key) is f:
                    del self._running[key]
            running.add_done_callback(done)
        return await asyncio.shield(running)
