"""The notifications service layer: one handler per command, and the one table of them."""
from services.notifications.adapters.documents import NOTICES, notice_from_doc, notice_to_doc
from services.notifications.domain import notice as notices
from shared.contracts import notifications as c
from shared.messaging.pipeline import Context, Handler


async def send_notice(cmd: c.SendNotice, ctx: Context) -> None:
    n = notices.create(notice_from_doc(await ctx.get(NOTICES, cmd.notice_id)), notice_id=cmd.notice_id,
                       title=cmd.title, body=cmd.body, category=cmd.category,
                       audience=cmd.audience.model_dump(), require_ack=cmd.require_ack,
                       send_at=cmd.send_at.isoformat() if cmd.send_at else None)
    ctx.put(NOTICES, notice_to_doc(n))
    ctx.emit(c.NoticeCreated(notice_id=n.notice_id, title=n.title, body=n.body, category=n.category,
                             audience=c.AudienceView(**n.audience), require_ack=n.require_ack,
                             send_at=cmd.send_at, recipient_count=len(n.recipients)))


HANDLERS: dict[str, Handler] = {
    "SendNotice": Handler(send_notice, lambda m: [(NOTICES, m.notice_id)]),
}
