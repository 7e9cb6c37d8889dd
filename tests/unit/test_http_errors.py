"""Every service refuses a request in Chinese, naming the field at fault (shared/http)."""
from typing import Literal

import pytest
from fastapi import FastAPI, HTTPException, Query
from fastapi.testclient import TestClient

from shared.http import errors
from shared.http.commands import commands_router
from shared.http.errors import NotFound, Unprocessable

pytestmark = pytest.mark.unit
CHINESE = __import__("re").compile(r"[\u4e00-\u9fff]")


def client() -> TestClient:
    """Signed in as a district official: `POST /api/v1/commands` needs a token (shared/auth)."""
    from services.members.entrypoints.command_scope import COMMAND_SCOPES
    from shared.auth.http import verifier_for
    from shared.auth.rights import Right
    from shared.http.commands import COMMANDS_ROUTE
    from shared.settings import Settings
    from tests.support import auth

    app = FastAPI()
    app.state.verifier = verifier_for(Settings(auth_jwks=auth.jwks_file()))
    app.state.rights = {COMMANDS_ROUTE: Right.COMMANDS}
    errors.install(app)
    app.include_router(commands_router("members.commands", COMMAND_SCOPES))

    @app.get("/r")
    async def r(year: int = Query(..., ge=1921), status: Literal["resident", "away"] | None = None) -> dict:
        return {}

    @app.get("/period")
    async def period() -> dict:
        raise HTTPException(422, {"field": "period", "message": "period must be YYYY-MM, YYYY-Qn or YYYY"})

    @app.get("/own")
    async def own() -> dict:
        raise Unprocessable("org_ids", "请至少指定一个组织或一名党员")

    @app.get("/missing")
    async def missing() -> dict:
        raise NotFound("member", "m1")

    return TestClient(app, headers=auth.headers())


def refusal(response) -> list[tuple[str, str]]:
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == body["errors"][0]["message"]
    return [(e["field"], e["message"]) for e in body["errors"]]


@pytest.mark.parametrize("params,field,words", [
    ({}, "year", "年度（year）：缺少此项"),
    ({"year": "abc"}, "year", "年度（year）：应为整数"),
    ({"year": "1900"}, "year", "年度（year）：不能小于 1921"),
    ({"year": "2026", "status": "travelling"}, "status", "状态（status）：应为以下之一：resident、away"),
])
def test_query_parameters_are_refused_in_chinese_with_the_field(params, field, words):
    assert refusal(client().get("/r", params=params)) == [(field, words)]


def test_a_routes_own_refusals_have_the_same_shape():
    c = client()
    assert refusal(c.get("/period")) == [("period", "统计期（period）：应为 YYYY-MM、YYYY-Qn 或 YYYY，如 2026-03、2026-Q1、2026")]
    assert refusal(c.get("/own")) == [("org_ids", "组织（org_ids）：请至少指定一个组织或一名党员")]


def test_not_found_is_said_in_chinese():
    c = client()
    assert c.get("/missing").json() == {"detail": "未找到党员：m1"}
    assert c.get("/nowhere").json() == {"detail": "未找到"}


def test_an_invalid_command_posted_over_http_is_refused_in_chinese():
    envelope = {"id": "c1", "type": "RegisterMember", "schema_version": 1, "occurred_at": "2026-01-05T10:00:00+08:00",
                "source": "test", "district": "x-district", "data": {"member_id": "m1"}}
    errors_ = refusal(client().post("/api/v1/commands", json=envelope))
    assert ("data.branch_id", "支部ID（data.branch_id）：缺少此项") in errors_
    assert all(CHINESE.search(message) for _, message in errors_)
    [(field, message)] = refusal(client().post("/api/v1/commands", json={"type": "RegisterMember"}))
    assert field == "body" and CHINESE.search(message)
