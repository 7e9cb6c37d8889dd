"""The notifications service's own settings (environment variables prefixed NOTIFY_).

Nothing configured means the demo: every electronic channel prints to the console.
"""
import json
from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore")

    # Email over SMTP; unset: email goes to the console channel.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "夕阳红通知 <notice@sunsetred.local>"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    # SMS and WeChat through an HTTP gateway (POST {url}/sms and {url}/wechat); unset: console.
    gateway_url: str | None = None
    send_timeout_seconds: float = 10.0
    max_attempts: int = 3  # per channel, before falling back to the next one
    retry_base_seconds: float = 60.0  # backoff: base, 2×base, 4×base…
    quiet_hours: str = "21:00-08:00"  # Asia/Shanghai; SMS and calls wait
    poll_seconds: float = 1.0  # how often the delivery worker looks for due deliveries
    # Deliveries found due per round (through the index on state and next_at), then claimed and
    # sent in chunks. Few large rounds, not many small ones: each round's query reads every due
    # entry of the index on SecantusDB (docs/secantusdb.md, difference 4), so with 28,000 due, rounds
    # of 200 spent more of the database than the sends did (docs/benchmarks.md: 1,000 halved the
    # database's and the service's CPU in the same run).
    batch_size: int = 1000
    # A notice is addressed, and its deliveries first acted on, only once every member fact
    # published before it (before they fell due) has reached this service: members' commands
    # handled, their events projected here (shared/messaging/causal_fence.py). So a member away,
    # moved or deceased is addressed as such even while members lags (a rebalance after a crash:
    # 45 s), as in a run without the lag (docs/reliability.md, findings 20 and 31). A hop that has not passed after this many
    # seconds is given up (members down: notices do not wait for good). 0: no fence.
    facts_fence_max_wait_seconds: float = 120.0
    # How often the fence is walked on: a notice held for it, and the acknowledgements behind it,
    # go on at the first walk that passes (two questions to the broker a step).
    facts_fence_poll_seconds: float = 0.25
    # An attempt still `sending` after this long belongs to a process that died mid-send: longer
    # than a send can take (send_timeout_seconds, with room to record the outcome).
    orphan_after_seconds: float = 120.0
    # A reminder goes once its alert has stood this long, and not if it clears before: reporting
    # raises an alert for a moment when it handles a fact after a later-dated one (a payment after
    # a meeting), and a member must not be reminded of an arrear they had paid (finding 29 of
    # docs/reliability.md). Longer than the topics drift apart (a rebalance: 45 s); a reminder of
    # a run of months is no worse for coming minutes later. 0: at once.
    reminder_settle_seconds: float = 300.0
    # The district's organisation department, told of every six-month alert with the branch
    # secretary (domain.md): JSON {"name", "phone", "email", "wechat_openid", "preferred_channel"}.
    # The default is an address the demo's console channel prints.
    district_office: str = ('{"name": "区委组织部", "email": "district-office@sunsetred.local", '
                            '"preferred_channel": "email"}')


@lru_cache
def district_office_contact() -> dict:
    """The department's contacts (setting NOTIFY_DISTRICT_OFFICE), read once; a value that is not a
    JSON object stops the service with the setting named."""
    value = json.loads(NotifySettings().district_office)
    if not isinstance(value, dict):
        raise ValueError("NOTIFY_DISTRICT_OFFICE must be a JSON object {name, phone, email, wechat_openid, "
                         "preferred_channel}")
    return value


@lru_cache
def reminder_settle_seconds() -> float:
    """NOTIFY_REMINDER_SETTLE_SECONDS, read once."""
    return NotifySettings().reminder_settle_seconds
