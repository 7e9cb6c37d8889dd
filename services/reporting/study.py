"""Reporting's service layer of remote study (issue 13, item 6): `StudyAccountRecorded` and
`StudyUseRecorded` kept in `study`, one document per member (domain/study.py says what it holds).
Facts are kept as sets keyed by their own identity, so order and repeats change nothing. No alert:
the members with neither account are a list to act on (送学上门), not a broken rule."""
from shared.contracts import study as c
from shared.messaging.pipeline import Context, Handler

STUDY = "study"


def build_handlers(emit_alerts: bool = True) -> dict[str, Handler]:
    async def doc(ctx: Context, member_id: str) -> dict:
        return await ctx.get(STUDY, member_id) or {"_id": member_id, "accounts": {}, "use": {}}

    async def account(e: c.StudyAccountRecorded, ctx: Context) -> None:
        d = await doc(ctx, e.member_id)
        on = e.on.isoformat()
        d["accounts"][f"{e.platform}|{on}"] = {"platform": e.platform, "has_account": e.has_account, "on": on}
        ctx.put(STUDY, d)

    async def use(e: c.StudyUseRecorded, ctx: Context) -> None:
        d = await doc(ctx, e.member_id)
        d["use"][f"{e.platform}|{e.month}"] = {"platform": e.platform, "month": e.month, "points": e.points,
                                               "sessions": e.sessions, "minutes": e.minutes}
        ctx.put(STUDY, d)

    def wants(e) -> list:
        return [(STUDY, e.member_id)]

    return {"StudyAccountRecorded": Handler(account, wants), "StudyUseRecorded": Handler(use, wants)}
