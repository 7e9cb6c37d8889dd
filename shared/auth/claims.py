"""The claims a token carries, and the caller they describe.

A token names a person (`sub`), one role and what the role is scoped to:
- `district` (区委组织部): the whole district of the deployment;
- `subdistrict` (街道/乡镇), `community` (社区), `secretary` (支部书记): `org_ids`, the roots of
  the subtrees of the organisation tree the caller answers for (a secretary: their branch);
- `specialist` (一对一联系专员): `specialist_id`, only the members assigned to them;
- `member` (党员本人): `member_id`, only themselves;
- `operator` (运维): no personal data and no organisation at all.
`district` is the deployment's district (the `DISTRICT` setting): a token of another district is
not accepted. Codes, not labels, are carried; `ROLE_LABELS` gives the Chinese.
"""
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contracts.types import Id

Role = Literal["district", "subdistrict", "community", "secretary", "specialist", "member", "operator"]
ROLES: tuple[Role, ...] = ("district", "subdistrict", "community", "secretary", "specialist", "member", "operator")
ORG_ROLES = frozenset({"subdistrict", "community", "secretary"})
ROLE_LABELS = {"district": "区委组织部", "subdistrict": "街道（乡镇）", "community": "社区", "secretary": "支部书记",
               "specialist": "一对一联系专员", "member": "党员本人", "operator": "运维人员"}


class Claims(BaseModel):
    """The verified payload of a token (registered claims `iss`, `aud`, `exp`, `iat` are checked by
    the verifier; unknown claims are ignored, so an identity provider may add its own)."""

    model_config = ConfigDict(extra="ignore")

    sub: str = Field(min_length=1, max_length=256)
    role: Role
    district: str = Field(min_length=1, max_length=128)
    org_ids: list[Id] = Field(default_factory=list, max_length=100)
    specialist_id: Id | None = None
    member_id: Id | None = None
    name: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _scope_fits_role(self) -> "Claims":
        if self.role in ORG_ROLES and not self.org_ids:
            raise ValueError(f"role {self.role} needs org_ids (the roots of its subtree)")
        if self.role == "specialist" and not self.specialist_id:
            raise ValueError("role specialist needs specialist_id")
        if self.role == "member" and not self.member_id:
            raise ValueError("role member needs member_id")
        return self


@dataclass(frozen=True)
class Caller:
    """Who is asking, resolved once per request from a verified token."""

    subject: str
    role: Role
    org_ids: tuple[str, ...] = ()
    specialist_id: str | None = None
    member_id: str | None = None
    name: str | None = None

    @classmethod
    def of(cls, claims: Claims) -> "Caller":
        # Only the scope of the role counts: a member's token naming org_ids sees no organisation.
        orgs = tuple(dict.fromkeys(claims.org_ids)) if claims.role in ORG_ROLES else ()
        return cls(subject=claims.sub, role=claims.role, org_ids=orgs,
                   specialist_id=claims.specialist_id if claims.role == "specialist" else None,
                   member_id=claims.member_id if claims.role == "member" else None, name=claims.name)

    @property
    def whole_district(self) -> bool:
        return self.role == "district"

    def sees(self, path: list[str] | tuple[str, ...]) -> bool:
        """Whether an organisation (or a record placed there) at `path` — its ancestors from the
        district down, then itself — lies inside the caller's subtree."""
        return self.whole_district or any(o in path for o in self.org_ids)

    def sees_member(self, *, member_id: str | None, path: list[str] | tuple[str, ...], specialist_id: str | None) -> bool:
        """Whether one member's record is the caller's to read: in the subtree (officials,
        secretaries), assigned to them (a specialist), or their own (a member)."""
        if self.role == "specialist":
            return specialist_id is not None and specialist_id == self.specialist_id
        if self.role == "member":
            return member_id == self.member_id
        return self.sees(path)
