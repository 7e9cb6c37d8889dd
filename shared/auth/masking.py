"""Personal data: who sees what in clear, and how the rest is masked. Pure.

Sensitive categories (个人信息保护法: contact details, identity, income and health) are masked for
every role that has no need for them:
- a member sees all of their own record;
- a branch secretary sees the phones of the members of their own branch (to call them), and their
  branch's secretary allowance (their own pay);
- a one-to-one specialist sees the health, needs and phones of the members assigned to them
  (door deliveries and calls are their work);
- officials of the district, subdistricts and communities see none in clear, and may unmask one
  category for what they read with an explicit, audited `?reveal=<category>&reason=…` (the
  categories each role may reveal are `REVEALABLE`);
- an operator sees no personal data at all (no route gives them any).

Masking goes by field name, wherever the field sits in a response (a ledger's profile, a list's
rows, the before/after of the audit trail), so every route, export and the dashboard mask alike:
a phone `13812340000` becomes `138****0000`, an ID number keeps its first 3 and last 4
characters, a WeChat id its first and last 2, an e-mail its first letter and domain, an address
its first 6 characters; pensions become `****`; health codes, labels and needs become null, and so
does a service request's `description` (it often tells of an illness).

Money that tells a person's income is masked as `****` like the pension it is: a member's dues
(0.5% or 1% of the pension: dues × 200 is the pension) are of the category `pension`, so they are
masked and revealed with it; the secretary's allowance (书记补助) is a category of its own. Their
fields have plain names (`amount`, `due`), masked only under the key that says whose money they
are (`WITHIN`): a branch's funds or a report's totals keep theirs.
The specialist's own phone (a work contact, under `specialist`) is not a member's personal data.
"""
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from shared.auth.claims import Caller, Role

Category = Literal["phone", "id_number", "wechat", "email", "address", "pension", "health", "allowance"]
CATEGORIES: tuple[Category, ...] = ("phone", "id_number", "wechat", "email", "address", "pension", "health",
                                    "allowance")
CATEGORY_LABELS = {"phone": "电话", "id_number": "身份证号", "wechat": "微信号", "email": "电子邮箱",
                   "address": "住址", "pension": "退休金与党费", "health": "健康状况与需求", "allowance": "书记补助"}

FIELDS: dict[str, Category] = {
    "phone": "phone", "mobile": "phone",
    "id_number": "id_number", "id_card_number": "id_number",
    "wechat_openid": "wechat", "wechat_id": "wechat",
    "email": "email",
    "address": "address", "home_address": "address",
    "monthly_pension": "pension", "pension": "pension", "pension_history": "pension",
    "pensions": "pension",  # the ledger's own name for the history, in the audit trail's before/after
    "monthly_dues": "pension",  # 0.5% or 1% of the pension: as telling as the pension itself
    "health": "health", "health_label": "health", "service_needs": "health", "needs": "health",
    "health_found": "health", "needs_found": "health",  # what visits found (issue 13)
    # A service request's or difficulty's words (issue 13) tell of illness as often as of a leaking pipe
    # (老伴住院, 陪同就医…): masked as health is, in the requests' lists, the ledgers and the overdue alerts.
    "description": "health",
}
# Amounts with plain names, masked at any depth under a key that says whose money they are: a
# member's dues (`dues.months[].due`, `dues.payments[].amount`) and a secretary's allowance
# (`allowance.rates[].amount`, `months[].due`, `payments[].amount`, and its totals, one person's
# too). A flag beside them (`paid`: true or false) is not an amount and stays.
WITHIN: dict[str, tuple[Category, frozenset[str]]] = {
    "dues": ("pension", frozenset({"due", "amount", "expected_amount"})),
    "allowance": ("allowance", frozenset({"amount", "due", "paid", "unpaid", "amount_due", "amount_paid",
                                          "amount_unpaid"})),
    # the branch's own fields, as an organisation's audit trail shows them in its before/after
    "allowance_rates": ("allowance", frozenset({"amount"})),
    "allowance_payments": ("allowance", frozenset({"amount"})),
}
# Subtrees that describe staff, not the member: left as they are.
NOT_THE_MEMBERS = frozenset({"specialist"})

REVEALABLE: dict[Role, frozenset[Category]] = {
    "district": frozenset(CATEGORIES),
    # Subdistricts and communities pay the secretaries' allowance (社区/街道发放): they may look at it.
    "subdistrict": frozenset({"phone", "wechat", "email", "address", "allowance"}),
    "community": frozenset({"phone", "wechat", "email", "address", "allowance"}),
    "secretary": frozenset({"wechat", "email", "address"}),
    "specialist": frozenset(),
    "member": frozenset(),
    "operator": frozenset(),
}


