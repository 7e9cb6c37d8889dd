"""A bound on how often one person may call: a token bucket per token subject, in this instance.

Each signed-in caller may make `per_second` requests a second on average, and `burst` at once;
beyond that the request is answered 429 in Chinese with `Retry-After`, before any query runs. It is
kept per instance, in memory (a bucket is a number and a time, not state anyone else needs):
behind a load balancer over N instances a caller gets at most N times the rate, which is what a
per-instance bound is for — no one caller can take an instance's capacity from the others. A
district-wide bound belongs to the gateway in front. Idle buckets are forgotten.
"""
import math
import time

from fastapi import HTTPException


class TooManyRequests(HTTPException):
    def __init__(self, retry_after_s: float):
        wait = max(1, math.ceil(retry_after_s))
        super().__init__(429, f"请求过于频繁，请 {wait} 秒后再试", headers={"Retry-After": str(wait)})


class RateLimiter:
    def __init__(self, per_second: float, burst: int, clock=time.monotonic, keep: int = 10_000):
        self.per_second, self.burst, self.clock, self.keep = per_second, burst, clock, keep
        self._buckets: dict[str, tuple[float, float]] = {}  # key: (tokens, at)

    def take(self, key: str) -> None:
        """Count one request of `key`, or raise TooManyRequests."""
        if self.per_second <= 0:
            return  # no bound (HTTP_RATE_PER_SECOND=0)
        now = self.clock()
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.per_second)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            raise TooManyRequests((1 - tokens) / self.per_second)
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > self.keep:
            self._forget(now)

    def _forget(self, now: float) -> None:
        full_after = self.burst / self.per_second  # a bucket idle this long is full: same as none
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
