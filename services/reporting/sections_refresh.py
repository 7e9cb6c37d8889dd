"""Keeping the sections of the reports officials read fresh, ahead of them.

A community's or a district's report sums every branch below it; those sums are kept while what
they read is unchanged (section_cache.py), but the first report after a change (an election, a
grade, a service request) computed them again: most of a second for a district of 2,000 branches.
This task looks every second whether what they read changed (five small checksum documents) and
then computes again the sections a report asked for within `REPORTING_SECTIONS_ASKED_WITHIN_S`, so
the next report finds them kept. It computes at most once every `REPORTING_SECTIONS_REFRESH_S`:
after a lone change at once, while changes stream in (an import, a busy morning) no more often than
that (a district and its communities: about two seconds of one core each time). It only reads;
each instance keeps its own, as it keeps its cache. A report asked before the refresh computes the
sections itself, as before.
"""
import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from prometheus_client import Counter

from services.reporting import queries

log = logging.getLogger(__name__)
ROUNDS = Counter("sunsetred_report_sections_refresh_rounds", "Rounds of the report sections' refresh, ended")
LOOK_EVERY_S = 1.0  # how often the checksums are read


async def keep_fresh(database: Callable[[], Awaitable], every_s: float, asked_within_s: float) -> None:
    """Refresh stale sections, as long as it runs: looked for every LOOK_EVERY_S, computed at most
    once every `every_s`."""
    computed_at = float("-inf")
    while True:
        await asyncio.sleep(min(LOOK_EVERY_S, every_s))
        try:
            if time.monotonic() - computed_at >= every_s:
                if await queries.refresh_sections(await database(), asked_within_s):
                    computed_at = time.monotonic()
                    log.info("report sections computed again ahead of the next report")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("refreshing report sections failed; tried again at the next round")
        ROUNDS.inc()


def refresh_task(every_s: float, asked_within_s: float):
    async def refresh_sections(runtime) -> None:
        """The Runtime task: the projections the pointer names (a rebuild switches them)."""
        await keep_fresh(runtime.extras["pointer"].db, every_s, asked_within_s)
    return refresh_sections