def keep_ends(text: str, head: int, tail: int, *, stars: int | None = None) -> str:
    if len(text) <= head + tail:
        return "****"
    return text[:head] + "*" * (stars if stars is not None else len(text) - head - tail) + text[len(text) - tail:]


def mask_phone(v: str) -> str:
    return keep_ends(v, 3, 4, stars=4)


def mask_id_number(v: str) -> str:
    return keep_ends(v, 3, 4)


def mask_wechat(v: str) -> str:
    return keep_ends(v, 2, 2, stars=4)


def mask_email(v: str) -> str:
    local, at, domain = v.partition("@")
    return f"{local[:1]}***@{domain}" if at and local else "****"


def mask_address(v: str) -> str:
    return v[:6] + "****" if len(v) > 6 else "****"


MONEY: frozenset[Category] = frozenset({"pension", "allowance"})
_TEXT = {"phone": mask_phone, "id_number": mask_id_number, "wechat": mask_wechat, "email": mask_email,
         "address": mask_address, "pension": lambda _v: "****", "allowance": lambda _v: "****"}


def mask_value(category: Category, value: Any) -> Any:
    """A value of a category as shown masked: text keeps a recognisable part, an amount of money
    is `****` whether written as text or as a number, the rest is null."""
    if value is None:
        return None
    if category in MONEY and isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return "****"
    if isinstance(value, str) and category in _TEXT:
        return _TEXT[category](value)
    return None


def mask(value: Any, hidden: frozenset[Category] | set[Category]) -> tuple[Any, set[Category]]:
    """A copy of `value` with every field of a hidden category masked, and the categories masked."""
    found: set[Category] = set()

    def walk(v: Any, within: tuple[Category, frozenset[str]] | None = None) -> Any:
        if isinstance(v, dict):
            out = {}
            for k, x in v.items():
                category = FIELDS.get(k)
                if category is None and within and k in within[1] and not isinstance(x, bool | dict | list):
                    category = within[0]
                if category in hidden and x is not None:
                    found.add(category)
                    out[k] = mask_value(category, x)
                elif k in NOT_THE_MEMBERS:
                    out[k] = x
                else:
                    out[k] = walk(x, WITHIN.get(k, within))
            return out
        if isinstance(v, list):
            return [walk(x, within) for x in v]
        return v

    return walk(value), found


def shown_to(caller: Caller, *, member_id: str | None, path: list[str] | tuple[str, ...],
             specialist_id: str | None) -> frozenset[Category]:
    """The categories of one member's record the caller sees in clear without asking."""
    if caller.role == "member" and member_id is not None and member_id == caller.member_id:
        return frozenset(CATEGORIES)
    if caller.role == "secretary" and caller.sees(path):
        return frozenset({"phone", "allowance"})
    if caller.role == "specialist" and specialist_id is not None and specialist_id == caller.specialist_id:
        return frozenset({"health", "phone"})
    return frozenset()


def reveal_refusal(role: Role, categories: frozenset[Category] | set[Category]) -> str | None:
    """Why this role may not unmask these categories (Chinese), or None when it may."""
    refused = sorted(set(categories) - REVEALABLE[role], key=CATEGORIES.index)
    if refused:
        return "无权查看完整的" + "、".join(CATEGORY_LABELS[c] for c in refused)
    return None


@dataclass(frozen=True)
class Viewer:
    """A caller reading personal data, with the categories they unmasked for this request (already
    checked against `REVEALABLE` and recorded in the access log)."""

    caller: Caller
    revealed: frozenset[Category] = frozenset()

    def hidden(self, *, member_id: str | None, path: list[str] | tuple[str, ...],
               specialist_id: str | None) -> frozenset[Category]:
        shown = shown_to(self.caller, member_id=member_id, path=path, specialist_id=specialist_id) | self.revealed
        return frozenset(CATEGORIES) - shown

    def sees(self, category: Category, *, member_id: str | None, path: list[str] | tuple[str, ...],
             specialist_id: str | None) -> bool:
        return category not in self.hidden(member_id=member_id, path=path, specialist_id=specialist_id)

    def record(self, value: Any, *, member_id: str | None, path: list[str] | tuple[str, ...],
               specialist_id: str | None) -> Any:
        """One member's data (a ledger, a list row, an audit entry) as this viewer may see it."""
        return mask(value, self.hidden(member_id=member_id, path=path, specialist_id=specialist_id))[0]
