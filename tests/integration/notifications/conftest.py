"""Notifications under test: its own process (its own topic and database prefix) wired to a
local SMTP server and a local HTTP gateway; members' facts are published on members.events as
the members service would publish them."""
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import pytest

from shared.periods import SHANGHAI
from tests.support import auth
from tests.support.messages import Bus, envelope, eventually
from tests.support.notifications_servers import HttpGateway, SmtpServer
from tests.support.scenario import uid
from tests.support.services import ServiceProcess


def quiet_window(start_in_hours: float, length_hours: float) -> str:
    now = datetime.now(SHANGHAI)
    a, b = now + timedelta(hours=start_in_hours), now + timedelta(hours=start_in_hours + length_hours)
    return f"{a:%H:%M}-{b:%H:%M}"


@pytest.fixture(scope="session")
def smtp():
    s = SmtpServer().start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def gateway():
    g = HttpGateway().start()
    yield g
    g.stop()


@dataclass
class Notifier:
    proc: ServiceProcess
    bus: Bus
    http: httpx.AsyncClient

    async def restart(self) -> None:
        self.proc.start()
        await self.proc.wait_ready()


async def start_notifier(infra, smtp, gateway, **env) -> Notifier:
    prefix = f"n{uuid.uuid4().hex[:8]}."
    extra = {"NOTIFY_SMTP_HOST": "127.0.0.1", "NOTIFY_SMTP_PORT": str(smtp.port), "NOTIFY_GATEWAY_URL": gateway.url,
             "NOTIFY_RETRY_BASE_SECONDS": "0.2", "NOTIFY_POLL_SECONDS": "0.2", "NOTIFY_MAX_ATTEMPTS": "3",
             "NOTIFY_SEND_TIMEOUT_SECONDS": "60",
             # a window hours away from now: nothing is held unless a test asks for it
             "NOTIFY_QUIET_HOURS": quiet_window(6, 1), **env}
    proc = ServiceProcess("notifications", infra, prefix, extra).start()
    await proc.wait_ready()
    bus = Bus(infra.kafka, prefix)
    await bus.start()
    return Notifier(proc, bus, auth.client(proc.url, timeout=10))


async def stop_notifier(n: Notifier) -> None:
    await n.http.aclose()
    await n.bus.stop()
    n.proc.stop()


@pytest.fixture(scope="session")
async def notifier(infra, smtp, gateway):
    n = await start_notifier(infra, smtp, gateway)
    yield n
    await stop_notifier(n)


def member_event(type_: str, data: dict) -> dict:
    return envelope(type_, data, source="sunsetred-members")


@dataclass
class World:
    """One district → subdistrict → community → two branches, and members in them."""

    ids: dict = field(default_factory=lambda: {k: uid(k[0]) for k in ("district", "subdistrict", "community")})
    branches: list[str] = field(default_factory=lambda: [uid("b"), uid("b")])
    events: list[dict] = field(default_factory=list)
    members: dict[str, str] = field(default_factory=dict)  # role → member id
    specialist: str = field(default_factory=lambda: uid("sp"))
    gone: set[str] = field(default_factory=set)
    away: set[str] = field(default_factory=set)

    def __post_init__(self):
        path: list[str] = []
        for kind in ("district", "subdistrict", "community"):
            self.events.append(member_event("OrganizationEstablished", {
                "org_id": self.ids[kind], "name": kind, "kind": kind, "parent_id": path[-1] if path else None,
                "ancestors": list(path)}))
            path.append(self.ids[kind])
        for i, b in enumerate(self.branches):
            self.events.append(member_event("OrganizationEstablished", {
                "org_id": b, "name": f"天鹅湖社区退休党支部{i + 1}", "kind": "branch", "parent_id": path[-1],
                "ancestors": list(path)}))
        self.path = path

    def member(self, role: str, branch: int = 0, name: str = "王秀英", **profile) -> str:
        mid = uid("m")
        self.members[role] = mid
        b = self.branches[branch]
        self.events.append(member_event("MemberRegistered", {
            "member_id": mid, "branch_id": b, "ancestors": [*self.path, b],
            "profile": {"name": name, "registered_on": "2026-01-05", **profile}}))
        self.events.append(member_event("SpecialistAssigned", {
            "member_id": mid, "branch_id": b, "specialist_id": self.specialist, "specialist_name": "李专员"}))
        return mid

    def then(self, type_: str, role: str, **data) -> None:
        self.events.append(member_event(type_, {"member_id": self.members[role], "branch_id": self.branches[0], **data}))
        if type_ in ("MemberDied", "MemberTransferred"):
            self.gone.add(self.members[role])
        if type_ == "MemberMarkedAway":
            self.away.add(self.members[role])

    async def publish(self, n: Notifier, secretary: str | None = None) -> None:
        """Publish, then wait until the service's projection shows every fact of the world
        (events of different keys are consumed in no particular order)."""
        await n.bus.send("members.events", *self.events)
        self.events = []
        expected = set(self.members.values()) - self.gone

        async def ready():
            r = await n.http.get("/api/v1/audience", params={"org_ids": self.ids["district"], "page_size": 500})
            if r.status_code != 200:
                return False
            people = r.json()["recipients"]
            ok = ({p["member_id"] for p in people} == expected
                  and all(p["specialist_id"] == self.specialist for p in people)
                  and {p["member_id"] for p in people if p["away"]} == self.away)
            if ok and secretary:
                ok = any(b["secretary_id"] == secretary for b in r.json()["branches"])
            return ok and r.json()

        await eventually(ready, timeout=60)


def send_notice(notice_id: str, *, org_ids=(), member_ids=(), title="关于学习贯彻全会精神的通知", body="请各位老党员认真学习。",
                category="document", **extra) -> dict:
    return envelope("SendNotice", {"notice_id": notice_id, "title": title, "body": body, "category": category,
                                   "audience": {"org_ids": list(org_ids), "member_ids": list(member_ids)},
                                   "require_ack": True, **extra})


async def status_when(n: Notifier, notice_id: str, check, timeout: float = 120) -> dict:
    async def poll():
        r = await n.http.get(f"/api/v1/notices/{notice_id}/status")
        return r.status_code == 200 and check(r.json()) and r.json()

    return await eventually(poll, timeout=timeout)


def settled(status: dict) -> bool:
    """Every recipient delivered, handed to a specialist, or given up on: nothing in flight."""
    return all(r["state"] not in ("pending", "sending") for r in status["recipients"])


def by_member(status: dict) -> dict[str, dict]:
    return {r["member_id"]: r for r in status["recipients"]}
