"""Personal data: who sees what in clear, and how the rest is masked. Pure.

Sensitive categories (个人信息保护法: contact details, identity, income and health) are masked for
every role that has no need for them:
- a member sees all of their own record;
- a branch secretary sees the phones of the members of their own branch (to call them);
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
The specialist's own phone (a work contact, under `specialist`) is not a member's personal data.
"""
from dataclasses import dataclass
from typing import Any, Literal

from shared.auth.claims import Caller, Role

Category = Literal["phone", "id_number", "wechat", "email", "address", "pension", "health"]
CATEGORIES: tuple[Category, ...] = ("phone", "id_number", "wechat", "email", "address", "pension", "health")
CATEGORY_LABELS = {"phone": "电话", "id_number": "身份证号", "wechat": "微信号", "email": "电子邮箱",
                   "address": "住址", "pension": "退休金", "health": "健康状况与需求"}

FIELDS: dict[str, Category] = {
    "phone": "phone", "mobile": "phone",
    "id_number": "id_number", "id_card_number": "id_number",
    "wechat_openid": "wechat", "wechat_id": "wechat",
    "email": "email",
    "address": "address", "home_address": "address",
    "monthly_pension": "pension", "pension": "pension", "pension_history": "pension",
    "health": "health", "health_label": "health", "service_needs": "health", "needs": "health",
    "health_found": "health", "needs_found": "health",  # what visits found (issue 13)
    # A service request's or difficulty's words (issue 13) tell of illness as often as of a leaking pipe
    # (老伴住院, 陪同就医…): masked as health is, in the requests' lists, the ledgers and the overdue alerts.
    "description": "health",
}
# Subtrees that describe staff, not the member: left as they are.
NOT_THE_MEMBERS = frozenset({"specialist"})

REVEALABLE: dict[Role, frozenset[Category]] = {
    "district": frozenset(CATEGORIES),
    "subdistrict": frozenset({"phone", "wechat", "email", "address"}),
    "community": frozenset({"phone", "wechat", "email", "address"}),
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


_TEXT = {"phone": mask_phone, "id_number": mask_id_number, "wechat": mask_wechat, "email": mask_email,
         "address": mask_address, "pension": lambda _v: "****"}


def mask_value(category: Category, value: Any) -> Any:
    """A value of a category as shown masked: text keeps a recognisable part, the rest is null."""
    if value is None:
        return None
    if isinstance(value, str) and category in _TEXT:
        return _TEXT[category](value)
    return None


def mask(value: Any, hidden: frozenset[Category] | set[Category]) -> tuple[Any, set[Category]]:
    """A copy of `value` with every field of a hidden category masked, and the categories masked."""
    found: set[Category] = set()

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            out = {}
            for k, x in v.items():
                category = FIELDS.get(k)
                if category in hidden and x is not None:
                    found.add(category)
                    out[k] = mask_value(category, x)
                elif k in NOT_THE_MEMBERS:
                    out[k] = x
                else:
                    out[k] = walk(x)
            return out
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return walk(value), found


def shown_to(caller: Caller, *, member_id: str | None, path: list[str] | tuple[str, ...],
             specialist_id: str | None) -> frozenset[Category]:
    """The categories of one member's record the caller sees in clear without asking."""
    if caller.role == "member" and member_id is not None and member_id == caller.member_id:
        return frozenset(CATEGORIES)
    if caller.role == "secretary" and caller.sees(path):
        return frozenset({"phone"})
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
