"""After `make demo`: every report the simulator intended, asked of reporting over HTTP as the
district official, compared figure by figure, and timed (prints figures; not a test).

    PYTHONPATH=. .venv/bin/python benchmarks/demo_check.py [--summary .data/demo/summary.json] [--kinds branch,district]

The end-to-end test does the same for its 300-member district; this runs it against whatever
`make demo` left, of any size (13,365 reports at 100,000 members: the district, its towns and
subdistricts, communities and branches, each for January, July and the year). Printed: the
reports compared, the figures that differ (path, expected, shown; the first few of each path),
the teams' volunteer hours compared, and p50 / p99 / max of the report's answer time by kind of
organisation, as the service answered with the data of a whole simulated year.
"""
import argparse
import asyncio
import json
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

from benchmarks.reporting_bench import percentile
from chaos.compare import lookup_path, same
from shared.auth.local import auth_headers


async def check(summary: dict, url: str, kinds: set[str] | None, concurrency: int) -> dict:
    expectations = [e for e in summary["expectations"] if kinds is None or e["kind"] in kinds]
    timings: dict[str, list[float]] = defaultdict(list)
    wrong: dict[str, list] = defaultdict(list)
    compared, teams_wrong = Counter(), []
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, headers=auth_headers()) as http:
        async def one(e: dict) -> None:
            async with gate:
                t0 = time.perf_counter()
                r = await http.get(f"/api/v1/orgs/{e['org_id']}/report", params={
                    "period": e["period"], "reveal": "pension,allowance", "reason": "核对模拟数据"})
                timings[e["kind"]].append((time.perf_counter() - t0) * 1000)
                r.raise_for_status()
                report = r.json()
                teams = (await http.get(f"/api/v1/orgs/{e['org_id']}/volunteer-hours",
                                        params={"period": e["period"]})).json()
            for path, want in e["figures"].items():
                got = lookup_path(report, path)
                if got is None:
                    continue  # a figure this report does not carry
                compared[path] += 1
                if not same(want, got):
                    wrong[path].append((e["name"], e["kind"], e["period"], want, got))
            if teams.get("by_team") != e["volunteer_hours_by_team"]:
                teams_wrong.append((e["name"], e["period"], e["volunteer_hours_by_team"], teams.get("by_team")))

        started = time.perf_counter()
        await asyncio.gather(*(one(e) for e in expectations))
    return {"reports": len(expectations), "seconds": round(time.perf_counter() - started, 1),
            "figures_compared": sum(compared.values()), "paths": len(compared),
            "wrong": {p: (len(v), v[:3]) for p, v in sorted(wrong.items())},
            "teams_wrong": (len(teams_wrong), teams_wrong[:3]),
            "report_ms": {kind: {"n": len(ms), "p50": round(statistics.median(ms), 1),
                                 "p99": round(percentile(ms, 99), 1), "max": round(max(ms), 1)}
                          for kind, ms in sorted(timings.items())}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--summary", default=".data/demo/summary.json")
    p.add_argument("--reporting", default="http://127.0.0.1:8004")
    p.add_argument("--kinds", help="only these kinds of organisation (district, subdistrict, town, community, branch)")
    p.add_argument("--concurrency", type=int, default=1, help="reports asked at once (1: each timed alone)")
    args = p.parse_args()
    summary = json.loads(Path(args.summary).read_text())
    kinds = set(args.kinds.split(",")) if args.kinds else None
    out = asyncio.run(check(summary, args.reporting, kinds, args.concurrency))
    print(f"{out['reports']} reports in {out['seconds']} s: {out['figures_compared']} figures compared "
          f"({out['paths']} kinds), {sum(n for n, _ in out['wrong'].values())} differ")
    for path, (n, first) in out["wrong"].items():
        print(f"  {path}: {n} differ, e.g. " + "; ".join(f"{name} {period} want {w} shown {g}"
                                                       for name, _, period, w, g in first))
    print(f"volunteer hours by team: {out['teams_wrong'][0]} differ", *out["teams_wrong"][1][:1])
    for kind, t in out["report_ms"].items():
        print(f"  {kind}: {t['n']} reports, p50 {t['p50']} ms, p99 {t['p99']} ms, max {t['max']} ms")
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
