"""`python -m simulator {run,write,replay,plan}`: the district of X区 over Kafka, or into a file."""
import argparse
import asyncio
import json
import sys
from pathlib import Path

from shared.settings import Settings
from simulator.answers import Stalled
from simulator.backlog import Backlog
from simulator.guide import reports_caught_up, where_to_look
from simulator.progress import Progress
from simulator.publisher import Target, publish
from simulator.sources import FromFile, Generated, write
from simulator.world import REPORT_SIZE
from simulator.year import LEDGER_PHASES


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "guide":
        return _guide(args)
    if args.command == "replay":
        source = FromFile(args.file)
    else:
        source = Generated(args.seed, args.members, args.year)
    progress = Progress(source.header["phases"], quiet=args.quiet)
    run = None
    if args.command == "write":
        n = write(source, args.out, lambda i, p: progress.show(i, p.name, len(p.commands), len(p.commands),
                                                                final=True))
        print(f"wrote {n} commands to {args.out}", file=sys.stderr)
    elif args.command == "plan":
        for _ in source.phases():
            pass
    else:
        env = Settings()
        target = Target(args.bootstrap or env.kafka_bootstrap_servers,
                        env.topic_prefix if args.prefix is None else args.prefix, args.stall_timeout, args.chunk,
                        args.all_at_once, args.first_phases)
        try:
            run = asyncio.run(publish(source, target, progress))
        except Stalled as exc:
            print(f"\nsimulator: {exc}", file=sys.stderr)
            return 1
    outcome = source.outcome()
    report = {"header": source.header, **outcome, "run": run}
    if args.summary:
        Path(args.summary).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    if not args.quiet:
        print(json.dumps({"summary": outcome["summary"], "run": _short(run)}, ensure_ascii=False, indent=1))
    return 0


def _guide(args) -> int:
    report = json.loads(Path(args.summary_file).read_text(encoding="utf-8"))
    backlog = Backlog()
    caught_up = asyncio.run(reports_caught_up(args.reporting, report, args.wait, backlog))
    print(where_to_look(report, args.reporting.rstrip("/") + "/"))
    if not caught_up:
        where = backlog.describe() or "how far behind unknown: its /metrics did not answer"
        print(f"\n(reporting is still reading the events, {where}: the figures fill in as it goes)")
    return 0


def _short(run: dict | None) -> dict | None:
    if run is None:
        return None
    return {k: run[k] for k in ("commands", "seconds", "commands_per_second")} | {
        "rejected": {k: v["count"] for k, v in run["rejected"].items()}, "unhandled_types": run["unhandled_types"]}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    for name, text in (("run", "draw the district and publish it to Kafka"),
                       ("write", "draw the district and write its commands to a JSON lines file"),
                       ("plan", "draw the district and print what it would send, without Kafka"),
                       ("replay", "publish a file written by `write`")):
        s = sub.add_parser(name, help=text, description=text)
        if name == "replay":
            s.add_argument("file")
        else:
            s.add_argument("--seed", type=int, default=2025, help="same seed, same district (default 2025)")
            s.add_argument("--members", type=int, default=REPORT_SIZE,
                           help=f"members in the district (default {REPORT_SIZE}: the report's size)")
            s.add_argument("--year", type=int, default=2025, help="the simulated year (default 2025)")
        if name == "write":
            s.add_argument("--out", required=True, help="the JSON lines file to write")
        if name in ("run", "replay"):
            s.add_argument("--bootstrap", help="Kafka (default: KAFKA_BOOTSTRAP_SERVERS)")
            s.add_argument("--prefix", help="topic prefix of the deployment (default: TOPIC_PREFIX)")
            s.add_argument("--stall-timeout", type=float, default=180.0,
                           help="give up when no command is answered for this many seconds")
            s.add_argument("--chunk", type=int, default=0,
                           help="wait for answers after every N commands (default: once per phase)")
            s.add_argument("--all-at-once", action="store_true",
                           help="send the whole year without waiting, then wait for all the answers "
                                "(the services hold commands whose references have not arrived yet)")
            s.add_argument("--first-phases", type=int, default=0,
                           help=f"with --all-at-once: send the first N phases phase by phase, the rest at once "
                                f"when the services caught up ({LEDGER_PHASES}: the tree and the ledger)")
        s.add_argument("--summary", help="also write the summary, the expected report figures and the run as JSON")
        s.add_argument("--quiet", action="store_true", help="no progress bar and no summary on stdout")
    g = sub.add_parser("guide", help="after a run: wait for reporting, then say where to look")
    g.add_argument("summary_file", help="the --summary file of the run")
    g.add_argument("--reporting", default="http://127.0.0.1:8004", help="the reporting service's URL")
    g.add_argument("--wait", type=float, default=180.0, help="seconds to wait for reporting to catch up")
    return p


if __name__ == "__main__":
    sys.exit(main())
