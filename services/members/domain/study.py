"""Remote study (远程学习, issue 13, item 6): a member's accounts on the "红色X" platform and on 学习强国,
and their use per month. Pure.

`MemberStudy.accounts` [{platform, has_account, on}] (in date order), `use` [{platform, month,
points, sessions, minutes}]. Rules:
- an account change is dated not after the command's day nor before the member's registration
  (`invalid`, `data.on`); telling what is already so on that day is a `duplicate` (`data.has_account`);
- use is reported for a month begun on the command's day and not before the registration's month
  (`invalid`, `data.month`), and only for a month in which the member had an account on the platform
  at some time (`not_allowed`, `data.platform`): use without an account is a mistake of the sender;
- a second report of a month replaces the first (returned, for the event's `replaces`).
"""
from dataclasses import dataclass, field

from shared.errors import duplicate, invalid, not_allowed, unknown_reference


@dataclass
class MemberStudy:
    member_id: str
    accounts: list[dict] = field(default_factory=list)
    use: list[dict] = field(default_factory=list)

    def has_account(self, platform: str, day: str) -> bool:
        last = [a for a in self.accounts if a["platform"] == platform and a["on"] <= day]
        return bool(last) and last[-1]["has_account"]

    def had_account_in(self, platform: str, month: str) -> bool:
        """An account at some time in the month: on its last day, or a closing within it."""
        last_day = f"{month}-31"
        return self.has_account(platform, last_day) or any(
            a["platform"] == platform and not a["has_account"] and a["on"][:7] == month for a in self.accounts)


def record_account(s: MemberStudy, *, platform: str, has_account: bool, on: str, today: str,
                   registered_on: str) -> bool:
    """Returns whether the member had an account the day before (as recorded)."""
    if on > today:
        raise invalid(f"{on} is after the day it was recorded ({today})", "data.on")
    if on < registered_on:
        raise invalid(f"{on} is before the member's registration ({registered_on})", "data.on")
    previous = s.has_account(platform, on)
    if previous == has_account:
        raise duplicate(f"member {s.member_id} {'has' if has_account else 'has no'} account on {platform} on {on} "
                        "already", "data.has_account")
    s.accounts.append({"platform": platform, "has_account": has_account, "on": on})
    s.accounts.sort(key=lambda a: (a["on"], a["platform"]))
    return previous


def record_use(s: MemberStudy, *, platform: str, month: str, points: int, sessions: int, minutes: int,
               today: str, registered_on: str) -> dict | None:
    """Returns the use of that month it replaces, if any."""
    if month > today[:7]:
        raise invalid(f"{month} has not begun on {today}", "data.month")
    if month < registered_on[:7]:
        raise invalid(f"{month} is before the member's registration ({registered_on})", "data.month")
    if not any(a["platform"] == platform for a in s.accounts):
        # Nothing known of the account yet: a reference that may not have arrived (its command
        # sent again after a broker restart, say), waited for like any other (contract).
        raise unknown_reference(f"member {s.member_id} has no account on {platform} known yet", "data.platform")
    if not s.had_account_in(platform, month):
        raise not_allowed(f"member {s.member_id} had no account on {platform} in {month}", "data.platform")
    old = next((u for u in s.use if u["platform"] == platform and u["month"] == month), None)
    s.use = [u for u in s.use if u is not old] + [{"platform": platform, "month": month, "points": points,
                                                    "sessions": sessions, "minutes": minutes}]
    s.use.sort(key=lambda u: (u["month"], u["platform"]))
    return {k: old[k] for k in ("points", "sessions", "minutes")} if old else None
