"""Retry delays: exponential, so a gateway that is down is not hammered."""
from datetime import timedelta


def delay(attempt: int, base_seconds: float, cap_seconds: float = 3600.0) -> timedelta:
    """The wait after failed attempt number `attempt` (1-based): base, 2×base, 4×base… capped."""
    return timedelta(seconds=min(base_seconds * 2 ** (attempt - 1), cap_seconds))
