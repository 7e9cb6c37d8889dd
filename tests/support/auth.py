"""The tests' identity provider: one ES256 key per test process, its JWKS in a file every service
process is started with (`AUTH_JWKS`), and tokens minted from it for any role and scope.

`client(url)` is an HTTP client signed in as a district official (the whole district), which is
what the tests that are not about sign-in use; `headers(role=…, org_ids=[…])` signs in as anyone.
"""
import json
import tempfile
from functools import lru_cache
from pathlib import Path

import httpx

from shared.auth import tokens

DISTRICT = "x-district"  # the services' default DISTRICT, and the tests' envelopes'


@lru_cache
def _key():
    return tokens.new_private_key()


@lru_cache
def jwks_file() -> str:
    path = Path(tempfile.mkdtemp(prefix="sunsetred-auth-")) / "jwks.json"
    path.write_text(json.dumps(tokens.jwks_of(_key())))
    return str(path)


def token(role: str = "district", *, org_ids: list[str] | None = None, specialist_id: str | None = None,
          member_id: str | None = None, sub: str | None = None, seconds: float = 3600, now: float | None = None,
          key=None, district: str = DISTRICT) -> str:
    return tokens.mint(key or _key(), role=role, district=district, sub=sub or f"test-{role}", org_ids=org_ids,
                       specialist_id=specialist_id, member_id=member_id, seconds=seconds, now=now)


def headers(role: str = "district", **claims) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, **claims)}"}


def client(base_url: str = "", *, role: str = "district", **kwargs) -> httpx.AsyncClient:
    """An HTTP client signed in (as a district official unless `role` and its scope say otherwise)."""
    scope = {k: kwargs.pop(k) for k in ("org_ids", "specialist_id", "member_id", "sub") if k in kwargs}
    return httpx.AsyncClient(base_url=base_url, headers=headers(role, **scope), **kwargs)
