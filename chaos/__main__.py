"""`python -m chaos full|short`: the fault-injection suite on a stack of its own; prints the table.

Exit status 0 when nothing was lost or duplicated, no process crashed, every fault was recovered
from and every fuzzed message was answered or dead-lettered with a reason; 1 otherwise.
Details: artifacts/chaos/<plan>/ (one JSON per run, summary.json, table.md).
"""
import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from chaos.stack import Ports
from chaos.suite import ARTIFACTS, Plan, Suite, rebuild, table


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m chaos", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("plan", choices=["full", "short", "table"],
                   help="full: 50 kills, broker restarts, the database down 30 s, 10,000 fuzzed messages a topic "
                        "(runs of their own); short: 3 kills, a broker restart and 1,000 fuzzed messages a topic, "
                        "in one run (CI); table: print the table again from artifacts/chaos/<--of>/")
    p.add_argument("--of", default="full", help="table: the plan whose runs to read (default full)")
    p.add_argument("--kills", type=int, help="SIGKILL runs (full) or kills (short)")
    p.add_argument("--fuzz", type=int, help="fuzzed messages per commands topic (0: none)")
    p.add_argument("--database-down", type=float, help="seconds the database is down (0: no such run)")
    p.add_argument("--no-broker", action="store_true", help="no broker restart")
    p.add_argument("--members", type=int, help="members of the simulated district (default 30, the smallest)")
    p.add_argument("--seed", type=int, help="the simulated district's seed")
    p.add_argument("--months", type=int, help="stream only the year's first months (short: 1, full: 12)")
    p.add_argument("--rng", type=int, help="seed of the faults' moments and victims (default: the clock)")
    p.add_argument("--port-offset", type=int, default=0,
                   help="shift every port of the chaos stack (Kafka 29092, SecantusDB 37117, services 28001..)")
    p.add_argument("--data", help="the stack's data folder (default /tmp/sunsetred-chaos-<kafka port>)")
    p.add_argument("--json", help="also write the summary here")
    p.add_argument("--docs", action="store_true",
                   help="write the table, with its date and commit, into docs/reliability.md")
    args = p.parse_args(argv)
    # The suite's own Kafka clients lose the broker on purpose: their complaints are not news.
    for name in ("aiokafka", "kafka"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    if args.plan == "table":
        summary = rebuild(ARTIFACTS / args.of)
        text = table(summary)
        print(f"chaos {summary['plan']}: {summary['date']}, commit {summary['commit']}\n\n{text}")
        if args.docs:
            write_docs(summary, text)
        return 0
    plan = Plan.short() if args.plan == "short" else Plan.full()
    if args.kills is not None:
        plan.kills = args.kills
    if args.fuzz is not None:
        plan.fuzz_per_topic = args.fuzz
    if args.database_down is not None:
        plan.database_down_s = args.database_down or None
    if args.no_broker:
        plan.broker = ()
    if args.members:
        plan.members = args.members
    if args.seed is not None:
        plan.seed = args.seed
    if args.months:
        plan.months = args.months
    ports = Ports.shifted(args.port_offset)
    data = Path(args.data or f"/tmp/sunsetred-chaos-{ports.kafka}")
    suite = Suite(plan, ports, data, rng_seed=args.rng)
    summary = asyncio.run(suite.main())
    text = table(summary)
    (suite.out / "table.md").write_text(f"{summary['date']}, commit {summary['commit']}\n\n{text}\n")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, ensure_ascii=False, indent=1, default=str))
    if args.docs:
        write_docs(summary, text)
    print(f"\nchaos {plan.name}: {summary['date']}, commit {summary['commit']}, {summary['minutes']} min\n")
    print(text)
    for tag, problems in summary["problems"].items():
        print(f"\n{tag}:")
        for line in problems:
            print(f"  - {line[:800]}")
    t = summary["totals"]
    return 0 if not any(t.values()) and not summary["problems"] else 1


def write_docs(summary: dict, text: str) -> None:
    """Put the table between the markers of docs/reliability.md."""
    docs = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"
    page = docs.read_text(encoding="utf-8")
    start, end = "<!-- chaos:table -->", "<!-- /chaos:table -->"
    block = (f"{start}\nMeasured {summary['date']} on commit {summary['commit']} (`python -m chaos {summary['plan']}`, "
             f"seed {summary['seed']}, {summary['members']} members, {summary['minutes']} minutes):\n\n{text}\n{end}")
    docs.write_text(page[:page.index(start)] + block + page[page.index(end) + len(end):], encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
