"""Who is asking: the one dependency every route uses to resolve the caller and its scope.

For now the caller is read from headers set by the gateway in front of the service:
`X-Role` (default `district`) and `X-Org-Id` (the root of the subtree the caller may see;
absent means the whole district). Roles and their rights are filled in by a later issue; the
scope is already enforced: a record outside the caller's subtree answers 404, as if unknown.
"""
from dataclasses import dataclass
from typing import Literal

from fastapi import Header

Role = Literal["district", "subdistrict", "community", "secretary", "specialist"]


@dataclass(frozen=True)
class Caller:
    role: str
    org_id: str | None  # None: the whole district

    def sees(self, path: list[str]) -> bool:
        """Whether a record placed at `path` (district … org) is inside the caller's subtree."""
        return self.org_id is None or self.org_id in path


async def current_caller(x_role: Role = Header("district", description="the caller's role"),
                         x_org_id: str | None = Header(None, description="root of the caller's subtree")) -> Caller:
    return Caller(role=x_role, org_id=x_org_id or None)
