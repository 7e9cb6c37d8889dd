"""The activities service layer of 阵地需求 (issue 13, item 8): record what members ask for. Part of
the one table, `handlers.HANDLERS`."""
from services.activities.adapters.documents import FACILITY_DEMAND, FACILITY_DEMANDS
from services.activities.domain import facility_demand as rules
from shared.contracts import facility_demand as c
from shared.messaging.pipeline import Context, Handler


async def record_demand(cmd: c.RecordFacilityDemand, ctx: Context) -> None:
    d = rules.record(await ctx.repo(FACILITY_DEMAND).get(cmd.demand_id), demand_id=cmd.demand_id,
                     community_id=cmd.community_id, activity=cmd.activity, on=cmd.on.isoformat(),
                     member_id=cmd.member_id, count=cmd.count, source=cmd.source, note=cmd.note)
    ctx.repo(FACILITY_DEMAND).add(d)
    ctx.emit(c.FacilityDemandRecorded(demand_id=d.demand_id, community_id=d.community_id, activity=cmd.activity,
                                      on=cmd.on, member_id=d.member_id, count=d.count, source=cmd.source))


HANDLERS: dict[str, Handler] = {
    "RecordFacilityDemand": Handler(record_demand, lambda m: [(FACILITY_DEMANDS, m.demand_id)]),
}
