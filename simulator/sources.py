"""Where the commands come from: drawn from a seed now, or read back from a JSON lines file.

The file (gzip-compressed when its name ends with `.gz`) holds a header line, then for each phase a `phase` line followed by its commands, then
the outcome (the summary and the figures the reports should show). Replaying a file sends the
very same envelopes, so benchmark runs can be compared.
"""
import gzip
import json
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from simulator.alerts import intended_alerts
from simulator.commands import Cmd
from simulator.tally import Tally, expectations, summary
from simulator.world import build
from simulator.year import PHASES, Phase, plan


def _open(path: Path, mode: str):
    if path.suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8", compresslevel=3 if "w" in mode else 9)
    return path.open(mode, encoding="utf-8")


class Generated:
    def __init__(self, seed: int, members: int, year: int):
        self.header = {"kind": "header", "seed": seed, "members": members, "year": year, "phases": PHASES}
        self.world = build(seed, members, year)
        self.tally = Tally()
        self.correlation_id = f"simulator-{seed}"

    def phases(self) -> Iterator[Phase]:
        return plan(self.world, self.tally)

    def outcome(self) -> dict:
        """What was intended; complete once every phase has been drawn. The alerts are those open at the
        year's end with the records beginning on its first day (RECORDS_START, as `make demo` sets it)."""
        y = self.world.year
        alerts = intended_alerts(self.world, self.tally, date(y, 12, 31), date(y, 1, 1))
        by_kind = Counter(f"{a['kind']}/{a['level']}" for a in alerts)
        return {"summary": summary(self.world, self.tally) | {"alerts_at_year_end": dict(sorted(by_kind.items()))},
                "expectations": expectations(self.world, self.tally),
                "alerts": {"as_of": f"{y}-12-31", "records_start": f"{y}-01-01", "alerts": alerts}}


class FromFile:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        with _open(self.path, "r") as f:
            self.header = json.loads(f.readline())
        if self.header.get("kind") != "header":
            raise ValueError(f"{path} is not a file written by `python -m simulator write`")
        self.correlation_id = f"simulator-{self.header['seed']}"
        self._outcome: dict | None = None

    def phases(self) -> Iterator[Phase]:
        phase: Phase | None = None
        with _open(self.path, "r") as f:
            f.readline()
            for line in f:
                rec = json.loads(line)
                kind = rec.get("kind")
                if kind == "phase":
                    if phase is not None:
                        yield phase
                    phase = Phase(rec["name"])
                elif kind == "outcome":
                    self._outcome = rec["outcome"]
                else:
                    phase.commands.append(Cmd(rec["topic"], rec["key"], rec["envelope"]))
        if phase is not None:
            yield phase

    def outcome(self) -> dict:
        if self._outcome is None:
            raise ValueError(f"{self.path} ends without its outcome line: was it written completely?")
        return self._outcome


def write(source, path: str | Path, on_phase=None) -> int:
    """Write every phase of a source to a JSON lines file; returns the number of commands."""
    n = 0
    with _open(Path(path), "w") as f:
        f.write(json.dumps(source.header, ensure_ascii=False) + "\n")
        for i, phase in enumerate(source.phases(), 1):
            f.write(json.dumps({"kind": "phase", "name": phase.name}, ensure_ascii=False) + "\n")
            for c in phase.commands:
                f.write(json.dumps({"topic": c.topic, "key": c.key, "envelope": c.envelope}, ensure_ascii=False) + "\n")
            n += len(phase.commands)
            if on_phase:
                on_phase(i, phase)
        f.write(json.dumps({"kind": "outcome", "outcome": source.outcome()}, ensure_ascii=False) + "\n")
    return n
