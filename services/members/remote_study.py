"""The members service layer of remote study (远程学习, issue 13, item 6): accounts on "红色X" and
学习强国, and use per month. The handlers are listed in the one table, `handlers.HANDLERS`."""
from services.members.adapters.documents import MEMBERS
from services.members.adapters.records import STUDY
from services.members.domain import study
from services.members.handling import day, known_member
from shared.contracts import study as c
from shared.messaging.pipeline import Context, Handler


async def _of(ctx: Context, member_id: str):
    m = await known_member(ctx, member_id)
    m.require_active()
    return m, await ctx.repo(STUDY).get(member_id) or study.MemberStudy(member_id)


async def record_study_account(cmd: c.RecordStudyAccount, ctx: Context) -> None:
    m, s = await _of(ctx, cmd.member_id)
    previous = study.record_account(s, platform=cmd.platform, has_account=cmd.has_account, on=cmd.on.isoformat(),
                                    today=day(ctx), registered_on=m.registered_on)
    ctx.repo(STUDY).add(s)
    ctx.emit(c.StudyAccountRecorded(member_id=m.member_id, branch_id=m.branch_id, platform=cmd.platform,
                                    has_account=cmd.has_account, on=cmd.on, previous=previous))


async def record_study_use(cmd: c.RecordStudyUse, ctx: Context) -> None:
    m, s = await _of(ctx, cmd.member_id)
    replaced = study.record_use(s, platform=cmd.platform, month=cmd.month, points=cmd.points, sessions=cmd.sessions,
                                minutes=cmd.minutes, today=day(ctx), registered_on=m.registered_on)
    ctx.repo(STUDY).add(s)
    ctx.emit(c.StudyUseRecorded(member_id=m.member_id, branch_id=m.branch_id, platform=cmd.platform, month=cmd.month,
                                points=cmd.points, sessions=cmd.sessions, minutes=cmd.minutes,
                                replaces=c.StudyUse(**replaced) if replaced else None))


def _wants(m) -> list:
    return [(MEMBERS, m.member_id), (STUDY.name, m.member_id)]


HANDLERS: dict[str, Handler] = {
    "RecordStudyAccount": Handler(record_study_account, _wants),
    "RecordStudyUse": Handler(record_study_use, _wants),
}
