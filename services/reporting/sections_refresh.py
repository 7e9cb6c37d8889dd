"""Keeping the sections of the reports officials read fresh, ahead of them.

A community's or a district's report sums every branch below it; those sums are kept while what
they read is unchanged (section_cache.py), but the first report after a change (an election, a
grade, a service request) computed them again: most of a second for a district of 2,000 branches.
This task, every `REPORTING_SECTIONS_REFRESH_S` seconds, computes again the sections a report asked
for within `REPORTING_SECTIONS_ASKED_WITHIN_S` that a change has made stale, so the next report
finds them kept. It only reads; each instance keeps its own, as it keeps its cache. The interval
bounds the work while changes stream in (a district and its communities: about two seconds of
one core each time), and a report asked before the refresh computes them itself, as before.
"""
import asyncio
import logging

from prometheus_client import Counter

from services.reporting import queries

log = logging.getLogger(__name__)
ROUNDS = Counter("sunsetred_report_sections_refresh_rounds", "Rounds of the report sections' refresh, ended")


def refresh_task(every_s: float, asked_within_s: float):
    async def refresh_sections(runtime) -> None:
        """The Runtime task: refreshes stale sections, as long as it runs."""
        while True:
            await asyncio.sleep(every_s)
            try:
                db = await runtime.extras["pointer"].db()
                if await queries.refresh_sections(db, asked_within_s):
                    log.info("report sections computed again ahead of the next report")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("refreshing report sections failed; tried again at the next round")
            ROUNDS.inc()
    return refresh_sections
