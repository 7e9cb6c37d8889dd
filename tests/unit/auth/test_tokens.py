"""Token verification: only a token signed by a key of the JWKS, unexpired, for this issuer,
audience and district, with a role and the scope the role needs, names a caller."""
import asyncio
import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.auth import tokens
from shared.auth.claims import Caller
from shared.auth.tokens import KeySource, TokenRefused, Verifier


@pytest.fixture(scope="module")
def key():
    return tokens.new_private_key()


@pytest.fixture
def jwks_path(tmp_path, key):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(tokens.jwks_of(key)))
    return path


def verify(jwks_path, token: str, district: str = "x-district"):
    return asyncio.run(Verifier(KeySource(str(jwks_path)), district=district).verify(token))


def refused(jwks_path, token: str, district: str = "x-district") -> str:
    with pytest.raises(TokenRefused) as info:
        verify(jwks_path, token, district)
    return info.value.reason


def mint(key, **over):
    claims = {"role": "community", "district": "x-district", "sub": "zhang", "org_ids": ["c1"]} | over
    return tokens.mint(key, **claims)


def test_a_valid_token_names_the_caller_and_its_scope(jwks_path, key):
    claims = verify(jwks_path, mint(key))
    caller = Caller.of(claims)
    assert (caller.subject, caller.role, caller.org_ids) == ("zhang", "community", ("c1",))
    assert caller.sees(["d", "s", "c1", "b1"]) and not caller.sees(["d", "s", "c2"])


def test_expired_is_refused_even_within_the_hour(jwks_path, key):
    old = mint(key, seconds=60, now=time.time() - 3600)
    assert refused(jwks_path, old) == "令牌已过期，请重新登录"


def test_a_token_signed_by_another_key_is_forged(jwks_path):
    assert "签名无效" in refused(jwks_path, mint(tokens.new_private_key()))


def test_a_tampered_payload_is_forged(jwks_path, key):
    head, body, sig = mint(key).split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=="))
    payload["role"] = "district"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    assert "签名无效" in refused(jwks_path, f"{head}.{forged}.{sig}")


def test_symmetric_and_unsigned_tokens_are_refused(jwks_path, key):
    """alg confusion: HS256 keyed with the public JWK, and alg none, prove nothing."""
    public = json.dumps(tokens.jwks_of(key)["keys"][0])
    claims = {"sub": "x", "role": "district", "district": "x-district", "iss": "sunsetred-local", "aud": "sunsetred",
              "iat": int(time.time()), "exp": int(time.time()) + 60}
    hs = jwt.encode(claims, public.encode() * 2, algorithm="HS256")
    assert refused(jwks_path, hs) == "令牌签名算法不被接受"
    none = jwt.encode(claims, None, algorithm="none")
    assert refused(jwks_path, none) == "令牌签名算法不被接受"


def test_garbage_is_refused(jwks_path):
    assert refused(jwks_path, "not-a-token") == "令牌格式不正确"


def test_another_district_issuer_or_audience_is_refused(jwks_path, key):
    assert refused(jwks_path, mint(key), district="y-district") == "令牌不属于本区"
    assert "声明不符" in refused(jwks_path, mint(key, issuer="someone-else"))
    assert "声明不符" in refused(jwks_path, mint(key, audience="another-app"))


def test_a_role_without_its_scope_is_refused(jwks_path, key):
    payload = {"sub": "x", "role": "specialist", "district": "x-district", "iss": "sunsetred-local",
               "aud": "sunsetred", "iat": int(time.time()), "exp": int(time.time()) + 60}
    kid = tokens.jwks_of(key)["keys"][0]["kid"]
    token = jwt.encode(payload, key, algorithm="ES256", headers={"kid": kid})
    assert refused(jwks_path, token) == "令牌声明不完整"
    with pytest.raises(ValueError):  # and the local minting refuses to make one
        mint(key, role="specialist", org_ids=[])


def test_rsa_keys_verify_too(tmp_path):
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{**public, "kid": "r1", "use": "sig", "alg": "RS256"}]}))
    payload = {"sub": "x", "role": "operator", "district": "x-district", "iss": "sunsetred-local",
               "aud": "sunsetred", "iat": int(time.time()), "exp": int(time.time()) + 60}
    token = jwt.encode(payload, rsa_key, algorithm="RS256", headers={"kid": "r1"})
    assert verify(path, token).role == "operator"


def test_a_new_key_in_the_file_is_picked_up_without_a_restart(jwks_path, key, monkeypatch):
    monkeypatch.setattr(tokens, "REFRESH_S", 0.0)
    verifier = Verifier(KeySource(str(jwks_path)), district="x-district")
    assert asyncio.run(verifier.verify(mint(key))).sub == "zhang"
    rotated = tokens.new_private_key()
    jwks_path.write_text(json.dumps({"keys": tokens.jwks_of(key)["keys"] + tokens.jwks_of(rotated)["keys"]}))
    assert asyncio.run(verifier.verify(mint(rotated, sub="li"))).sub == "li"


def test_a_caller_outside_an_org_role_has_no_org_scope(key, jwks_path):
    member = Caller.of(verify(jwks_path, mint(key, role="member", member_id="m1", org_ids=["c1"])))
    assert member.org_ids == () and not member.sees(["d", "c1"])
    assert member.sees_member(member_id="m1", path=[], specialist_id=None)
    assert not member.sees_member(member_id="m2", path=["d", "c1"], specialist_id=None)
    specialist = Caller.of(verify(jwks_path, mint(key, role="specialist", specialist_id="s1")))
    assert specialist.sees_member(member_id="m9", path=["d"], specialist_id="s1")
    assert not specialist.sees_member(member_id="m9", path=["d"], specialist_id="s2")
