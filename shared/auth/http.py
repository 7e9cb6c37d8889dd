"""The FastAPI side of sign-in: every route but the public ones resolves its caller from
`Authorization: Bearer <JWT>` (401 when missing, expired or forged) and checks the right its
service's table gives it (403); reads then scope themselves with the `Caller` (404 outside).

`?reveal=<category>[,<category>]&reason=…` unmasks personal data for roles allowed to
(`masking.REVEALABLE`); every such request is written to the service's `access_log` collection
and logged, with who, what, where and why.
"""
import logging
import uuid
from datetime import datetime, timezone

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth.claims import ROLE_LABELS, Caller
from shared.auth.masking import CATEGORIES, CATEGORY_LABELS, Viewer, reveal_refusal
from shared.auth.rights import RIGHT_LABELS, Right, holds
from shared.auth.tokens import KeySource, TokenRefused, Verifier

log = logging.getLogger(__name__)

# What answers without a token: liveness, readiness, metrics and the API documents.
PUBLIC_PATHS = frozenset({"/health", "/ready", "/metrics", "/asyncapi.json", "/openapi.json", "/docs",
                          "/docs/oauth2-redirect", "/redoc"})
ACCESS_LOG = "access_log"

bearer = HTTPBearer(auto_error=False, scheme_name="bearer",
                    description="A JWT from the district's identity provider (ES256 or RS256); locally `make token`.")


class Unauthorized(HTTPException):
    def __init__(self, reason: str):
        super().__init__(401, f"未登录或身份无法确认：{reason}", headers={"WWW-Authenticate": "Bearer"})


class Forbidden(HTTPException):
    def __init__(self, reason: str):
        super().__init__(403, reason)


def verifier_for(settings) -> Verifier | None:
    """The verifier the settings describe; None when `AUTH_JWKS` is unset (every protected route
    then answers 503: a service never falls back to trusting callers)."""
    if not settings.auth_jwks:
        log.error("AUTH_JWKS is not set: every route but /health, /ready, /metrics and the documents answers 503")
        return None
    return Verifier(KeySource(settings.auth_jwks), district=settings.district, issuer=settings.auth_issuer,
                    audience=settings.auth_audience)


def route_key(method: str, path: str) -> str:
    return f"{method} {path}"


async def current_caller(request: Request,
                         credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Caller:
    verifier: Verifier | None = getattr(request.app.state, "verifier", None)
    if verifier is None:
        raise HTTPException(503, "身份验证未配置（AUTH_JWKS），暂不提供服务")
    if credentials is None or not credentials.credentials:
        raise Unauthorized("缺少身份令牌，请在 Authorization 头中提供 Bearer 令牌")
    try:
        claims = await verifier.verify(credentials.credentials)
    except TokenRefused as exc:
        log.info("token refused", extra={"reason": exc.reason, "detail": exc.detail, "path": request.url.path})
        raise Unauthorized(exc.reason) from None
    caller = Caller.of(claims)
    rate = getattr(request.app.state, "rate", None)
    if rate is not None:  # a bound per person (shared/http/rate.py): 429 beyond it
        rate.take(caller.subject)
    return caller


async def authorized(request: Request, caller: Caller = Depends(current_caller)) -> Caller:
    """The caller, once the right the service's table gives this route is checked."""
    route = request.scope.get("route")
    rights: dict[str, Right] = getattr(request.app.state, "rights", {})
    right = rights.get(route_key(request.method, route.path)) if route is not None else None
    if right is None:  # check_routes makes this impossible; never let an undeclared route through
        raise Forbidden("此接口未声明所需权限")
    if not holds(caller.role, right):
        raise Forbidden(f"{ROLE_LABELS[caller.role]}无权{RIGHT_LABELS[right]}")
    return caller


REVEAL_HELP = ("unmask personal data (audited): " + ", ".join(CATEGORIES) + "; comma-separated; needs `reason`")


async def viewer(request: Request, caller: Caller = Depends(authorized),
                 reveal: str | None = Query(None, max_length=200, description=REVEAL_HELP),
                 reason: str | None = Query(None, max_length=500,
                                            description="why personal data is unmasked (kept in the access log)")
                 ) -> Viewer:
    """The caller as a reader of personal data, with what they unmasked for this request."""
    if not reveal:
        return Viewer(caller)
    asked = {c.strip() for c in reveal.split(",") if c.strip()}
    unknown = sorted(asked - set(CATEGORIES))
    if unknown:
        raise _invalid("reveal", f"未知的信息类别 {', '.join(unknown)}（可选：{', '.join(CATEGORIES)}）")
    if not reason or len(reason.strip()) < 2:
        raise _invalid("reason", "查看完整个人信息须说明理由（reason）")
    refusal = reveal_refusal(caller.role, asked)
    if refusal:
        raise Forbidden(refusal)
    categories = frozenset(c for c in CATEGORIES if c in asked)
    await _record_reveal(request, caller, categories, reason.strip())
    return Viewer(caller, categories)


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", field), "msg": message, "type": "value_error"}])


async def _record_reveal(request: Request, caller: Caller, categories: frozenset, reason: str) -> None:
    """Written before anything is shown: an unmask that cannot be recorded is not done."""
    entry = {"_id": str(uuid.uuid4()), "at": datetime.now(timezone.utc).isoformat(), "subject": caller.subject,
             "role": caller.role, "categories": sorted(categories),
             "labels": [CATEGORY_LABELS[c] for c in sorted(categories)], "reason": reason,
             "method": request.method, "path": request.url.path, "path_params": dict(request.path_params)}
    db = request.app.state.runtime.db
    await db[ACCESS_LOG].insert_one(entry)
    log.warning("personal data unmasked", extra={k: v for k, v in entry.items() if k != "_id"})


# ---- every route declares its right ------------------------------------------------------------

def _depends_on(dependant: Dependant, call) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def check_routes(app: FastAPI, rights: dict[str, Right], public: frozenset[str] = frozenset()) -> None:
    """Refuse to build an app with a route that is neither public nor in the rights table with the
    `authorized` dependency, or a table naming a route that does not exist."""
    problems, seen = [], set()
    for route in iter_route_contexts(app.routes):  # routers included in routers, flattened
        if not isinstance(route.original_route, APIRoute):
            continue
        for method in sorted(route.methods):
            key = route_key(method, route.path)
            seen.add(key)
            if route.path in PUBLIC_PATHS | public:
                continue
            if key not in rights:
                problems.append(f"{key}: no right declared")
            elif not _depends_on(route.dependant, authorized):
                problems.append(f"{key}: does not depend on shared.auth.http.authorized")
    problems += [f"{key}: in the rights table but no such route" for key in sorted(set(rights) - seen)]
    if problems:
        raise RuntimeError("routes without a declared right:\n  " + "\n  ".join(problems))
