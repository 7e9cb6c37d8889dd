"""What every members handler does around the domain: read typed records, refuse unknown ones,
date the command, and save a record with its audit entry."""
from datetime import timezone

from services.members.adapters.documents import AUDIT, MEMBER, ORGANIZATION
from services.members.domain.audit import diff
from services.members.domain.member import Member
from services.members.domain.organization import Organization
from shared.contracts import members as c
from shared.errors import unknown_reference
from shared.messaging.pipeline import Context
from shared.periods import local_date

# Fields of a snapshot not worth a line in the audit trail (copies of other fields).
_NOT_AUDITED = ("_id", "name")


async def org(ctx: Context, org_id: str | None) -> Organization | None:
    return await ctx.repo(ORGANIZATION).get(org_id) if org_id else None


async def member(ctx: Context, member_id: str) -> Member | None:
    return await ctx.repo(MEMBER).get(member_id)


async def known_member(ctx: Context, member_id: str, field_name: str = "data.member_id") -> Member:
    found = await member(ctx, member_id)
    if found is None:
        raise unknown_reference(f"member {member_id} is not registered", field_name)
    return found


def day(ctx: Context) -> str:
    """The date (Asia/Shanghai) the command happened at its source: handlers never read the clock."""
    return local_date(ctx.envelope.occurred_at).isoformat()


def audit(ctx: Context, kind: str, subject_id: str, before: dict | None, after: dict) -> None:
    old, new = diff({k: v for k, v in (before or {}).items() if k not in _NOT_AUDITED},
                    {k: v for k, v in after.items() if k not in _NOT_AUDITED})
    env = ctx.envelope
    ctx.put(AUDIT, {"_id": f"{env.id}/{subject_id}", "subject_id": subject_id, "subject_kind": kind,
                    "command_id": env.id, "command_type": env.type, "source": env.source, "actor": env.actor,
                    "at": env.occurred_at.astimezone(timezone.utc).isoformat(), "before": old, "after": new})


def save_member(ctx: Context, before: dict | None, m: Member) -> None:
    doc = ctx.repo(MEMBER).add(m)
    audit(ctx, "member", m.member_id, before, doc)


def save_org(ctx: Context, before: dict | None, o: Organization) -> None:
    doc = ctx.repo(ORGANIZATION).add(o)
    audit(ctx, "organization", o.org_id, before, doc)


def pensions(m: Member) -> list[c.PensionChange]:
    return [c.PensionChange.model_validate(p) for p in m.pensions]
