"""The rights tables: every route of every service declares its right, the app refuses to start
otherwise, and the roles hold what the issue asks."""
import httpx
import pytest
from fastapi import APIRouter, Depends

from services.activities.entrypoints.app import create_app as activities_app
from services.members.entrypoints.app import create_app as members_app
from services.notifications.entrypoints.app import create_app as notifications_app
from services.reporting.entrypoints.app import create_app as reporting_app
from shared.auth.claims import ROLES
from shared.auth.http import authorized
from shared.auth.rights import ROLE_RIGHTS, Right, command_refusal, holds
from shared.http.app import build_app
from shared.http.dead_letters import DEAD_LETTERS_ROUTE
from tests.support import auth

APPS = {"members": members_app, "activities": activities_app, "notifications": notifications_app,
        "reporting": reporting_app}


@pytest.mark.parametrize("service", APPS)
def test_every_route_of_every_service_declares_its_right(service):
    app = APPS[service]()  # build_app checks it, and refuses to build otherwise
    assert "POST /api/v1/commands" in app.state.rights
    assert app.state.rights["GET /api/v1/dead-letters"] == Right.OPERATIONS  # operators', on every service
    assert all(key.split(" ", 1)[1].startswith("/api/v1/") for key in app.state.rights)


def _app(router: APIRouter, rights: dict):
    """An app of one router; the dead letters' route, every app's, declared as a service's table does."""
    return build_app(lambda: None, title="t", description="t", commands_topic=None, command_scopes={},
                     routers=[router], rights={DEAD_LETTERS_ROUTE: Right.OPERATIONS, **rights})


def test_an_app_with_an_undeclared_or_unguarded_route_is_not_built():
    open_route = APIRouter()

    @open_route.get("/api/v1/secrets")
    async def secrets() -> dict:
        return {}

    with pytest.raises(RuntimeError, match="GET /api/v1/secrets: no right declared"):
        _app(open_route, {})
    with pytest.raises(RuntimeError, match="does not depend on shared.auth.http.authorized"):
        _app(open_route, {"GET /api/v1/secrets": Right.ORGS})
    with pytest.raises(RuntimeError, match="GET /api/v1/gone: in the rights table but no such route"):
        _app(APIRouter(), {"GET /api/v1/gone": Right.ORGS})
    guarded = APIRouter(dependencies=[Depends(authorized)])
    guarded.get("/api/v1/secrets")(secrets)
    _app(guarded, {"GET /api/v1/secrets": Right.ORGS})


def test_roles_hold_what_the_issue_asks():
    assert ROLE_RIGHTS["operator"] == {Right.OPERATIONS}  # health, metrics and dead letters: no personal data
    assert ROLE_RIGHTS["member"] == {Right.MEMBER, Right.COMMANDS}
    assert ROLE_RIGHTS["specialist"] == {Right.MEMBER, Right.SPECIALIST_WORK, Right.COMMANDS}
    assert all(holds(r, Right.COMMANDS) for r in ROLES if r != "operator")
    assert not any(holds(r, Right.OPERATIONS) for r in ROLES if r != "operator")
    assert holds("subdistrict", Right.CANDIDATES) and not holds("secretary", Right.CANDIDATES)


def test_specialists_and_members_submit_only_their_own_work():
    assert command_refusal("district", None, "RegisterMember", {}) is None
    assert command_refusal("operator", None, "RegisterMember", {}) == "无权提交指令"
    assert command_refusal("specialist", "s1", "RecordVisit", {"specialist_id": "s1"}) is None
    assert "只能以本人身份" in command_refusal("specialist", "s1", "RecordVisit", {"specialist_id": "s2"})
    assert "无权提交 RegisterMember" in command_refusal("specialist", "s1", "RegisterMember", {})
    assert command_refusal("member", "m1", "AcknowledgeNotice", {"member_id": "m1"}) is None
    assert command_refusal("member", "m1", "RecordFeedback", {"member_id": "m2"}) is not None


# ---- the HTTP answers that come before any read: 401 and 403, without Kafka or MongoDB -----------

