"""The fault-injection suite's short version (`python -m chaos short`), as a CI test.

It runs on a stack of its own (Kafka, SecantusDB, two instances of every service, started and
stopped through infra/local/stack.sh on ports of its own: the default ones + 100 unless
CHAOS_PORT_OFFSET says otherwise), so it shares nothing with the stack of the other tests or of a
developer. One clean run of the simulated district's first month, then one
run with three SIGKILLs of random instances at random moments, a broker restart and 1,000 fuzzed
messages on each commands topic. It fails on anything lost or duplicated (but the delivery
worker's own events, printed: see the test), a crash, a fault not recovered from, or a fuzzed
message neither answered nor dead-lettered with a reason; the table and the details are printed
and kept in artifacts/chaos/short/.
"""
import os
from pathlib import Path

import pytest

from chaos.compare import WORKER_PROBLEM
from chaos.stack import Ports
from chaos.suite import Plan, Suite, table

pytestmark = [
    pytest.mark.e2e,
    # `make test` runs it beside the rest of the suite (scripts/test.sh, with SUNSET_CHAOS=1): it
    # takes about 9 minutes, mostly waiting, on a stack of its own. A plain `pytest` leaves it out.
    pytest.mark.skipif(os.environ.get("SUNSET_CHAOS") != "1",
                       reason="runs beside the suite in `make test` (scripts/test.sh); alone: SUNSET_CHAOS=1"),
]


async def test_short_chaos_loses_nothing_and_answers_everything():
    ports = Ports.shifted(int(os.environ.get("CHAOS_PORT_OFFSET", "100")))
    suite = Suite(Plan.short(), ports, Path(f"/tmp/sunsetred-chaos-{ports.kafka}"))
    summary = await suite.main()
    text = table(summary)
    print(f"\n{text}")
    # The delivery worker's own events are printed, not failed on: which attempts a delivery gets
    # depends on timing by design (a member's fact racing the notice, an attempt cut short by a kill,
    # docs/reliability.md), and they differ between two runs without a fault too. What a member or
    # an official sees is failed on: every command answered, every event by identity, every report
    # figure, every open alert, no gateway request sent twice, no crash, every fault recovered from,
    # every fuzzed message answered or dead-lettered with a reason.
    beyond_worker = {
        "lost": sum(r["lost"] - r["lost_worker"] for r in summary["rows"]),
        "duplicated": sum(r["duplicated"] - r["duplicated_worker"] for r in summary["rows"]),
        **{k: summary["totals"][k] for k in ("crashes", "fuzz_unanswered", "unrecovered")}}
    problems = {tag: [p for p in ps if not p.startswith(WORKER_PROBLEM)] for tag, ps in summary["problems"].items()}
    problems = {tag: ps for tag, ps in problems.items() if ps}
    said = "\n".join(f"{tag}: {p[:500]}" for tag, ps in problems.items() for p in ps)
    assert not any(beyond_worker.values()) and not problems, (
        f"{beyond_worker}\n{text}\n{said}\n(details: artifacts/chaos/short/)")
