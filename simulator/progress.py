"""A one-line progress bar on stderr (a line per phase when stderr is not a terminal)."""
import sys
import time


class Progress:
    def __init__(self, phases: int, quiet: bool = False):
        self.phases, self.quiet = phases, quiet
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self.sent = 0
        self._last = 0.0

    def show(self, index: int, name: str, sent_in_phase: int, size: int, answered: int | None = None,
             final: bool = False) -> None:
        if self.quiet or not (final or self.tty):
            return
        now = time.monotonic()
        if not final and now - self._last < 0.2:
            return
        self._last = now
        done = (index - 1 + (sent_in_phase / size if size else 1)) / self.phases
        bar = "█" * int(done * 30) + "░" * (30 - int(done * 30))
        rate = (self.sent + sent_in_phase) / max(now - self.started, 1e-6)
        ack = f" answered {answered}/{size}" if answered is not None else ""
        line = (f"[{bar}] phase {index}/{self.phases} {name}: sent {sent_in_phase}/{size}{ack}"
                f"  {rate:,.0f} cmd/s")
        sys.stderr.write(("\r" + line + "\033[K") if self.tty else line + "\n")
        if final and self.tty:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def phase_done(self, size: int) -> None:
        self.sent += size