@pytest.fixture
async def members_http():
    from shared.auth.http import verifier_for
    from shared.settings import Settings

    app = members_app()
    app.state.verifier = verifier_for(Settings(auth_jwks=auth.jwks_file()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield http


async def test_no_token_a_forged_one_or_an_expired_one_is_401(members_http):
    r = await members_http.get("/api/v1/orgs/o1")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.json()["detail"].startswith("未登录或身份无法确认：缺少身份令牌")
    from shared.auth import tokens
    forged = tokens.mint(tokens.new_private_key(), role="district", district="x-district", sub="mallory")
    r = await members_http.get("/api/v1/orgs/o1", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and "签名无效" in r.json()["detail"]
    import time
    expired = auth.headers("district", seconds=60, now=time.time() - 7200)
    r = await members_http.get("/api/v1/orgs/o1", headers=expired)
    assert r.status_code == 401 and "过期" in r.json()["detail"]
    r = await members_http.post("/api/v1/commands", json={})
    assert r.status_code == 401  # commands too, and before the body is looked at


async def test_a_role_without_the_right_is_403_before_anything_is_read(members_http):
    r = await members_http.get("/api/v1/orgs/o1", headers=auth.headers("operator"))
    assert r.status_code == 403 and r.json()["detail"] == "运维人员无权查看组织体系"
    r = await members_http.get("/api/v1/members/m1/history", headers=auth.headers("member", member_id="m1"))
    assert r.status_code == 403
    r = await members_http.post("/api/v1/commands", json={}, headers=auth.headers("operator"))
    assert r.status_code == 403


async def test_health_and_documents_answer_without_a_token(members_http):
    assert (await members_http.get("/health")).status_code == 200
    doc = await members_http.get("/openapi.json")
    assert doc.status_code == 200 and "bearer" in doc.json()["components"]["securitySchemes"]
    assert (await members_http.get("/docs")).status_code == 200


async def test_without_a_jwks_every_protected_route_is_unavailable_not_open():
    app = members_app()
    app.state.verifier = None
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        r = await http.get("/api/v1/orgs/o1", headers=auth.headers("district"))
    assert r.status_code == 503


async def test_a_request_body_is_bounded(members_http):
    from shared.http.app import MAX_BODY_BYTES

    big = b'{"x": "' + b"a" * MAX_BODY_BYTES + b'"}'

    async def chunked():  # no Content-Length: bounded as the bytes arrive
        for i in range(0, len(big), 65536):
            yield big[i:i + 65536]

    for content in (big, chunked()):
        r = await members_http.post("/api/v1/commands", content=content,
                                    headers={**auth.headers("district"), "content-type": "application/json"})
        assert r.status_code == 413 and r.json()["detail"].startswith("请求内容过大"), r.text


def test_the_documented_rights_table_is_the_code():
    from tests.infra import ROOT
    from tests.unit.auth.rights_table import markdown

    assert markdown() in (ROOT / "docs" / "security.md").read_text(), "python -m tests.unit.auth.rights_table"


async def test_a_person_beyond_the_rate_bound_is_answered_429_and_others_are_not(members_http):
    """Checked after sign-in, before any read (so no database is needed): the third request of a
    person allowed a burst of two is refused, in Chinese, with Retry-After; another person goes on."""
    from shared.http.rate import RateLimiter

    members_http._transport.app.state.rate = RateLimiter(per_second=0.5, burst=2)
    one, other = auth.headers("operator", sub="a"), auth.headers("operator", sub="b")
    answers = [(await members_http.get("/api/v1/orgs/o1", headers=one)).status_code for _ in range(3)]
    assert answers == [403, 403, 429]  # an operator may not read orgs: the bound counts every request
    r = await members_http.get("/api/v1/orgs/o1", headers=one)
    assert r.status_code == 429 and r.headers["Retry-After"] == "2" and "请求过于频繁" in r.json()["detail"]
    assert (await members_http.get("/api/v1/orgs/o1", headers=other)).status_code == 403


def test_a_bucket_fills_again_with_time_and_idle_ones_are_forgotten():
    from shared.http.rate import RateLimiter, TooManyRequests

    now = [0.0]
    rate = RateLimiter(per_second=2, burst=2, clock=lambda: now[0], keep=1)
    rate.take("a"), rate.take("a")
    with pytest.raises(TooManyRequests):
        rate.take("a")
    now[0] += 0.5  # one request's worth
    rate.take("a")
    now[0] += 10
    rate.take("b")  # over `keep`: the idle, full buckets are dropped
    assert list(rate._buckets) == ["b"]
    assert RateLimiter(per_second=0, burst=0).take("x") is None  # 0: no bound
