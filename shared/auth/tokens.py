"""Signed tokens: verified against a JWKS (the identity provider's public keys), minted locally.

Only asymmetric algorithms are accepted (ES256, RS256): a service holds public keys and can
verify but never issue. The JWKS comes from the `AUTH_JWKS` setting, a URL (the identity
provider's `jwks_uri`) or a file (local use: `make up` writes one). A token whose `kid` is not in
the set makes the set be read again (at most every `REFRESH_S`), so keys can rotate without a
restart. Minting (`mint`, `python -m shared.auth token`) is for local use and tests only.
"""
import asyncio
import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError

from shared.auth.claims import Claims

ALGORITHMS = ("ES256", "RS256")
REFRESH_S = 30.0
LEEWAY_S = 30  # clocks of the identity provider and the services may differ a little
DEFAULT_ISSUER = "sunsetred-local"
DEFAULT_AUDIENCE = "sunsetred"


class TokenRefused(Exception):
    """A token that proves nothing: missing parts, a bad signature, expired, another district…
    `reason` is shown to the caller (Chinese), `detail` only in the log."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.detail = reason, detail


class KeySource:
    """The public keys, by `kid`, read from a JWKS file or URL and read again on an unknown kid."""

    def __init__(self, location: str):
        self.location = location
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None) -> jwt.PyJWK | None:
        if kid not in self._keys and time.monotonic() - self._read_at >= REFRESH_S:
            async with self._lock:
                if kid not in self._keys and time.monotonic() - self._read_at >= REFRESH_S:
                    await self._read()
        if kid is None and len(self._keys) == 1:  # a set of one key may be used without naming it
            return next(iter(self._keys.values()))
        return self._keys.get(kid)

    async def _read(self) -> None:
        self._read_at = time.monotonic()
        if self.location.startswith(("https://", "http://")):
            async with httpx.AsyncClient(timeout=5) as http:
                r = await http.get(self.location)
                r.raise_for_status()
                document = r.json()
        else:
            document = json.loads(await asyncio.to_thread(Path(self.location).read_text))
        self._keys = keys_of(document)


def keys_of(document: dict) -> dict[str | None, jwt.PyJWK]:
    """The usable signing keys of a JWKS document (others — symmetric, encryption — are skipped)."""
    out: dict[str | None, jwt.PyJWK] = {}
    for jwk in document.get("keys", []):
        if jwk.get("use", "sig") != "sig" or jwk.get("kty") not in ("EC", "RSA"):
            continue
        try:
            key = jwt.PyJWK(jwk)
        except jwt.PyJWKError:
            continue
        if key.algorithm_name in ALGORITHMS:
            out[jwk.get("kid")] = key
    return out


@dataclass
class Verifier:
    keys: KeySource
    district: str
    issuer: str = DEFAULT_ISSUER
    audience: str = DEFAULT_AUDIENCE

    async def verify(self, token: str) -> Claims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenRefused("令牌格式不正确", str(exc)) from None
        if header.get("alg") not in ALGORITHMS:
            raise TokenRefused("令牌签名算法不被接受", f"alg {header.get('alg')!r}")
        try:
            key = await self.keys.key(header.get("kid"))
        except (OSError, ValueError, httpx.HTTPError) as exc:
            raise TokenRefused("暂时无法验证令牌（公钥不可用）", f"JWKS {self.keys.location}: {exc!r}") from None
        if key is None or key.algorithm_name != header["alg"]:
            raise TokenRefused("令牌签名无效", f"no key {header.get('kid')!r} for {header['alg']}")
        try:
            payload = jwt.decode(token, key.key, algorithms=[key.algorithm_name], audience=self.audience,
                                 issuer=self.issuer, leeway=LEEWAY_S,
                                 options={"require": ["exp", "iat", "sub", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise TokenRefused("令牌已过期，请重新登录") from None
        except jwt.PyJWTError as exc:
            raise TokenRefused("令牌签名无效或声明不符", str(exc)) from None
        try:
            claims = Claims.model_validate(payload)
        except ValidationError as exc:
            raise TokenRefused("令牌声明不完整", str(exc.errors(include_url=False))) from None
        if claims.district != self.district:
            raise TokenRefused("令牌不属于本区", f"district {claims.district!r}, not {self.district!r}")
        return claims


# ---- local keys and tokens (make up, make token, the tests) ------------------------------------

def new_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def private_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_private(pem: bytes):
    return serialization.load_pem_private_key(pem, password=None)


def jwks_of(key) -> dict:
    """The public half of a private key as a JWKS of one key, `kid` its RFC 7638 thumbprint."""
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    kid = _thumbprint(public)
    return {"keys": [{**public, "kid": kid, "use": "sig", "alg": "ES256"}]}


def _thumbprint(jwk: dict) -> str:
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def mint(key, *, role: str, district: str, sub: str, org_ids: list[str] | None = None,
         specialist_id: str | None = None, member_id: str | None = None, name: str | None = None,
         seconds: float = 8 * 3600, issuer: str = DEFAULT_ISSUER, audience: str = DEFAULT_AUDIENCE,
         now: float | None = None) -> str:
    """A token signed with `key` (ES256), valid `seconds` from `now`. The claims are checked as a
    service would check them, so a token that could never be accepted is not minted."""
    claims = Claims(sub=sub, role=role, district=district, org_ids=org_ids or [], specialist_id=specialist_id,
                    member_id=member_id, name=name)
    issued = int(now if now is not None else time.time())
    payload = {**claims.model_dump(exclude_none=True), "iss": issuer, "aud": audience, "iat": issued,
               "exp": issued + int(seconds), "jti": str(uuid.uuid4())}
    return jwt.encode(payload, key, algorithm="ES256", headers={"kid": jwks_of(key)["keys"][0]["kid"]})
