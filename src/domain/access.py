"""Who may see what: roles, and the principal a request acts as with the orgs it was granted."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Principal", "PrincipalKind", "Role"]


class Role(StrEnum):
    """`admin` manages users, orgs and models and sees every org; the others see only granted orgs."""

    ADMIN = "admin"
    ANALYST = "analyst"
    SALES = "sales"


class PrincipalKind(StrEnum):
    USER = "user"
    SERVICE_CLIENT = "service_client"


@dataclass(frozen=True, kw_only=True)
class Principal:
    """The authenticated caller of one request: a user or a service client, its role and org grants."""

    subject: str
    kind: PrincipalKind
    role: Role
    org_ids: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def can_read_org(self, org_id: str) -> bool:
        """Admins read every org; everyone else only the orgs granted to them."""
        return self.is_admin or org_id in self.org_ids

    @property
    def read_scope(self) -> frozenset[str] | None:
        """The orgs whose data this principal may read; None for admins, who read every org."""
        return None if self.is_admin else self.org_ids

    def readable(self, org_ids: Iterable[str]) -> list[str]:
        """The given org ids this principal may read, sorted and without duplicates."""
        return sorted({org_id for org_id in org_ids if self.can_read_org(org_id)})
