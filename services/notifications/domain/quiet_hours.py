"""Quiet hours (default 21:00–08:00 Asia/Shanghai): no SMS and no calls; they wait until the end."""
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from shared.periods import SHANGHAI

QUIET_CHANNELS = ("sms", "phone_call")


@dataclass(frozen=True)
class QuietHours:
    start: time = time(21, 0)
    end: time = time(8, 0)

    @classmethod
    def parse(cls, text: str) -> "QuietHours":
        """'21:00-08:00'; a window may wrap past midnight."""
        a, b = text.split("-")
        return cls(time.fromisoformat(a.strip()), time.fromisoformat(b.strip()))

    def contains(self, moment: datetime) -> bool:
        t = moment.astimezone(SHANGHAI).time()
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def release(self, channel: str, moment: datetime) -> datetime:
        """The earliest instant at or after `moment` when `channel` may be used."""
        if channel not in QUIET_CHANNELS or not self.contains(moment):
            return moment
        local = moment.astimezone(SHANGHAI)
        end = datetime.combine(local.date(), self.end, SHANGHAI)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, SHANGHAI)
        return end.astimezone(moment.tzinfo)
